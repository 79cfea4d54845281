// @ts-check
import assert from "node:assert/strict";
import { serveOne } from "./serve.js";
import { withChannel, withEnvRestored } from "./testdata/helpers.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Serves one event through a loopback channel, as the bootstrap sends it
 * (frame line, then the event's bytes, in pieces), and returns the result
 * frame and body the bootstrap reads back.
 * @param {(event: any, context: any) => unknown} handler
 * @param {string} event
 * @param {Record<string, string>} headers
 * @param {string} trailing what the bootstrap writes after the event
 */
function serve(
  handler,
  event,
  headers = { "lambda-runtime-aws-request-id": "req-9" },
  trailing = "",
) {
  return withEnvRestored("_X_AMZN_TRACE_ID", () =>
    withChannel(async (channel, bootstrap) => {
      const bytes = encoder.encode(event);
      const served = serveOne(channel, handler, { functionName: "orders" });
      const frame = JSON.stringify({ headers, length: bytes.length }) + "\n";
      const half = Math.floor(bytes.length / 2);
      await bootstrap.conn.write(encoder.encode(frame));
      await bootstrap.conn.write(bytes.subarray(0, half));
      await bootstrap.conn.write(bytes.subarray(half));
      await bootstrap.conn.write(encoder.encode(trailing));
      await served;
      const result = JSON.parse(await bootstrap.input.line());
      const body = decoder.decode(await bootstrap.input.exactly(result.length));
      return { result, body };
    }));
}

Deno.test("serveOne answers a result frame with the body's byte length, then the body", async () => {
  const { result, body } = await serve(
    (event, context) => ({
      echo: event,
      requestId: context.awsRequestId,
      name: context.functionName,
    }),
    '{"city":"Zürich","emoji":"✓"}',
  );
  const want = '{"echo":{"city":"Zürich","emoji":"✓"},"requestId":"req-9","name":"orders"}';
  assert.deepEqual(result, { length: encoder.encode(want).length });
  assert.equal(body, want);
});

Deno.test("serveOne gives the handler the frame's headers", async () => {
  const { body } = await serve(
    (
      _event,
      context,
    ) => [context.invokedFunctionArn, context.tenantId, Deno.env.get("_X_AMZN_TRACE_ID")],
    "{}",
    {
      "lambda-runtime-aws-request-id": "r",
      "lambda-runtime-invoked-function-arn": "arn:aws:lambda:us-east-1:1:function:f",
      "lambda-runtime-aws-tenant-id": "t-1",
      "lambda-runtime-trace-id": "Root=1-abc",
    },
  );
  assert.equal(body, '["arn:aws:lambda:us-east-1:1:function:f","t-1","Root=1-abc"]');
});

Deno.test("serveOne answers a failure with its errorType and the error body", async () => {
  const { result, body } = await serve(() => {
    throw new TypeError("no such order");
  }, "{}");
  assert.deepEqual(result, { length: encoder.encode(body).length, errorType: "TypeError" });
  const error = JSON.parse(body);
  assert.equal(error.errorType, "TypeError");
  assert.equal(error.errorMessage, "no such order");
});

Deno.test("serveOne never answers an empty errorType", async () => {
  const { result } = await serve(() => {
    const error = new Error("nameless");
    error.name = "";
    throw error;
  }, "{}");
  assert.equal(result.errorType, "Error");
  const thrown = await serve(() => Promise.reject(""), "{}");
  assert.equal(thrown.result.errorType, "string");
});

Deno.test("serveOne answers an event that is not JSON with Runtime.UnmarshalError", async () => {
  const { result, body } = await serve(() => "never", "{half");
  assert.equal(result.errorType, "Runtime.UnmarshalError");
  assert.equal(JSON.parse(body).errorType, "Runtime.UnmarshalError");
});

Deno.test("serveOne reads exactly the frame's length of event", async () => {
  const event = "[" + '"x",'.repeat(50_000) + '"end"]';
  const { result, body } = await serve((e) => e.length, event, undefined, "not the event");
  assert.deepEqual({ result, body }, { result: { length: 5 }, body: "50001" });
});
