// @ts-check
// init reads stdin, dials a port, patches the console and installs global
// error listeners: it runs in a child process, with this process standing in
// for the bootstrap (the control line on stdin, the listener for the channel).
import assert from "node:assert/strict";
import { Input } from "./control.js";
import { childSaid, moduleUrl, runChild, withListener, withTempFiles } from "./testdata/helpers.js";

/** A child that runs init, then sends what it got on the channel. */
const CHILD = `
  import { init } from "${moduleUrl("init.js")}";
  import { errorBody } from "${moduleUrl("errors.js")}";
  const { control, channel, handler, env } = await init();
  const advice = errorBody(new Deno.errors.NotCapable(
    'Requires read access to "/data", run again with the --allow-read flag',
  )).errorMessage;
  const result = await handler({ from: "test" }, {});
  await channel.send({ result, functionName: env.functionName, export: control.export, advice });
  channel.close();
`;

/**
 * Starts the CHILD on a bundle (function.bundle.js, exporting exportPath) and
 * returns the lines it sent on its channel, with its output once it exited.
 */
function initChild(
  /** @type {string} */ bundle,
  /** @type {string} */ exportPath,
  /** @type {Record<string, string>} */ env = {},
) {
  return withTempFiles({ "function.bundle.js": bundle }, (dir) =>
    withListener(async (listener) => {
      const control = {
        port: listener.addr.port,
        token: "token-" + crypto.randomUUID(),
        bundle: `${dir}/function.bundle.js`,
        export: exportPath,
        handler: `function.${exportPath}`,
        permissions: ["--allow-net", "--allow-env"],
        denoDir: "/tmp/deno-dir",
      };
      const child = runChild(CHILD, { stdin: JSON.stringify(control) + "\n", env });
      const conn = await Promise.race([
        listener.accept(),
        child.then((out) => assert.fail(`the child never dialled:\n${childSaid(out)}`)),
      ]);
      try {
        const input = new Input(conn);
        const token = await input.line();
        assert.equal(token, control.token, "the token comes first");
        const message = JSON.parse(await input.line());
        return { message, out: await child };
      } finally {
        conn.close();
      }
    }));
}

Deno.test("init dials the channel, imports the handler and reads the function's settings", async () => {
  const { message, out } = await initChild(
    "export const api = { handler: (event) => ({ got: event }) };",
    "api.handler",
    { AWS_LAMBDA_FUNCTION_NAME: "orders" },
  );
  assert.equal(out.code, 0, childSaid(out));
  assert.deepEqual(message, {
    result: { got: { from: "test" } },
    functionName: "orders",
    export: "api.handler",
    // setPermissions got the control line's flags and cache.
    advice: 'Requires read access to "/data": add --allow-read=/data to DENO_LAMBDA_PERMISSIONS, ' +
      'for example DENO_LAMBDA_PERMISSIONS="--allow-net --allow-env --allow-read=/data"',
  });
});

Deno.test("init patches the console before the function's code runs", async () => {
  const bundle = `
    console.debug("dropped at level INFO");
    console.info("importing");
    export function handler() { console.warn("handling"); return null; }
  `;
  const { out } = await initChild(bundle, "handler", {
    AWS_LAMBDA_LOG_FORMAT: "JSON",
    AWS_LAMBDA_LOG_LEVEL: "INFO",
  });
  assert.equal(out.code, 0, childSaid(out));
  const records = out.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(records.map(({ level, message }) => [level, message]), [
    ["INFO", "importing"],
    ["WARN", "handling"],
  ]);
});

Deno.test("init sends a failure to load the function on the channel, then exits 1", async () => {
  const { message, out } = await initChild("export const other = 1;", "handler");
  assert.equal(out.code, 1, childSaid(out));
  assert.deepEqual(message, {
    error: {
      errorType: "Runtime.HandlerNotFound",
      errorMessage: "function.handler is undefined or not exported",
      stackTrace: [],
    },
  });
});

Deno.test("init sends a throw at import as the error itself, as on Node.js", async () => {
  const { message, out } = await initChild('throw new TypeError("no configuration");', "handler");
  assert.equal(out.code, 1, childSaid(out));
  assert.equal(message.error.errorType, "TypeError");
  assert.equal(message.error.errorMessage, "no configuration");
});
