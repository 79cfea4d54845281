// @ts-check
// runtime2's bridge: a fresh Deno process for every invocation.
//
// The bootstrap starts this file ahead of its event, with one JSON line on
// stdin (its FIFO, the bundle, the export). Init imports the function and
// writes {} (or {"error": {...}}) to the FIFO. Then the process waits for its
// one event on stdin: a JSON line {"headers": {...}, "length": N} and N bytes
// of event. The result goes to the FIFO as {"length": N} (and "errorType" for
// a failure) and N bytes of body, where no console output can reach it.
// The bootstrap then discards the process.
import { Input } from "../_shared/control.js";
import { init } from "../_shared/init.js";
import { invoke } from "../_shared/invoke.js";
import { setRequestId } from "../_shared/log_patch.js";

const input = new Input();
const { output, handler, env } = await init(input);
// Compile the invocation path while the process waits for its event: one dry
// run, with a stand-in handler, so the real event meets warm code.
await invoke(() => null, "{}", new Headers({ "lambda-runtime-aws-request-id": "warm-up" }), env);
setRequestId(undefined);
output.send({});

const frame = JSON.parse(await input.line());
const event = new TextDecoder().decode(await input.exactly(frame.length));
const result = await invoke(handler, event, new Headers(frame.headers), env);
const body = new TextEncoder().encode(result.ok ? result.body : JSON.stringify(result.error));
output.send(
  result.ok ? { length: body.length } : { length: body.length, errorType: result.error.errorType },
  body,
);
