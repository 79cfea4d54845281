// @ts-check
// runtime1's bridge: one Deno process for the whole execution environment.
//
// The bootstrap starts this file with one JSON line on stdin (the bridge token,
// the bundle, the export) and fd 3 open for writing. Init imports the function;
// then one line goes to fd 3: {"port": N} once the loopback server listens, or
// {"error": {...}} when the function cannot be loaded. Every invocation is one
// POST /invoke from the bootstrap, carrying the token and the Runtime API's
// headers; the answer is the result, or an error body with
// Lambda-Runtime-Function-Error-Type set.
import { staticContext } from "../_shared/context.js";
import { RuntimeError } from "../_shared/errors.js";
import { loadHandler } from "../_shared/handler.js";
import { invoke } from "../_shared/invoke.js";
import { patchConsole } from "../_shared/log_patch.js";
import { readControl, reportReady } from "../_shared/control.js";

const control = readControl();
const getenv = (/** @type {string} */ key) => Deno.env.get(key);
patchConsole({ format: getenv("AWS_LAMBDA_LOG_FORMAT"), level: getenv("AWS_LAMBDA_LOG_LEVEL") });
const env = staticContext(getenv);

let handler;
try {
  handler = await loadHandler(control.bundle, control.export, control.handler);
} catch (err) {
  const body = err instanceof RuntimeError
    ? err.body()
    : new RuntimeError("Runtime.ImportModuleError", String(err), err).body();
  reportReady({ error: body });
  Deno.exit(1);
}

const ERROR_TYPE = "Lambda-Runtime-Function-Error-Type";

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => reportReady({ port }),
}, async (req) => {
  if (req.headers.get("x-bridge-token") !== control.token) {
    return new Response("Forbidden", { status: 403 });
  }
  const result = await invoke(handler, await req.text(), req.headers, env);
  if (result.ok) {
    return new Response(result.body, { headers: { "content-type": "application/json" } });
  }
  return new Response(JSON.stringify(result.error), {
    headers: { "content-type": "application/json", [ERROR_TYPE]: result.error.errorType },
  });
});
