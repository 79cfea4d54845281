// @ts-check
import assert from "node:assert/strict";
import {
  frameBody,
  frameSink,
  installAwslambda,
  isStreaming,
  streamifyResponse,
} from "./streaming.js";

Deno.test("awslambda is installed beside what is there, unless AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA says not to", () => {
  const g = /** @type {any} */ (globalThis);
  const before = g.awslambda;
  try {
    g.awslambda = { InvokeStore: "kept" };
    installAwslambda(undefined);
    assert.equal(g.awslambda.InvokeStore, "kept");
    assert.equal(typeof g.awslambda.streamifyResponse, "function");
    assert.equal(typeof g.awslambda.HttpResponseStream.from, "function");
    delete g.awslambda;
    installAwslambda("true");
    assert.equal(g.awslambda, undefined);
  } finally {
    g.awslambda = before;
  }
});

Deno.test("streamifyResponse marks the handler as Node's runtime reads it, with its highWaterMark", () => {
  const handler = streamifyResponse(async () => {}, { highWaterMark: 1024.7 });
  assert.equal(isStreaming(handler), true);
  assert.equal(
    /** @type {any} */ (handler)[Symbol.for("aws.lambda.runtime.handler.streaming")],
    "response",
  );
  assert.equal(
    /** @type {any} */ (handler)[Symbol.for("aws.lambda.runtime.handler.streaming.highWaterMark")],
    1024,
  );
  assert.equal(isStreaming(async () => {}), false);
});

/** The frames a sink sends, as [kind, payload] pairs, once it is closed. */
async function framesOf(/** @type {(sink: import("./streaming.js").Sink) => Promise<void>} */ use) {
  const { body, push, close } = frameBody();
  const read = new Response(body).arrayBuffer();
  await use(frameSink(push, close));
  const bytes = new Uint8Array(await read);
  const frames = [];
  for (let at = 0; at < bytes.length;) {
    const size = new DataView(bytes.buffer, at + 1, 4).getUint32(0);
    frames.push([
      String.fromCharCode(bytes[at]),
      new TextDecoder().decode(bytes.subarray(at + 5, at + 5 + size)),
    ]);
    at += 5 + size;
  }
  return frames;
}

Deno.test("a sink frames data in pieces of at most 1 MiB, then its end, then the handler's settling", async () => {
  const frames = await framesOf(async (sink) => {
    await sink.write(new Uint8Array((1 << 20) + 3).fill(0x61));
    await sink.end();
    const late = { errorType: "E", errorMessage: "late", stackTrace: [] };
    assert.equal(await sink.fail(late, false), false);
    await sink.settled(true);
  });
  const kinds = frames.map(([kind, payload]) => `${kind}${payload.length}`);
  assert.deepEqual(kinds, [`d${1 << 20}`, "d3", "f0", "S0"]);
});

Deno.test("a sink's error frame carries the error body, cut down when over 256 KiB", async () => {
  const frames = await framesOf(async (sink) => {
    await sink.write(new TextEncoder().encode("partial"));
    await sink.fail(
      { errorType: "Big", errorMessage: "m".repeat(300 << 10), stackTrace: ["at x"] },
      true,
    );
    await sink.settled(true);
  });
  assert.equal(frames.length, 3);
  assert.equal(frames[1][0], "E");
  const body = JSON.parse(frames[1][1]);
  assert.equal(body.errorType, "Big");
  assert.equal(body.errorMessage.length, 16 << 10);
});

Deno.test("a body the server stopped reading fails the writes waiting on it", async () => {
  const { body, push } = frameBody();
  const waiting = push(new Uint8Array(300 * 1024)); // more than is held ahead: waits for the server
  await body.cancel();
  await assert.rejects(waiting, /stopped taking the response stream/);
  await assert.rejects(push(new Uint8Array(1)), /stopped taking/);
});
