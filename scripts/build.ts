// `deno task build`: every artifact in dist/, for both architectures unless
// --arch names one.
//
//   dist/deno-layer-{x86_64,arm64}.zip  bin/deno of the pinned version
//   dist/runtime{1,2}-{x86_64,arm64}.zip bootstrap, runtime.js, dummy function.bundle.js,
//                                       and deno-dir/<arch>/: their V8 code cache and
//                                       Deno's, keyed for /opt
//   dist/layers-{x86_64,arm64}.key      the hash of the sources the layers were built
//                                       from, by which deno task start knows them current
//   dist/function.zip                   function.bundle.js (+ .map) from function/, and
//                                       deno-dir/<arch>/: its V8 code cache and Deno's
//                                       for each architecture, keyed for /var/task
//
// The foreign architecture's caches are compiled by its own Deno under qemu-user
// (bash .ci/qemu_arm64 sets it up); without it, its zips have no deno-dir/.
//
// `deno task build:function` bundles a function alone, into <out-dir>/function.zip;
// `--handler index.handler` names the bundle index.bundle.js, as Lambda will look for it.
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { dirname, posix, relative, resolve } from "node:path";
import {
  type Arch,
  ARCHES,
  DIST,
  HOST_ARCH,
  layerZips,
  ROOT,
  type Runtime,
  RUNTIMES,
} from "./_paths.ts";
import { bundleFunction, bundleName, DEFAULT_HANDLER, handlerProblem } from "./_bundle.ts";
import { errorMessage, parseFlags, runMain, UsageError } from "./_cli.ts";
import { type CachedModule, prepareDenoDir } from "./_code_cache.ts";
import { archEnv, archProblem } from "./_arch_runner.ts";
import { denoBinary, denoCacheDir, exists, fetchDeno } from "./_deno_binary.ts";
import { layerKeyFile, layerSourcesKey, recordLayers } from "./_layer_sources.ts";
import { step } from "./_progress.ts";
import { requireTools, tool } from "./_tools.ts";
import { createZip, type ZipEntry } from "./zip.ts";

const USAGE = `Usage: deno task build [flags]
       deno task build:function [flags]

build writes the Deno layer, both runtime layers and the function into dist/, for x86_64
and arm64. build:function bundles the function alone, into function.zip. Steps that take
more than 2 s say so as they run.

Flags:
  --arch ARCH        x86_64, arm64 or all (default: all): the layers' architectures, and
                     the function's code caches
  --entry FILE       the function's entry point (default: function/mod.ts)
  --handler H        <module>.<export> the function runs as (default: ${DEFAULT_HANDLER});
                     the bundle is named <module>.bundle.js, where Lambda looks for it
  --out-dir DIR      where function.zip goes (default: dist/); the layers always go to dist/
  --function-only    the function alone: what deno task build:function passes
  --layers-only      the layers alone
  --task-root DIR    where the function will run (default: /var/task), which its code
                     cache is keyed for; deno task start passes its own, and traces then
                     name the source files on this machine
  -h, --help         this help`;

/** Where Lambda unpacks the function zip and the layers: prepared code caches are keyed for them. */
const LAMBDA_TASK_ROOT = "/var/task";
const LAMBDA_LAYER_DIR = "/opt";

/** An architecture's Deno as the build runs it, or why it cannot run here. */
type DenoRunner = { deno: string; env: Record<string, string> } | { problem: string };

/**
 * The Deno of each of arches, found once per build: the host's, and another
 * one under qemu when this machine is set up for it. V8 refuses code compiled
 * for another architecture, so each compiles its own caches; one that cannot
 * run here is said once.
 */
async function denoRunners(arches: Arch[]): Promise<Map<Arch, DenoRunner>> {
  const runners = new Map<Arch, DenoRunner>();
  for (const arch of arches) {
    const problem = await archProblem(arch);
    if (problem !== null) {
      console.error(`No prepared deno-dir/ for ${arch}: its Deno cannot run here (${problem}).`);
      runners.set(arch, { problem });
    } else {
      runners.set(arch, { deno: await fetchDeno(arch), env: archEnv(arch) });
    }
  }
  return runners;
}

