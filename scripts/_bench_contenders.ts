// The runtimes deno task bench compares, and how to start each one against
// the bench's Runtime API with the same function.
import { CACHE, DIST, HOST_ARCH, ROOT, type Runtime } from "./_paths.ts";
import { unzipTo } from "./zip.ts";

/** AWS's Node.js runtime interface client, pinned. */
export const NODE_RIC = "aws-lambda-ric@4.0.2";
const NODE_RIC_DIR = `${CACHE}/bench-node`;
const NODE_RIC_MAIN = `${NODE_RIC_DIR}/node_modules/aws-lambda-ric/index.mjs`;

/** What one start of a contender needs. */
export interface StartOptions {
  /** host:port of the Runtime API. */
  api: string;
  /** LAMBDA_TASK_ROOT: holds <module>.bundle.js (and <module>.mjs for Node.js). */
  taskRoot: string;
  /** TMPDIR; the Deno contenders keep DENO_DIR in it. */
  tmpDir: string;
  /** _HANDLER. */
  handler: string;
  /** Set on top of Lambda's environment (AWS_LAMBDA_MAX_CONCURRENCY, say). */
  env?: Record<string, string>;
  /**
   * Run where Lambda puts things: the layer at /opt and taskRoot at /var/task,
   * bound there in a mount namespace of the contender's own (root only).
   * Prepared code caches are keyed by those paths.
   */
  lambdaPaths?: boolean;
}

/** Where Lambda unpacks the layers and the function. */
const OPT = "/opt";
const VAR_TASK = "/var/task";

/** One runtime under test. */
export interface Contender {
  name: string;
  /** What it is, for the table's notes. */
  description: string;
  /** Starts it; stdout is discarded, stderr shown. */
  start(options: StartOptions): Deno.ChildProcess;
}

/**
 * The memory size Lambda would give a function with this machine's CPUs: one
 * vCPU per 1,769 MB.
 */
const MEMORY_MB = String(1769 * navigator.hardwareConcurrency);

/** The environment Lambda gives a function, for every contender alike. */
function lambdaEnv(o: StartOptions, layer: string): Record<string, string> {
  return {
    AWS_LAMBDA_RUNTIME_API: o.api,
    LAMBDA_TASK_ROOT: o.taskRoot,
    LAMBDA_RUNTIME_DIR: layer,
    _HANDLER: o.handler,
    TMPDIR: o.tmpDir,
    PATH: `/usr/local/bin:/usr/bin:/bin:${layer}/bin`,
    TZ: "UTC",
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_LAMBDA_FUNCTION_NAME: "bench",
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: MEMORY_MB,
    AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/bench",
    AWS_LAMBDA_LOG_STREAM_NAME: "2026/11/25/[$LATEST]0123456789abcdef",
    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
    AWS_ACCESS_KEY_ID: "AKIDBENCHBENCHBENCH",
    AWS_SECRET_ACCESS_KEY: "bench-secret-key",
    AWS_SESSION_TOKEN: "bench-session-token",
    ...o.env,
  };
}

/**
 * Starts cmd with only env, in cwd. Given binds ([from, to] directories), in
 * a private mount namespace with each from bound at its to, and in cwd as
 * seen from there: unshare execs sh, which mounts and execs cmd, so the
 * process started is cmd's.
 */
