// @ts-check
// One invocation, from the Runtime API's event and headers to the body to post.
import { createContext } from "./context.js";
import { describe, errorBody, RuntimeError } from "./errors.js";
import { withInvocation } from "./invoke_store.js";
import { Escaped, guarded } from "./uncaught.js";

/**
 * What to post: the serialised result, or the serialised error body and its
 * type. fatal: an error escaped the handler, and the process must not serve
 * another invocation.
 * @typedef {{ body: string, errorType?: string, fatal?: boolean }} Result
 */

/**
 * Parses the event, runs the handler and serialises what it returns.
 * @returns {Promise<Result>}
 */
export async function invoke(
  /** @type {(event: unknown, context: unknown) => unknown} */ handler,
  /** @type {string} */ eventText,
  /** @type {Headers} */ headers,
  /** @type {import("./context.js").StaticContext} */ env,
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
  let result;
  try {
    const ids = { requestId: context.awsRequestId, traceId, tenantId: context.tenantId };
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
