// @ts-check
import assert from "node:assert/strict";
import {
  frameSink,
  installAwslambda,
  invokeStreaming,
  isStreaming,
  streamHead,
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
  /** @type {number[]} */
  const bytes = [];
  let closed = false;
  await use(frameSink((b) => {
    for (const byte of b) bytes.push(byte);
    return Promise.resolve();
  }, () => closed = true));
  assert.equal(closed, true);
  const frames = [];
  for (let at = 0; at < bytes.length;) {
    const size = new DataView(new Uint8Array(bytes.slice(at + 1, at + 5)).buffer).getUint32(0);
    frames.push([
      String.fromCharCode(bytes[at]),
      new TextDecoder().decode(new Uint8Array(bytes.slice(at + 5, at + 5 + size))),
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

Deno.test("a large piece goes after its head as given, a small one copied into its frame, and settling comes before the last frame", async () => {
  /** @type {Uint8Array[]} */
  const pushed = [];
  /** @type {string[]} */
  const order = [];
  const sink = frameSink(
    (b) => {
      pushed.push(b);
      order.push(`push ${b.length}`);
      return Promise.resolve();
    },
    () => order.push("close"),
    (escaped) => order.push(`settling ${escaped}`),
  );
  const large = new Uint8Array(64 * 1024).fill(1);
  const small = new Uint8Array(10).fill(2);
  await sink.write(large);
  await sink.write(small);
  await sink.end();
  await sink.settled(false);
  assert.equal(pushed[1].buffer, large.buffer); // the handler's own bytes: no copy
  assert.deepEqual([...pushed[2].subarray(5)], [...small]);
  assert.deepEqual(order, [
    "push 5",
    `push ${64 * 1024}`,
    "push 15",
    "push 5",
    "settling false",
    "push 5",
    "close",
  ]);
});

Deno.test("runtime1's head frame carries the nonce and the content type, or no type for one no header can carry", () => {
  const nonce = "ab".repeat(32);
  const head = streamHead(nonce, "text/plain");
  assert.equal(head[0], 0x68);
  assert.equal(new DataView(head.buffer).getUint32(1), 74);
  assert.equal(new TextDecoder().decode(head.subarray(5)), nonce + "text/plain");
  assert.equal(streamHead(nonce, "a\nb").length, 69);
  assert.equal(streamHead(nonce, "x".repeat(1025)).length, 69);
  assert.equal(streamHead(nonce, "x".repeat(1024)).length, 1093);
});

Deno.test("a piece whose buffer shrank before it went fails the stream, which is then not kept", async () => {
  const buffer = new ArrayBuffer(64 * 1024, { maxByteLength: 64 * 1024 });
  const piece = new Uint8Array(buffer); // tracks the buffer's length
  /** @type {string[]} */
  const order = [];
  const sink = frameSink(
    (b, length = b.length) => {
      if (b.length !== length) return Promise.reject(new Error("changed size"));
      order.push(`push ${b.length}`);
      if (b.length === 5 && order.length === 1) buffer.resize(10); // the handler, meanwhile
      return Promise.resolve();
    },
    () => order.push("close"),
    () => order.push("settling"),
  );
  await assert.rejects(sink.write(piece), /changed size/);
  await sink.settled(false);
  assert.deepEqual(order, ["push 5", "close"]);
});

Deno.test("a piece whose buffer the handler transfers right after write() fails the stream instead of vanishing", async () => {
  /** @type {Uint8Array[]} */
  const pushed = [];
  const open = () =>
    frameSink((b) => {
      pushed.push(b.slice());
      return Promise.resolve();
    }, () => {});
  const handler = async (/** @type {unknown} */ _event, /** @type {any} */ stream) => {
    const piece = new Uint8Array(64 * 1024).fill(0x61);
    stream.write(piece);
    piece.buffer.transfer(); // gone before the stream could send it
    await new Promise((resolve) => stream.end(resolve));
  };
  const out = await invokeStreaming(handler, {}, {}, open, (call) => call());
  assert.deepEqual(out, { streamed: true });
  const kinds = pushed.map((b) => String.fromCharCode(b[0]));
  assert.deepEqual(kinds, ["e", "s"], "an error frame, then the settling; no data, no end");
  const error = JSON.parse(new TextDecoder().decode(pushed[0].subarray(5)));
  assert.match(error.errorMessage, /buffer changed size/);
});

Deno.test("a piece whose buffer shrank while it waited behind another fails the stream", async () => {
  /** @type {() => void} */
  let release = () => {};
  const held = new Promise((resolve) => release = () => resolve(undefined));
  /** @type {number[]} */
  const lengths = [];
  const sink = frameSink(async (b) => {
    lengths.push(b.length);
    if (lengths.length === 1) await held; // the first frame's write takes its time
  }, () => {});
  const first = sink.write(new Uint8Array(10));
  const buffer = new ArrayBuffer(64 * 1024, { maxByteLength: 64 * 1024 });
  const waiting = sink.write(new Uint8Array(buffer));
  buffer.resize(10); // the handler, before the piece's turn came
  release();
  await first;
  await assert.rejects(waiting, /changed size/);
  assert.deepEqual(lengths, [15], "nothing of the shrunk piece went");
});
