// Runs the built bootstrap exactly as Lambda would: both layers unpacked into
// one directory (as /opt), the function in another (as /var/task), and the
// Runtime API served by the mock on a free loopback port.
import assert from "node:assert/strict";
import { archEnv } from "../scripts/_arch_runner.ts";
import { type Arch, DIST, HOST_ARCH, ROOT, type Runtime } from "../scripts/_paths.ts";
import { collect, processesGone, processesWithEnv } from "../scripts/_processes.ts";
import { unzipTo } from "../scripts/zip.ts";
import { MockRuntimeApi } from "./_mock_runtime_api.ts";

/** The directory of the test fixtures, used as the default task root. */
export const FIXTURES = `${ROOT}/tests/fixtures`;

const layers = new Map<string, Promise<string>>();

/** Which layers to unpack. */
export interface LayerOptions {
  /** Include the Deno layer; default true. */
  withDeno?: boolean;
  /** Default the host's. */
  arch?: Arch;
}

/** The runtime's layers unpacked from dist/ (once per test run), as /opt. */
export function layerDir(runtime: Runtime, options: LayerOptions = {}): Promise<string> {
  const { withDeno = true, arch = HOST_ARCH } = options;
  const key = `${runtime}-${arch}${withDeno ? "" : "-nodeno"}`;
  if (!layers.has(key)) {
    layers.set(
      key,
      (async () => {
        const dir = `${DIST}/test/${key}`;
        await Deno.remove(dir, { recursive: true }).catch(() => {});
        if (withDeno) await unzipTo(`${DIST}/deno-layer-${arch}.zip`, dir);
        await unzipTo(`${DIST}/${runtime}-${arch}.zip`, dir);
        return dir;
      })(),
    );
  }
  return layers.get(key)!;
}

/** A wait for the bootstrap's output to match re. */
interface Watcher {
  re: RegExp;
  sink: string[];
  resolve: () => void;
  reject: (e: Error) => void;
}

/**
 * How long one test may run with the bootstrap before it fails as hung. No
 * figure is asserted by it: the slowest test, under qemu, takes a fraction of
 * it, and it only turns a wait that never ends into a failure that shows the
 * bootstrap's output, instead of one silent until CI gives up.
 */
const HANG_MS = 5 * 60_000;

/** How to start the bootstrap. */
export interface BootstrapOptions {
  runtime?: Runtime;
  /** _HANDLER; default "handlers.echo". */
  handler?: string;
  /** LAMBDA_TASK_ROOT; default tests/fixtures. */
  taskRoot?: string;
  /** Extra environment, on top of what Lambda sets. */
  env?: Record<string, string>;
  /** Leave the Deno layer out. */
  withoutDeno?: boolean;
  /** The layers' architecture; another than the host's runs under qemu-user. */
  arch?: Arch;
  /** The mock reads streamed responses' trailers (through a TCP relay). */
  streams?: boolean;
}

/** A running bootstrap and its mock Runtime API. */
export interface Bootstrap {
  api: MockRuntimeApi;
  tmpDir: string;
  /** The bootstrap's process id. */
  pid: number;
  /** SIGTERM (or the given signal), then its exit status once all its output is read. */
  stop(signal?: Deno.Signal): Promise<Deno.CommandStatus>;
  /** Its exit status once it exits by itself, with all its output read. */
  exited(): Promise<Deno.CommandStatus>;
  stdout(): string;
  stderr(): string;
  /** Resolves once the bootstrap's stderr matches re. */
  stderrMatches(re: RegExp): Promise<void>;
  /** Resolves once the bootstrap's stdout (where Deno writes) matches re. */
  stdoutMatches(re: RegExp): Promise<void>;
}

/** The environment Lambda gives a custom runtime. */
function lambdaEnv(api: string, layer: string, taskRoot: string, tmpDir: string, handler: string) {
  return {
    AWS_LAMBDA_RUNTIME_API: api,
    LAMBDA_TASK_ROOT: taskRoot,
    LAMBDA_RUNTIME_DIR: layer,
    _HANDLER: handler,
    TMPDIR: tmpDir,
    PATH: `/usr/local/bin:/usr/bin:/bin:${layer}/bin`,
    TZ: "UTC",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_LAMBDA_FUNCTION_NAME: "test-function",
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
    AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/test-function",
    AWS_LAMBDA_LOG_STREAM_NAME: "2026/11/25/[$LATEST]0123456789abcdef",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_ACCESS_KEY_ID: "AKIDTESTTESTTEST",
    AWS_SECRET_ACCESS_KEY: "test-secret-key",
    AWS_SESSION_TOKEN: "test-session-token",
  };
}

/**
 * Starts the bootstrap against a fresh mock Runtime API, runs fn, and always
 * cleans up: the bootstrap is stopped, and its output is shown if fn failed.
 */
