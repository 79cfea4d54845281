// @ts-check
// runtime2's bridge: a fresh Deno process for every invocation.
//
// The bootstrap starts this file ahead of its event, with one JSON line on
// stdin (the port to dial, this process's token, the bundle, the export). Init
// imports the function and writes {} (or {"error": {...}}) on the channel.
// Then the process serves its one event from the channel (see
// ../_shared/serve.js), and the bootstrap discards it.
import { init } from "../_shared/init.js";
import { invoke } from "../_shared/invoke.js";
import { clearInvocation } from "../_shared/invoke_store.js";
import { serveOne } from "../_shared/serve.js";
import { frameSink, invokeStreaming, isStreaming } from "../_shared/streaming.js";

const { channel, handler, env } = await init();
// Compile the invocation path while the process waits for its event: one dry
// run, with a stand-in handler, so the real event meets warm code.
await invoke(() => null, "{}", new Headers({ "lambda-runtime-aws-request-id": "warm-up" }), env);
clearInvocation();
if (isStreaming(handler)) {
  // And the streaming path, which the plain run does not take: a large piece
  // and a small one, which the sink frames differently, into a sink that
  // drops them. node:stream takes event-loop turns to end a stream, in which
  // the function's own timers may run: this run is not an invocation, so what
  // they log or throw is nobody's, as at init.
  const standIn = async (/** @type {unknown} */ _event, /** @type {any} */ stream) => {
    stream.write(new Uint8Array(32 * 1024));
    await new Promise((resolve) => stream.end("x", resolve));
  };
  const open = () => frameSink(() => Promise.resolve(), () => {});
  await invokeStreaming(standIn, {}, {}, open, (call) => call());
}
await channel.send({});

await serveOne(channel, handler, env);
