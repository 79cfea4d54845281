// `deno task start`: the function, served locally exactly as Lambda runs it.
//
// Builds what is stale, lays the layers out as Lambda does (the Deno layer and
// a runtime layer into one directory, as /opt; the function zip into another,
// as /var/task), and serves the function behind AWS's Runtime Interface
// Emulator on loopback. Ctrl-C stops the emulator, the bootstrap and Deno.
import { createHash } from "node:crypto";
import { dirname, resolve } from "node:path";
import { runBuild } from "./_build.ts";
import { bundleName, DEFAULT_HANDLER } from "./_bundle.ts";
import { errorMessage, integer, parseFlagsAndPositionals, runMain, UsageError } from "./_cli.ts";
import { layersCurrent } from "./_layer_sources.ts";
import { DIST, HOST_ARCH, ROOT, type Runtime, RUNTIMES } from "./_paths.ts";
import {
  DEFAULT_PORT,
  ensureRie,
  freePort,
  functionEnv,
  INVOKE_PATH,
  type Rie,
  rieBuilt,
  startRie,
} from "./_rie.ts";
import { type EmulatorPorts, startStreamRelay, type StreamRelay } from "./_stream_relay.ts";
import { denoBinary, exists } from "./_deno_binary.ts";
import { requireTools } from "./_tools.ts";
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
  /** _HANDLER: `<module>.<export>`; the bundle is named after the module. */
  handler: string;
}

const USAGE = `Usage: deno task start [flags]

Serves the function locally behind AWS's Runtime Interface Emulator, laid out as Lambda
lays it out, after building what is stale: the layers for this machine's architecture
(${HOST_ARCH}) when their sources changed, the function when its files did. The first start
downloads Deno and builds the layers and the emulator: about 50 s on 2 cores. Streamed
responses (awslambda.streamifyResponse) reach curl -N and deno task invoke as they are
written (docs/streaming.md). Ctrl-C stops everything.

Flags:
  --runtime runtime1|runtime2  which runtime layer (default: runtime1)
  --port N                     loopback port of the Invoke endpoint (default: ${DEFAULT_PORT})
  --timeout S                  the function's timeout in seconds, 1 to 900 (default: 3)
  --memory MB                  its memory size, 128 to 10240; reported, not enforced
                               (default: 128)
  --env KEY=VALUE              a function environment variable; repeat the flag for more
  --watch                      rebuild and restart when a file in the entry's directory changes
  --entry FILE                 the function's entry point (default: function/mod.ts)
  --handler MODULE.EXPORT      _HANDLER, as Lambda's setting (default: ${DEFAULT_HANDLER}); the
                               bundle is named after the module: index.handler runs
                               index.bundle.js, bundled from --entry
  -h, --help                   this help`;

/** Where start builds the function of an entry point and handler, apart from dist/function.zip. */
function functionOut(options: StartOptions): string {
  const key = createHash("sha256").update(
    `${options.entry}\n${options.handler}\n${options.runtime}`,
  )
    .digest("hex").slice(0, 12);
  return `${DIST}/local/functions/${key}`;
}

