// @ts-check
// Loading the function's handler during init, with the Node.js runtime's
// Runtime.* error types when that fails.
import { describe, RuntimeError } from "./errors.js";

/** A file path as a file: URL, escaping what URLs treat specially. */
function fileUrl(/** @type {string} */ path) {
  return "file://" + path.split("/").map(encodeURIComponent).join("/");
}

/** Deno colours some of its messages whatever they are written to. */
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, "g");

/** Names the init failure an import error stands for. */
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
    if (e?.code === "ERR_MODULE_NOT_FOUND" || /Module not found/.test(e?.message)) {
      return new RuntimeError("Runtime.ImportModuleError", `Cannot load ${bundle}: ${text}`, err);
    }
    return new RuntimeError("Runtime.ImportModuleError", text, err);
  } catch {
    // What the import threw cannot even be read.
    return new RuntimeError("Runtime.ImportModuleError", describe(err));
  }
}

/**
 * Imports the bundle and returns the handler function at exportPath ("handler",
 * or a nested "api.handler"). Throws a RuntimeError naming the cause.
 * @returns {Promise<(event: unknown, context: unknown) => unknown>}
 */
export async function loadHandler(
  /** @type {string} */ bundle,
  /** @type {string} */ exportPath,
  /** @type {string} */ handlerName,
) {
  let fn;
  try {
    fn = await import(fileUrl(bundle));
  } catch (err) {
    throw importError(err, bundle);
  }
  for (const key of exportPath.split(".")) {
    fn = fn?.[key];
  }
  if (fn === undefined) {
    throw new RuntimeError(
      "Runtime.HandlerNotFound",
      `${handlerName} is undefined or not exported`,
    );
  }
  if (typeof fn !== "function") {
    throw new RuntimeError("Runtime.HandlerNotFound", `${handlerName} is not a function`);
  }
  return fn;
}
