// `deno task build`: every artifact in dist/, for both architectures.
//
//   dist/deno-layer-{x86_64,arm64}.zip  bin/deno of the pinned version
//   dist/runtime{1,2}-{x86_64,arm64}.zip bootstrap, runtime.js, dummy function.bundle.js,
//                                       and deno-dir/<arch>/: their V8 code cache and
//                                       Deno's, keyed for /opt
//   dist/function.zip                   function.bundle.js (+ .map) from function/, and
//                                       deno-dir/{x86_64,arm64}/: its V8 code cache and
//                                       Deno's for each architecture, keyed for /var/task
//
// The foreign architecture's caches are compiled by its own Deno under qemu-user
// (bash .ci/qemu_arm64 sets it up); without it, its zips have no deno-dir/.
//
// `deno task build:function [--entry function/mod.ts] [--out-dir dist]` bundles
// a function alone, into <out-dir>/function.zip.
import { relative, resolve } from "node:path";
import {
  type Arch,
  ARCHES,
  CACHE,
  DENO_VERSION,
  DIST,
  ROOT,
  type Runtime,
  RUNTIMES,
} from "./_paths.ts";
import { bundleFunction } from "./_bundle.ts";
import { errorMessage, parseFlags, runMain } from "./_cli.ts";
import { type CachedModule, prepareDenoDir } from "./_code_cache.ts";
import { archEnv, archProblem } from "./_arch_runner.ts";
import { createZip, type ZipEntry } from "./zip.ts";

const USAGE = `Usage: deno task build [--entry FILE] [--out-dir DIR]
       deno task build:function [--entry FILE] [--out-dir DIR]

build writes every zip into dist/: the Deno layer and both runtime layers for x86_64 and
arm64, and the function. build:function bundles the function alone, into function.zip.

Flags:
  --function-only  the function alone: what deno task build:function passes
  --entry FILE     the function's entry point (default: function/mod.ts)
  --out-dir DIR    where function.zip goes (default: dist/); the layers always go to dist/
  -h, --help       this help`;

/** Where Lambda unpacks the function zip and the layers: prepared code caches are keyed for them. */
const LAMBDA_TASK_ROOT = "/var/task";
const LAMBDA_LAYER_DIR = "/opt";

/** An architecture's Deno as the build runs it, or why it cannot run here. */
type DenoRunner = { deno: string; env: Record<string, string> } | { problem: string };

/**
 * Each architecture's Deno, found once per build: the host's, and the other
 * one under qemu when this machine is set up for it. V8 refuses code compiled
 * for another architecture, so each compiles its own caches; one that cannot
 * run here is said once.
 */
async function denoRunners(): Promise<Map<Arch, DenoRunner>> {
  const runners = new Map<Arch, DenoRunner>();
  for (const arch of Object.keys(ARCHES) as Arch[]) {
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
    const files = await prepareDenoDir(runner.deno, modules, runner.env);
    for (const f of files) {
      entries.push({ name: `deno-dir/${arch}/${f.name}`, data: f.data, mode: 0o644 });
    }
  }
  return entries;
}

