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
// A handler that streams gets its answer at its first byte: X-Bridge-Stream,
// its content type, and a chunked body of frames (../_shared/streaming.js).
import { init } from "../_shared/init.js";
import { invoke } from "../_shared/invoke.js";
import { frameBody, frameSink, isStreaming } from "../_shared/streaming.js";

const { control, channel, handler, env } = await init();
const ERROR_TYPE = "Lambda-Runtime-Function-Error-Type";
const FATAL = "X-Bridge-Fatal";
const STREAM = "X-Bridge-Stream";

const streams = isStreaming(handler);

/**
 * Runs a handler that streams: answered at its first byte with its frames
 * (X-Bridge-Stream, its content type), or with its result as ever when it
 * fails before it.
 * @returns {Promise<Response | import("../_shared/invoke.js").Result>}
 */
async function invokeStreaming(/** @type {string} */ event, /** @type {Headers} */ headers) {
  /** @type {(r: Response) => void} */
  let respond = () => {};
  const streamed = new Promise((resolve) => respond = resolve);
  const open = (/** @type {string} */ contentType) => {
    const { body, push, close } = frameBody();
    // A content type no header can carry is left for the bootstrap's default.
    const type = /^[\x20-\x7e\t]*$/.test(contentType) ? contentType : "";
    respond(new Response(body, { headers: { [STREAM]: "1", "content-type": type } }));
    return frameSink(push, close);
  };
  const result = await Promise.race([invoke(handler, event, headers, env, open), streamed]);
  return result instanceof Response || !result.streamed ? result : await streamed;
}

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
  const result = streams
    ? await invokeStreaming(event, req.headers)
    : await invoke(handler, event, req.headers, env);
  if (result instanceof Response) return result;
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
