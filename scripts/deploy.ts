// `deno task deploy[:deno-layer|:runtime1|:runtime2|:function] [flags]`:
// publishes the built layers and the function to AWS with the AWS SDK.
// `--help` lists the flags; settings not given as flags come from the standard
// AWS environment (profile, credential chain, region, AWS_ENDPOINT_URL*).
import { createHash } from "node:crypto";
import { resolve } from "node:path";
import { parseFlagsAndPositionals, runMain } from "./_cli.ts";
import {
  type AwsClients,
  createClients,
  DeployError,
  findRegion,
  NO_REGION_WARNING,
} from "./_aws.ts";
import { runBuild } from "./_build.ts";
import { bundleName, DEFAULT_HANDLER } from "./_bundle.ts";
import {
  checkBundle,
  deployFunction,
  type FunctionSpec,
  getFunction,
  invokeHint,
  planFunction,
} from "./_function.ts";
import { deployFunctionUrl, planFunctionUrl, type UrlSpec } from "./_function_url.ts";
import { type Layer, layerFor, type LayerKind, planLayer, publishLayer } from "./_layers.ts";
import { layersState } from "./_layer_sources.ts";
import { type Arch, ARCHES, DIST, ROOT, type Runtime, RUNTIMES } from "./_paths.ts";
import { checkUploadable, readZip } from "./_upload.ts";

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
  --entry FILE            build this function (for --arch, its bundle named after --handler)
                          and deploy it (default: DIST/function.zip, the example deno task
                          build makes from function/mod.ts)
  --function-name NAME    default: deno-hello
  --role ARN              execution role; required to create the function, optional to update
                          it; checked before anything is published
  --runtime RUNTIME       runtime1 or runtime2 (default: runtime1)
  --handler HANDLER       <module>.<export> (default: ${DEFAULT_HANDLER}); the zip must hold
                          <module>.bundle.js
  --memory MB             128 to 10240 (default: 256)
  --timeout SECONDS       1 to 900 (default: 10)
  --url                   create or update the function's URL, and print it
  --url-auth AUTH         iam (callers sign with IAM) or none (anyone may call it; say so
                          explicitly) (default: iam)
  --url-mode MODE         buffered or stream (the response streamed as written) (default:
                          buffered)

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
  entry?: string;
  role?: string;
  runtime: Runtime;
  handler: string;
  memory: number;
  timeout: number;
  url?: UrlSpec;
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
 * What AWS accepts for the flags it would otherwise refuse only after the
 * layers are published: Lambda's and S3's own patterns and lengths.
 */
