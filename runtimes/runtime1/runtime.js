// @ts-check
// runtime1's bridge: one Deno process for the whole execution environment.
//
// The bootstrap starts this file with one JSON line on stdin (its FIFO, the
// bridge token, the bundle, the export). Init imports the function; then one
// line goes to the FIFO: {"port": N} once the loopback server listens, or
// {"error": {...}} when the function cannot be loaded. Every invocation is one
// POST /invoke from the bootstrap, carrying the token and the Runtime API's
// headers; the answer is the result, or an error body with
// Lambda-Runtime-Function-Error-Type set.
import { init } from "../_shared/init.js";
import { invoke } from "../_shared/invoke.js";

const { control, output, handler, env } = await init();
const ERROR_TYPE = "Lambda-Runtime-Function-Error-Type";

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => {
    output.send({ port });
    output.close();
  },
}, async (req) => {
  if (req.headers.get("x-bridge-token") !== control.token) {
    return new Response("Forbidden", { status: 403 });
  }
  let event;
  try {
    event = await req.text();
  } catch {
    // The bootstrap abandoned the request: the event was cut off on its way
    // from the Runtime API. The handler never sees half an event.
    return new Response(null, { status: 400 });
  }
  const result = await invoke(handler, event, req.headers, env);
  if (result.errorType === undefined) {
    return new Response(result.body); // the bootstrap needs no content type (7 µs less)
  }
  return new Response(result.body, {
    // The body carries the name as thrown; a header cannot carry line breaks.
    headers: {
      [ERROR_TYPE]: result.errorType.replace(/[^\x20-\x7e]/g, "_") || "Error",
    },
  });
});
