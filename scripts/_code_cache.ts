// Prepared V8 code caches, shipped as deno-dir/<arch>/ in a zip: the
// bootstrap copies its architecture's to TMPDIR/deno-dir before Deno starts, so
// Deno finds its compiled code instead of compiling it (and writing it) again.
//
// Deno keeps compiled code in DENO_DIR/v8_code_cache_v2, an SQLite table keyed
// by module URL and source hash. Two kinds of rows matter at start-up:
// - Deno's own modules that it loads lazily, on first use (ext:deno_fetch's
//   Headers, Deno.serve, and whatever the function's top-level code uses): the same URLs
//   everywhere;
// - the runtime's and the function's files, keyed by the path they run at
//   (/opt/runtime.js, /var/task/function.bundle.js), which does not exist at
//   build time: they are imported from where they were built, then re-keyed.
// The imports run without any permission but reading those files: top-level
// code cannot reach the network, the environment or the disk, and when it
// throws for lack of them, what was compiled until then is still cached.
import { DatabaseSync } from "node:sqlite";

/** The name of the code cache inside DENO_DIR, for the pinned Deno. */
export const CODE_CACHE_FILE = "v8_code_cache_v2";
/**
 * The SQLite files of DENO_DIR a start opens, each keyed by module URL: the
 * code cache, and the module and CommonJS analyses. Shipping them spares
 * creating them too (a few ms each for the schema, the journal and the WAL).
 */
export const DENO_DIR_FILES = [CODE_CACHE_FILE, "dep_analysis_cache_v2", "node_analysis_cache_v2"];

/** A file to compile, and the path it will run at. */
export interface CachedModule {
  path: string;
  runsAt: string;
}

// Imports every module given, then touches what Deno loads lazily and
// runtime.js needs (Headers on every event; Deno.connect for its channel;
// runtime1's Deno.serve), which loads and compiles it.
// Touching, not running: running compiles more, but how much more depends on
// timing, and the zips must come out the same.
const LOADER = `for (const url of Deno.args) {
  try {
    await import(url);
  } catch { /* top-level code needs a permission, or the bootstrap */ }
}
void Headers;
void Deno.connect;
void Deno.serve;
`;

/** One file of a prepared DENO_DIR. */
export interface DenoDirFile {
  name: string;
  data: Uint8Array<ArrayBuffer>;
}

/**
 * A DENO_DIR for modules, with their code and Deno's lazily loaded modules'
 * compiled by deno (the Deno that will run them: the caches are only valid for
 * its version): its files, or none when Deno wrote no code cache (and said why
 * on stderr).
 */
export async function prepareDenoDir(
  deno: string,
  modules: CachedModule[],
  env: Record<string, string> = {},
): Promise<DenoDirFile[]> {
  const tmp = await Deno.makeTempDir({ prefix: "code-cache-" });
  try {
    const loader = `${tmp}/load.js`;
    await Deno.writeTextFile(loader, LOADER);
    const readable = modules.flatMap((m) => [m.path, `${m.path}.map`]);
    const out = await new Deno.Command(deno, {
      args: [
        "run",
        "--no-config",
        "--no-lock",
        "--no-prompt",
        "--cached-only",
        `--allow-read=${readable.join(",")}`,
        loader,
        ...modules.map((m) => fileUrl(m.path)),
      ],
      env: { ...env, DENO_DIR: `${tmp}/deno-dir`, DENO_NO_UPDATE_CHECK: "1" },
      clearEnv: true,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    try {
      await Deno.stat(`${tmp}/deno-dir/${CODE_CACHE_FILE}`);
    } catch {
      console.error(new TextDecoder().decode(out.stderr).trim());
      return [];
    }
    const files: DenoDirFile[] = [];
    for (const name of DENO_DIR_FILES) {
      const path = `${tmp}/deno-dir/${name}`;
      try {
        rekey(path, modules);
        files.push({ name, data: await Deno.readFile(path) });
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound)) throw err;
      }
    }
    return files;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

/**
 * Keeps Deno's rows and the modules' (under the URLs they run at) in every
 * table keyed by specifier, in one compact file without a WAL.
 */
function rekey(path: string, modules: CachedModule[]): void {
  Deno.statSync(path); // SQLite would create a missing file
  const db = new DatabaseSync(path);
  try {
    const urls = modules.map((m) => fileUrl(m.path));
    const tables = db.prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'info' ORDER BY name",
    ).all().map((row) => String(row.name));
    for (const table of tables) {
      db.prepare(
        `DELETE FROM ${table} WHERE specifier NOT LIKE 'ext:%' AND specifier NOT IN (${
          urls.map(() => "?").join(",")
        })`,
      ).run(...urls);
      const update = db.prepare(`UPDATE ${table} SET specifier = ? WHERE specifier = ?`);
      for (const m of modules) update.run(fileUrl(m.runsAt), fileUrl(m.path));
    }
    db.exec("PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE; VACUUM;");
  } finally {
    db.close();
  }
}

/** A file path as the file: URL Deno keys it by (each segment percent-encoded, as runtime.js does). */
export function fileUrl(path: string): string {
  return "file://" + path.split("/").map(encodeURIComponent).join("/");
}