/** Runs a command, failing with its output when it fails. */
async function run(cmd: string, args: string[], options: Deno.CommandOptions = {}): Promise<void> {
  const out = await new Deno.Command(cmd, { ...options, args, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${text.trim()}`);
  }
}

/** Builds the static, stripped bootstrap of one runtime for one architecture. */
async function buildBootstrap(runtime: Runtime, arch: Arch): Promise<string> {
  const out = `${DIST}/build/${arch}/${runtime}/bootstrap`;
  const ldflags = `-s -w -buildid= -X main.runtimeName=${runtime}`;
  await run("go", ["build", "-trimpath", `-ldflags=${ldflags}`, "-o", out, "."], {
    cwd: `${ROOT}/bootstrap`,
    env: { CGO_ENABLED: "0", GOOS: "linux", GOARCH: ARCHES[arch].goarch },
  });
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

/** The pinned Deno binary for one architecture, from its npm package. */
async function fetchDeno(arch: Arch): Promise<string> {
  const dir = `${CACHE}/deno-${DENO_VERSION}-${arch}`;
  const binary = `${dir}/package/deno`;
  if (await exists(binary)) return binary;
  await Deno.mkdir(dir, { recursive: true });
  const spec = `${ARCHES[arch].npm}@${DENO_VERSION}`;
  const pack = await new Deno.Command("npm", {
    args: ["pack", "--silent", "--pack-destination", dir, spec],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!pack.success) {
    throw new Error(`npm pack ${spec} failed:\n${new TextDecoder().decode(pack.stderr).trim()}`);
  }
  const tarball = new TextDecoder().decode(pack.stdout).trim().split("\n").pop()!;
  await run("tar", ["-xzf", `${dir}/${tarball}`, "-C", dir]);
  if (!await exists(binary)) throw new Error(`${spec} has no deno binary`);
  return binary;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function entry(name: string, path: string, mode: number): Promise<ZipEntry> {
  return { name, data: await Deno.readFile(path), mode };
}

/** Writes a zip into dir and prints its size. */
async function writeZip(name: string, entries: ZipEntry[], dir = DIST): Promise<void> {
  const bytes = createZip(entries);
  await Deno.writeFile(`${dir}/${name}`, bytes);
  printSize(name, bytes.length);
}

function printSize(name: string, bytes: number): void {
  console.log(`  ${name.padEnd(28)} ${(bytes / 1e6).toFixed(2).padStart(7)} MB`);
}

/**
 * Writes the Deno layer. Compressing 95 MB takes seconds, so the zip is kept
 * in the cache per version: its bytes depend on nothing else.
 */
async function writeDenoLayer(arch: Arch, deno: string): Promise<void> {
  const name = `deno-layer-${arch}.zip`;
  const cached = `${CACHE}/deno-${DENO_VERSION}-${arch}/${name}`;
  if (!await exists(cached)) {
    await Deno.writeFile(`${cached}.tmp`, createZip([await entry("bin/deno", deno, 0o755)]));
    await Deno.rename(`${cached}.tmp`, cached);
  }
  await Deno.copyFile(cached, `${DIST}/${name}`);
  printSize(name, (await Deno.stat(cached)).size);
}

async function main(args: string[]): Promise<number> {
  const values = parseFlags(args, {
    "function-only": { type: "boolean", default: false },
    entry: { type: "string", default: "function/mod.ts" },
    "out-dir": { type: "string", default: DIST },
  });
  const outDir = resolve(values["out-dir"]!);
  await Deno.mkdir(`${outDir}/build/function`, { recursive: true });
  await Deno.mkdir(`${DIST}/build`, { recursive: true });

  const { bundle, map } = await bundleFunction(resolve(values.entry!), `${outDir}/build/function`);
  const runners = await denoRunners();
  const denoDir = await denoDirEntries(runners, Object.keys(ARCHES) as Arch[], [
    { path: bundle, runsAt: `${LAMBDA_TASK_ROOT}/function.bundle.js` },
  ], { requiredInCi: false });
  console.log(`Built in ${relative(ROOT, outDir) || "."}/:`);
  await writeZip("function.zip", [
    await entry("function.bundle.js", bundle, 0o644),
    await entry("function.bundle.js.map", map, 0o644),
    ...denoDir,
  ], outDir);
  if (values["function-only"]) return 0;

  const runtimeJs = Object.fromEntries(
    await Promise.all(RUNTIMES.map(async (r) => [r, await assembleRuntimeJs(r)])),
  );
  const dummy = `${ROOT}/runtimes/_shared/function.bundle.js`;
  for (const arch of Object.keys(ARCHES) as Arch[]) {
    const deno = await fetchDeno(arch);
    await writeDenoLayer(arch, deno);
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
  }
  return 0;
}

if (import.meta.main) {
  await runMain({ usage: USAGE, failure: (err) => `Build failed: ${errorMessage(err)}` }, main);
}
