// @ts-check
// What the unit tests of ../*.js share: modules written to a temporary
// directory, child Deno processes for what must not touch the test runner
// (its console, its global error listeners), loopback channels, and an
// environment variable put back as it was.
import { Channel, Input } from "../control.js";

const decoder = new TextDecoder();

/** How long a child process or a channel may take before a test calls it hung and fails. */
const HUNG_MS = 20_000;

/** Calls expire once ms have passed, unless the returned function is called first. */
function unlessDoneIn(/** @type {number} */ ms, /** @type {() => void} */ expire) {
  const timer = setTimeout(expire, ms);
  return () => clearTimeout(timer);
}

/** The file: URL of a runtime module, for a child process to import. */
export function moduleUrl(/** @type {string} */ name) {
  return new URL(`../${name}`, import.meta.url).href;
}

/**
 * Writes files (relative path to text) into a new temporary directory, runs fn
 * with the directory's path, then removes the directory.
 * @template T
 * @param {Record<string, string>} files
 * @param {(dir: string) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withTempFiles(files, fn) {
  const dir = await Deno.makeTempDir({ prefix: "shared_test_" });
  try {
    for (const [name, text] of Object.entries(files)) {
      const path = `${dir}/${name}`;
      await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
      await Deno.writeTextFile(path, text);
    }
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * What a child process left behind.
 * @typedef {{ code: number, stdout: string, stderr: string }} ChildOutput
 */

/**
 * Runs code as the main module of a child Deno and waits for it to exit. The
 * child gets flags (--allow-all unless given), stdin (then EOF), and the test
 * process's environment with env added. A child still running after HUNG_MS is
 * killed, and says so on its stderr.
 * @param {string} code
 * @param {{ flags?: string[], stdin?: string, env?: Record<string, string> }} [options]
 * @returns {Promise<ChildOutput>}
 */
export function runChild(code, options = {}) {
  return withTempFiles({ "child.js": code }, async (dir) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", ...(options.flags ?? ["--allow-all"]), `${dir}/child.js`],
      cwd: dir,
      env: options.env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    let hung = false;
    const done = unlessDoneIn(HUNG_MS, () => {
      hung = true;
      child.kill("SIGKILL");
    });
    let output;
    try {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin ?? ""));
      await writer.close();
      output = await child.output();
    } finally {
      done();
    }
    const { code: exit, stdout, stderr } = output;
    return {
      code: exit,
      stdout: decoder.decode(stdout),
      stderr: decoder.decode(stderr) +
        (hung ? `\n[killed: still running after ${HUNG_MS} ms]` : ""),
    };
  });
}

/** An assertion message that shows what a child printed, for when it fails. */
export function childSaid(/** @type {ChildOutput} */ out) {
  return `exit code ${out.code}\n--- stdout\n${out.stdout}--- stderr\n${out.stderr}`;
}

/**
 * Listens on a loopback port chosen by the system, runs fn with the listener,
 * then closes it.
 * @template T
 * @param {(listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withListener(fn) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    return await fn(listener);
  } finally {
    listener.close();
  }
}

/**
 * The bootstrap's end of a channel: the control line it gave, the accepted
 * connection, its reader, and the first line the runtime sent on it.
 * @typedef {{ control: import("../control.js").Control, conn: Deno.Conn, input: Input,
 *   firstLine: string }} BootstrapEnd
 */

/**
 * Opens a Channel to a loopback listener standing in for the bootstrap, runs
 * fn with both ends (the bootstrap's end has read the token line), then
 * closes both. If fn has not finished after HUNG_MS, the bootstrap's end hangs
 * up, so that whatever waits on the channel fails instead of hanging.
 * @template T
 * @param {(channel: Channel, bootstrap: BootstrapEnd) => Promise<T>} fn
 * @returns {Promise<T>}
 */
export function withChannel(fn) {
  return withListener(async (listener) => {
    /** @type {import("../control.js").Control} */
    const control = {
      port: listener.addr.port,
      token: "token-" + crypto.randomUUID(),
      bundle: "/nonexistent/function.bundle.js",
      export: "handler",
      handler: "function.handler",
      permissions: [],
      denoDir: "/tmp/deno-dir",
      runtimeApi: "127.0.0.1:9001",
    };
    const [channel, conn] = await Promise.all([Channel.open(control), listener.accept()]);
    const input = new Input(conn);
    let hung = false;
    const done = unlessDoneIn(HUNG_MS, () => {
      hung = true;
      conn.close();
    });
    try {
      return await fn(channel, { control, conn, input, firstLine: await input.line() });
    } catch (err) {
      throw hung
        ? new Error(`The channel was still in use after ${HUNG_MS} ms`, { cause: err })
        : err;
    } finally {
      done();
      channel.close();
      if (!hung) conn.close();
    }
  });
}

/**
 * Runs fn, then puts the environment variable back as it was (set or unset).
 * @template T
 * @param {string} name
 * @param {() => Promise<T>} fn
 * @returns {Promise<T>}
 */
export async function withEnvRestored(name, fn) {
  const saved = Deno.env.get(name);
  try {
    return await fn();
  } finally {
    if (saved === undefined) Deno.env.delete(name);
    else Deno.env.set(name, saved);
  }
}
