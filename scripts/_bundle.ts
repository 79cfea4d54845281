// Bundling a function: one ES module with its npm dependencies inside, so
// nothing is fetched at run time, and a linked source map, so stack traces
// name the original .ts files and lines.
import { existsSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { ROOT } from "./_paths.ts";

export { bundleName, DEFAULT_HANDLER } from "./_handler.ts";

/** What deno bundle writes into a source map, of what we keep. */
interface SourceMap {
  version: number;
  sources: string[];
  sourcesContent?: (string | null)[];
  mappings: string;
  names: string[];
}

/** A file of an npm package in Deno's cache (its path in the package captured). */
const NPM_FILE = /\/npm\/[^/]+\/(.+)$/;

/** Where a trace's source files are named. */
export type SourcePaths = "task-root" | "here";

/**
 * Rewrites a source map for where the bundle runs. With "task-root" (Lambda),
 * the project's files become paths as if the project root were the task
 * root, so a trace reads /var/task/function/mod.ts:12: relative to the map,
 * which sits in the bundle's directory (bundleDir, relative to the task
 * root: "." or, for api/index.bundle.js, "api"). With "here" (a local run), their
 * absolute paths on this machine, so a trace names the file being edited. npm
 * files become npm:<package>/<file>, hiding the build machine's cache.
 * Sources' contents are dropped: traces need only the mappings, and the zip
 * stays small.
 */
export function rewriteSourceMap(
  map: SourceMap,
  mapDir: string,
  root: string = ROOT,
  paths: SourcePaths = "task-root",
  bundleDir = ".",
): SourceMap {
  const sources = map.sources.map((source) => {
    const absolute = isAbsolute(source) ? source : resolve(mapDir, source);
    const npm = absolute.match(NPM_FILE);
    if (npm) return `npm:${npm[1]}`;
    if (paths === "here") return absolute;
    const fromRoot = relative(root, absolute);
    return fromRoot.startsWith("..") ? absolute : relative(bundleDir, fromRoot);
  });
  return { version: map.version, sources, mappings: map.mappings, names: map.names };
}

/** How to bundle. */
export interface BundleOptions {
  minify?: boolean;
  /** The bundle's file name (default function.bundle.js); may be in a subdirectory. */
  name?: string;
  /** Where a trace's source files are named (default "task-root"). */
  sourcePaths?: SourcePaths;
}

/** Files that make a directory a project, whose settings a bundle follows. */
const PROJECT_FILES = ["deno.json", "deno.jsonc", "package.json"];

/**
 * The project an entry belongs to: the nearest directory above it holding a
 * deno.json, deno.jsonc or package.json, else the entry's own directory.
 * Deno reads that configuration (imports, npm dependencies) from where it
 * runs, and the task root mirrors that directory in stack traces.
 */
export function projectOf(entry: string): string {
  const start = dirname(resolve(entry));
  for (let dir = start;; dir = dirname(dir)) {
    if (PROJECT_FILES.some((f) => existsSync(`${dir}/${f}`))) return dir;
    if (dirname(dir) === dir) return start;
  }
}

/**
 * The export conditions the bundle resolves npm packages with, beyond Deno's:
 * those the user set in DENO_CONDITIONS (empty for none), else "module",
 * which esbuild, webpack and Rollup follow by default and Deno does not.
 * Packages name their ES modules under it ahead of "node", which names their
 * CommonJS: the AWS SDK's do, and Deno imports a bundle of its ES modules
 * faster, as each CommonJS module goes through a require of its own
 * (docs/benchmarks.md#real-bundles has the figures).
 */
export function bundleConditions(userSet: string | undefined): string {
  return userSet ?? "module";
}

/**
 * What a package loads only where it runs, with require() or import() (a
 * framework's optional features: NestJS's microservices, class-validator),
 * and the bundle could not find: the specifiers deno bundle's errors name,
 * when every error is of that kind; else null. A module the project imports
 * itself, or one a package imports statically, is never among them.
 */
export function loadedWhereRun(stderr: string): string[] | null {
  const errors = stderr.split(/^error: /m).slice(1).filter((e) => !e.startsWith("bundling failed"));
  const specifiers = new Set<string>();
  for (const error of errors) {
    const at = error.match(/^\s+at (\S+)/m)?.[1] ?? "";
    const note = error.match(
      /note: You can mark the path "([^"]+)" as external.*(?:"require" call|"\.catch\(\)")/,
    );
    if (!note || !(NPM_FILE.test(at) || at.includes("/node_modules/"))) return null;
    specifiers.add(note[1]);
  }
  return specifiers.size > 0 ? [...specifiers].sort() : null;
}

