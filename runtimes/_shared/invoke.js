// @ts-check
// One invocation, from the Runtime API's event and headers to the body to post.
import { createContext } from "./context.js";
import { describe, errorBody, RuntimeError } from "./errors.js";
import { withInvocation } from "./invoke_store.js";
import { invokeStreaming, isStreaming } from "./streaming.js";
import { Escaped, guarded } from "./uncaught.js";

/**
 * What to post: the serialised result, or the serialised error body and its
 * type. fatal: an error escaped the handler, and the process must not serve
 * another invocation. streamed: the handler streamed its response through the
 * sink open gave, which carried its end or its error.
 * @typedef {{ body: string, errorType?: string, fatal?: boolean, streamed?: boolean }} Result
 */

/**
 * Parses the event, runs the handler and serialises what it returns. A
 * handler that streams gets a response stream, whose bytes go to the sink open
 * gives at its first byte.
 * @returns {Promise<Result>}
 */
export async function invoke(
  /** @type {(event: unknown, context: unknown) => unknown} */ handler,
  /** @type {string} */ eventText,
  /** @type {Headers} */ headers,
  /** @type {import("./context.js").StaticContext} */ env,
  /** @type {((contentType: string) => import("./streaming.js").Sink) | undefined} */ open =
    undefined,
) {
  const context = createContext(headers, env);
  const traceId = headers.get("lambda-runtime-trace-id");
  // One process-wide variable cannot be each concurrent invocation's: under
  // Managed Instances the trace id is in the invocation store only, as on
  // Node.js.
  if (!env.concurrent) {
    if (traceId) Deno.env.set("_X_AMZN_TRACE_ID", traceId);
    else Deno.env.delete("_X_AMZN_TRACE_ID");
  }

  let event;
  try {
    event = JSON.parse(eventText);
  } catch (err) {
    return failure(
      new RuntimeError(
        "Runtime.UnmarshalError",
        `Unable to parse the event as JSON: ${describe(err)}`,
        err,
      )
        .body(),
    );
  }
  const ids = { requestId: context.awsRequestId, traceId, tenantId: context.tenantId };
  if (open && isStreaming(handler)) {
    const out = await invokeStreaming(
      handler,
      event,
      context,
      open,
      (call) => withInvocation(ids, () => guarded(call)),
      (log) => withInvocation(ids, log),
    );
    if ("streamed" in out) return { body: "", streamed: true };
    if (out.error instanceof Escaped) return { ...failure(out.error.body), fatal: true };
    return failure(errorBody(out.error));
  }
  let result;
  try {
    result = await withInvocation(ids, () => guarded(() => handler(event, context)));
  } catch (err) {
    if (err instanceof Escaped) return { ...failure(err.body), fatal: true };
    return failure(errorBody(err));
  }
  try {
    // undefined (and functions, symbols) serialise to null, as on Node.js.
    return { body: JSON.stringify(result) ?? "null" };
  } catch (err) {
    return failure(
      new RuntimeError(
        "Runtime.JSONStringifyError",
        `Unable to stringify response body: ${describe(err)}`,
        err,
      ).body(),
    );
  }
}

/** @returns {Result} */
function failure(/** @type {import("./errors.js").ErrorBody} */ error) {
  return { body: JSON.stringify(error), errorType: error.errorType };
}
