// What the layers are built from, as one content hash: `deno task build`
// records it beside the layers it writes, and `deno task start` rebuilds them
// only when it changed. Contents, not modification times, and only the
// layers' own sources: a function's dependencies (deno.lock, deno.json's
// imports) are the function's, and never make the layers stale. The record
// also holds each zip's size and modification time, so zips rewritten by
// another build (an older checkout's, which writes no record) are not taken
// for current.
import { createHash } from "node:crypto";
import { type Arch, DENO_VERSION, DIST, ROOT } from "./_paths.ts";

/** Directories whose files go into the layers, and which of their files count. */
const SOURCE_DIRS: [string, RegExp][] = [
  ["bootstrap", /(?<!_test)\.go$|^go\.(mod|sum)$/],
  ["runtimes", /(?<!_test)\.js$/],
];
/** The scripts that shape the layers' bytes. */
const SOURCE_FILES = [
  "scripts/build.ts",
  "scripts/zip.ts",
  "scripts/_code_cache.ts",
  "scripts/_layer_sources.ts",
  "scripts/_paths.ts",
];

/** The files the layers are built from, relative to the root, sorted. */
export async function layerSources(): Promise<string[]> {
  const files = [...SOURCE_FILES];
  for (const [dir, pattern] of SOURCE_DIRS) {
    for await (const path of walk(`${ROOT}/${dir}`)) {
      const name = path.slice(path.lastIndexOf("/") + 1);
      if (pattern.test(name) && !path.includes("/testdata/")) {
        files.push(path.slice(ROOT.length + 1));
      }
    }
  }
  return files.sort();
}

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* walk(path);
    else if (entry.isFile) yield path;
  }
}

/**
 * The hash of the layers' sources, the pinned Deno version, and the Deno
 * that assembles runtime.js (this one). The Go toolchain is left out: asking
 * it costs every start a process, and its version changes no behaviour.
 */
export async function layerSourcesKey(): Promise<string> {
  const hash = createHash("sha256").update(`deno ${DENO_VERSION} ${Deno.version.deno}\n`);
  for (const file of await layerSources()) {
    const data = await Deno.readFile(`${ROOT}/${file}`);
    hash.update(`${file}\n${data.length}\n`).update(data);
  }
  return hash.digest("hex");
}

/** Where the record of the layers built for arch is kept. */
export function layerKeyFile(arch: Arch, dist: string = DIST): string {
  return `${dist}/layers-${arch}.key`;
}

/** What the build records of arch's layers: their sources' key, and each zip as it wrote it. */
interface Recorded {
  key: string;
  zips: Record<string, { size: number; mtime: number }>;
}

/** Records the layers just built for arch: key, and the zips (names in dist/). */
export async function recordLayers(
  arch: Arch,
  key: string,
  zips: string[],
  dist: string = DIST,
): Promise<void> {
  const record: Recorded = { key, zips: {} };
  for (const zip of zips) {
    const info = await Deno.stat(`${dist}/${zip}`);
    record.zips[zip] = { size: info.size, mtime: info.mtime?.getTime() ?? 0 };
  }
  await Deno.writeTextFile(layerKeyFile(arch, dist), `${JSON.stringify(record, null, 2)}\n`);
}

/**
 * Whether arch's layers in dist/ are the ones built from today's sources:
 * "current", "stale" (built from other sources, or changed since), or
 * "unknown" (no record: not built here, or by a build that keeps none).
 */
export async function layersState(
  arch: Arch,
  dist: string = DIST,
): Promise<"current" | "stale" | "unknown"> {
  let record: Recorded;
  try {
    record = JSON.parse(await Deno.readTextFile(layerKeyFile(arch, dist)));
  } catch {
    return "unknown";
  }
  if (record?.key !== await layerSourcesKey() || typeof record.zips !== "object") return "stale";
  for (const [zip, was] of Object.entries(record.zips)) {
    const info = await Deno.stat(`${dist}/${zip}`).catch(() => null);
    if (info?.size !== was.size || info.mtime?.getTime() !== was.mtime) return "stale";
  }
  return "current";
}

/** Whether arch's layers in dist/ are current, as start needs them. */
export async function layersCurrent(arch: Arch): Promise<boolean> {
  return await layersState(arch) === "current";
}
