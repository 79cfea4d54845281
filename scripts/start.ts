// `deno task start`: the function, served locally exactly as Lambda runs it.
//
// Builds what is stale, lays the layers out as Lambda does (the Deno layer and
// a runtime layer into one directory, as /opt; the function zip into another,
// as /var/task), and serves the function behind AWS's Runtime Interface
// Emulator on loopback. Ctrl-C stops the emulator, the bootstrap and Deno.
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { runBuild } from "./_build.ts";
import { integer, parseFlags, runMain, UsageError } from "./_cli.ts";
import { DIST, HOST_ARCH, ROOT, type Runtime, RUNTIMES } from "./_paths.ts";
import { DEFAULT_PORT, functionEnv, type Rie, startRie } from "./_rie.ts";
import { unzipTo } from "./zip.ts";

/** What `deno task start` was asked to do. */
export interface StartOptions {
  runtime: Runtime;
  port: number;
  /** Seconds. */
  timeout: number;
  /** MB. */
  memory: number;
  /** The function's own environment variables. */
  env: Record<string, string>;
  watch: boolean;
  /** The function's entry point, an absolute path. */
  entry: string;
}

const USAGE = `Usage: deno task start [flags]

Serves the function locally behind AWS's Runtime Interface Emulator, laid out as Lambda
lays it out, after building what is stale. Ctrl-C stops everything.

Flags:
  --runtime runtime1|runtime2  which runtime layer (default: runtime1)
  --port N                     loopback port of the Invoke endpoint (default: ${DEFAULT_PORT})
  --timeout S                  the function's timeout in seconds, 1 to 900 (default: 3)
  --memory MB                  its memory size, 128 to 10240; reported, not enforced
                               (default: 128)
  --env KEY=VALUE              a function environment variable; repeat the flag for more
  --watch                      rebuild and restart when a file in the entry's directory changes
  --entry FILE                 the function's entry point (default: function/mod.ts)
  -h, --help                   this help`;

/** Where start builds the function of an entry point, apart from dist/function.zip. */
function functionOut(entry: string): string {
  const key = createHash("sha256").update(entry).digest("hex").slice(0, 12);
  return `${DIST}/local/functions/${key}`;
}

/** The variables of the caller's shell passed on to the function when set, as Lambda sets them. */
const PASSED_THROUGH = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
];

/** Parses and checks the command line; throws a UsageError that says what is wrong. */
export function parseStartArgs(args: string[]): StartOptions {
  const values = parseFlags(args, {
    runtime: { type: "string", default: "runtime1" },
    port: { type: "string", default: String(DEFAULT_PORT) },
    timeout: { type: "string", default: "3" },
    memory: { type: "string", default: "128" },
    env: { type: "string", multiple: true, default: [] },
    watch: { type: "boolean", default: false },
    entry: { type: "string", default: "function/mod.ts" },
  });
  const runtime = values.runtime as Runtime;
  if (!RUNTIMES.includes(runtime)) {
    throw new UsageError(`Unknown runtime "${values.runtime}": use ${RUNTIMES.join(" or ")}`);
  }
  const env: Record<string, string> = {};
  for (const pair of values.env) {
    const match = pair.match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s);
    if (!match) throw new UsageError(`Bad --env "${pair}": expected KEY=VALUE`);
    env[match[1]] = match[2];
  }
  return {
    runtime,
    port: integer("--port", values.port, 1, 65535),
    timeout: integer("--timeout", values.timeout, 1, 900),
    memory: integer("--memory", values.memory, 128, 10240),
    env,
    watch: values.watch,
    entry: resolve(values.entry),
  };
}

/** The newest modification time under the given files and directories. */
async function newest(paths: string[], skip: RegExp = /_test\.(ts|go)$/): Promise<number> {
  let latest = 0;
  for (const path of paths) {
    const info = await Deno.stat(path);
    if (info.isDirectory) {
      const children = [];
      for await (const e of Deno.readDir(path)) children.push(`${path}/${e.name}`);
      latest = Math.max(latest, await newest(children, skip));
    } else if (!skip.test(path)) {
      latest = Math.max(latest, info.mtime?.getTime() ?? 0);
    }
  }
  return latest;
}

