// @ts-check
// runtime2's one invocation over the bootstrap's channel: a JSON line
// {"headers": {...}, "length": N} and N bytes of event in; the result out as
// {"length": N} (and "errorType" for a failure) and N bytes of body, where no
// console output can reach it. A streamed result goes out as
// {"stream": true, "contentType": "..."} and then its frames (streaming.js).
import { invoke } from "./invoke.js";
import { frameSink } from "./streaming.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Reads one event, runs the handler on it and sends the result.
 * @param {import("./control.js").Channel} channel
 * @param {(event: unknown, context: unknown) => unknown} handler
 * @param {import("./context.js").StaticContext} env
 */
export async function serveOne(channel, handler, env) {
  const frame = JSON.parse(await channel.input.line());
  const event = decoder.decode(await channel.input.exactly(frame.length));
  const open = (/** @type {string} */ contentType) => {
    const started = channel.send({ stream: true, contentType });
    return frameSink(async (bytes, length) => {
      await started;
      await channel.write(bytes, length);
    }, () => {});
  };
  const result = await invoke(handler, event, new Headers(frame.headers), env, open);
  if (result.streamed) return;
  const body = encoder.encode(result.body);
  const { errorType } = result;
  await channel.send(
    errorType === undefined ? { length: body.length } : { length: body.length, errorType },
    body,
  );
}
