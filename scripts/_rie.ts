// AWS's Runtime Interface Emulator (aws-lambda-rie), shared by `deno task
// start`, `deno task invoke` and the compatibility tests: building the pinned
// version, the environment Lambda gives a function, starting the emulator on
// loopback, and one invocation through its Invoke endpoint. `deno task
// install:rie` (install_rie.ts) builds it ahead of time.
import { Buffer } from "node:buffer";
import { CACHE, RIE_PACKAGE, RIE_VERSION } from "./_paths.ts";
import { collect, processesGone } from "./_processes.ts";
import { step } from "./_progress.ts";
import { tool } from "./_tools.ts";

/** The path of the emulator's Invoke endpoint; the function is always named "function". */
export const INVOKE_PATH = "/2015-03-31/functions/function/invocations";
/** The port `deno task start` listens on, and `deno task invoke` posts to, by default. */
export const DEFAULT_PORT = 9000;

const READY_WITHIN_MS = 10_000;
const STOP_WITHIN_MS = 5_000;
const GONE_WITHIN_MS = 2_000;
/** How long the output may stay open once the emulator and what it left behind are gone. */
const DRAINED_WITHIN_MS = 2_000;

/** Builds the pinned emulator into .cache once (go install), and returns its path. */
/** Where the pinned emulator is built to. */
const RIE_BIN = `${CACHE}/rie-${RIE_VERSION}`;

/** Whether the pinned emulator is built already. */
export async function rieBuilt(): Promise<boolean> {
  return await Deno.stat(`${RIE_BIN}/aws-lambda-rie`).then(() => true, () => false);
}

export async function ensureRie(): Promise<string> {
  const bin = RIE_BIN;
  const path = `${bin}/aws-lambda-rie`;
  if (await rieBuilt()) return path;
  const out = await step(
    `Building AWS's Runtime Interface Emulator (go install, once)`,
    () =>
      tool("go", {
        args: ["install", "-trimpath", `${RIE_PACKAGE}@${RIE_VERSION}`],
        // The emulator's go.mod needs Go >= 1.26.6. GOTOOLCHAIN=auto lets an older
        // go fetch that toolchain through the module proxy, even where the
        // environment says "local" (actions/setup-go exports that).
        env: { GOBIN: bin, CGO_ENABLED: "0", GOTOOLCHAIN: "auto" },
        stdout: "piped",
        stderr: "piped",
      }).output(),
    { silentFor: 2000 },
  );
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(
      `Cannot build the Runtime Interface Emulator ${RIE_VERSION}: go install exited with code ${out.code}\n${text.trim()}`,
    );
  }
  return path;
}

/** A TCP port on loopback that was free a moment ago. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** What the function looks like to Lambda. */
export interface FunctionConfig {
  /** The directory laid out as /opt: the Deno layer and a runtime layer. */
  optDir: string;
  /** The function's directory, as /var/task. */
  taskRoot: string;
  /** The writable directory, as /tmp. */
  tmpDir: string;
  /** Seconds; Lambda's default is 3. */
  timeout: number;
  /** MB; Lambda's default is 128. */
  memory: number;
  /** _HANDLER; default "function.handler". */
  handler?: string;
  /** The function's own variables, which override the ones Lambda sets. */
  env?: Record<string, string>;
}