/** The oldest modification time of the given files; 0 when one is missing. */
async function oldest(paths: string[]): Promise<number> {
  let earliest = Infinity;
  for (const path of paths) {
    try {
      earliest = Math.min(earliest, (await Deno.stat(path)).mtime?.getTime() ?? 0);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return 0;
      throw err;
    }
  }
  return earliest;
}

/** Runs `deno task build` when the layers are older than their sources, and
 * bundles the function when it is older than its entry's directory. */
async function buildIfStale(runtime: Runtime, entry: string): Promise<void> {
  const config = [`${ROOT}/deno.json`, `${ROOT}/deno.lock`];
  const layersStale = await newest([
    ...config,
    `${ROOT}/bootstrap`,
    `${ROOT}/runtimes`,
    `${ROOT}/scripts/build.ts`,
    `${ROOT}/scripts/zip.ts`,
  ]) > await oldest([
    `${DIST}/deno-layer-${HOST_ARCH}.zip`,
    `${DIST}/${runtime}-${HOST_ARCH}.zip`,
  ]);
  const functionStale = await newest([...config, dirname(entry)]) >
    await oldest([`${functionOut(entry)}/function.zip`]);
  if (layersStale) await runBuild([]);
  if (layersStale || functionStale) await buildFunction(entry);
}

function buildFunction(entry: string): Promise<void> {
  return runBuild(["--function-only", "--entry", entry, "--out-dir", functionOut(entry)]);
}

/** Where the layers and the function are laid out. */
interface Layout {
  /** As /opt: bin/deno, bootstrap, runtime.js. */
  optDir: string;
  /** As /var/task: function.bundle.js. */
  taskRoot: string;
}

/** Unpacks the zips from dist/ as Lambda does: both layers into one directory, the function into another. */
async function layOut(runtime: Runtime, entry: string): Promise<Layout> {
  const base = `${DIST}/local/${runtime}-${HOST_ARCH}`;
  const layout = { optDir: `${base}/opt`, taskRoot: `${base}/task` };
  await Deno.remove(base, { recursive: true }).catch(() => {});
  await unzipTo(`${DIST}/deno-layer-${HOST_ARCH}.zip`, layout.optDir);
  await unzipTo(`${DIST}/${runtime}-${HOST_ARCH}.zip`, layout.optDir);
  await layOutFunction(layout, entry);
  return layout;
}

async function layOutFunction(layout: Layout, entry: string): Promise<void> {
  await Deno.remove(layout.taskRoot, { recursive: true }).catch(() => {});
  await unzipTo(`${functionOut(entry)}/function.zip`, layout.taskRoot);
}

function checkPortFree(port: number): void {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) {
      throw new Error(`Port ${port} is in use: stop what listens there, or pick another --port`);
    }
    throw err;
  }
}

function relative(path: string): string {
  return path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
}

function banner(options: StartOptions, layout: Layout, rie: Rie, tmpDir: string): string {
  const portFlag = options.port === DEFAULT_PORT ? "" : ` --port ${options.port}`;
  return [
    `Serving function.handler on ${options.runtime} (${HOST_ARCH}) behind AWS's Runtime Interface Emulator`,
    `  invoke at  ${rie.url}`,
    `  /opt       ${relative(layout.optDir)}  (Deno layer + ${options.runtime} layer)`,
    `  /var/task  ${relative(layout.taskRoot)}  (${relative(options.entry)}, bundled)`,
    `  /tmp       ${tmpDir}`,
    `  timeout ${options.timeout} s, memory ${options.memory} MB${
      options.watch
        ? `, rebuilt and restarted when ${relative(dirname(options.entry))}/ changes`
        : ""
    }`,
    "",
    "Invoke it from another terminal:",
    `  deno task invoke${portFlag} --event events/apigw_v2.json`,
    `  deno task invoke${portFlag} --data '{"any":"json"}'`,
    `  curl -s ${rie.url} -d @events/apigw_v2.json`,
    "Ctrl-C stops everything.",
    "",
  ].join("\n");
}