function spawn(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  cwd: string,
  binds: [string, string][] = [],
) {
  if (binds.length > 0) {
    const mounts = binds.map((_, i) => `mount --bind "\${${2 * i + 1}}" "\${${2 * i + 2}}"`);
    const script = `${mounts.join(" && ")} && shift ${2 * binds.length} && cd "$0" && exec "$@"`;
    args = ["--mount", "--propagation", "private", "sh", "-c", script, cwd, ...binds.flat(), cmd]
      .concat(args);
    cmd = "unshare";
    cwd = "/";
  }
  return new Deno.Command(cmd, {
    args,
    env,
    cwd,
    clearEnv: true,
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
}

/**
 * Why contenders cannot run with lambdaPaths here, or null when they can:
 * /var/task is made if missing, as a mount point.
 */
export async function lambdaPathsProblem(): Promise<string | null> {
  if (Deno.uid() !== 0) return "binding /opt and /var/task takes root (unshare -m)";
  try {
    await Deno.mkdir(VAR_TASK, { recursive: true });
    const probe = await new Deno.Command("unshare", {
      args: ["--mount", "--propagation", "private", "mount", "--bind", "/", VAR_TASK],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!probe.success) {
      return `unshare -m failed: ${new TextDecoder().decode(probe.stderr).trim()}`;
    }
  } catch (err) {
    return String(err);
  }
  return null;
}

/** Both built layers of a runtime unpacked into one directory, as Lambda's /opt. */
export async function unpackLayers(runtime: Runtime): Promise<string> {
  const dir = `${DIST}/bench/${runtime}`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await unzipTo(`${DIST}/deno-layer-${HOST_ARCH}.zip`, dir);
  await unzipTo(`${DIST}/${runtime}-${HOST_ARCH}.zip`, dir);
  return dir;
}

/** runtime1 or runtime2: the built bootstrap, as Lambda starts it, with env added to Lambda's. */
export function layerContender(
  runtime: Runtime,
  layer: string,
  env: Record<string, string> = {},
): Contender {
  return {
    name: runtime,
    description: `${runtime}: the built layers, the real bootstrap`,
    start: (o) => {
      if (!o.lambdaPaths) {
        return spawn(`${layer}/bootstrap`, [], { ...lambdaEnv(o, layer), ...env }, o.taskRoot);
      }
      return spawn(
        `${OPT}/bootstrap`,
        [],
        { ...lambdaEnv({ ...o, taskRoot: VAR_TASK }, OPT), ...env },
        VAR_TASK,
        [[layer, OPT], [o.taskRoot, VAR_TASK]],
      );
    },
  };
}

/** The in-process floor: Deno polls the Runtime API itself (bench/baseline_runtime.js). */
export function baselineContender(layer: string): Contender {
  return {
    name: "baseline",
    description: "Deno polling the Runtime API in-process (the archived deno-lambda design)",
    start: (o) =>
      spawn(
        `${layer}/bin/deno`,
        ["run", "--no-config", "--no-lock", "--no-prompt", "--cached-only", "--allow-all"].concat(
          `${ROOT}/bench/baseline_runtime.js`,
        ),
        {
          ...lambdaEnv(o, layer),
          DENO_DIR: `${o.tmpDir}/deno-dir`,
          DENO_NO_UPDATE_CHECK: "1",
          DENO_NO_PROMPT: "1",
        },
        o.taskRoot,
      ),
  };
}

/**
 * AWS's Node.js runtime interface client on this machine's node, installed
 * with npm into .cache/ (it compiles a native addon); null and the reason
 * when it cannot be installed or run.
 */
export async function nodeRicContender(): Promise<Contender | string> {
  const node = await output("node", ["--version"]);
  if (!node.ok) return `node is not installed: ${node.text}`;
  try {
    await Deno.stat(`${NODE_RIC_DIR}/node_modules/aws-lambda-ric/rapid-client.node`);
  } catch {
    await Deno.mkdir(NODE_RIC_DIR, { recursive: true });
    const install = await output("npm", [
      "install",
      "--no-save",
      "--no-audit",
      "--no-fund",
      "--prefix",
      NODE_RIC_DIR,
      NODE_RIC,
    ]);
    if (!install.ok) return `npm install ${NODE_RIC} failed: ${lastLines(install.text)}`;
  }
  return {
    name: "node-ric",
    description: `AWS's ${NODE_RIC} on Node.js ${node.text.trim()}`,
    start: (o) => {
      if (!o.lambdaPaths) {
        return spawn("node", [NODE_RIC_MAIN], lambdaEnv(o, NODE_RIC_DIR), o.taskRoot);
      }
      const env = lambdaEnv({ ...o, taskRoot: VAR_TASK }, NODE_RIC_DIR);
      return spawn("node", [NODE_RIC_MAIN], env, VAR_TASK, [[o.taskRoot, VAR_TASK]]);
    },
  };
}

async function output(cmd: string, args: string[]): Promise<{ ok: boolean; text: string }> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const decode = (b: Uint8Array) => new TextDecoder().decode(b);
    return { ok: out.success, text: decode(out.stdout) + decode(out.stderr) };
  } catch (err) {
    return { ok: false, text: String(err) };
  }
}

function lastLines(text: string): string {
  return text.trim().split("\n").slice(-3).join(" / ");
}
