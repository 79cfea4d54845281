import assert from "node:assert/strict";
import { resultsChart } from "./_bench_chart.ts";
import type { Results } from "./_bench_report.ts";
import { summarize } from "./_bench_stats.ts";

const warm = (v: number) => ({
  smallIdle: summarize([v]),
  smallBackToBack: summarize([v / 2]),
  largeIdle: summarize([v * 10]),
  largeBackToBack: summarize([v * 9]),
});

const results = {
  date: "2026-12-02T00:00:00.000Z",
  machine: {
    cpu: "A <CPU>",
    cores: 2,
    memoryGiB: 24,
    kernel: "",
    deno: "2.9.6",
    node: "v20",
    go: "",
  },
  settings: { runs: 1, coldRuns: 3, gapMs: 100, smallEventBytes: 109, largeEventBytes: 1_100_000 },
  contenders: {
    runtime1: {
      description: "",
      cold: { next: summarize([20]), response: summarize([25]) },
      warm: warm(1),
      rss: { treePeakKiB: 0, rootHwmKiB: 0 },
    },
    "node-ric": {
      description: "",
      cold: { next: summarize([30]), response: summarize([35]) },
      warm: warm(2),
      rss: { treePeakKiB: 0, rootHwmKiB: 0 },
    },
  },
  unavailable: {},
  coldCache: [],
  artifacts: {},
  bundles: ["runtime1", "node-ric"].map((contender) => ({
    bundle: "hono" as const,
    bundleBytes: 70_000,
    contender,
    next: summarize([40, 50, 60]),
    response: summarize([45, 55, 65]),
    responseSamples: [45, 55, 65],
    rssKiB: summarize([40_000]),
    warmIdle: summarize([1]),
    warmBackToBack: summarize([1]),
  })),
} satisfies Results;

Deno.test("the chart draws a dot per cold start, a median per row, and escapes text", () => {
  const svg = resultsChart(results);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal(svg.match(/<circle /g)?.length, 6, "3 starts of 2 contenders");
  // A median mark per row: 2 bundle rows, 2 cold, 4 small warm, 4 large warm.
  assert.equal(svg.match(/<title>/g)?.length, 12);
  assert.match(svg, /hono · node-ric: p50 55\.00 ms/);
  assert.match(svg, /A &lt;CPU&gt;/);
  assert.doesNotMatch(svg, /NaN|undefined|Infinity/);
});

Deno.test("a contender's marks sit further right the slower it is", () => {
  const svg = resultsChart(results);
  const median = (label: string) =>
    Number(svg.match(new RegExp(`<line x1="([\\d.]+)"[^>]*><title>${label}: p50`))![1]);
  assert.ok(median("runtime1") < median("node-ric"));
  assert.ok(median("109 B, back to back · runtime1") < median("109 B, 100 ms gap · runtime1"));
});