async function serve(options: StartOptions, layout: Layout, tmpDir: string): Promise<Rie> {
  const passed = Object.fromEntries(
    PASSED_THROUGH.flatMap((k) => Deno.env.get(k) ? [[k, Deno.env.get(k)!]] : []),
  );
  return await startRie({
    bootstrap: `${layout.optDir}/bootstrap`,
    cwd: layout.taskRoot,
    port: options.port,
    output: "inherit",
    logLevel: "warn",
    env: functionEnv({
      ...layout,
      tmpDir,
      timeout: options.timeout,
      memory: options.memory,
      env: { ...passed, ...options.env },
    }),
  });
}

/** Rebuilds the function and restarts the emulator whenever its directory changes, until stopped. */
async function watch(
  watcher: Deno.FsWatcher,
  options: StartOptions,
  layout: Layout,
  tmpDir: string,
  current: { rie: Rie },
  stopping: () => boolean,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let restarting = Promise.resolve();
  const restart = async () => {
    console.log(`\n${relative(dirname(options.entry))}/ changed: rebuilding`);
    try {
      await buildFunction(options.entry);
    } catch (err) {
      console.error(`${(err as Error).message}; still serving the previous build`);
      return;
    }
    if (stopping()) return;
    await current.rie.stop();
    await layOutFunction(layout, options.entry);
    current.rie = await serve(options, layout, tmpDir);
    console.log(`Restarted: invoke at ${current.rie.url}\n`);
  };
  for await (const event of watcher) {
    if (stopping()) break;
    if (event.paths.every((p) => /_test\.ts$/.test(p))) continue;
    clearTimeout(timer);
    // Editors write a file in several steps: one rebuild per burst of changes.
    timer = setTimeout(() => restarting = restarting.then(restart), 200);
  }
  clearTimeout(timer);
  await restarting;
}

async function main(args: string[]): Promise<number> {
  const options = parseStartArgs(args);
  checkPortFree(options.port);
  try {
    await Deno.stat(options.entry);
  } catch {
    throw new Error(`No function at ${relative(options.entry)}: pass --entry path/to/mod.ts`);
  }
  await buildIfStale(options.runtime, options.entry);
  const layout = await layOut(options.runtime, options.entry);
  const tmpDir = await Deno.makeTempDir({ prefix: "deno-lambda-start-" });
  try {
    const current = { rie: await serve(options, layout, tmpDir) };
    console.log(banner(options, layout, current.rie, tmpDir));

    let stopping = false;
    const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
    const onSignal = () => {
      stopping = true;
      stop();
    };
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
    let code = 0;
    let left: number[];
    if (options.watch) {
      const watcher = Deno.watchFs(dirname(options.entry), { recursive: true });
      const watching = watch(watcher, options, layout, tmpDir, current, () => stopping);
      await stopped;
      watcher.close();
      await watching; // a restart under way finishes first, so its emulator is the one stopped
      left = await current.rie.stop();
    } else {
      // The emulator exits 0 on the same Ctrl-C; anything else is a failure.
      const status = await Promise.race([current.rie.child.status, stopped]);
      if (status && !status.success && !stopping) {
        console.error(`The Runtime Interface Emulator exited with code ${status.code}`);
        code = 1;
      }
      left = await current.rie.stop();
    }
    if (left.length > 0) console.error(`Killed processes left behind: ${left.join(", ")}`);
    console.log("Stopped: the emulator, the bootstrap and Deno are gone");
    return code;
  } finally {
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await runMain({ usage: USAGE }, main);
