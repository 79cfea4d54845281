// deno task bench's V8 flags experiment: runtime1 cold starts, of the echo
// handler and of the large S3 bundle, with DENO_V8_FLAGS set to each flag set
// in turn. V8 refuses a code cache made under other flags, so each flag set
// keeps its own DENO_DIR in a TMPDIR from start to start (what a prepared
// cache made under the same flags would give). Variants take turns, start by
// start, in a rotating order.
import type { BenchApi } from "./_bench_api.ts";
import { s3Bundle } from "./_bench_cache.ts";
import { type Contender, layerContender } from "./_bench_contenders.ts";
import type { V8FlagsResult } from "./_bench_report.ts";
import { coldStart, killTree, LARGE_EVENT, latencies, rotated } from "./_bench_run.ts";
import { summarize, type Summary } from "./_bench_stats.ts";
import { CACHE, ROOT } from "./_paths.ts";

/** The flag sets tried: levers on startup work, background threads and the young generation. */
export const V8_FLAG_SETS = [
  "",
  "--single-threaded",
  "--max-lazy",
  "--always-sparkplug",
  "--no-opt",
  "--lite-mode",
  "--max-semi-space-size=16",
];

/** Runs the experiment against runtime1's unpacked layers. */
export async function runV8FlagsExperiment(
  api: BenchApi,
  options: { runtime1Layer: string; runs: number; warmRuns: number },
): Promise<V8FlagsResult[]> {
  const roots = `${CACHE}/bench/v8-flags`;
  await Deno.remove(roots, { recursive: true }).catch(() => {});
  await Deno.mkdir(`${roots}/echo`, { recursive: true });
  await Deno.copyFile(`${ROOT}/bench/handler.js`, `${roots}/echo/function.bundle.js`);
  await Deno.mkdir(`${roots}/s3`);
  await Deno.copyFile(await s3Bundle(false), `${roots}/s3/function.bundle.js`);

  const results: V8FlagsResult[] = [];
  try {
    for (const name of ["echo", "s3"]) {
      const taskRoot = `${roots}/${name}`;
      const variants: {
        flags: string;
        contender: Contender;
        tmpDir: string;
        next: number[];
        response: number[];
      }[] = [];
      for (const [i, flags] of V8_FLAG_SETS.entries()) {
        const env: Record<string, string> = flags ? { DENO_V8_FLAGS: flags } : {};
        const tmpDir = `${roots}/tmp-${name}-${i}`;
        await Deno.mkdir(tmpDir);
        variants.push({
          flags,
          contender: layerContender("runtime1", options.runtime1Layer, env),
          tmpDir,
          next: [],
          response: [],
        });
      }
      const start = (v: (typeof variants)[number]) =>
        coldStart(api, v.contender, { taskRoot, tmpDir: v.tmpDir, handler: "function.handler" });
      for (const v of variants) await start(v); // each flag set writes its own code cache
      console.error(`  ${name}: ${variants.length} flag sets, ${options.runs} starts each...`);
      for (let i = 0; i < options.runs; i++) {
        for (const v of rotated(variants, i)) {
          const t = await start(v);
          v.next.push(t.next);
          v.response.push(t.response);
        }
      }
      const warm = new Map<string, Summary>();
      if (name === "echo") {
        console.error(`  ${name}: ${options.warmRuns} warm 1.1 MB events for each flag set...`);
        for (const v of variants) {
          api.reset();
          const child = v.contender.start({
            api: api.address,
            taskRoot,
            tmpDir: v.tmpDir,
            handler: "function.handler",
          });
          try {
            await latencies(api, LARGE_EVENT, 20, 0);
            warm.set(v.flags, summarize(await latencies(api, LARGE_EVENT, options.warmRuns, 0)));
          } finally {
            await killTree(child);
          }
        }
      }
      for (const v of variants) {
        results.push({
          bundle: name,
          flags: v.flags,
          next: summarize(v.next),
          response: summarize(v.response),
          warmLarge: warm.get(v.flags),
        });
      }
    }
  } finally {
    await Deno.remove(roots, { recursive: true }).catch(() => {});
  }
  return results;
}
