// @ts-check
// runtime2's bridge: a fresh Deno process for every invocation.
//
// The bootstrap starts this file ahead of its event, with one JSON line on
// stdin (its two FIFOs, the bundle, the export). Init imports the function and
// writes {} (or {"error": {...}}) to the result FIFO. Then the process serves
// its one event from the events FIFO (see ../_shared/serve.js), and the
// bootstrap discards it.
import { init } from "../_shared/init.js";
import { invoke } from "../_shared/invoke.js";
import { setRequestId } from "../_shared/log_patch.js";
import { serveOne } from "../_shared/serve.js";

const { output, events, handler, env } = await init();
// Compile the invocation path while the process waits for its event: one dry
// run, with a stand-in handler, so the real event meets warm code.
await invoke(() => null, "{}", new Headers({ "lambda-runtime-aws-request-id": "warm-up" }), env);
setRequestId(undefined);
output.send({});

await serveOne(/** @type {import("../_shared/control.js").Input} */ (events), output, handler, env);
