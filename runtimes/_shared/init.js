// @ts-check
// The init phase both runtimes share: read the control line, set up logging,
// import the function. On failure the reason goes to the bootstrap and Deno exits.
import { staticContext } from "./context.js";
import { Input, openEvents, Output, readControl } from "./control.js";
import { RuntimeError } from "./errors.js";
import { loadHandler } from "./handler.js";
import { patchConsole } from "./log_patch.js";

/**
 * Reads the control line from stdin, opens the channels to and from the
 * bootstrap before any of the function's code runs, and imports the function.
 */
export async function init() {
  const control = await readControl(new Input());
  const output = new Output(control.channel);
  const events = control.events ? openEvents(control.events) : undefined;
  const getenv = (/** @type {string} */ key) => Deno.env.get(key);
  patchConsole({ format: getenv("AWS_LAMBDA_LOG_FORMAT"), level: getenv("AWS_LAMBDA_LOG_LEVEL") });
  try {
    const handler = await loadHandler(control.bundle, control.export, control.handler);
    return { control, output, events, handler, env: staticContext(getenv) };
  } catch (err) {
    const error = err instanceof RuntimeError
      ? err.body()
      : new RuntimeError("Runtime.ImportModuleError", String(err), err).body();
    output.send({ error });
    Deno.exit(1);
  }
}
