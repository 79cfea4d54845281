// Running contenders for deno task bench: the events, cold starts, warm
// latencies and memory, and killing whatever was started.
import { BenchApi, type Timing } from "./_bench_api.ts";
import type { Contender } from "./_bench_contenders.ts";
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
  await Deno.copyFile(`${ROOT}/bench/handler.js`, `${dir}/handler.bundle.js`);
  await Deno.copyFile(`${ROOT}/bench/handler.js`, `${dir}/handler.mjs`);
  return dir;
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
 * start by start, so a machine that drifts in speed drifts for all alike.
 */
export async function coldStarts(
  api: BenchApi,
  contenders: Contender[],
  root: string,
  runs: number,
): Promise<Map<Contender, ContenderResult["cold"]>> {
  const samples = contenders.map(() => ({ next: [] as number[], response: [] as number[] }));
  for (let i = 0; i < runs; i++) {
    for (const [c, contender] of contenders.entries()) {
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

/** Latencies (handed out to received, ms) of runs invocations, gapMs apart or back to back. */
export async function latencies(
  api: BenchApi,
  event: Uint8Array<ArrayBuffer>,
  runs: number,
  gapMs: number,
) {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (gapMs > 0) await sleep(gapMs);
    const t: Timing = await api.invoke(event);
    if (t.kind !== "response" || t.bytes < event.length) {
      throw new Error(`Invocation failed: ${t.kind}, ${t.bytes} bytes`);
    }
    samples.push(t.received - t.handedOut);
  }
  return summarize(samples);
}

/** One long-lived instance of a contender: warm latencies, then memory. */
export async function warmRun(
  api: BenchApi,
  contender: Contender,
  root: string,
  settings: { runs: number; gapMs: number },
): Promise<Pick<ContenderResult, "warm" | "rss">> {
  const tmpDir = await Deno.makeTempDir({ prefix: "bench-tmp-" });
  api.reset();
  const child = contender.start({
    api: api.address,
    taskRoot: root,
    tmpDir,
    handler: "handler.handler",
  });
  try {
    const { runs, gapMs } = settings;
    await latencies(api, SMALL_EVENT, 20, 0); // warm-up: JIT, connections
    await latencies(api, LARGE_EVENT, 10, 0);
    const warm = {
      smallIdle: await latencies(api, SMALL_EVENT, runs, gapMs),
      smallBackToBack: await latencies(api, SMALL_EVENT, runs, 0),
      largeIdle: await latencies(api, LARGE_EVENT, runs, gapMs),
      largeBackToBack: await latencies(api, LARGE_EVENT, runs, 0),
    };
    // Memory in a phase of its own, so sampling does not disturb the latencies.
    const sampler = sampleTreeRss(child.pid);
    await latencies(api, LARGE_EVENT, 20, 0);
    await latencies(api, LARGE_EVENT, 5, gapMs);
    const treePeakKiB = sampler.stop();
    return { warm, rss: { treePeakKiB, rootHwmKiB: statusKiB(child.pid, "VmHWM") } };
  } finally {
    await killTree(child);
    await Deno.remove(tmpDir, { recursive: true });
  }
}
