// deno task bench's DENO_DIR experiment: cold starts of a large bundle (the
// AWS SDK's S3 client), plain and minified, by what DENO_DIR holds when Deno
// starts: nothing; the runtime layer's prepared deno-dir/; that and the
// function's, as deno task build makes them (scripts/_code_cache.ts); the
// whole DENO_DIR one start wrote, copied from the task root; and the DENO_DIR
// a previous start left in TMPDIR (what Lambda's /tmp keeps across
// environment resets). Variants take turns, start by start in a rotating
// order, so a machine that drifts in speed drifts for all of them alike.
import type { BenchApi } from "./_bench_api.ts";
import { bundleFunction } from "./_bundle.ts";
import { prepareDenoDir } from "./_code_cache.ts";
import { baselineContender, type Contender, layerContender } from "./_bench_contenders.ts";
import type { CacheResult } from "./_bench_report.ts";
import { coldStart, rotated } from "./_bench_run.ts";
import { summarize } from "./_bench_stats.ts";
import { CACHE, HOST_ARCH, ROOT } from "./_paths.ts";

const HANDLER = "function.handler";

interface Variant {
  contender: Contender;
  cache: string;
  taskRoot: string;
  /** A TMPDIR kept from start to start, or undefined for a fresh one each time. */
  keptTmp?: string;
  next: number[];
  response: number[];
}

const s3Bundles = new Map<boolean, Promise<string>>();

/** bench/s3_function.ts bundled, plain or minified: once per run, for both experiments. */
export function s3Bundle(minify: boolean): Promise<string> {
  if (!s3Bundles.has(minify)) {
    s3Bundles.set(
      minify,
      (async () => {
        const built = `${CACHE}/bench/${minify ? "s3-minified" : "s3"}-build`;
        await Deno.mkdir(built, { recursive: true });
        return (await bundleFunction(`${ROOT}/bench/s3_function.ts`, built, { minify })).bundle;
      })(),
    );
  }
  return s3Bundles.get(minify)!;
}

/** A task root of its own holding the bundle; code caches are keyed by its path. */
async function taskRootWith(bundle: string, name: string): Promise<string> {
  const dir = `${CACHE}/bench/${name}`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  await Deno.copyFile(bundle, `${dir}/function.bundle.js`);
  return dir;
}

async function start(api: BenchApi, v: Variant, tmpDir: string) {
  return await coldStart(api, v.contender, { taskRoot: v.taskRoot, tmpDir, handler: HANDLER });
}

/** Runs the experiment for runtime1 and the in-process baseline. */
export async function runCacheExperiment(
  api: BenchApi,
  options: { runtime1Layer: string; runs: number },
): Promise<CacheResult[]> {
  const layer = options.runtime1Layer;
  // The same layer without its prepared deno-dir/.
  const bare = `${layer}-without-deno-dir`;
  await Deno.remove(bare, { recursive: true }).catch(() => {});
  await Deno.mkdir(bare);
  for (const name of ["bin", "bootstrap", "runtime.js", "function.bundle.js"]) {
    await Deno.symlink(`${layer}/${name}`, `${bare}/${name}`);
  }
  const runtime1 = layerContender("runtime1", layer);
  const runtime1Bare = layerContender("runtime1", bare);
  const baseline = baselineContender(layer);

  const results: CacheResult[] = [];
  for (const minify of [false, true]) {
    const name = minify ? "s3-minified" : "s3";
    const bundle = await s3Bundle(minify);
    const bundleBytes = (await Deno.stat(bundle)).size;

    const variants: Variant[] = [];
    const add = async (contender: Contender, cache: string, keep = false) => {
      const taskRoot = await taskRootWith(bundle, `${name}-${variants.length}`);
      const keptTmp = keep ? await Deno.makeTempDir({ prefix: "bench-tmp-" }) : undefined;
      const v = { contender, cache, taskRoot, keptTmp, next: [], response: [] };
      variants.push(v);
      return v;
    };
    await add(runtime1Bare, "empty");
    await add(runtime1, "the layer's deno-dir/");
    const asBuilt = await add(runtime1, "the layer's and the function's deno-dir/, as built");
    const files = await prepareDenoDir(`${layer}/bin/deno`, [
      { path: bundle, runsAt: `${asBuilt.taskRoot}/function.bundle.js` },
    ]);
    const prepared = `${asBuilt.taskRoot}/deno-dir/${HOST_ARCH}`;
    await Deno.mkdir(prepared, { recursive: true });
    for (const f of files) await Deno.writeFile(`${prepared}/${f.name}`, f.data);
    asBuilt.cache += ` (${(files.reduce((n, f) => n + f.data.length, 0) / 1e6).toFixed(2)} MB)`;
    const oneStart = await add(runtime1, "the function's deno-dir/ made by one start");
    const tmp = await Deno.makeTempDir({ prefix: "bench-tmp-" });
    await start(api, oneStart, tmp);
    await Deno.mkdir(`${oneStart.taskRoot}/deno-dir`);
    await Deno.rename(`${tmp}/deno-dir`, `${oneStart.taskRoot}/deno-dir/${HOST_ARCH}`);
    await Deno.remove(tmp, { recursive: true });
    await add(runtime1, "kept in TMPDIR from the previous start", true);
    await add(baseline, "empty");
    await add(baseline, "kept in TMPDIR from the previous start", true);
    for (const v of variants) if (v.keptTmp) await start(api, v, v.keptTmp);

    console.error(`  ${name}: ${variants.length} variants, ${options.runs} starts each...`);
    for (let i = 0; i < options.runs; i++) {
      for (const v of rotated(variants, i)) {
        const tmpDir = v.keptTmp ?? await Deno.makeTempDir({ prefix: "bench-tmp-" });
        try {
          const t = await start(api, v, tmpDir);
          v.next.push(t.next);
          v.response.push(t.response);
        } finally {
          if (!v.keptTmp) await Deno.remove(tmpDir, { recursive: true });
        }
      }
    }
    for (const v of variants) {
      results.push({
        bundle: name,
        bundleBytes,
        contender: v.contender.name,
        cache: v.cache,
        next: summarize(v.next),
        response: summarize(v.response),
      });
      if (v.keptTmp) await Deno.remove(v.keptTmp, { recursive: true });
      await Deno.remove(v.taskRoot, { recursive: true });
    }
  }
  await Deno.remove(bare, { recursive: true });
  return results;
}
