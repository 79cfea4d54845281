// @ts-check
// Error bodies for the Runtime API: {errorType, errorMessage, stackTrace}.
// Whatever a function throws is read defensively: an error whose name, message
// or stack throws when read (a Proxy, a getter) must still become a body.

/**
 * @typedef {{ errorType: string, errorMessage: string, stackTrace: string[] }} ErrorBody
 */

/** What the runtime knows of the function's permissions, for advice. */
const permissions = { flags: /** @type {string[]} */ ([]), denoDir: "", runtimeApi: "" };

/** Sets the flags the function runs with, so that advice can build on them. */
export function setPermissions(
  /** @type {string[]} */ flags,
  /** @type {string} */ denoDir,
  /** @type {string} */ runtimeApi = "",
) {
  permissions.runtimeApi = runtimeApi;
  permissions.flags = flags;
  permissions.denoDir = denoDir;
}

/** The longest error type passed on: it travels in a header too. */
const MAX_TYPE_LENGTH = 256;

/** An error's name as its type: "Error" when it has none, and never longer than a header takes. */
function typeOf(/** @type {unknown} */ name) {
  return (String(name) || "Error").slice(0, MAX_TYPE_LENGTH);
}

function isErrorLike(/** @type {any} */ e) {
  return e instanceof Error ||
    (e !== null && typeof e === "object" && typeof e.name === "string" &&
      typeof e.message === "string" && typeof e.stack === "string");
}

/** Quotes a flag for a shell, as DENO_LAMBDA_PERMISSIONS="..." shows it. */
function withFlag(/** @type {string} */ flag) {
  return `DENO_LAMBDA_PERMISSIONS="${[...permissions.flags, flag].join(" ")}"`;
}

/** Whether one entry of a --deny-<kind> list covers value, as Deno matches it. */
function covers(
  /** @type {string} */ kind,
  /** @type {string} */ entry,
  /** @type {string} */ value,
) {
  if (entry === value) return true;
  switch (kind) {
    case "net": // a host without a port denies every port
      return !/:\d+$/.test(entry) && value.replace(/:\d+$/, "") === entry;
    case "env": // a trailing * stands for every name it begins
      return entry.endsWith("*") && value.startsWith(entry.slice(0, -1));
    case "run": // a path denies the program by its name too
      return entry.split("/").pop() === value || value.split("/").pop() === entry;
    default: // a directory denies what is below it
      return value.startsWith(entry.replace(/\/?$/, "/"));
  }
}

/** The deny flag of this kind that covers value, if any. */
function denial(/** @type {string} */ kind, /** @type {string} */ value) {
  return permissions.flags.find((f) =>
    f.startsWith(`--deny-${kind}=`) &&
    f.slice(`--deny-${kind}=`.length).split(",").some((entry) => covers(kind, entry, value))
  );
}

/** Deno's advice for a missing permission, translated for Lambda. */
function permissionAdvice(/** @type {string} */ message) {
  const asked = /^Requires (\w+) access to "(.*)", run again with the (--allow-\w+) flag$/
    .exec(message);
  if (!asked) return `${message}: grant it in DENO_LAMBDA_PERMISSIONS`;
  const [, kind, value, flag] = asked;
  const what = `Requires ${kind} access to "${value}"`;
  const apiPort = permissions.runtimeApi.split(":").pop();
  if (kind === "net" && apiPort && value.endsWith(`:${apiPort}`) && !denial(kind, value)) {
    return `${what}: ${permissions.runtimeApi} is the Runtime API, which only the runtime may call`;
  }
  if (permissions.denoDir && (value + "/").startsWith(permissions.denoDir + "/")) {
    return `${what}: ${permissions.denoDir} is the runtime's own cache, which functions may not use`;
  }
  const denied = denial(kind, value);
  if (denied) return `${what}, which ${denied} in DENO_LAMBDA_PERMISSIONS denies`;
  return flag === "--allow-all"
    ? `${what}: only --allow-all grants it; set ${withFlag("--allow-all")}`
    : `${what}: add ${flag}=${value} to DENO_LAMBDA_PERMISSIONS, for example ${
      withFlag(`${flag}=${value}`)
    }`;
}

/**
 * Deno's node:child_process reports a missing run permission only as "Command
 * failed": say what grants it. exec and execSync start /bin/sh, execFile the
 * program itself.
 */
function commandAdvice(/** @type {string} */ message) {
  const failed = /^Command failed: (\S+)/.exec(message);
  if (!failed || Deno.permissions.querySync({ name: "run" }).state === "granted") return message;
  const programs = `/bin/sh,${failed[1]}`;
  return `${message}: the function may not start programs; to let it, set ${
    withFlag(`--allow-run=${programs}`)
  } (exec and execSync run /bin/sh, which can run any program)`;
}

/** A message with Lambda's advice, when it is about a missing permission. */
function advised(/** @type {string} */ name, /** @type {string} */ message) {
  return name === "NotCapable" ? permissionAdvice(message) : commandAdvice(message);
}

/** The body for a handler that threw or rejected, shaped as Node.js shapes it. */
export function errorBody(/** @type {unknown} */ error) {
  try {
    if (isErrorLike(error)) {
      const e = /** @type {Error} */ (error);
      const name = typeOf(e.name);
      const original = String(e.message);
      const message = advised(name, original);
      const stack = typeof e.stack === "string" ? e.stack.split("\n") : [];
      if (message !== original && stack[0] === `${name}: ${original}`) {
        stack[0] = `${name}: ${message}`;
      }
      return /** @type {ErrorBody} */ ({
        errorType: name,
        errorMessage: message,
        stackTrace: stack,
      });
    }
    return /** @type {ErrorBody} */ ({
      errorType: typeof error,
      errorMessage: String(error),
      stackTrace: [],
    });
  } catch (err) {
    // Node.js's runtime names this case "handled" too.
    return unreadable(err);
  }
}

/** The body for an error whose parts threw when read. */
function unreadable(/** @type {unknown} */ cause) {
  return /** @type {ErrorBody} */ ({
    errorType: "handled",
    errorMessage:
      `The handler threw a value whose name, message or stack cannot be read: reading it threw ${
        describe(cause)
      }`,
    stackTrace: [],
  });
}

/** The body for a promise rejection nothing handled, as Node.js's runtime names it. */
export function rejectionBody(/** @type {unknown} */ reason) {
  const type = "Runtime.UnhandledPromiseRejection";
  const message = describe(reason);
  let stack = /** @type {string[]} */ ([]);
  try {
    const trace = /** @type {any} */ (reason)?.stack;
    if (typeof trace === "string") stack = trace.split("\n").slice(1);
  } catch { /* no stack to give */ }
  return /** @type {ErrorBody} */ ({
    errorType: type,
    errorMessage: message,
    stackTrace: [`${type}: ${message}`, ...stack],
  });
}

/** String(value), for a value that may throw when converted. */
export function describe(/** @type {unknown} */ value) {
  try {
    return String(value);
  } catch {
    return "a value that cannot be read";
  }
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
    let stack = "";
    try {
      const cause = this.cause;
      stack = isErrorLike(cause) ? /** @type {Error} */ (cause).stack ?? "" : "";
    } catch { /* a cause that throws when read has no stack to give */ }
    return {
      errorType: this.name,
      errorMessage: this.message,
      stackTrace: stack === "" ? [] : String(stack).split("\n"),
    };
  }
}