/** A bundle written, with the packages left out of it (loadedWhereRun). */
export interface Bundled {
  bundle: string;
  map: string;
  leftOut: string[];
}

/** Bundles entry, in its project, into outDir/<name> and its .map; returns both paths. */
export async function bundleFunction(
  entry: string,
  outDir: string,
  options: BundleOptions = {},
): Promise<Bundled> {
  const name = options.name ?? "function.bundle.js";
  const bundle = `${outDir}/${name}`;
  const map = `${bundle}.map`;
  const project = projectOf(entry);
  const run = (external: string[]) =>
    new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform=deno",
        "--format=esm",
        "--sourcemap=linked",
        ...(options.minify ? ["--minify"] : []),
        ...external.flatMap((e) => ["--external", e]),
        "-o",
        bundle,
        resolve(entry),
      ],
      cwd: project,
      env: { DENO_CONDITIONS: bundleConditions(Deno.env.get("DENO_CONDITIONS")), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
  let out = await run([]);
  let text = new TextDecoder().decode(out.stderr).trim();
  // As a Node.js bundler is told to (esbuild's external, webpack's
  // IgnorePlugin): the bundle keeps such a load as it is, and it fails where
  // it runs, as it would on Node.js without the package, if it ever runs.
  const leftOut = out.success ? [] : loadedWhereRun(text) ?? [];
  if (leftOut.length > 0) {
    out = await run(leftOut);
    text = new TextDecoder().decode(out.stderr).trim();
  }
  if (!out.success) {
    const without = leftOut.length ? ` (with ${leftOut.join(", ")} left out)` : "";
    // Deno ends its report with a backtrace of its own, which says nothing of the function.
    const said = text.replace(/\n*Stack backtrace:[\s\S]*$/, "");
    throw new Error(`Cannot bundle ${entry}${without}:\n${said}`);
  }
  const code = await Deno.readTextFile(bundle);
  const deferred = deferStreamPromises(code);
  if (deferred !== code) await Deno.writeTextFile(bundle, deferred);
  const raw = JSON.parse(await Deno.readTextFile(map)) as SourceMap;
  const rewritten = rewriteSourceMap(
    raw,
    dirname(map),
    project,
    options.sourcePaths,
    dirname(name),
  );
  await Deno.writeTextFile(map, JSON.stringify(rewritten));
  return { bundle, map, leftOut };
}

/** The exports of node:stream/promises, each a function returning a promise. */
const STREAM_PROMISES = new Set(["pipeline", "finished"]);

/**
 * Makes the bundle's static imports of node:stream/promises lazy: each name
 * becomes a function that imports the module on its first call. Importing it
 * loads Deno's whole Node.js streams at init (about 100 modules; see
 * docs/benchmarks.md), and libraries import it for a path most functions never
 * take: Hono's AWS Lambda adapter, for its streaming handler. Its two exports
 * return promises, so an async wrapper behaves the same, but for invalid
 * options, which reject instead of throwing. deno bundle writes an import of
 * a built-in module as a line of its own; other forms (a namespace, a default)
 * are left as they are. One line for one, so the source map stays true.
 */
export function deferStreamPromises(code: string): string {
  return code.replace(
    /^import \{([^}]*)\} from "(?:node:)?stream\/promises";$/gm,
    (line, names: string) => {
      const bindings = names.split(",").map((n) => n.trim()).filter(Boolean).map((n) => {
        const [name, local = name] = n.split(/\s+as\s+/);
        return { name, local };
      });
      if (!bindings.every((b) => STREAM_PROMISES.has(b.name))) return line;
      return bindings.map(({ name, local }) =>
        `async function ${local}(...args) { ` +
        `return (await import("node:stream/promises")).${name}(...args); }`
      ).join(" ");
    },
  );
}

