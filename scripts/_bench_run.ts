// Running contenders for deno task bench: the events, cold starts, warm
// latencies and memory, and killing whatever was started.
import { BenchApi, type RuntimeApi, type Timing } from "./_bench_api.ts";
import type { Contender, StartOptions } from "./_bench_contenders.ts";
import { processTree, sampleTreeRss, statusKiB } from "./_bench_procs.ts";
import type { ContenderResult } from "./_bench_report.ts";
import { summarize } from "./_bench_stats.ts";
import { ROOT } from "./_paths.ts";

/** About 100 bytes of event: an API call's worth. */
export const SMALL_EVENT = new TextEncoder().encode(JSON.stringify({
  routeKey: "GET /hello",
  rawPath: "/hello",
  queryStringParameters: { name: "bench" },
  isBase64Encoded: false,
}));

/** About 1 MB of event: a batch of 2,500 records. */
export const LARGE_EVENT = new TextEncoder().encode(JSON.stringify({
  Records: Array.from({ length: 2500 }, (_, i) => ({
    messageId: `message-${i}`,
    body: "x".repeat(340),
    attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(1764000000000 + i) },
  })),
}));

/** Where the bench's function lives, as LAMBDA_TASK_ROOT, with _HANDLER handler.handler. */
export async function taskRoot(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "bench-task-" });
  await addBenchHandlers(dir, "handler");
  return dir;
}

/** Copies bench/<module>.js into the task root, as a bundle for Deno and as .mjs for Node's client. */
export async function addBenchHandlers(taskRoot: string, module: string): Promise<void> {
  await Deno.copyFile(`${ROOT}/bench/${module}.js`, `${taskRoot}/${module}.bundle.js`);
  await Deno.copyFile(`${ROOT}/bench/${module}.js`, `${taskRoot}/${module}.mjs`);
}

/**
 * Starts contender with a fresh TMPDIR, runs measure against it (given the
 * process and performance.now() just before it was started), then kills it
 * and all it started. A contender that exits meanwhile fails measure's waits
 * raced against exited, with what (the case) in the message.
 */
export async function withContender<T>(
  api: RuntimeApi,
  contender: Contender,
  start: Omit<StartOptions, "api" | "tmpDir">,
  what: string,
  measure: (exited: Promise<never>, child: { pid: number; startedAt: number }) => Promise<T>,
): Promise<T> {
  const tmpDir = await Deno.makeTempDir({ prefix: "bench-tmp-" });
  await api.reset();
  const startedAt = performance.now();
  const child = contender.start({ ...start, api: api.address, tmpDir });
  const exited = child.status.then((s): never => {
    throw new Error(`${contender.name} exited with code ${s.code} ${what}`);
  });
  try {
    return await measure(exited, { pid: child.pid, startedAt });
  } finally {
    exited.catch(() => {});
    await killTree(child);
    await Deno.remove(tmpDir, { recursive: true });
  }
}

/** SIGKILLs a contender and everything it started, and waits until all of it is gone. */
export async function killTree(child: Deno.ChildProcess): Promise<void> {
  const pids = processTree(child.pid);
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
  }
  await child.status;
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) await sleep(2);
}

function alive(pid: number): boolean {
  try {
    return !/^\S+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The i-th of parts shares of total runs: the shares add up to total exactly. */
export function shareOf(total: number, parts: number, i: number): number {
  return Math.floor(total * (i + 1) / parts) - Math.floor(total * i / parts);
}

/**
 * items starting from the i-th, wrapping around: the order of turn i, so that
 * over the turns none always goes first, or right after another.
 */
export function rotated<T>(items: readonly T[], i: number): T[] {
  return items.map((_, k) => items[(i + k) % items.length]);
}

/** One cold start: process start to first GET /next, and to the first result. */
export async function coldStart(
  api: BenchApi,
  contender: Contender,
  options: { taskRoot: string; tmpDir: string; handler: string },
): Promise<{ next: number; response: number }> {
  api.reset();
  const result = api.invoke(SMALL_EVENT);
  const started = performance.now();
  const child = contender.start({ api: api.address, ...options });
  const exited = child.status.then((s) => {
    throw new Error(`${contender.name} exited with code ${s.code} during its cold start`);
  });
  try {
    const timing = await Promise.race([result, exited]);
    return { next: api.firstNext! - started, response: timing.received - started };
  } finally {
    exited.catch(() => {});
    await killTree(child);
  }
}

/**
 * Cold starts of each contender, each with a fresh TMPDIR (so an empty
 * DENO_DIR, but for what the bootstrap copies into it). Contenders take turns,
 * start by start in a rotating order, so a machine that drifts in speed drifts
 * for all alike and none always starts right after another.
 */
export async function coldStarts(
  api: BenchApi,
  contenders: Contender[],
  root: string,
  runs: number,
): Promise<Map<Contender, ContenderResult["cold"]>> {
  const samples = contenders.map(() => ({ next: [] as number[], response: [] as number[] }));
  for (let i = 0; i < runs; i++) {
    for (const [c, contender] of rotated([...contenders.entries()], i)) {
      const tmpDir = await Deno.makeTempDir({ prefix: "bench-tmp-" });
      try {
        const t = await coldStart(api, contender, {
          taskRoot: root,
          tmpDir,
          handler: "handler.handler",
        });
        samples[c].next.push(t.next);
        samples[c].response.push(t.response);
      } finally {
        await Deno.remove(tmpDir, { recursive: true });
      }
    }
  }
  return new Map(contenders.map((contender, c) => [contender, {
    next: summarize(samples[c].next),
    response: summarize(samples[c].response),
  }]));
}

/**
 * Latencies (handed out to received, ms) of runs invocations, gapMs apart or
 * back to back; each result must be a response, at least as long as the event
 * unless the handler does not echo it.
 */
export async function latencies(
  api: BenchApi,
  event: Uint8Array<ArrayBuffer>,
  runs: number,
  gapMs: number,
  echoes = true,
) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (gapMs > 0) await sleep(gapMs);
    const t: Timing = await api.invoke(event);
    if (t.kind !== "response" || (echoes && t.bytes < event.length)) {
      throw new Error(`Invocation failed: ${t.kind}, ${t.bytes} bytes`);
    }
    samples.push(t.received - t.handedOut);
  }
  return samples;
}