export async function withBootstrap(
  options: BootstrapOptions,
  fn: (b: Bootstrap) => Promise<void>,
): Promise<void> {
  const runtime = options.runtime ?? "runtime1";
  const arch = options.arch ?? HOST_ARCH;
  const layer = await layerDir(runtime, { withDeno: !options.withoutDeno, arch });
  const tmpDir = await Deno.makeTempDir({ prefix: "bootstrap-test-" });
  const api = new MockRuntimeApi({ relay: options.streams });
  const env = {
    ...lambdaEnv(
      api.address,
      layer,
      options.taskRoot ?? FIXTURES,
      tmpDir,
      options.handler ?? "handlers.echo",
    ),
    ...archEnv(arch),
    ...options.env,
  };
  const child = new Deno.Command(`${layer}/bootstrap`, {
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out: string[] = [];
  const err: string[] = [];
  let watchers: Watcher[] = [];
  const check = () => {
    watchers = watchers.filter((w) => !(w.re.test(w.sink.join("")) && (w.resolve(), true)));
  };
  // Output that has ended can match nothing more: a wait for it fails, where
  // it would otherwise hang the whole test run.
  const ended = new Set<string[]>();
  const unmatched = (re: RegExp) =>
    new Error(`the bootstrap's output ended without matching ${re}`);
  const watchUntilEnd = async (stream: ReadableStream<Uint8Array>, sink: string[]) => {
    await collect(stream, sink, check);
    ended.add(sink); // before the rejections, whose handlers may start a wait
    for (const w of watchers.filter((w) => w.sink === sink)) w.reject(unmatched(w.re));
    watchers = watchers.filter((w) => w.sink !== sink);
  };
  const reading = Promise.all([watchUntilEnd(child.stdout, out), watchUntilEnd(child.stderr, err)]);
  const watch = (re: RegExp, sink: string[]) => {
    const waiting = new Promise<void>((resolve, reject) => {
      if (re.test(sink.join(""))) return resolve();
      if (ended.has(sink)) return reject(unmatched(re));
      watchers.push({ re, sink, resolve, reject });
    });
    // A wait nobody awaits any more (its test failed first) fails quietly
    // when the bootstrap is stopped, instead of hiding that failure.
    waiting.catch(() => {});
    return waiting;
  };
  const exited = async () => {
    const status = await child.status;
    await reading;
    return status;
  };
  // A runtime that dies fails the invocations it owed, instead of hanging the test.
  child.status.then((status) => api.abandon(`the bootstrap exited with code ${status.code}`));
  const b: Bootstrap = {
    api,
    tmpDir,
    pid: child.pid,
    exited,
    stop: (signal = "SIGTERM") => {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
      return exited();
    },
    stdout: () => out.join(""),
    stderr: () => err.join(""),
    stderrMatches: (re) => watch(re, err),
    stdoutMatches: (re) => watch(re, out),
  };
  let guard: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      fn(b),
      new Promise((_, reject) => {
        guard = setTimeout(
          () =>
            reject(
              new Error(`still waiting after ${HANG_MS / 60_000} min: a wait that cannot end`),
            ),
          HANG_MS,
        );
      }),
    ]);
  } catch (e) {
    console.error(
      `--- bootstrap stdout ---\n${b.stdout()}\n--- bootstrap stderr ---\n${b.stderr()}`,
    );
    throw e;
  } finally {
    clearTimeout(guard);
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await exited();
    await api.close();
    // A Deno killed with the bootstrap dies a moment later (seconds under qemu),
    // and may write into DENO_DIR until then, which would make removing tmpDir fail.
    await processesGone(`DENO_DIR=${tmpDir}/`, 10_000);
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
}

/** Pids of live processes whose environment has DENO_DIR under tmpDir. */
export function denoProcessesOf(tmpDir: string): Promise<number[]> {
  return processesWithEnv(`DENO_DIR=${tmpDir}/`);
}

/** Resolves as promise does, or fails with message after ms. */
export async function within<T>(ms: number, promise: Promise<T>, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} (${ms} ms)`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The TCP ports a process listens on: its sockets (from /proc/<pid>/fd) that
 * /proc/<pid>/net/tcp lists in the LISTEN state.
 */
export async function listeningPorts(pid: number): Promise<number[]> {
  const inodes = new Set<string>();
  for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
    const target = await Deno.readLink(`/proc/${pid}/fd/${fd.name}`).catch(() => "");
    const inode = target.match(/^socket:\[(\d+)\]$/)?.[1];
    if (inode) inodes.add(inode);
  }
  const ports: number[] = [];
  for (const line of (await Deno.readTextFile(`/proc/${pid}/net/tcp`)).split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[3] === "0A" && inodes.has(f[9])) {
      ports.push(parseInt(f[1].split(":")[1], 16));
    }
  }
  return ports;
}

/** Live processes whose command line contains text. */
export async function processesRunning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const cmdline = await Deno.readTextFile(`/proc/${entry.name}/cmdline`).catch(() => "");
    const state = await Deno.readTextFile(`/proc/${entry.name}/stat`).catch(() => "");
    // A zombie is dead: it only waits for its parent to read its status.
    if (cmdline.replaceAll("\0", " ").includes(text) && !/\) Z /.test(state)) {
      pids.push(Number(entry.name));
    }
  }
  return pids;
}

/**
 * buildFunction's task root, built at the first call: a file's tests that
 * --filter skips do not wait for their fixtures' bundling.
 */
export function builtOnce(...args: Parameters<typeof buildFunction>): () => Promise<string> {
  let built: Promise<string> | undefined;
  return () => built ??= buildFunction(...args);
}

/** Bundles entry with `deno task build:function` into a task root under dist/test. */
export async function buildFunction(
  entry: string,
  name = "capabilities",
  handler = "function.handler",
): Promise<string> {
  const outDir = `${DIST}/test/function-${name}`;
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build:function", "--entry", entry, "--out-dir", outDir, "--handler", handler],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const taskRoot = `${outDir}/task`;
  await unzipTo(`${outDir}/function.zip`, taskRoot);
  return taskRoot;
}