/** The environment Lambda gives a custom runtime, for the emulator to pass on. */
export function functionEnv(config: FunctionConfig): Record<string, string> {
  const name = "deno-lambda-local";
  return {
    _HANDLER: config.handler ?? "function.handler",
    LAMBDA_TASK_ROOT: config.taskRoot,
    LAMBDA_RUNTIME_DIR: config.optDir,
    TMPDIR: config.tmpDir,
    PATH: `/usr/local/bin:/usr/bin:/bin:${config.optDir}/bin`,
    TZ: "UTC",
    LANG: "en_US.UTF-8",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_LAMBDA_FUNCTION_NAME: name,
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memory),
    AWS_LAMBDA_FUNCTION_TIMEOUT: String(config.timeout),
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${name}`,
    AWS_LAMBDA_LOG_STREAM_NAME: "local/[$LATEST]0",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    ...config.env,
  };
}

/** How to start the emulator. */
export interface RieOptions {
  /** The bootstrap the emulator runs on the first invocation. */
  bootstrap: string;
  /** The emulator's whole environment, which it passes on to the bootstrap. */
  env: Record<string, string>;
  /** The bootstrap's working directory, as Lambda's is /var/task. */
  cwd: string;
  /** Loopback port of the Invoke endpoint; default a free one. */
  port?: number;
  /** Loopback port of the Runtime API it serves the bootstrap; default a free one. */
  runtimeApiPort?: number;
  /**
   * "inherit" to show the emulator's and the function's output as it comes;
   * "terminal" to show it with carriage returns as line breaks (Lambda's text
   * format ends each line of a multi-line record with one, keeping the record
   * whole in CloudWatch, but a terminal would overwrite the line); "piped"
   * (the default) to keep it for output().
   */
  output?: "inherit" | "terminal" | "piped";
  /** The emulator's own log level; default "info". */
  logLevel?: "debug" | "info" | "warn" | "error";
}

/** A running emulator. */
export interface Rie {
  /** The Invoke endpoint. */
  url: string;
  port: number;
  child: Deno.ChildProcess;
  /** Everything the emulator and the function wrote so far, when output is piped. */
  output(): string;
  /**
   * Stops the emulator, which kills the runtime, then kills anything left
   * behind (found by TMPDIR) and returns those pids: none, normally.
   */
  stop(): Promise<number[]>;
}

/**
 * Starts the emulator on loopback and resolves once its Invoke endpoint
 * accepts connections. It starts the bootstrap itself, on the first invocation.
 */
export async function startRie(options: RieOptions): Promise<Rie> {
  const rie = await ensureRie();
  const port = options.port ?? freePort();
  const inherit = options.output === "inherit";
  const child = new Deno.Command(rie, {
    args: [
      "--runtime-interface-emulator-address",
      `127.0.0.1:${port}`,
      "--runtime-api-address",
      `127.0.0.1:${options.runtimeApiPort ?? freePort()}`,
      "--log-level",
      options.logLevel ?? "info",
      options.bootstrap,
    ],
    cwd: options.cwd,
    env: options.env,
    clearEnv: true,
    stdin: "null",
    stdout: inherit ? "inherit" : "piped",
    stderr: inherit ? "inherit" : "piped",
  }).spawn();
  const chunks: string[] = [];
  const reading = options.output === "terminal"
    ? Promise.all([toTerminal(child.stdout, Deno.stdout), toTerminal(child.stderr, Deno.stderr)])
    : inherit
    ? Promise.resolve()
    : Promise.all([collect(child.stdout, chunks), collect(child.stderr, chunks)]);
  // Output that ends in an error (a stream torn down at exit) has nothing more to give.
  reading.catch(() => {});
  const marker = `TMPDIR=${options.env.TMPDIR}`;
  let stopped: Promise<number[]> | undefined;
  const handle: Rie = {
    url: `http://127.0.0.1:${port}${INVOKE_PATH}`,
    port,
    child,
    output: () => chunks.join(""),
    stop: () => stopped ??= stop(child, reading, options.env.TMPDIR ? marker : undefined),
  };
  try {
    await listening(port, child);
  } catch (err) {
    await handle.stop();
    const detail = options.output === "piped" || !options.output
      ? `\n${handle.output().trim()}`
      : "";
    throw new Error(`${err instanceof Error ? err.message : err}${detail}`);
  }
  return handle;
}

/** Copies a stream to out as it comes, each carriage return not before a line feed made one. */
async function toTerminal(
  stream: ReadableStream<Uint8Array>,
  out: { write(p: Uint8Array): Promise<number> },
): Promise<void> {
  const encoder = new TextEncoder();
  let open = true; // until a write fails: the reader of our output went away (| head, less)
  const write = async (text: string) => {
    const data = encoder.encode(text.replace(/\r(?!\n)/g, "\n"));
    try {
      for (let done = 0; open && done < data.length;) done += await out.write(data.subarray(done));
    } catch {
      open = false; // keep reading, so the emulator and the function never block on a full pipe
    }
  };
  let held = ""; // a chunk's last \r, until the next chunk says whether \n follows it
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    const text = held + chunk;
    held = text.endsWith("\r") ? "\r" : "";
    await write(held ? text.slice(0, -1) : text);
  }
  await write(held);
}

/**
 * Waits for the emulator's port to accept a connection. The emulator prints
 * nothing once it listens, so this polls, within a bounded time, and fails
 * early if the emulator exits.
 */
