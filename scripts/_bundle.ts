// Bundling a function: one ES module with its npm dependencies inside, so
// nothing is fetched at run time, and a linked source map, so stack traces
// name the original .ts files and lines.
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { ROOT } from "./_paths.ts";

/** What deno bundle writes into a source map, of what we keep. */
interface SourceMap {
  version: number;
  sources: string[];
  sourcesContent?: (string | null)[];
  mappings: string;
  names: string[];
}

/**
 * Rewrites a source map for where the bundle runs (LAMBDA_TASK_ROOT): the
 * project's files become paths relative to the project root, so a trace reads
 * /var/task/function/mod.ts:12; npm files become npm:<package>/<file>, hiding
 * the build machine's cache. Sources' contents are dropped: traces need only
 * the mappings, and the zip stays small.
 */
export function rewriteSourceMap(map: SourceMap, mapDir: string, root: string = ROOT): SourceMap {
  const sources = map.sources.map((source) => {
    const absolute = isAbsolute(source) ? source : resolve(mapDir, source);
    const npm = absolute.match(/\/npm\/[^/]+\/(.+)$/);
    if (npm) return `npm:${npm[1]}`;
    const fromRoot = relative(root, absolute);
    return fromRoot.startsWith("..") ? absolute : fromRoot;
  });
  return { version: map.version, sources, mappings: map.mappings, names: map.names };
}

/** Bundles entry into outDir/function.bundle.js and its .map; returns both paths. */
export async function bundleFunction(
  entry: string,
  outDir: string,
  options: { minify?: boolean } = {},
): Promise<{ bundle: string; map: string }> {
  const bundle = `${outDir}/function.bundle.js`;
  const map = `${bundle}.map`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=deno",
      "--format=esm",
      "--sourcemap=linked",
      ...(options.minify ? ["--minify"] : []),
      "-o",
      bundle,
      entry,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`Cannot bundle ${entry}:\n${text}`);
  }
  const raw = JSON.parse(await Deno.readTextFile(map)) as SourceMap;
  await Deno.writeTextFile(map, JSON.stringify(rewriteSourceMap(raw, dirname(map))));
  return { bundle, map };
}
