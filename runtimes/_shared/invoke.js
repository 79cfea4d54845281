// @ts-check
// One invocation, from the Runtime API's event and headers to the body to post.
import { createContext } from "./context.js";
import { errorBody, RuntimeError } from "./errors.js";
import { setRequestId } from "./log_patch.js";

/**
 * @typedef {import("./errors.js").ErrorBody} ErrorBody
 * @typedef {{ ok: true, body: string } | { ok: false, error: ErrorBody }} Result
 */

/** Parses the event, runs the handler and serialises what it returns. */
export async function invoke(
  /** @type {(event: unknown, context: unknown) => unknown} */ handler,
  /** @type {string} */ eventText,
  /** @type {Headers} */ headers,
  /** @type {import("./context.js").StaticContext} */ env,
) {
  const context = createContext(headers, env);
  setRequestId(context.awsRequestId);
  const traceId = headers.get("lambda-runtime-trace-id");
  if (traceId) {
    Deno.env.set("_X_AMZN_TRACE_ID", traceId);
  } else {
    Deno.env.delete("_X_AMZN_TRACE_ID");
  }

  let event;
  try {
    event = JSON.parse(eventText);
  } catch (err) {
    return failure(
      new RuntimeError("Runtime.UnmarshalError", `Unable to parse the event as JSON: ${err}`, err),
    );
  }
  let result;
  try {
    result = await handler(event, context);
  } catch (err) {
    return /** @type {Result} */ ({ ok: false, error: errorBody(err) });
  }
  try {
    // undefined (and functions, symbols) serialise to null, as on Node.js.
    return /** @type {Result} */ ({ ok: true, body: JSON.stringify(result) ?? "null" });
  } catch (err) {
    return failure(
      new RuntimeError(
        "Runtime.MarshalError",
        `Unable to stringify the handler's result: ${err}`,
        err,
      ),
    );
  }
}

function failure(/** @type {RuntimeError} */ err) {
  return /** @type {Result} */ ({ ok: false, error: err.body() });
}
