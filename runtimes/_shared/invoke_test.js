// @ts-check
import assert from "node:assert/strict";
import { errorBody } from "./errors.js";
import { invoke } from "./invoke.js";
import { childSaid, moduleUrl, runChild, withEnvRestored } from "./testdata/helpers.js";

const TRACE = "_X_AMZN_TRACE_ID";
const ENV = { functionName: "orders" };

/** Runtime API headers for one invocation. */
function headers(/** @type {Record<string, string>} */ extra = {}) {
  return new Headers({ "lambda-runtime-aws-request-id": "req-1", ...extra });
}

/**
 * Invokes handler on eventText, putting the trace id variable back afterwards
 * (invoke sets or removes it).
 * @param {(event: any, context: any) => unknown} handler
 */
function run(handler, eventText = "{}", extra = {}) {
  return withEnvRestored(TRACE, () => invoke(handler, eventText, headers(extra), ENV));
}

Deno.test("invoke passes the parsed event and the context to the handler", async () => {
  /** @type {unknown[]} */
  const seen = [];
  const result = await run((event, context) => {
    seen.push(event, context.awsRequestId, context.functionName);
    return "ok";
  }, '{"id": 7, "items": ["a"]}');
  assert.deepEqual(seen, [{ id: 7, items: ["a"] }, "req-1", "orders"]);
  assert.deepEqual(result, { body: '"ok"' });
});

Deno.test("invoke serialises what the handler returns or resolves to as JSON", async () => {
  /** @type {[() => unknown, string][]} */
  const cases = [
    [() => ({ statusCode: 200, body: "hi" }), '{"statusCode":200,"body":"hi"}'],
    [() => Promise.resolve([1, "two"]), '[1,"two"]'],
    [() => 42, "42"],
    [() => "text", '"text"'],
    [() => null, "null"],
    [() => ({ toJSON: () => "custom" }), '"custom"'],
  ];
  for (const [handler, body] of cases) {
    assert.deepEqual(await run(handler), { body });
  }
});

Deno.test("invoke serialises undefined, a function and a symbol as null, as Node.js does", async () => {
  for (const value of [undefined, () => {}, Symbol("s")]) {
    assert.deepEqual(await run(() => value), { body: "null" }, String(value));
  }
  assert.deepEqual(await run(async () => {}), { body: "null" });
});

Deno.test("a result JSON cannot hold is Runtime.JSONStringifyError, as on Node.js", async () => {
  const cycle = /** @type {Record<string, unknown>} */ ({});
  cycle.self = cycle;
  for (const value of [10n, cycle, { nested: { big: 1n } }]) {
    const result = await run(() => value);
    assert.equal(result.errorType, "Runtime.JSONStringifyError");
    assert.equal(result.fatal, undefined);
    const body = JSON.parse(result.body);
    assert.equal(body.errorType, "Runtime.JSONStringifyError");
    assert.match(body.errorMessage, /^Unable to stringify response body: TypeError: /);
    assert.match(body.stackTrace[0], /^TypeError: /);
  }
});

Deno.test("an event that is not JSON is Runtime.UnmarshalError, and the handler never runs", async () => {
  for (const text of ["", "{not json", '{"cut":']) {
    let ran = false;
    const result = await run(() => {
      ran = true;
    }, text);
    assert.equal(ran, false);
    assert.equal(result.errorType, "Runtime.UnmarshalError");
    const body = JSON.parse(result.body);
    assert.equal(body.errorType, "Runtime.UnmarshalError");
    assert.match(body.errorMessage, /^Unable to parse the event as JSON: SyntaxError: /);
    assert.match(body.stackTrace[0], /^SyntaxError: /);
  }
});

Deno.test("a handler that throws or rejects fails with the error's body", async () => {
  const error = new TypeError("no such order");
  /** @type {(() => unknown)[]} */
  const handlers = [
    () => {
      throw error;
    },
    () => Promise.reject(error),
    async () => {
      await null;
      throw error;
    },
  ];
  for (const handler of handlers) {
    const result = await run(handler);
    assert.deepEqual(result, { body: JSON.stringify(errorBody(error)), errorType: "TypeError" });
  }
});

Deno.test("a handler that throws a non-error fails with its typeof as errorType", async () => {
  const result = await run(() => {
    throw "just a string";
  });
  assert.deepEqual(result, {
    body: '{"errorType":"string","errorMessage":"just a string","stackTrace":[]}',
    errorType: "string",
  });
});

Deno.test("invoke sets the trace id variable from the header, and removes it without one", async () => {
  await withEnvRestored(TRACE, async () => {
    Deno.env.set(TRACE, "Root=stale");
    /** @type {(string | undefined)[]} */
    const seen = [];
    const handler = () => {
      seen.push(Deno.env.get(TRACE));
    };
    const traced = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    await invoke(handler, "{}", headers({ "lambda-runtime-trace-id": traced }), ENV);
    await invoke(handler, "{}", headers(), ENV);
    assert.deepEqual(seen, [traced, undefined]);
  });
});

Deno.test("log records carry the request id of the invocation in flight, and of the last one after", async () => {
  const out = await runChild(`
    import { invoke } from "${moduleUrl("invoke.js")}";
    import { patchConsole } from "${moduleUrl("log_patch.js")}";
    patchConsole({});
    console.log("during init");
    const log = () => console.log("in handler");
    await invoke(log, "{}", new Headers({ "lambda-runtime-aws-request-id": "req-A" }), {});
    await invoke(log, "{}", new Headers({ "lambda-runtime-aws-request-id": "req-B" }), {});
    console.log("between invocations");
  `);
  assert.equal(out.code, 0, childSaid(out));
  const records = out.stdout.trimEnd().split("\n").map((line) => line.split("\t").slice(1));
  assert.deepEqual(records, [
    ["undefined", "INFO", "during init"],
    ["req-A", "INFO", "in handler"],
    ["req-B", "INFO", "in handler"],
    ["req-B", "INFO", "between invocations"],
  ]);
});
