// deno task bench's concurrency cases (Lambda Managed Instances): each
// contender started with AWS_LAMBDA_MAX_CONCURRENCY=C, then C clients invoking
// back to back for a while, with two I/O-bound handlers (a timer, and a call to
// a service on loopback) and a CPU-bound one.
// Throughput, and each invocation's latency from the moment it was queued at
// the Runtime API to its result, so time spent waiting for a free slot counts.
import type { BenchApi } from "./_bench_api.ts";
import type { Contender } from "./_bench_contenders.ts";
import { startGoProgram } from "./_bench_go.ts";
import { rotated, SMALL_EVENT, withContender } from "./_bench_run.ts";
import { percentile } from "./_bench_stats.ts";

/** The concurrencies measured, as the issue names them. */
export const CONCURRENCIES = [8, 32, 64] as const;
/** The handlers of bench/concurrency.js. */
export const KINDS = ["io", "net", "cpu"] as const;
/** How the report names each handler. */
export const KIND_LABELS: Record<(typeof KINDS)[number], string> = {
  io: "I/O (20 ms timer)",
  net: "I/O (20 ms service)",
  cpu: "CPU (about 3 ms)",
};

/** One contender at one concurrency with one handler. */
export interface ConcurrencyResult {
  contender: string;
  kind: (typeof KINDS)[number];
  concurrency: number;
  /** Invocations answered per second, over every round. */
  perSecond: number;
  p50: number;
  p99: number;
  /** Invocations measured, over every round. */
  count: number;
  /** Invocations that failed, which the figures leave out. */
  failed: number;
}

export interface ConcurrencySettings {
  /** How long each round measures, after its warm-up. */
  seconds: number;
  rounds: number;
}

/**
 * Every contender at every concurrency with every handler. Contenders take
 * turns case by case, in a rotating order, over the rounds.
 */
export async function concurrencyRuns(
  api: BenchApi,
  contenders: Contender[],
  taskRoot: string,
  settings: ConcurrencySettings,
  progress: (what: string) => void = () => {},
): Promise<ConcurrencyResult[]> {
  const samples = new Map<string, { latencies: number[]; seconds: number; failed: number }>();
  const key = (c: string, kind: string, n: number) => `${c} ${kind} ${n}`;
  await using service = await slowService();
  const events = {
    io: SMALL_EVENT,
    cpu: SMALL_EVENT,
    net: new TextEncoder().encode(JSON.stringify({ url: service.url })),
  };
  for (let round = 0; round < settings.rounds; round++) {
    for (const kind of KINDS) {
      for (const n of CONCURRENCIES) {
        progress(`round ${round + 1} of ${settings.rounds}: ${kind} at ${n}`);
        for (const contender of rotated(contenders, round)) {
          const got = await oneCase(
            api,
            contender,
            taskRoot,
            kind,
            events[kind],
            n,
            settings.seconds,
          );
          const s = samples.get(key(contender.name, kind, n)) ??
            { latencies: [], seconds: 0, failed: 0 };
          s.latencies.push(...got.latencies);
          s.seconds += got.seconds;
          s.failed += got.failed;
          samples.set(key(contender.name, kind, n), s);
        }
      }
    }
  }
  const results: ConcurrencyResult[] = [];
  for (const kind of KINDS) {
    for (const n of CONCURRENCIES) {
      for (const contender of contenders) {
        const s = samples.get(key(contender.name, kind, n))!;
        results.push({
          contender: contender.name,
          kind,
          concurrency: n,
          perSecond: s.latencies.length / s.seconds,
          p50: percentile(s.latencies, 50),
          p99: percentile(s.latencies, 99),
          count: s.latencies.length,
          failed: s.failed,
        });
      }
    }
  }
  return results;
}

/** One start of a contender: a warm-up second, then seconds of n clients. */
async function oneCase(
  api: BenchApi,
  contender: Contender,
  taskRoot: string,
  kind: string,
  event: Uint8Array<ArrayBuffer>,
  n: number,
  seconds: number,
): Promise<{ latencies: number[]; seconds: number; failed: number }> {
  const start = {
    taskRoot,
    handler: `concurrency.${kind}`,
    env: { AWS_LAMBDA_MAX_CONCURRENCY: String(n), AWS_LAMBDA_LOG_FORMAT: "JSON" },
  };
  return await withContender(api, contender, start, `at concurrency ${n}`, async (exited) => {
    await Promise.race([clients(api, event, n, 1), exited]);
    return await Promise.race([clients(api, event, n, seconds), exited]);
  });
}

/**
 * n clients, each invoking again as soon as its last result is in, until
 * seconds have passed; the latency of each invocation, queued to answered.
 */
async function clients(api: BenchApi, event: Uint8Array<ArrayBuffer>, n: number, seconds: number) {
  const latencies: number[] = [];
  let failed = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(Array.from({ length: n }, async () => {
    while (performance.now() < end) {
      const queued = performance.now();
      const t = await api.invoke(event);
      if (t.kind === "response") latencies.push(t.received - queued);
      else failed++;
    }
  }));
  return { latencies, seconds: (performance.now() - start) / 1000, failed };
}

/**
 * bench/slow_service.go, started with go run: the service the net handler
 * calls, which answers after 20 ms. Disposing of it closes its stdin, on which
 * it exits.
 */
async function slowService(): Promise<{ url: string } & AsyncDisposable> {
  const { child, address, lines } = await startGoProgram("slow_service");
  await lines.cancel();
  return {
    url: `http://${address}/`,
    async [Symbol.asyncDispose]() {
      await child.stdin.close();
      await child.status;
    },
  };
}
