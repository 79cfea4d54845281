// @ts-check
// Error bodies for the Runtime API: {errorType, errorMessage, stackTrace}.

/**
 * @typedef {{ errorType: string, errorMessage: string, stackTrace: string[] }} ErrorBody
 */

function isErrorLike(/** @type {any} */ e) {
  return e instanceof Error ||
    (e !== null && typeof e === "object" && typeof e.name === "string" &&
      typeof e.message === "string" && typeof e.stack === "string");
}

/** Deno's advice for a missing permission, translated for Lambda. */
function onLambda(/** @type {string} */ message) {
  const advice = /, run again with the (--allow-\w+) flag$/;
  return advice.test(message)
    ? message.replace(advice, ": add $1 to DENO_LAMBDA_PERMISSIONS")
    : `${message}: grant it in DENO_LAMBDA_PERMISSIONS`;
}

/** The body for a handler that threw or rejected, shaped as Node.js shapes it. */
export function errorBody(/** @type {unknown} */ error) {
  if (isErrorLike(error)) {
    const e = /** @type {Error} */ (error);
    return /** @type {ErrorBody} */ ({
      errorType: e.name,
      errorMessage: e.name === "NotCapable" ? onLambda(e.message) : e.message,
      stackTrace: typeof e.stack === "string" ? e.stack.split("\n") : [],
    });
  }
  let message;
  try {
    message = String(error);
  } catch {
    message = Object.prototype.toString.call(error);
  }
  return /** @type {ErrorBody} */ ({
    errorType: typeof error,
    errorMessage: message,
    stackTrace: [],
  });
}

/** An error the runtime raises itself, with a Runtime.* type. */
export class RuntimeError extends Error {
  /** @param {string} type @param {string} message @param {unknown} [cause] */
  constructor(type, message, cause) {
    super(message, { cause });
    this.name = type;
  }

  /** @returns {ErrorBody} */
  body() {
    const cause = this.cause;
    const stack = isErrorLike(cause) ? /** @type {Error} */ (cause).stack ?? "" : "";
    return {
      errorType: this.name,
      errorMessage: this.message,
      stackTrace: stack === "" ? [] : stack.split("\n"),
    };
  }
}
