// @ts-check
// The init phase both runtimes share: read the control line, dial the
// bootstrap, set up logging and error reporting, import the function. On
// failure the reason goes to the bootstrap and Deno exits.
import { staticContext } from "./context.js";
import { Channel, Input, readControl } from "./control.js";
import { setPermissions } from "./errors.js";
import { loadFailure, loadHandler } from "./handler.js";
import { installInvokeStore } from "./invoke_store.js";
import { patchConsole } from "./log_patch.js";
import { installAwslambda, prepareStreaming } from "./streaming.js";
import { watchUncaught } from "./uncaught.js";

/**
 * Reads the control line from stdin, opens the channel to the bootstrap
 * before any of the function's code runs, and imports the function.
 */
export async function init() {
  const control = await readControl(new Input());
  const channel = await Channel.open(control);
  const getenv = (/** @type {string} */ key) => Deno.env.get(key);
  patchConsole({ format: getenv("AWS_LAMBDA_LOG_FORMAT"), level: getenv("AWS_LAMBDA_LOG_LEVEL") });
  setPermissions(control.permissions, control.denoDir, control.runtimeApi);
  watchUncaught();
  const env = staticContext(getenv);
  const noGlobal = getenv("AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA");
  installAwslambda(noGlobal);
  removeOriginStorage();
  await installInvokeStore(noGlobal, env.concurrent ?? false);
  try {
    const handler = await loadHandler(control.bundle, control.export, control.handler);
    await prepareStreaming(handler);
    return { control, channel, handler, env };
  } catch (err) {
    await channel.send({ error: loadFailure(err) });
    Deno.exit(1);
  }
}

/**
 * Takes away the origin storage Deno offers, localStorage and the Cache API,
 * as Node.js has neither: Deno keeps it on disk under DENO_DIR, which every
 * process of the environment shares, so runtime2's next process would read
 * what this one kept. (The bootstrap blocks its directory too, for the
 * realms this cannot reach, such as workers.)
 */
function removeOriginStorage() {
  Reflect.deleteProperty(globalThis, "localStorage");
  Reflect.deleteProperty(globalThis, "caches");
}
