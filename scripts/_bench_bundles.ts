// deno task bench's real bundles: cold starts, memory after init and warm
// latency of what users deploy (a Hono app, Powertools' logger and metrics,
// the AWS SDK's S3 and STS clients, and the echo handler for reference), each
// built by deno task build:function, for runtime1, runtime2 and AWS's Node.js
// client side by side. Every contender runs where Lambda puts things (the
// layers at /opt, the function at /var/task, bound in a mount namespace of its
// own), because the prepared code caches are keyed by those paths; Node's
// client runs the same bundle as function.mjs, as AWS runs a Node.js function.
import type { BenchApi } from "./_bench_api.ts";
import type { Contender } from "./_bench_contenders.ts";
import { treeRssKiB } from "./_bench_procs.ts";
import { latencies, rotated, shareOf, SMALL_EVENT, withContender } from "./_bench_run.ts";
import { summarize, type Summary } from "./_bench_stats.ts";
import { runBuild } from "./_build.ts";
import { CACHE, HOST_ARCH, ROOT } from "./_paths.ts";
import { unzipTo } from "./zip.ts";

/** The bundles, by name: bench/<name>_function.ts, or bench/handler.js for echo. */
export const BUNDLES = ["echo", "hono", "powertools", "sdk"] as const;
export type BundleName = typeof BUNDLES[number];

const ENTRIES: Record<BundleName, string> = {
  echo: "bench/handler.js",
  hono: "bench/hono_function.ts",
  powertools: "bench/powertools_function.ts",
  sdk: "bench/sdk_function.ts",
};

/** What was measured of one contender with one bundle. */
export interface BundleResult {
  bundle: BundleName;
  bundleBytes: number;
  contender: string;
  /** Process start to first GET /next, and to the first result, in ms. */
  next: Summary;
  response: Summary;
  /** Every start's time to the first result, in ms, in the order taken (for the chart). */
  responseSamples: number[];
  /** The whole process tree's VmRSS right after the first result, in KiB. */
  rssKiB: Summary;
  /** Later events, handed out to result received, in ms: with gapMs before each, and back to back. */
  warmIdle: Summary;
  warmBackToBack: Summary;
}

/** Builds each bundle with the project's function build and unpacks it as a task root. */
async function buildBundles(): Promise<Map<BundleName, { dir: string; bytes: number }>> {
  const built = new Map<BundleName, { dir: string; bytes: number }>();
  for (const name of BUNDLES) {
    const out = `${CACHE}/bench/bundles/${name}`;
    await Deno.remove(out, { recursive: true }).catch(() => {});
    await runBuild([
      "--function-only",
      "--entry",
      `${ROOT}/${ENTRIES[name]}`,
      "--handler",
      "function.handler",
      "--arch",
      HOST_ARCH,
      "--out-dir",
      out,
    ]);
    const dir = `${out}/task`;
    await unzipTo(`${out}/function.zip`, dir);
    const bundle = `${dir}/function.bundle.js`;
    // Node's client imports function.mjs for the handler function.handler.
    await Deno.copyFile(bundle, `${dir}/function.mjs`);
    built.set(name, { dir, bytes: (await Deno.stat(bundle)).size });
  }
  return built;
}

/**
 * Runs the experiment: for each bundle, coldRuns starts of each contender,
 * taking turns start by start in a rotating order; each start measures its
 * cold start and memory, then warmRuns events with gapMs before each and
 * warmRuns back to back.
 */
export async function runBundlesExperiment(
  api: BenchApi,
  contenders: Contender[],
  options: { coldRuns: number; warmRuns: number; gapMs: number },
  progress: (what: string) => void,
): Promise<BundleResult[]> {
  progress("building the bundles with deno task build:function");
  const bundles = await buildBundles();
  const results: BundleResult[] = [];
  for (const [bundle, { dir, bytes }] of bundles) {
    progress(`${bundle} (${(bytes / 1e6).toFixed(2)} MB)`);
    const samples = contenders.map(() => ({
      next: [] as number[],
      response: [] as number[],
      rss: [] as number[],
      idle: [] as number[],
      backToBack: [] as number[],
    }));
    const start = { taskRoot: dir, handler: "function.handler", lambdaPaths: true };
    for (let i = 0; i < options.coldRuns; i++) {
      const warm = shareOf(options.warmRuns, options.coldRuns, i);
      for (const [c, contender] of rotated([...contenders.entries()], i)) {
        const s = samples[c];
        await withContender(api, contender, start, `running ${bundle}`, async (exited, child) => {
          const first = await Promise.race([api.invoke(SMALL_EVENT), exited]);
          if (first.kind !== "response") throw new Error(`${contender.name}: ${bundle} failed`);
          s.next.push(api.firstNext! - child.startedAt);
          s.response.push(first.received - child.startedAt);
          s.rss.push(treeRssKiB(child.pid));
          s.idle.push(...await latencies(api, SMALL_EVENT, warm, options.gapMs, false));
          s.backToBack.push(...await latencies(api, SMALL_EVENT, warm, 0, false));
        });
      }
    }
    contenders.forEach((contender, c) => {
      const s = samples[c];
      results.push({
        bundle,
        bundleBytes: bytes,
        contender: contender.name,
        next: summarize(s.next),
        response: summarize(s.response),
        responseSamples: s.response.map((v) => Number(v.toFixed(2))),
        rssKiB: summarize(s.rss),
        warmIdle: summarize(s.idle),
        warmBackToBack: summarize(s.backToBack),
      });
    });
  }
  return results;
}