/**
 * The prepared DENO_DIR of modules for each of arches whose Deno runs here, as
 * the zip entries (deno-dir/<arch>/...) the bootstrap copies to TMPDIR. An
 * architecture that cannot run here gets none; for a layer, that fails the
 * build in CI (CI=true). A function's never does: its author may deploy one
 * architecture.
 */
async function denoDirEntries(
  runners: Map<Arch, DenoRunner>,
  arches: Arch[],
  modules: CachedModule[],
  options: { requiredInCi: boolean },
): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = [];
  for (const arch of arches) {
    const runner = runners.get(arch)!;
    if ("problem" in runner) {
      // A release must not ship a layer slower than it could be.
      if (options.requiredInCi && Deno.env.get("CI") === "true") {
        throw new Error(`Cannot compile the ${arch} code caches in CI: ${runner.problem}`);
      }
      continue;
    }
    const what = modules.map((m) => m.runsAt.slice(m.runsAt.lastIndexOf("/") + 1)).join(", ");
    const files = await step(
      `Compiling the ${arch} code cache of ${what}${arch === HOST_ARCH ? "" : " under qemu"}`,
      () => prepareDenoDir(runner.deno, modules, runner.env),
      { silentFor: 2000 },
    );
    for (const f of files) {
      entries.push({ name: `deno-dir/${arch}/${f.name}`, data: f.data, mode: 0o644 });
    }
  }
  return entries;
}

