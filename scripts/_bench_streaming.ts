// deno task bench's streaming cases: a handler that streams 10 chunks of 100 KB
// 10 ms apart (ticks), and one that streams 50 MB as fast as it is taken
// (bulk), on each contender, warm. Time to first byte is from the event's
// hand-out to the first byte of its response at the Runtime API; throughput is
// the bulk response's bytes over the time from hand-out to its last byte.
// Both are timed by bench/stream_api.go, a Runtime API in Go (StreamApi).
import type { RuntimeApi } from "./_bench_api.ts";
import { StreamApi } from "./_bench_stream_api.ts";
import type { Contender } from "./_bench_contenders.ts";
import { rotated, SMALL_EVENT, withContender } from "./_bench_run.ts";
import { percentile } from "./_bench_stats.ts";

/** One contender's streaming figures. */
export interface StreamingResult {
  contender: string;
  /** ticks: time to first byte, p50 and p99, ms. */
  ticksTtfbP50: number;
  ticksTtfbP99: number;
  /** ticks: hand-out to the last byte, p50, ms (at least the 90 ms of gaps). */
  ticksTotalP50: number;
  /** bulk: time to first byte, p50, ms. */
  bulkTtfbP50: number;
  /** bulk: MB (10^6 bytes) per second, p50 over the invocations. */
  bulkMBps: number;
  /** Invocations measured; failed ones are left out and counted. */
  count: number;
  failed: number;
}

export interface StreamingSettings {
  rounds: number;
  /** ticks invocations per round and contender; bulk gets a fifth as many. */
  invocations: number;
}

interface Samples {
  ticksTtfb: number[];
  ticksTotal: number[];
  bulkTtfb: number[];
  bulkMBps: number[];
  failed: number;
}

/** Every contender, both handlers, contenders taking turns in a rotating order. */
export async function streamingRuns(
  contenders: Contender[],
  taskRoot: string,
  settings: StreamingSettings,
  progress: (what: string) => void = () => {},
): Promise<StreamingResult[]> {
  await using api = await StreamApi.start();
  const samples = new Map<string, Samples>(
    contenders.map((
      c,
    ) => [c.name, { ticksTtfb: [], ticksTotal: [], bulkTtfb: [], bulkMBps: [], failed: 0 }]),
  );
  for (let round = 0; round < settings.rounds; round++) {
    progress(`round ${round + 1} of ${settings.rounds}`);
    for (const contender of rotated(contenders, round)) {
      const s = samples.get(contender.name)!;
      for (const t of await oneCase(api, contender, taskRoot, "ticks", settings.invocations)) {
        if (t === null) s.failed++;
        else {
          s.ticksTtfb.push(t.firstByte - t.handedOut);
          s.ticksTotal.push(t.received - t.handedOut);
        }
      }
      const bulks = Math.max(1, Math.round(settings.invocations / 5));
      for (const t of await oneCase(api, contender, taskRoot, "bulk", bulks)) {
        if (t === null) s.failed++;
        else {
          s.bulkTtfb.push(t.firstByte - t.handedOut);
          s.bulkMBps.push(t.bytes / 1e6 / ((t.received - t.handedOut) / 1000));
        }
      }
    }
  }
  return contenders.map((c) => {
    const s = samples.get(c.name)!;
    return {
      contender: c.name,
      ticksTtfbP50: percentile(s.ticksTtfb, 50),
      ticksTtfbP99: percentile(s.ticksTtfb, 99),
      ticksTotalP50: percentile(s.ticksTotal, 50),
      bulkTtfbP50: percentile(s.bulkTtfb, 50),
      bulkMBps: percentile(s.bulkMBps, 50),
      count: s.ticksTtfb.length + s.bulkMBps.length,
      failed: s.failed,
    };
  });
}

/** What each handler streams (bench/streaming.js): a result of another size failed. */
const STREAMED_BYTES = { ticks: 10 * 100_000, bulk: 50_000_000 };

/** One start of a contender: a warm-up invocation, then n measured back to back. */
async function oneCase(
  api: RuntimeApi,
  contender: Contender,
  taskRoot: string,
  handler: "ticks" | "bulk",
  n: number,
) {
  const start = { taskRoot, handler: `streaming.${handler}` };
  return await withContender(api, contender, start, `streaming ${handler}`, async (exited) => {
    await Promise.race([api.invoke(SMALL_EVENT), exited]);
    const timings = [];
    for (let i = 0; i < n; i++) {
      const t = await Promise.race([api.invoke(SMALL_EVENT), exited]);
      const whole = t.kind === "response" && t.bytes === STREAMED_BYTES[handler];
      timings.push(whole && t.firstByte < t.received ? t : null);
    }
    return timings;
  });
}