/** The example function, whose sample event the banner suggests. */
const EXAMPLE = `${ROOT}/function/mod.ts`;

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
  const { values, positionals } = parseFlagsAndPositionals(args, {
    runtime: { type: "string", default: "runtime1" },
    port: { type: "string", default: String(DEFAULT_PORT) },
    timeout: { type: "string", default: "3" },
    memory: { type: "string", default: "128" },
    env: { type: "string", multiple: true, default: [] },
    watch: { type: "boolean", default: false },
    entry: { type: "string", default: "function/mod.ts" },
    handler: { type: "string" },
  });
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument '${positionals[0]}': pass the entry point as --entry ${positionals[0]}`,
    );
  }
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
  // --env _HANDLER=... sets the handler as Lambda's setting does; given twice, they must agree.
  const handler = values.handler ?? env._HANDLER ?? DEFAULT_HANDLER;
  if (env._HANDLER !== undefined && env._HANDLER !== handler) {
    throw new UsageError(
      `--handler ${handler} and --env _HANDLER=${env._HANDLER} disagree: give one`,
    );
  }
  delete env._HANDLER;
  if (env.AWS_LAMBDA_MAX_CONCURRENCY !== undefined) {
    // Given it, the pinned emulator becomes its Managed Instances variant,
    // which looks for the bootstrap at /opt/bootstrap or /var/task/bootstrap only.
    throw new UsageError(
      "--env AWS_LAMBDA_MAX_CONCURRENCY: the emulator runs Managed Instances only with the " +
        "bootstrap at /opt/bootstrap, which deno task start cannot put there. Concurrent " +
        "invocations run in deno task test tests/concurrency_test.ts and deno task bench; " +
        "see docs/managed-instances.md",
    );
  }
  try {
    bundleName(handler);
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  return {
    runtime,
    port: integer("--port", values.port, 1, 65535),
    timeout: integer("--timeout", values.timeout, 1, 900),
    memory: integer("--memory", values.memory, 128, 10240),
    env,
    watch: values.watch,
    entry: resolve(values.entry),
    handler,
  };
}

/**
 * Directories a function's own files are never in, whose changes must neither
 * make it stale nor restart it: the build's output (a function at the
 * project's root would otherwise rebuild itself for ever), caches, git.
 */
const NOT_SOURCES = /(^|\/)(dist|\.cache|\.git|node_modules)(\/|$)/;

/** Whether a changed path can change the function: not a test, not in NOT_SOURCES. */
export function isSource(path: string): boolean {
  return !/_test\.(ts|js|tsx|jsx|mts|mjs)$/.test(path) && !NOT_SOURCES.test(relative(path));
}

/** The newest modification time under the given files and directories. */
export async function newest(paths: string[]): Promise<number> {
  let latest = 0;
  for (const path of paths) {
    if (!isSource(path)) continue;
    // An editor's lock file is a dangling link, and a file may go meanwhile.
    const info = await Deno.stat(path).catch(() => null);
    if (info?.isDirectory) {
      const children = [];
      for await (const e of Deno.readDir(path)) children.push(`${path}/${e.name}`);
      latest = Math.max(latest, await newest(children));
    } else if (info) {
      latest = Math.max(latest, info.mtime?.getTime() ?? 0);
    }
  }
  return latest;
}

/** The modification time of a file; 0 when it is missing. */
async function modified(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
}

/**
 * Builds the layers of this machine's architecture when their sources changed
 * (by content: see _layer_sources.ts), and the function when a file of its
 * entry's directory, or the imports and lock it is bundled with, is newer.
 */
async function buildIfStale(options: StartOptions, layout: Layout): Promise<void> {
  const layersStale = !await layersCurrent(HOST_ARCH);
  // Every tool missing is said before anything is built, not one per run.
  await requireTools([
    ...(layersStale || !await rieBuilt() ? ["go"] : []),
    ...(layersStale && !await exists(denoBinary(HOST_ARCH)) ? ["npm", "tar"] : []),
  ]);
  if (layersStale) await runBuild(["--layers-only", "--arch", HOST_ARCH]);
  const functionStale =
    await newest([`${ROOT}/deno.json`, `${ROOT}/deno.lock`, dirname(options.entry)]) >
      await modified(`${functionOut(options)}/function.zip`);
  if (functionStale) await buildFunction(options, layout);
}

/** Bundles the function for this machine, its code cache keyed for where start lays it out. */
function buildFunction(options: StartOptions, layout: Layout): Promise<void> {
  return runBuild([
    "--function-only",
    "--arch",
    HOST_ARCH,
    "--entry",
    options.entry,
    "--handler",
    options.handler,
    "--task-root",
    layout.taskRoot,
    "--out-dir",
    functionOut(options),
  ]);
}

/** Where the layers and the function are laid out. */
interface Layout {
  /** As /opt: bin/deno, bootstrap, runtime.js. */
  optDir: string;
  /** As /var/task: function.bundle.js. */
  taskRoot: string;
}

/** Where a runtime's layers and the function are laid out. */
function layoutFor(runtime: Runtime): Layout {
  const base = `${DIST}/local/${runtime}-${HOST_ARCH}`;
  return { optDir: `${base}/opt`, taskRoot: `${base}/task` };
}

/** Unpacks the zips from dist/ as Lambda does: both layers into one directory, the function into another. */
async function layOut(options: StartOptions, layout: Layout): Promise<void> {
  await Deno.remove(dirname(layout.optDir), { recursive: true }).catch(() => {});
  await unzipTo(`${DIST}/deno-layer-${HOST_ARCH}.zip`, layout.optDir);
  await unzipTo(`${DIST}/${options.runtime}-${HOST_ARCH}.zip`, layout.optDir);
  await layOutFunction(options, layout);
}

async function layOutFunction(options: StartOptions, layout: Layout): Promise<void> {
  await Deno.remove(layout.taskRoot, { recursive: true }).catch(() => {});
  await unzipTo(`${functionOut(options)}/function.zip`, layout.taskRoot);
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
  return path === ROOT ? "." : path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
}

/** The Invoke endpoint callers use: the stream relay's, in front of the emulator's. */
function invokeUrl(options: StartOptions): string {
  return `http://127.0.0.1:${options.port}${INVOKE_PATH}`;
}

