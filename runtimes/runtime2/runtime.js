// @ts-check
// runtime2's bridge: a fresh Deno process for every invocation.
//
// The bootstrap starts this file ahead of its event, with one JSON line on
// stdin (the port to dial, this process's token, the bundle, the export). Init
// imports the function and writes {"streams": bool} (or {"error": {...}}) on
// the channel; the bootstrap starts the next process of a function that
// streams only once its first byte has gone out. Then the process serves its
// one event from the channel (see ../_shared/serve.js), and the bootstrap
// discards it.
import { init } from "../_shared/init.js";
import { invoke } from "../_shared/invoke.js";
import { clearInvocation } from "../_shared/invoke_store.js";
import { serveOne } from "../_shared/serve.js";
import { frameSink, isStreaming, streamifyResponse } from "../_shared/streaming.js";

const { channel, handler, env } = await init();
const streams = isStreaming(handler);
// Compile the invocation path while the process waits for its event: one dry
// run, with a stand-in for the function's kind of handler, so that the real
// event meets warm code. A streaming stand-in writes a large piece and a small
// one, which the sink frames differently, to a sink that drops them.
const warmUp = new Headers({ "lambda-runtime-aws-request-id": "warm-up" });
if (streams) {
  const standIn = streamifyResponse(
    async (/** @type {unknown} */ _event, /** @type {any} */ stream) => {
      stream.write(new Uint8Array(32 * 1024));
      await new Promise((resolve) => stream.end("x", resolve));
    },
  );
  await invoke(standIn, "{}", warmUp, env, () => frameSink(() => Promise.resolve(), () => {}));
} else {
  await invoke(() => null, "{}", warmUp, env);
}
clearInvocation();
await channel.send({ streams });

await serveOne(channel, handler, env);