/** Runs a command, failing with its output when it fails. */
async function run(cmd: string, args: string[], options: Deno.CommandOptions = {}): Promise<void> {
  const out = await tool(cmd, { ...options, args, stdout: "piped", stderr: "piped" }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${text.trim()}`);
  }
}

/** Builds the static, stripped bootstrap of one runtime for one architecture. */
async function buildBootstrap(runtime: Runtime, arch: Arch): Promise<string> {
  const out = `${DIST}/build/${arch}/${runtime}/bootstrap`;
  const ldflags = `-s -w -buildid= -X main.runtimeName=${runtime}`;
  await step(
    `Building the ${runtime} bootstrap for ${arch} (go build)`,
    () =>
      run("go", ["build", "-trimpath", `-ldflags=${ldflags}`, "-o", out, "."], {
        cwd: `${ROOT}/bootstrap`,
        env: { CGO_ENABLED: "0", GOOS: "linux", GOARCH: ARCHES[arch].goarch },
      }),
    { silentFor: 2000 },
  );
  return out;
}

/** Assembles a runtime's runtime.js and its shared modules into one plain JS file. */
async function assembleRuntimeJs(runtime: Runtime): Promise<string> {
  const out = `${DIST}/build/${runtime}/runtime.js`;
  await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--platform=deno",
    "--format=esm",
    "--no-config",
    "-o",
    out,
    `${ROOT}/runtimes/${runtime}/runtime.js`,
  ]);
  return out;
}

async function entry(name: string, path: string, mode: number): Promise<ZipEntry> {
  return { name, data: await Deno.readFile(path), mode };
}

/** A path as messages show it: from the project's root when inside it. */
function shown(path: string): string {
  return path === ROOT ? "." : path.startsWith(`${ROOT}/`) ? relative(ROOT, path) : path;
}

/** The directories whose "Built in" line is printed, so each gets one. */
const announced = new Set<string>();

/** Prints a zip's size, under a line naming its directory the first time. */
function printSize(dir: string, name: string, bytes: number): void {
  if (!announced.has(dir)) console.log(`Built in ${shown(dir)}/:`);
  announced.add(dir);
  console.log(`  ${name.padEnd(28)} ${(bytes / 1e6).toFixed(2).padStart(7)} MB`);
}

/** Writes a zip into dir and prints its size. */
async function writeZip(name: string, entries: ZipEntry[], dir = DIST): Promise<void> {
  const bytes = createZip(entries);
  await Deno.writeFile(`${dir}/${name}`, bytes);
  printSize(dir, name, bytes.length);
}

/**
 * Writes the Deno layer. Compressing 95 MB takes seconds, so the zip is kept
 * in the cache per version: its bytes depend on nothing else.
 */
async function writeDenoLayer(arch: Arch, deno: string): Promise<void> {
  const name = `deno-layer-${arch}.zip`;
  const cached = `${denoCacheDir(arch)}/${name}`;
  if (!await exists(cached)) {
    await step(`Compressing the Deno layer for ${arch}`, async () => {
      await Deno.writeFile(`${cached}.tmp`, createZip([await entry("bin/deno", deno, 0o755)]));
      await Deno.rename(`${cached}.tmp`, cached);
    }); // at once: compressing blocks the event loop, so no timer could say so later
  }
  await Deno.copyFile(cached, `${DIST}/${name}`);
  printSize(DIST, name, (await Deno.stat(cached)).size);
}

/** What to build, from the command line. */
interface BuildOptions {
  arches: Arch[];
  entry: string;
  handler: string;
  outDir: string;
  taskRoot: string;
  function: boolean;
  layers: boolean;
}

function parseBuildArgs(args: string[]): BuildOptions {
  const values = parseFlags(args, {
    arch: { type: "string", default: "all" },
    entry: { type: "string", default: "function/mod.ts" },
    handler: { type: "string", default: DEFAULT_HANDLER },
    "out-dir": { type: "string", default: DIST },
    "function-only": { type: "boolean", default: false },
    "layers-only": { type: "boolean", default: false },
    "task-root": { type: "string", default: LAMBDA_TASK_ROOT },
  });
  const all = Object.keys(ARCHES) as Arch[];
  if (values.arch !== "all" && !all.includes(values.arch as Arch)) {
    throw new UsageError(`Bad --arch "${values.arch}": expected ${all.join(", ")} or all`);
  }
  if (values["function-only"] && values["layers-only"]) {
    throw new UsageError("Give --function-only or --layers-only, not both");
  }
  try {
    bundleName(values.handler);
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  if (!values["task-root"].startsWith("/")) {
    throw new UsageError(`Bad --task-root "${values["task-root"]}": expected an absolute path`);
  }
  return {
    arches: values.arch === "all" ? all : [values.arch as Arch],
    entry: resolve(values.entry),
    handler: values.handler,
    outDir: resolve(values["out-dir"]),
    // As the bootstrap's filepath.Join will spell it, which the code cache is keyed by.
    taskRoot: posix.normalize(values["task-root"]).replace(/(.)\/$/, "$1"),
    function: !values["layers-only"],
    layers: !values["function-only"],
  };
}

/** Bundles the function and writes <outDir>/function.zip. */
async function buildFunction(o: BuildOptions, runners: Map<Arch, DenoRunner>): Promise<void> {
  if (!await exists(o.entry)) {
    throw new Error(`No function at ${shown(o.entry)}: pass --entry path/to/mod.ts`);
  }
  const name = bundleName(o.handler);
  // Bundled apart from --out-dir, which may be anything of the user's, at a
  // path that depends on the handler alone: V8's code cache holds the path it
  // compiled the bundle from, so the same one from any checkout, entry or
  // out-dir keeps the zip the same, byte for byte. Builds of one handler on
  // this machine take turns.
  const base = `${tmpdir()}/deno-lambda-build`;
  const buildDir = `${base}/${createHash("sha256").update(o.handler).digest("hex").slice(0, 12)}`;
  let lock: Deno.FsFile;
  try {
    await Deno.mkdir(base, { recursive: true, mode: 0o700 });
    // TMPDIR may be shared: whatever was there first, a link or another's directory, is not
    // followed into, since the build empties its directory there.
    const found = await Deno.lstat(base);
    if (!found.isDirectory || found.uid !== Deno.uid()) {
      throw new Error(
        `not a directory of this user's own: ${found.isSymlink ? "a link" : "another's"}`,
      );
    }
    await Deno.chmod(base, 0o700);
    lock = await Deno.open(`${buildDir}.lock`, { create: true, write: true });
  } catch (err) {
    throw new Error(
      `Cannot build in ${base} (${errorMessage(err)}): set TMPDIR to a directory of your own`,
    );
  }
  using _ = lock;
  await lock.lock(true);
  await Deno.remove(buildDir, { recursive: true }).catch(() => {});
  try {
    await bundleAndZip(o, runners, name, buildDir);
  } finally {
    await Deno.remove(buildDir, { recursive: true });
  }
}