function banner(options: StartOptions, layout: Layout, tmpDir: string): string {
  const portFlag = options.port === DEFAULT_PORT ? "" : ` --port ${options.port}`;
  const url = invokeUrl(options);
  return [
    `Serving ${options.handler} on ${options.runtime} (${HOST_ARCH}) behind AWS's Runtime Interface Emulator`,
    `  invoke at  ${url}   (curl -N shows a streamed response as it comes)`,
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
    ...(options.entry === EXAMPLE
      ? [
        `  deno task invoke${portFlag} --event events/apigw_v2.json   (POST /greetings)`,
        `  curl -s ${url} -d @events/apigw_v2.json`,
      ]
      : [
        `  deno task invoke${portFlag} --data '{"any":"json"}'`,
        `  deno task invoke${portFlag} --event my-event.json   (samples in events/)`,
      ]),
    "Ctrl-C stops everything.",
    "",
  ].join("\n");
}

/** The emulator's own ports, behind the stream relay. */
interface Doors {
  invokePort: number;
  runtimeApiPort: number;
  relay: StreamRelay;
}

/**
 * Starts the stream relay on the port callers use, in front of the
 * emulator's two doors (_stream_relay.ts says why).
 */
async function openDoors(options: StartOptions): Promise<Doors> {
  const rie: EmulatorPorts = { invokePort: 0, runtimeApiPort: 0 };
  const relay = await startStreamRelay(options.port, rie);
  // Picked once the relay listens, so that none is the port it got.
  rie.invokePort = freePort();
  rie.runtimeApiPort = freePort();
  return { ...rie, relay };
}

async function serve(
  options: StartOptions,
  layout: Layout,
  tmpDir: string,
  doors: Doors,
): Promise<Rie> {
  const passed = Object.fromEntries(
    PASSED_THROUGH.flatMap((k) => Deno.env.get(k) ? [[k, Deno.env.get(k)!]] : []),
  );
  // The emulator names its own Runtime API to the bootstrap; this names the
  // relay's instead, which passes everything on to the emulator's but streams.
  const bootstrap = `${dirname(layout.optDir)}/bootstrap-via-relay`;
  await Deno.writeTextFile(
    bootstrap,
    `#!/bin/sh\nAWS_LAMBDA_RUNTIME_API=127.0.0.1:${doors.relay.runtimeApiPort} exec '${layout.optDir}/bootstrap' "$@"\n`,
    { mode: 0o755 },
  );
  return await startRie({
    bootstrap,
    cwd: layout.taskRoot,
    port: doors.invokePort,
    runtimeApiPort: doors.runtimeApiPort,
    output: "terminal",
    // Its warnings are its own resets (each Ctrl-C and restart): noise here.
    logLevel: "error",
    env: functionEnv({
      ...layout,
      tmpDir,
      timeout: options.timeout,
      memory: options.memory,
      handler: options.handler,
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
  doors: Doors,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let restarting = Promise.resolve();
  const restart = async () => {
    console.log(`\n${relative(dirname(options.entry))}/ changed: rebuilding`);
    try {
      await buildFunction(options, layout);
    } catch (err) {
      console.error(`${(err as Error).message}; still serving the previous build`);
      return;
    }
    if (stopping()) return;
    await current.rie.stop();
    await layOutFunction(options, layout);
    current.rie = await serve(options, layout, tmpDir, doors);
    console.log(`Restarted: invoke at ${invokeUrl(options)}\n`);
  };
  for await (const event of watcher) {
    if (stopping()) break;
    if (!event.paths.some(isSource)) continue;
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
  const layout = layoutFor(options.runtime);
  await buildIfStale(options, layout);
  await ensureRie();
  await layOut(options, layout);
  const tmpDir = await Deno.makeTempDir({ prefix: "deno-lambda-start-" });
  // Listening before the emulator starts: a Ctrl-C from then on stops it, however early.
  let stopping = false;
  const { promise: stopped, resolve: stop } = Promise.withResolvers<void>();
  const onSignal = () => {
    stopping = true;
    stop();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  let doors: Doors | undefined;
  try {
    doors = await openDoors(options);
    const current = { rie: await serve(options, layout, tmpDir, doors) };
    console.log(banner(options, layout, tmpDir));
    let code = 0;
    let left: number[];
    if (options.watch) {
      const watcher = Deno.watchFs(dirname(options.entry), { recursive: true });
      const watching = watch(watcher, options, layout, tmpDir, current, () => stopping, doors);
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
    await doors?.relay.close();
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await runMain({ usage: USAGE }, main);
