// `deno task deploy[:deno-layer|:runtime1|:runtime2|:function] [flags]`:
// publishes the built layers and the function to AWS with the AWS SDK.
// `--help` lists the flags; settings not given as flags come from the standard
// AWS environment (profile, credential chain, region, AWS_ENDPOINT_URL*).
import { parseFlagsAndPositionals, runMain } from "./_cli.ts";
import { createClients, DeployError, resolveRegion } from "./_aws.ts";
import { deployFunction, type FunctionSpec, planFunction } from "./_function.ts";
import { layerFor, type LayerKind, planLayer, publishLayer } from "./_layers.ts";
import { type Arch, ARCHES, DIST, type Runtime, RUNTIMES } from "./_paths.ts";

const TASKS = ["deno-layer", ...RUNTIMES, "function", "all"] as const;
type Task = typeof TASKS[number];

const USAGE = `Usage: deno task deploy[:TASK] [flags]

Tasks: deploy:deno-layer, deploy:runtime1, deploy:runtime2, deploy:function,
and deploy (all four, in that order). Layers are published for provided.al2023;
a layer version is skipped when the latest one already holds the same zip.

Flags:
  --region REGION         AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)
  --profile NAME          AWS profile (default: AWS_PROFILE, else the default credential chain)
  --arch ARCH             x86_64, arm64 or all (default: all for layers; x86_64 for the function,
                          which runs on one architecture)
  --bucket NAME           S3 bucket to upload zips over Lambda's 50 MiB direct-upload limit through
  --dist DIR              where the zips are (default: dist/, written by deno task build)
  --layer-prefix PREFIX   layer names: PREFIX-ARCH, PREFIX-runtimeN-ARCH (default: deno)
  --dry-run               print what would be done, without calling AWS
  -h, --help              this help

Function flags (deploy:function and deploy):
  --function-name NAME    default: deno-hello
  --role ARN              execution role; required to create the function, optional to update it
  --runtime RUNTIME       runtime1 or runtime2 (default: runtime1)
  --handler HANDLER       <module>.<export> (default: function.handler)
  --memory MB             128 to 10240 (default: 256)
  --timeout SECONDS       1 to 900 (default: 10)

Environment: AWS_PROFILE, AWS_REGION, AWS_DEFAULT_REGION, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_LAMBDA,
AWS_ENDPOINT_URL_S3, and everything else the AWS SDK's credential chain reads.`;

/** The parsed and checked command line. */
interface Options {
  task: Task;
  region?: string;
  profile?: string;
  arch?: Arch | "all";
  bucket?: string;
  dist: string;
  prefix: string;
  dryRun: boolean;
  functionName: string;
  role?: string;
  runtime: Runtime;
  handler: string;
  memory: number;
  timeout: number;
}

function integer(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DeployError(
      `Invalid --${flag}: ${value} (expected an integer from ${min} to ${max})`,
    );
  }
  return n;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new DeployError(`Invalid --${flag}: ${value} (expected ${allowed.join(", ")})`);
  }
  return value as T;
}

/**
 * Parses the command line: the task, then flags. A bad flag is a UsageError;
 * a bad task or value, a DeployError.
 */
function parseOptions(args: string[]): Options {
  const { values: v, positionals } = parseFlagsAndPositionals(args, {
    region: { type: "string" },
    profile: { type: "string" },
    arch: { type: "string" },
    bucket: { type: "string" },
    dist: { type: "string", default: DIST },
    "layer-prefix": { type: "string", default: "deno" },
    "dry-run": { type: "boolean", default: false },
    "function-name": { type: "string", default: "deno-hello" },
    role: { type: "string" },
    runtime: { type: "string", default: "runtime1" },
    handler: { type: "string", default: "function.handler" },
    memory: { type: "string", default: "256" },
    timeout: { type: "string", default: "10" },
  });
  if (positionals.length !== 1) {
    throw new DeployError(
      `Expected one task, got: ${positionals.join(" ") || "none"} (see --help)`,
    );
  }
  return {
    task: task(positionals[0]),
    region: v.region,
    profile: v.profile,
    arch: v.arch === undefined
      ? undefined
      : oneOf<Arch | "all">("arch", v.arch, [...archList(), "all"]),
    bucket: v.bucket,
    dist: v.dist!.replace(/\/$/, ""),
    prefix: v["layer-prefix"]!,
    dryRun: v["dry-run"]!,
    functionName: v["function-name"]!,
    role: v.role,
    runtime: oneOf("runtime", v.runtime!, RUNTIMES),
    handler: v.handler!,
    memory: integer("memory", v.memory!, 128, 10240),
    timeout: integer("timeout", v.timeout!, 1, 900),
  };
}

function task(name: string): Task {
  if (!TASKS.includes(name as Task)) {
    throw new DeployError(`Unknown task: ${name} (expected ${TASKS.join(", ")})`);
  }
  return name as Task;
}

function archList(): Arch[] {
  return Object.keys(ARCHES) as Arch[];
}

/** The function's architecture: one, even when the layers go out for all. */
function functionArch(opts: Options): Arch {
  if (opts.arch === "all" && opts.task === "function") {
    throw new DeployError(
      "Invalid --arch for a function: all (a function runs on x86_64 or arm64)",
    );
  }
  return opts.arch && opts.arch !== "all" ? opts.arch : "x86_64";
}

function functionSpec(opts: Options): FunctionSpec {
  const arch = functionArch(opts);
  return {
    name: opts.functionName,
    zipPath: `${opts.dist}/function.zip`,
    arch,
    runtime: opts.runtime,
    handler: opts.handler,
    memory: opts.memory,
    timeout: opts.timeout,
    role: opts.role,
    layers: [
      layerFor("deno-layer", arch, opts.dist, opts.prefix),
      layerFor(opts.runtime, arch, opts.dist, opts.prefix),
    ],
  };
}

async function main(args: string[]): Promise<number> {
  const opts = parseOptions(args);
  const kinds: LayerKind[] = opts.task === "all"
    ? ["deno-layer", ...RUNTIMES]
    : opts.task === "function"
    ? []
    : [opts.task];
  const arches = !opts.arch || opts.arch === "all" ? archList() : [opts.arch];
  const layers = kinds.flatMap((kind) =>
    arches.map((a) => layerFor(kind, a, opts.dist, opts.prefix))
  );
  const fn = opts.task === "all" || opts.task === "function" ? functionSpec(opts) : undefined;

  if (opts.dryRun) {
    console.log(
      `Dry run: no AWS calls; region ${resolveRegion(opts.region) ?? "(from the profile)"}`,
    );
    for (const layer of layers) console.log(await planLayer(layer, opts.bucket));
    if (fn) console.log(await planFunction(fn, opts.bucket));
    return 0;
  }
  const clients = await createClients({ region: opts.region, profile: opts.profile });
  let published = 0;
  for (const layer of layers) {
    if ((await publishLayer(clients, layer, opts.bucket)).published) published++;
  }
  if (layers.length > 1) {
    console.log(`${published} of ${layers.length} layers published, the others unchanged`);
  }
  if (fn) await deployFunction(clients, fn, opts.bucket);
  return 0;
}

/** A DeployError's message; anything else is a bug, shown with its stack. */
function failure(err: unknown): string {
  if (err instanceof DeployError) return `Deploy failed: ${err.message}`;
  return `Deploy failed: unexpected error: ${err instanceof Error ? err.stack : err}`;
}

if (import.meta.main) await runMain({ usage: USAGE, failure }, main);