async function listening(port: number, child: Deno.ChildProcess): Promise<void> {
  let exited: Deno.CommandStatus | undefined;
  child.status.then((s) => exited = s);
  const deadline = Date.now() + READY_WITHIN_MS;
  while (true) {
    if (exited) {
      throw new Error(`The Runtime Interface Emulator exited with code ${exited.code}`);
    }
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (err) {
      if (!(err instanceof Deno.errors.ConnectionRefused)) throw err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `The Runtime Interface Emulator did not listen on 127.0.0.1:${port} within ${
          READY_WITHIN_MS / 1000
        } s`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * SIGTERM, on which the emulator SIGKILLs the runtime and exits; SIGKILL if it
 * is still there after a while. Deno dies with the bootstrap (parent-death
 * signal), a moment later: anything with our TMPDIR still alive after a
 * bounded wait was left behind, and is killed. Returns those pids.
 */
async function stop(
  child: Deno.ChildProcess,
  reading: Promise<unknown>,
  marker: string | undefined,
): Promise<number[]> {
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killLater = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      resolve();
    }, STOP_WITHIN_MS);
  });
  await Promise.race([child.status, killLater]);
  clearTimeout(timer);
  await child.status;
  // What was left behind first: a process the function started may hold the
  // emulator's output open, and the output would never end.
  const left = marker ? await processesGone(marker, GONE_WITHIN_MS) : [];
  for (const pid of left) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* gone meanwhile */ }
  }
  // A process that hid from the marker (it cleared its environment) may
  // still hold it open: stop waiting for the output after a while.
  let drained: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    reading,
    new Promise((resolve) => drained = setTimeout(resolve, DRAINED_WITHIN_MS)),
  ]);
  clearTimeout(drained);
  return left;
}

/** Extra headers of one invocation, as the Invoke API takes them. */
export interface InvokeHeaders {
  /** The client context as JSON; sent base64-encoded, as the AWS SDKs do. */
  clientContext?: string;
  /** X-Amzn-Trace-Id. */
  traceId?: string;
}

/** What one invocation returned. */
export interface InvokeResult {
  status: number;
  body: string;
  /** Round trip, in milliseconds, as the caller saw it. */
  durationMs: number;
  /** Why this is an error ("function error: TypeError", ...), or null on success. */
  error: string | null;
  /** The answer was streamed (and passed to onStream as it came). */
  streamed?: boolean;
}

/** Posts one event to an Invoke endpoint and reads the whole answer. */
export async function invokeFunction(
  url: string,
  payload: string,
  headers: InvokeHeaders = {},
  onStream?: (piece: Uint8Array) => void,
): Promise<InvokeResult> {
  const h = new Headers({ "Content-Type": "application/json" });
  if (headers.clientContext !== undefined) {
    h.set("X-Amz-Client-Context", Buffer.from(headers.clientContext).toString("base64"));
  }
  if (headers.traceId !== undefined) h.set("X-Amzn-Trace-Id", headers.traceId);
  const started = performance.now();
  const res = await fetch(url, { method: "POST", body: payload, headers: h });
  let body = "";
  if (onStream && res.headers.get("Lambda-Runtime-Function-Response-Mode") === "streaming") {
    // deno task start's relay answers a streamed response piece by piece.
    const decoder = new TextDecoder();
    try {
      for await (const piece of res.body ?? []) {
        onStream(piece);
        body += decoder.decode(piece, { stream: true });
      }
    } catch (err) {
      return {
        status: res.status,
        body,
        durationMs: performance.now() - started,
        error: `the stream was cut off (${
          (err as Error).message
        }): deno task start's output says why`,
        streamed: true,
      };
    }
    return {
      status: res.status,
      body,
      durationMs: performance.now() - started,
      error: null,
      streamed: true,
    };
  }
  body = await res.text();
  const durationMs = performance.now() - started;
  return { status: res.status, body, durationMs, error: errorOf(res, body) };
}

/**
 * Whether an answer is an error. Lambda says so in X-Amz-Function-Error; the
 * emulator does not, so its status (502 for a failed init or a crash), its
 * timeout text and the error's JSON shape are read instead.
 */
export function errorOf(res: { status: number; headers: Headers }, body: string): string | null {
  const header = res.headers.get("X-Amz-Function-Error");
  if (res.status >= 300) {
    // The emulator answers a failed init with 502 and the init error's body.
    let type: unknown;
    try {
      type = JSON.parse(body)?.errorType;
    } catch { /* not JSON */ }
    const why = [header, typeof type === "string" ? type : undefined].filter(Boolean).join(": ");
    return `HTTP ${res.status}${why ? ` (${why})` : ""}`;
  }
  if (/^Task timed out after [\d.]+ seconds$/.test(body.trim())) return "timeout";
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return header ? `function error (${header})` : null;
  }
  const isError = typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) &&
    typeof (parsed as Record<string, unknown>).errorMessage === "string" &&
    Object.keys(parsed).every((k) =>
      ["errorType", "errorMessage", "stackTrace", "trace"].includes(k)
    );
  if (!isError && !header) return null;
  const type = isError ? (parsed as { errorType?: unknown }).errorType : undefined;
  return `function error${typeof type === "string" ? `: ${type}` : ""}`;
}