async function bundleAndZip(
  o: BuildOptions,
  runners: Map<Arch, DenoRunner>,
  name: string,
  buildDir: string,
): Promise<void> {
  await Deno.mkdir(dirname(`${buildDir}/${name}`), { recursive: true });
  const { bundle, map, leftOut } = await step(
    `Bundling ${shown(o.entry)}`,
    () =>
      bundleFunction(o.entry, buildDir, {
        name,
        sourcePaths: o.taskRoot === LAMBDA_TASK_ROOT ? "task-root" : "here",
      }),
    { silentFor: 2000 },
  );
  const problem = await handlerProblem(bundle, o.handler, leftOut);
  if (problem?.type === "Runtime.HandlerNotFound") {
    throw new Error(
      `${problem.message}, so Lambda would fail init with Runtime.HandlerNotFound: ` +
        `pass a --handler that names one of ${shown(o.entry)}'s exported functions`,
    );
  }
  if (problem) {
    throw new Error(`${problem.message}; as it is, Lambda would fail init with ${problem.type}`);
  }
  if (leftOut.length > 0) {
    console.warn(
      `Left out of the bundle, as nothing installs them: ${leftOut.join(", ")}. ` +
        "Packages load them with require() or import() after their own import, for features " +
        "that need them; on Lambda such a load fails, as on Node.js without the package. If the " +
        "function uses one, add it to the project and import it in your code.",
    );
  }
  const denoDir = await denoDirEntries(runners, o.arches, [
    { path: bundle, runsAt: `${o.taskRoot}/${name}` },
  ], { requiredInCi: false });
  await writeZip("function.zip", [
    await entry(name, bundle, 0o644),
    await entry(`${name}.map`, map, 0o644),
    ...denoDir,
  ], o.outDir);
}

/** Writes the Deno layer and both runtime layers for each architecture, and their key. */
async function buildLayers(o: BuildOptions, runners: Map<Arch, DenoRunner>): Promise<void> {
  // Read before anything is built: a source edited meanwhile makes the next start rebuild.
  const key = await layerSourcesKey();
  const runtimeJs = Object.fromEntries(
    await Promise.all(RUNTIMES.map(async (r) => [r, await assembleRuntimeJs(r)])),
  );
  const dummy = `${ROOT}/runtimes/_shared/function.bundle.js`;
  for (const arch of o.arches) {
    await Deno.remove(layerKeyFile(arch)).catch(() => {});
    await writeDenoLayer(arch, await fetchDeno(arch));
    for (const runtime of RUNTIMES) {
      const denoDir = await denoDirEntries(runners, [arch], [
        { path: runtimeJs[runtime], runsAt: `${LAMBDA_LAYER_DIR}/runtime.js` },
        { path: dummy, runsAt: `${LAMBDA_LAYER_DIR}/function.bundle.js` },
      ], { requiredInCi: true });
      await writeZip(`${runtime}-${arch}.zip`, [
        await entry("bootstrap", await buildBootstrap(runtime, arch), 0o755),
        await entry("runtime.js", runtimeJs[runtime], 0o644),
        await entry("function.bundle.js", dummy, 0o644),
        ...denoDir,
      ]);
    }
    await recordLayers(arch, key, layerZips(arch).map((name) => `${name}.zip`));
  }
}

async function main(args: string[]): Promise<number> {
  const o = parseBuildArgs(args);
  const denoMissing = (await Promise.all(o.arches.map((a) => exists(denoBinary(a))))).includes(
    false,
  );
  await requireTools([...(o.layers ? ["go"] : []), ...(denoMissing ? ["npm", "tar"] : [])]);
  await Deno.mkdir(`${DIST}/build`, { recursive: true });
  await Deno.mkdir(o.outDir, { recursive: true });
  const runners = await denoRunners(o.arches);
  if (o.function) await buildFunction(o, runners);
  if (o.layers) await buildLayers(o, runners);
  return 0;
}

if (import.meta.main) {
  await runMain({ usage: USAGE, failure: (err) => `Build failed: ${errorMessage(err)}` }, main);
}
