// @ts-check
// Console output in Lambda's log formats, as the managed Node.js runtime writes
// it: Text records are "timestamp\trequestId\tLEVEL\tmessage", JSON records are
// one object per line. Both go to stdout, one record per line. Each record
// carries the request id of the invocation it was written in, as the
// invocation store knows it: the last one's on demand, its own under Managed
// Instances; undefined during init.
import { currentRequestId, currentTenantId } from "./invoke_store.js";

const LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
const encoder = new TextEncoder();

/** Formats console arguments like Node's util.format, values by Deno.inspect. */
export function formatArgs(/** @type {unknown[]} */ args) {
  if (args.length === 0) return "";
  const first = args[0];
  let next = 1;
  let out = typeof first !== "string"
    ? inspect(first)
    : args.length === 1
    ? first
    : first.replace(/%[sdifjoOc%]/g, (spec) => {
      if (spec === "%%") return "%";
      if (next >= args.length) return spec;
      const arg = args[next++];
      switch (spec) {
        case "%s":
          return typeof arg === "string" ? arg : ownString(arg) ?? inspect(arg);
        case "%d":
          return typeof arg === "bigint"
            ? `${arg}n`
            : typeof arg === "symbol"
            ? "NaN"
            : Object.is(Number(arg), -0)
            ? "-0"
            : String(Number(arg));
        case "%i":
          return typeof arg === "bigint"
            ? `${arg}n`
            : typeof arg === "symbol"
            ? "NaN"
            : String(parseInt(String(arg)));
        case "%f":
          return String(parseFloat(String(arg)));
        case "%j":
          try {
            return JSON.stringify(arg);
          } catch {
            return "[Circular]";
          }
        case "%c":
          return "";
        default:
          return inspect(arg);
      }
    });
  for (; next < args.length; next++) {
    const arg = args[next];
    out += " " + (typeof arg === "string" ? arg : inspect(arg));
  }
  return out;
}

/**
 * What %s shows for an object with a toString of its own (not Object's or
 * Error's), as Node's util.format does; undefined otherwise.
 */
function ownString(/** @type {unknown} */ value) {
  if (value === null || typeof value !== "object") return undefined;
  const toString = /** @type {{ toString?: unknown }} */ (value).toString;
  if (typeof toString !== "function" || toString === Object.prototype.toString) return undefined;
  if (value instanceof Error || toString === Error.prototype.toString) return undefined;
  return String(value);
}

function inspect(/** @type {unknown} */ value) {
  return Deno.inspect(value, { colors: false, depth: 4 });
}

/** An error's type, message and stack, as Lambda shows them in a JSON record. */
function errorFields(/** @type {Error} */ error) {
  return {
    errorType: error.constructor?.name ?? "UnknownError",
    errorMessage: error.message,
    stackTrace: typeof error.stack === "string" ? error.stack.split("\n") : [],
  };
}

/** Serialises errors with their type, message and stack. */
function errorReplacer(/** @type {string} */ _key, /** @type {unknown} */ value) {
  if (value instanceof Error) return { ...errorFields(value), ...value };
  return typeof value === "bigint" ? `${value}n` : value;
}

function jsonRecord(
  /** @type {string} */ level,
  /** @type {unknown[]} */ args,
) {
  /** @type {Record<string, unknown>} */
  const record = {
    timestamp: new Date().toISOString(),
    level,
    requestId: currentRequestId(),
  };
  // As on Node.js: only a tenant-isolated function's invocations have one.
  const tenantId = currentTenantId();
  if (tenantId) record.tenantId = tenantId;
  if (args.length === 1) {
    record.message = args[0];
    try {
      return JSON.stringify(record, errorReplacer);
    } catch {
      // cycles and the like: fall through to the formatted message
    }
  }
  record.message = formatArgs(args);
  const error = args.find((a) => a instanceof Error);
  if (error instanceof Error) Object.assign(record, errorFields(error));
  return JSON.stringify(record);
}

function textRecord(
  /** @type {string} */ level,
  /** @type {unknown[]} */ args,
) {
  // CloudWatch splits records on \n but not \r: keep a multi-line message one record.
  return `${new Date().toISOString()}\t${currentRequestId()}\t${level}\t${formatArgs(args)}`
    .replaceAll("\n", "\r");
}

/** Formats one record, or says why it could not: a logged value may throw when read. */
function safeRecord(
  /** @type {(level: string, args: unknown[]) => string} */ record,
  /** @type {string} */ level,
  /** @type {unknown[]} */ args,
) {
  try {
    return record(level, args);
  } catch (err) {
    let why = "";
    try {
      why = `: ${String(err)}`;
    } catch { /* as unreadable as the value */ }
    return record(level, [`[a logged value could not be formatted${why}]`]);
  }
}

/** The record format in use: Text until patchConsole says otherwise. */
let format = textRecord;

/**
 * Writes one record of the runtime's own, in the function's log format and
 * whatever the function did to the console.
 */
export function logRecord(/** @type {string} */ level, /** @type {unknown[]} */ args) {
  writeLine(safeRecord(format, level, args));
}

/** Writes every byte synchronously, so nothing is lost if the process exits next. */
function writeLine(/** @type {string} */ line) {
  const bytes = encoder.encode(line + "\n");
  let written = 0;
  while (written < bytes.length) {
    written += Deno.stdout.writeSync(bytes.subarray(written));
  }
}

/**
 * Replaces the console's printing methods with Lambda-formatted ones.
 * AWS_LAMBDA_LOG_FORMAT picks Text (default) or JSON; AWS_LAMBDA_LOG_LEVEL
 * drops records below its level, as the Node.js runtime does.
 */
export function patchConsole(
  /** @type {{ format?: string, level?: string }} */ options,
) {
  const json = options.format?.toUpperCase() === "JSON";
  const record = json ? jsonRecord : textRecord;
  format = record;
  const threshold = Math.max(0, LEVELS.indexOf(options.level?.toUpperCase() ?? "TRACE"));
  /** @param {string} level */
  const logger = (level) =>
    LEVELS.indexOf(level) < threshold
      ? () => {}
      : (/** @type {unknown[]} */ ...args) => writeLine(safeRecord(record, level, args));
  const c = /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (console));
  c.trace = logger("TRACE");
  c.debug = logger("DEBUG");
  c.info = logger("INFO");
  c.log = c.info;
  c.warn = logger("WARN");
  c.error = logger("ERROR");
  c.fatal = logger("FATAL");
}