/** The runtime's own handler lookup, which the build's check imports. */
const HANDLER_JS = `${ROOT}/runtimes/_shared/handler.js`;
const STREAMING_JS = `${ROOT}/runtimes/_shared/streaming.js`;

/**
 * What is wrong with a bundle's handler, as the runtime will find it at init
 * (runtimes/_shared/handler.js): the Runtime.* type Lambda would fail init
 * with, and why ("handler is undefined or not exported (it exports: main)");
 * or null when it can run,
 * or when the bundle cannot be imported here (its top-level code needs a
 * permission, or the runtime), which leaves the answer to the runtime.
 */
export async function handlerProblem(
  bundle: string,
  handler: string,
  leftOut: string[] = [],
): Promise<{ type: string; message: string } | null> {
  const exportPath = handler.slice(handler.indexOf(".", handler.lastIndexOf("/") + 1) + 1);
  // Imported with no permission but reading the bundle, as the code cache is.
  const probe = `
    const [url, lookup, path, name, streaming] = Deno.args;
    // As at init, awslambda (streamifyResponse) is there before the function.
    (await import(streaming)).installAwslambda(undefined);
    let mod;
    try {
      mod = await import(url);
    } catch (err) {
      console.log(JSON.stringify({ importError: String(err?.message ?? err) }));
      Deno.exit(0);
    }
    const { findHandler, resolveHandler } = await import(lookup);
    let problem = null;
    try {
      resolveHandler(mod, path, name);
    } catch (err) {
      // Anything else the lookup throws (an export's getter) init reports as it is, as Node.js does.
      problem = { type: String(err?.name ?? "Error"), message: String(err?.message) };
    }
    const exports = Object.keys(mod).map((key) =>
      key === "default" && mod.default !== null && typeof mod.default === "object"
        ? "default (" + (Object.keys(mod.default).join(", ") || "nothing") + ")"
        : key
    );
    console.log(JSON.stringify({ problem, kind: typeof findHandler(mod, path), exports }));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      "--no-config",
      "--no-lock",
      "--cached-only",
      `--allow-read=${bundle},${bundle}.map,${ROOT}/runtimes/_shared`,
      probe,
      fileUrl(bundle),
      fileUrl(HANDLER_JS),
      exportPath,
      handler,
      fileUrl(STREAMING_JS),
    ],
    env: { DENO_NO_UPDATE_CHECK: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).output();
  type Problem = { type: string; message: string };
  let found:
    | { problem: Problem | null; kind: string; exports: string[]; importError?: string }
    | null = null;
  try {
    // The last line: the function's own top-level code may print too.
    found = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop()!);
  } catch { /* nothing to go by */ }
  // A package's load the bundle left out (loadedWhereRun) that runs at import
  // is no optional feature's: init would fail at every start.
  const needed = leftOut.find((name) => found?.importError?.includes(`'${name}'`));
  if (needed) {
    return {
      type: "Runtime.ImportModuleError",
      message: `A package requires ${needed} as the bundle is imported, and nothing installs it ` +
        `(${found!.importError!.split("\n")[0]}): add ${needed} to the project's dependencies`,
    };
  }
  if (!found?.exports || found.problem === null) return null;
  const { type, message } = found.problem;
  if (type !== "Runtime.HandlerNotFound") return found.problem;
  // Not there, or not a function: what there is instead.
  if (found.kind === "undefined") {
    const exported = found.exports.length ? found.exports.join(", ") : "nothing";
    return { type, message: `${message} (it exports: ${exported})` };
  }
  return {
    type,
    message: `${message} but ${found.kind === "object" ? "an object" : `a ${found.kind}`}`,
  };
}

/** A path as a file: URL, escaping what URLs treat specially. */
function fileUrl(path: string): string {
  return "file://" + path.split("/").map(encodeURIComponent).join("/");
}
