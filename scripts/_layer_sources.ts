// What the layers are built from, as one content hash: `deno task build`
// records it beside the layers it writes, and `deno task start` rebuilds them
// only when it changed. Contents, not modification times, and only the
// layers' own sources: a function's dependencies (deno.lock, deno.json's
// imports) are the function's, and never make the layers stale.
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

/** The hash of the layers' sources and the pinned Deno version. */
export async function layerSourcesKey(): Promise<string> {
  const hash = createHash("sha256").update(`deno ${DENO_VERSION}\n`);
  for (const file of await layerSources()) {
    const data = await Deno.readFile(`${ROOT}/${file}`);
    hash.update(`${file}\n${data.length}\n`).update(data);
  }
  return hash.digest("hex");
}

/** Where the key of the layers built for arch is recorded. */
export function layerKeyFile(arch: Arch, dist: string = DIST): string {
  return `${dist}/layers-${arch}.key`;
}

/** Whether arch's layers in dist/ were built from today's sources. */
export async function layersCurrent(arch: Arch): Promise<boolean> {
  const recorded = await Deno.readTextFile(layerKeyFile(arch)).catch(() => "");
  return recorded.trim() === await layerSourcesKey();
}
