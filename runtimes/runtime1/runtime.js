// @ts-check
// runtime1's bridge: one Deno process for the whole execution environment.
//
// The bootstrap starts this file with one JSON line on stdin (the port to
// dial, this process's token, the bundle, the export). Init imports the
// function; then one line goes on the channel: {"port": N} once the loopback
// server listens, or {"error": {...}} when the function cannot be loaded.
// Every invocation is one POST /invoke from the bootstrap, carrying the token
// and the Runtime API's headers; the answer is the result, or an error body
// with Lambda-Runtime-Function-Error-Type set, and X-Bridge-Fatal when an
// error escaped the handler, after which the bootstrap replaces this process.
import { init } from "../_shared/init.js";
import { invoke } from "../_shared/invoke.js";

const { control, channel, handler, env } = await init();
const ERROR_TYPE = "Lambda-Runtime-Function-Error-Type";
const FATAL = "X-Bridge-Fatal";

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => {
    channel.send({ port }).finally(() => channel.close());
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
  /** @type {Record<string, string>} */
  const headers = {
    // The body carries the name as thrown; a header cannot carry line breaks.
    [ERROR_TYPE]: result.errorType.replace(/[^\x20-\x7e]/g, "_").slice(0, 256) || "Error",
  };
  if (result.fatal) headers[FATAL] = "1";
  return new Response(result.body, { headers });
});