/** How many times each contender is started for its warm latencies. */
export const WARM_ROUNDS = 10;

/**
 * Warm latencies of each contender, then its memory. A contender's runs are
 * split over WARM_ROUNDS rounds, each a fresh start with its own warm-up, and
 * the contenders take turns round by round (in a rotating order), so a machine
 * that drifts in speed over the minutes a run takes drifts for all alike, and
 * no one process's luck (its cores, its memory layout) decides its figure.
 * Each contender runs alone: runtime2's next process starts while its own
 * events run, and must not slow another contender's.
 */
export async function warmRuns(
  api: BenchApi,
  contenders: Contender[],
  root: string,
  settings: { runs: number; gapMs: number },
  progress: (round: number, rounds: number) => void = () => {},
): Promise<Map<Contender, Pick<ContenderResult, "warm" | "rss">>> {
  const { runs, gapMs } = settings;
  const rounds = Math.max(1, Math.min(WARM_ROUNDS, runs));
  const samples = new Map(contenders.map((c) => [c, {
    smallIdle: [] as number[],
    smallBackToBack: [] as number[],
    largeIdle: [] as number[],
    largeBackToBack: [] as number[],
  }]));
  const rss = new Map<Contender, ContenderResult["rss"]>();
  for (let round = 0; round < rounds; round++) {
    const share = shareOf(runs, rounds, round);
    progress(round, rounds);
    for (const contender of rotated(contenders, round)) {
      const s = samples.get(contender)!;
      await withWarmInstance(api, contender, root, async (pid) => {
        s.smallIdle.push(...await latencies(api, SMALL_EVENT, share, gapMs));
        s.smallBackToBack.push(...await latencies(api, SMALL_EVENT, share, 0));
        s.largeIdle.push(...await latencies(api, LARGE_EVENT, share, gapMs));
        s.largeBackToBack.push(...await latencies(api, LARGE_EVENT, share, 0));
        if (round === 0) rss.set(contender, await memory(api, pid, gapMs));
      });
    }
  }
  return new Map(contenders.map((c) => {
    const s = samples.get(c)!;
    return [c, {
      warm: {
        smallIdle: summarize(s.smallIdle),
        smallBackToBack: summarize(s.smallBackToBack),
        largeIdle: summarize(s.largeIdle),
        largeBackToBack: summarize(s.largeBackToBack),
      },
      rss: rss.get(c)!,
    }];
  }));
}

/** Starts one instance of a contender, warms it up, runs use, and kills it. */
async function withWarmInstance(
  api: BenchApi,
  contender: Contender,
  root: string,
  use: (pid: number) => Promise<void>,
): Promise<void> {
  const tmpDir = await Deno.makeTempDir({ prefix: "bench-tmp-" });
  api.reset();
  const child = contender.start({
    api: api.address,
    taskRoot: root,
    tmpDir,
    handler: "handler.handler",
  });
  try {
    await latencies(api, SMALL_EVENT, 200, 0); // warm-up: the JIT, connections
    await latencies(api, LARGE_EVENT, 20, 0);
    await use(child.pid);
  } finally {
    await killTree(child);
    await Deno.remove(tmpDir, { recursive: true });
  }
}

/**
 * Peak RSS while 1.1 MB events run, in a phase of its own so sampling disturbs
 * no latency. Its 300 events make up the long life a round's process lacks:
 * the bootstrap's peak grows over its first few hundred large events.
 */
async function memory(api: BenchApi, pid: number, gapMs: number): Promise<ContenderResult["rss"]> {
  const sampler = sampleTreeRss(pid);
  await latencies(api, LARGE_EVENT, 300, 0);
  await latencies(api, LARGE_EVENT, 5, gapMs);
  const treePeakKiB = sampler.stop();
  return { treePeakKiB, rootHwmKiB: statusKiB(pid, "VmHWM") };
}
