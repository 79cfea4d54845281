import assert from "node:assert/strict";
import { percentile, ratio, summarize } from "./_bench_stats.ts";

Deno.test("percentile interpolates between the closest ranks", () => {
  assert.deepStrictEqual(percentile([3, 1, 2], 50), 2);
  assert.deepStrictEqual(percentile([4, 1, 3, 2], 50), 2.5);
  assert.deepStrictEqual(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90), 10);
  assert.deepStrictEqual(percentile([5], 99), 5);
  assert.deepStrictEqual(percentile([], 50), NaN);
});

Deno.test("percentile 99 of 101 samples is the second largest", () => {
  const samples = Array.from({ length: 101 }, (_, i) => 100 - i);
  assert.deepStrictEqual(percentile(samples, 99), 99);
});

Deno.test("summarize reports count, median, p99, min and max without reordering its input", () => {
  const samples = [9, 1, 5];
  assert.deepStrictEqual(summarize(samples), { n: 3, p50: 5, p99: 8.92, min: 1, max: 9 });
  assert.deepStrictEqual(samples, [9, 1, 5]);
});

Deno.test("ratio is NaN without a positive base", () => {
  assert.deepStrictEqual(ratio(3, 2), 1.5);
  assert.deepStrictEqual(ratio(3, 0), NaN);
  assert.deepStrictEqual(ratio(undefined, 2), NaN);
});
