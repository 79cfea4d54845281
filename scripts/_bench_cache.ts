// deno task bench's DENO_DIR experiment: cold starts of a large bundle (the
// AWS SDK's S3 client) with an empty DENO_DIR, with the one a previous start
// left in TMPDIR (what Lambda's /tmp keeps across environment resets), and
// with a prepared deno-dir/ in the task root that the bootstrap copies to
// TMPDIR. Deno keys its V8 code cache by module URL and source hash, so the
// prepared cache is made by one start at the very paths the runs use.
import type { BenchApi } from "./_bench_api.ts";
import { bundleFunction } from "./_bundle.ts";
import { baselineContender, type Contender, layerContender } from "./_bench_contenders.ts";
import type { CacheResult } from "./_bench_report.ts";
import { coldStart } from "./_bench_run.ts";
import { summarize } from "./_bench_stats.ts";
import { CACHE, ROOT } from "./_paths.ts";

const HANDLER = "function.handler";

/** Cold starts of runs runs, each with a fresh TMPDIR, or all in one kept TMPDIR. */
async function starts(
  api: BenchApi,
  contender: Contender,
  taskRoot: string,
  runs: number,
  keepTmp: boolean,
): Promise<{ next: number[]; response: number[] }> {
  const next: number[] = [];
  const response: number[] = [];
  const kept = await Deno.makeTempDir({ prefix: "bench-tmp-" });
  try {
    // The kept TMPDIR starts as a previous start left it.
    if (keepTmp) await coldStart(api, contender, { taskRoot, tmpDir: kept, handler: HANDLER });
    for (let i = 0; i < runs; i++) {
      const tmpDir = keepTmp ? kept : await Deno.makeTempDir({ prefix: "bench-tmp-" });
      try {
        const t = await coldStart(api, contender, { taskRoot, tmpDir, handler: HANDLER });
        next.push(t.next);
        response.push(t.response);
      } finally {
        if (!keepTmp) await Deno.remove(tmpDir, { recursive: true });
      }
    }
  } finally {
    await Deno.remove(kept, { recursive: true });
  }
  return { next, response };
}

/** Leaves in taskRoot/deno-dir the DENO_DIR that one start of contender wrote. */
async function prepareDenoDir(api: BenchApi, contender: Contender, taskRoot: string) {
  const tmpDir = await Deno.makeTempDir({ prefix: "bench-tmp-" });
  try {
    await coldStart(api, contender, { taskRoot, tmpDir, handler: HANDLER });
    await Deno.rename(`${tmpDir}/deno-dir`, `${taskRoot}/deno-dir`);
  } finally {
    await Deno.remove(tmpDir, { recursive: true });
  }
}

/** Total size in bytes of the files under dir. */
async function treeBytes(dir: string): Promise<number> {
  let bytes = 0;
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    bytes += e.isDirectory ? await treeBytes(path) : (await Deno.stat(path)).size;
  }
  return bytes;
}

/** Runs the experiment for runtime1 and the in-process baseline. */
export async function runCacheExperiment(
  api: BenchApi,
  options: { runtime1Layer: string; runs: number },
): Promise<CacheResult[]> {
  const contenders = [
    layerContender("runtime1", options.runtime1Layer),
    baselineContender(options.runtime1Layer),
  ];
  const results: CacheResult[] = [];
  for (const minify of [false, true]) {
    const name = minify ? "s3-minified" : "s3";
    const taskRoot = `${CACHE}/bench/${name}`;
    await Deno.remove(taskRoot, { recursive: true }).catch(() => {});
    await Deno.mkdir(taskRoot, { recursive: true });
    const { bundle } = await bundleFunction(`${ROOT}/bench/s3_function.ts`, taskRoot, { minify });
    const bundleBytes = (await Deno.stat(bundle)).size;
    const row = (contender: string, cache: string, t: { next: number[]; response: number[] }) =>
      results.push({
        bundle: name,
        bundleBytes,
        contender,
        cache,
        next: summarize(t.next),
        response: summarize(t.response),
      });
    for (const contender of contenders) {
      console.error(`  ${name}, ${contender.name}...`);
      row(contender.name, "empty", await starts(api, contender, taskRoot, options.runs, false));
      row(
        contender.name,
        "kept from the previous start",
        await starts(api, contender, taskRoot, options.runs, true),
      );
    }
    const runtime1 = contenders[0];
    await prepareDenoDir(api, runtime1, taskRoot);
    const preparedBytes = await treeBytes(`${taskRoot}/deno-dir`);
    row(
      "runtime1",
      `copied from a prepared deno-dir/ (${(preparedBytes / 1e6).toFixed(1)} MB)`,
      await starts(api, runtime1, taskRoot, options.runs, false),
    );
    await Deno.remove(`${taskRoot}/deno-dir`, { recursive: true });
  }
  return results;
}
