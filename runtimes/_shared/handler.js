// @ts-check
// Loading the function's handler during init, with the Node.js runtime's
// Runtime.* error types when that fails.
import { errorBody, RuntimeError } from "./errors.js";
import { STREAMING } from "./streaming.js";

/** A file path as a file: URL, escaping what URLs treat specially. */
function fileUrl(/** @type {string} */ path) {
  return "file://" + path.split("/").map(encodeURIComponent).join("/");
}

/** Deno colours some of its messages whatever they are written to. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/**
 * Names the init failure an import error stands for: a syntax error or a
 * module not found, as Node.js's runtime names them. Anything else the import
 * threw is passed on as it is, as there.
 */
function importError(/** @type {unknown} */ err, /** @type {string} */ bundle) {
  try {
    const e = /** @type {any} */ (err);
    const text = `${e?.name ?? "Error"}: ${e?.message ?? String(err)}`.replace(ANSI, "");
    if (err instanceof SyntaxError) {
      return new RuntimeError("Runtime.UserCodeSyntaxError", text, err);
    }
    // Deno reports a syntax error in an imported module as a TypeError.
    if (typeof e?.message === "string" && e.message.startsWith("SyntaxError: ")) {
      return new RuntimeError("Runtime.UserCodeSyntaxError", e.message.replace(ANSI, ""), err);
    }
    // An import Deno cannot resolve, or a require() of what nothing installs.
    const missing = e?.code === "ERR_MODULE_NOT_FOUND" || e?.code === "MODULE_NOT_FOUND";
    if (missing || /Module not found/.test(e?.message)) {
      return new RuntimeError("Runtime.ImportModuleError", `Cannot load ${bundle}: ${text}`, err);
    }
  } catch { /* what the import threw cannot even be read: errorBody names it */ }
  return err;
}

/**
 * The init error body for what loading the handler threw: a RuntimeError's,
 * or, as Node.js's runtime sends what the function's code threw, that error's.
 */
export function loadFailure(/** @type {unknown} */ err) {
  return err instanceof RuntimeError ? err.body() : errorBody(err);
}

/** The value at a dotted path ("api.handler") in an object, or undefined. */
function lookUp(/** @type {any} */ object, /** @type {string} */ path) {
  let value = object;
  for (const key of path.split(".")) value = value?.[key];
  return value;
}

/**
 * The value at exportPath in an imported module: the named export, else the
 * same path under the default export.
 */
export function findHandler(/** @type {any} */ mod, /** @type {string} */ exportPath) {
  const named = lookUp(mod, exportPath);
  return !named && mod?.default != null ? lookUp(mod.default, exportPath) : named;
}

/**
 * The handler at exportPath in an imported module, as Node's runtime finds
 * it: the named export, else the same path under the default export (a
 * CommonJS module bundled to ESM exports its module.exports as default).
 * Throws a RuntimeError when there is none, it is not a function, it is
 * marked for a kind of streaming other than the response's, or it is
 * callback-style: declared with three parameters
 * or more, which AWS's Node.js 24 runtime refuses at init.
 * @returns {(event: unknown, context: unknown) => unknown}
 */
export function resolveHandler(
  /** @type {any} */ mod,
  /** @type {string} */ exportPath,
  /** @type {string} */ handlerName,
) {
  const fn = findHandler(mod, exportPath);
  if (fn === undefined) {
    throw new RuntimeError(
      "Runtime.HandlerNotFound",
      `${handlerName} is undefined or not exported`,
    );
  }
  if (typeof fn !== "function") {
    throw new RuntimeError("Runtime.HandlerNotFound", `${handlerName} is not a function`);
  }
  const streams = fn[STREAMING];
  if (streams === "response") return fn; // (event, responseStream, context)
  if (streams) {
    throw new RuntimeError(
      "Runtime.MalformedStreamingHandler",
      `${handlerName} is marked as streaming, but only response streaming is supported`,
    );
  }
  if (fn.length >= 3) {
    throw new RuntimeError(
      "Runtime.CallbackHandlerDeprecated",
      `${handlerName} is declared with ${fn.length} parameters (event, context, callback), ` +
        "a callback-based function handler, which AWS Lambda has removed support for " +
        "starting with Node.js 24: declare it with (event, context), and return the result " +
        "or a promise of it",
    );
  }
  return fn;
}

/**
 * Imports the bundle and returns the handler function at exportPath ("handler",
 * or a nested "api.handler"). Throws a RuntimeError naming the cause, or what
 * the function's own code threw as it was imported (loadFailure).
 * @returns {Promise<(event: unknown, context: unknown) => unknown>}
 */
export async function loadHandler(
  /** @type {string} */ bundle,
  /** @type {string} */ exportPath,
  /** @type {string} */ handlerName,
) {
  let mod;
  try {
    mod = await import(fileUrl(bundle));
  } catch (err) {
    throw importError(err, bundle);
  }
  return resolveHandler(mod, exportPath, handlerName);
}
