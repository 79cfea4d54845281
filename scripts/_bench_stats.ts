// Statistics for deno task bench: medians and tail percentiles of samples.

/** A sample set reduced to what the bench reports, in the samples' unit. */
export interface Summary {
  n: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
}

/**
 * The p-th percentile (0 to 100) of samples, by linear interpolation between
 * the closest ranks (numpy's default), so p50 of an even count is the mean of
 * the middle two.
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** Median, p99, min and max of samples. */
export function summarize(samples: readonly number[]): Summary {
  return {
    n: samples.length,
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    min: samples.length ? Math.min(...samples) : NaN,
    max: samples.length ? Math.max(...samples) : NaN,
  };
}

/** value / base, or NaN when either is missing. */
export function ratio(value: number | undefined, base: number | undefined): number {
  if (value === undefined || base === undefined || !(base > 0)) return NaN;
  return value / base;
}