const PATTERNS: Record<string, { pattern: RegExp; expected: string }> = {
  role: {
    pattern: /^arn:aws[a-zA-Z-]*:iam::\d{12}:role\/[\w+=,.@\/-]{1,512}$/,
    expected: "an IAM role's ARN, such as arn:aws:iam::123456789012:role/deno-lambda",
  },
  "function-name": {
    pattern: /^[\w-]{1,64}$/,
    expected: "1 to 64 letters, digits, hyphens or underscores",
  },
  "layer-prefix": {
    pattern: /^[\w-]{1,100}$/,
    expected: "1 to 100 letters, digits, hyphens or underscores",
  },
  handler: { pattern: /^\S{1,128}$/, expected: "at most 128 characters, no spaces" },
  bucket: {
    pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    expected: "an S3 bucket name: 3 to 63 lowercase letters, digits, dots or hyphens",
  },
};

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
    entry: { type: "string" },
    role: { type: "string" },
    runtime: { type: "string", default: "runtime1" },
    handler: { type: "string", default: DEFAULT_HANDLER },
    memory: { type: "string", default: "256" },
    timeout: { type: "string", default: "10" },
    url: { type: "boolean", default: false },
    "url-auth": { type: "string" },
    "url-mode": { type: "string" },
  });
  if (!v.url && (v["url-auth"] !== undefined || v["url-mode"] !== undefined)) {
    throw new DeployError("--url-auth and --url-mode go with --url: add --url");
  }
  if (positionals.length !== 1) {
    throw new DeployError(
      `Expected one task, got: ${positionals.join(" ") || "none"} (see --help)`,
    );
  }
  try {
    bundleName(v.handler!);
  } catch (err) {
    throw new DeployError((err as Error).message);
  }
  for (const [flag, value] of Object.entries(v)) {
    const check = PATTERNS[flag];
    if (check && typeof value === "string" && !check.pattern.test(value)) {
      throw new DeployError(`Invalid --${flag}: ${value} (expected ${check.expected})`);
    }
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
    entry: v.entry === undefined ? undefined : resolve(v.entry),
    role: v.role,
    runtime: oneOf("runtime", v.runtime!, RUNTIMES),
    handler: v.handler!,
    memory: integer("memory", v.memory!, 128, 10240),
    timeout: integer("timeout", v.timeout!, 1, 900),
    url: v.url
      ? {
        auth: oneOf("url-auth", v["url-auth"] ?? "iam", ["iam", "none"] as const),
        mode: oneOf("url-mode", v["url-mode"] ?? "buffered", ["buffered", "stream"] as const),
      }
      : undefined,
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

/** The example function, which deno task build bundles into dist/function.zip. */
const EXAMPLE = `${ROOT}/function/mod.ts`;

/** Where --entry's function is built for deploying: apart per entry, handler and architecture. */
function entryOut(opts: Options, arch: Arch): string {
  const key = createHash("sha256").update(`${opts.entry}\n${opts.handler}\n${arch}`).digest("hex");
  return `${DIST}/deploy/${key.slice(0, 12)}`;
}

function functionSpec(opts: Options): FunctionSpec {
  const arch = functionArch(opts);
  return {
    name: opts.functionName,
    zipPath: opts.entry ? `${entryOut(opts, arch)}/function.zip` : `${opts.dist}/function.zip`,
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
    sampleEvent: !opts.entry || opts.entry === EXAMPLE ? `${ROOT}/events/apigw_v2.json` : undefined,
  };
}

/** Builds --entry's function for deploying. */
async function buildEntry(opts: Options, fn: FunctionSpec): Promise<void> {
  try {
    await Deno.stat(opts.entry!);
  } catch {
    throw new DeployError(`No function at ${opts.entry}: check --entry`);
  }
  try {
    await runBuild([
      "--function-only",
      ...["--arch", fn.arch, "--entry", opts.entry!, "--handler", fn.handler],
      ...["--out-dir", entryOut(opts, fn.arch)],
    ]);
  } catch {
    throw new DeployError(`Cannot build ${opts.entry}: see the build's message above`);
  }
}

/**
 * Fails before anything is published when the deploy cannot finish: a zip not
 * built, or a function zip without the bundle its handler names.
 */
async function checkZips(
  opts: Options,
  layers: Layer[],
  fn: FunctionSpec | undefined,
): Promise<void> {
  const paths = [...layers.map((l) => l.zipPath), ...(fn ? [fn.zipPath] : [])];
  const missing: string[] = [];
  for (const path of paths) if (!await exists(path)) missing.push(path);
  if (missing.length > 0) {
    const built = archList().filter((a) => !missing.some((m) => m.endsWith(`-${a}.zip`)));
    const others = built.length === 1 && !opts.arch ? `, or pass --arch ${built[0]}` : "";
    const entry = fn && missing.includes(fn.zipPath) && !opts.entry
      ? ", or pass --entry to build the function"
      : "";
    throw new DeployError(
      `Missing ${missing.map(shown).join(", ")}: run deno task build first${others}${entry}`,
    );
  }
  for (const arch of new Set(layers.map((l) => l.arch))) {
    if (await layersState(arch, opts.dist) === "stale") {
      throw new DeployError(
        `The ${arch} layers in ${shown(opts.dist)} were built from other sources than this ` +
          `checkout's, or changed since: run deno task build --arch ${arch} first`,
      );
    }
  }
  for (const layer of layers) checkUploadable(await readZip(layer.zipPath), opts.bucket);
  if (!fn) return;
  const zip = await readZip(fn.zipPath);
  checkUploadable(zip, opts.bucket);
  const names = checkBundle(zip, fn.handler);
  if (!names.some((n) => n.startsWith(`deno-dir/${fn.arch}/`))) {
    console.error(
      `Warning: ${zip.shown} has no code cache for ${fn.arch}: the function compiles at every ` +
        `cold start; build it with --arch ${fn.arch} or all`,
    );
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

function shown(path: string): string {
  return path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
}

/** See checkZips: the role, which needs AWS to know whether the function exists. */
async function checkRole(clients: AwsClients, fn: FunctionSpec | undefined): Promise<void> {
  if (fn && !fn.role && !await getFunction(clients, fn.name)) {
    throw new DeployError(
      `Missing --role: function ${fn.name} does not exist yet, and creating it needs an ` +
        "execution role, the ARN of an IAM role that trusts lambda.amazonaws.com; " +
        "nothing was published",
    );
  }
}

const SUMMARY_HEADER =
  "| layer | architecture | region | version ARN |\n| --- | --- | --- | --- |\n";

/**
 * In a GitHub Actions job (GITHUB_STEP_SUMMARY set), a layer's version ARN as
 * a row of one table in the step's summary, which a release shows per region
 * and architecture. Written as each layer is published, so that a deploy that
 * fails halfway still lists what it published.
 */
async function addToStepSummary(row: string): Promise<void> {
  const file = Deno.env.get("GITHUB_STEP_SUMMARY");
  if (!file) return;
  const before = await Deno.readTextFile(file).catch(() => "");
  const header = before.includes(SUMMARY_HEADER)
    ? ""
    : `${before === "" || before.endsWith("\n\n") ? "" : "\n"}${SUMMARY_HEADER}`;
  await Deno.writeTextFile(file, `${header}${row}\n`, { append: true });
}

/** What publishing the layers came to, in one line; none for a single layer. */
function layersSummary(published: number, total: number): string | undefined {
  if (total < 2) return undefined;
  if (published === total) return `All ${total} layers published`;
  if (published === 0) return `All ${total} layers unchanged: nothing published`;
  return `${published} of ${total} layers published; ${total - published} unchanged`;
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
  for (const [flag, given] of [["--entry", opts.entry], ["--url", opts.url]] as const) {
    if (given && !fn) {
      throw new DeployError(`${flag} is for deploy:function and deploy, not deploy:${opts.task}`);
    }
  }
  await checkZips(opts, layers, undefined);
  if (fn && opts.entry) await buildEntry(opts, fn);
  await checkZips(opts, [], fn);
  if (opts.dryRun) {
    const region = await findRegion({ region: opts.region, profile: opts.profile });
    console.log(`Dry run: no AWS calls; region ${region ?? "none"}`);
    if (!region) console.log(NO_REGION_WARNING);
    for (const layer of layers) console.log(await planLayer(layer, opts.bucket));
    if (fn) {
      console.log(await planFunction(fn, opts.bucket));
      if (opts.url) console.log(planFunctionUrl(fn.name, opts.url));
      if (!fn.role) {
        console.log(
          `Warning: no --role: the deploy will stop before publishing anything if function ` +
            `${fn.name} does not exist yet, since creating it needs one`,
        );
      }
    }
    return 0;
  }
  const clients = await createClients({ region: opts.region, profile: opts.profile });
  await checkRole(clients, fn);
  let published = 0;
  for (const layer of layers) {
    const out = await publishLayer(clients, layer, opts.bucket);
    if (out.published) published++;
    await addToStepSummary(
      `| ${layer.name} | ${layer.arch} | ${clients.region} | \`${out.arn}\` |`,
    );
  }
  const summary = layersSummary(published, layers.length);
  if (summary) console.log(summary);
  if (fn) {
    await deployFunction(clients, fn, opts.bucket);
    if (opts.url) await deployFunctionUrl(clients, fn.name, opts.url);
    console.log(invokeHint(fn, clients.region));
  }
  return 0;
}

/** A DeployError's message; anything else is a bug, shown with its stack. */
function failure(err: unknown): string {
  if (err instanceof DeployError) return `Deploy failed: ${err.message}`;
  return `Deploy failed: unexpected error: ${err instanceof Error ? err.stack : err}`;
}

if (import.meta.main) await runMain({ usage: USAGE, failure }, main);
