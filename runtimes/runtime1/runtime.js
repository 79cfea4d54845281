// @ts-check
// runtime1's bridge: one Deno process for the whole execution environment.
//
// The bootstrap starts this file with one JSON line on stdin (the port to
// dial, this process's token, the bundle, the export). Init imports the
// function; then one line goes on the channel: {"port": N, "streams": bool}
// once the loopback server listens, or {"error": {...}} when the function
// cannot be loaded. Every invocation is one POST /invoke from the bootstrap,
// carrying the token and the Runtime API's headers; the answer is the result,
// or an error body with Lambda-Runtime-Function-Error-Type set, and
// X-Bridge-Fatal when an error escaped the handler, after which the bootstrap
// replaces this process. The result of a handler that streams goes on a
// connection of its own, dialled to the bootstrap's port with the
// invocation's X-Bridge-Stream-Token as the channel is: a head frame with the
// invocation's X-Bridge-Stream-Nonce and its content type, then its frames
// (../_shared/streaming.js). A frame's write
// there ends once the kernel has it, and the bootstrap reads the stream
// without waiting for the answer, which comes once the handler has settled.
import { Channel } from "../_shared/control.js";
import { init } from "../_shared/init.js";
import { invoke } from "../_shared/invoke.js";
import { frameSink, isStreaming, streamHead } from "../_shared/streaming.js";

const { control, channel, handler, env } = await init();
const ERROR_TYPE = "Lambda-Runtime-Function-Error-Type";
const FATAL = "X-Bridge-Fatal";
const STREAM = "X-Bridge-Stream";
const STREAM_TOKEN = "X-Bridge-Stream-Token";
const STREAM_NONCE = "X-Bridge-Stream-Nonce";

const streams = isStreaming(handler);

/**
 * Stream connections kept for later invocations, by token: the bootstrap
 * keeps its end of each too, and names one in a later invocation's
 * X-Bridge-Stream-Token.
 * @type {Map<string, Channel>}
 */
const keptStreams = new Map();

/** Stream connections the bootstrap has ended: never kept. */
const endedStreams = new WeakSet();

/** The stream connection a token names: one kept, or one dialled now. */
function streamChannel(/** @type {string} */ token) {
  const kept = keptStreams.get(token);
  if (kept) {
    keptStreams.delete(token);
    return Promise.resolve(kept);
  }
  const dialled = Channel.open({ port: control.port, token });
  // The bootstrap ends a connection it does not keep: so is it dropped here.
  dialled.then((c) =>
    c.ended().then(() => {
      endedStreams.add(c);
      if (keptStreams.get(token) === c) keptStreams.delete(token);
      c.close();
    }), () => {});
  return dialled;
}

/**
 * Runs a handler that streams. Its stream connection, named by the request,
 * opens with a head frame (the request's nonce and the content type) at its
 * first byte, then its frames; the answer comes once it has settled:
 * X-Bridge-Stream, or its result as ever when it failed before its first
 * byte.
 * @returns {Promise<Response | import("../_shared/invoke.js").Result>}
 */
async function invokeStreaming(/** @type {string} */ event, /** @type {Headers} */ headers) {
  const token = headers.get(STREAM_TOKEN) ?? "";
  const nonce = headers.get(STREAM_NONCE) ?? "";
  // Dialled (if need be) while the handler starts, so that its first byte
  // does not wait.
  const dialled = streamChannel(token);
  dialled.catch(() => {}); // answered below
  /** @type {Channel | null} */
  let channel = null;
  dialled.then((c) => channel = c, () => {});
  let kept = false;
  const open = (/** @type {string} */ contentType) => {
    const headed = dialled.then((c) => c.write(streamHead(nonce, contentType)));
    headed.catch(() => {}); // the first push fails with it
    const push = async (/** @type {Uint8Array} */ bytes, /** @type {number=} */ length) => {
      await headed;
      await (await dialled).write(bytes, length);
    };
    // Kept before its last frame goes, so that the bootstrap, which keeps it
    // once that frame has come, never names a connection not kept here; the
    // sink calls this only when every frame before went whole.
    const settling = (/** @type {boolean} */ escaped) => {
      if (!escaped && channel && !endedStreams.has(channel)) {
        keptStreams.set(token, channel);
        kept = true;
      }
    };
    return frameSink(push, () => kept || channel?.close(), settling);
  };
  const result = await invoke(handler, event, headers, env, open);
  if (!result.streamed) {
    dialled.then((c) => c.close(), () => {}); // it failed before its first byte
    return result;
  }
  return await dialled.then(
    () => new Response(null, { headers: { [STREAM]: "1" } }),
    (err) => unstreamable(err),
  );
}

/** The answer when the stream's connection could not be opened: the process is replaced. */
function unstreamable(/** @type {unknown} */ err) {
  const errorMessage = `runtime.js could not open the response stream's connection: ${err}`;
  return new Response(
    JSON.stringify({ errorType: "Runtime.BridgeError", errorMessage, trace: [] }),
    { headers: { [ERROR_TYPE]: "Runtime.BridgeError", [FATAL]: "1" } },
  );
}

Deno.serve({
  hostname: "127.0.0.1",
  port: 0,
  onListen: ({ port }) => {
    channel.send({ port, streams }).finally(() => channel.close());
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
