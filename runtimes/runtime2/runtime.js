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

const { channel, handler, env } = await init();
// Compile the invocation path while the process waits for its event: one dry
// run, with a stand-in handler, so the real event meets warm code.
await invoke(() => null, "{}", new Headers({ "lambda-runtime-aws-request-id": "warm-up" }), env);
clearInvocation();
await channel.send({});

await serveOne(channel, handler, env);
