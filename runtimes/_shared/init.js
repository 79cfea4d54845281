// @ts-check
// The init phase both runtimes share: read the control line, set up logging,
// import the function. On failure the reason goes to the bootstrap and Deno exits.
import { staticContext } from "./context.js";
import { Output, readControl } from "./control.js";
import { RuntimeError } from "./errors.js";
import { loadHandler } from "./handler.js";
import { patchConsole } from "./log_patch.js";

/**
 * Reads the control line from input, opens the channel back to the bootstrap,
 * and imports the function.
 * @param {import("./control.js").Input} input
 */
export async function init(input) {
  const control = await readControl(input);
  const output = new Output(control.channel);
  const getenv = (/** @type {string} */ key) => Deno.env.get(key);
  patchConsole({ format: getenv("AWS_LAMBDA_LOG_FORMAT"), level: getenv("AWS_LAMBDA_LOG_LEVEL") });
  try {
    const handler = await loadHandler(control.bundle, control.export, control.handler);
    return { control, output, handler, env: staticContext(getenv) };
  } catch (err) {
    const error = err instanceof RuntimeError
      ? err.body()
      : new RuntimeError("Runtime.ImportModuleError", String(err), err).body();
    output.send({ error });
    Deno.exit(1);
  }
}
