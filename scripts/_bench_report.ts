// deno task bench's results: their JSON shape, the artifact sizes, and the
// Markdown tables printed (and pasted into the README).
import { DIST, HOST_ARCH, RUNTIMES } from "./_paths.ts";
import { ratio, type Summary } from "./_bench_stats.ts";
import { type ConcurrencyResult, KIND_LABELS } from "./_bench_concurrency.ts";
import type { StreamingResult } from "./_bench_streaming.ts";
import type { BundleResult } from "./_bench_bundles.ts";

/** Warm latencies of one contender, event handed out to result received, in ms. */
export interface WarmResult {
  smallIdle: Summary;
  smallBackToBack: Summary;
  largeIdle: Summary;
  largeBackToBack: Summary;
}

/** Everything measured of one contender. */
export interface ContenderResult {
  description: string;
  /** Process start to first GET /next, and to the first result, in ms, with an empty DENO_DIR. */
  cold: { next: Summary; response: Summary };
  warm: WarmResult;
  /**
   * treePeakKiB: the highest sum of VmRSS over the process tree, sampled every
   * 5 ms while 1 MB events run; rootHwmKiB: VmHWM of the process started (the
   * bootstrap for runtime1 and runtime2).
   */
  rss: { treePeakKiB: number; rootHwmKiB: number };
}

/** One row of the DENO_DIR experiment on a large bundle. */
export interface CacheResult {
  bundle: string;
  bundleBytes: number;
  contender: string;
  cache: string;
  next: Summary;
  response: Summary;
}

/** runtime1's cold starts of one bundle under one DENO_V8_FLAGS value ("" for none). */
export interface V8FlagsResult {
  bundle: string;
  flags: string;
  next: Summary;
  response: Summary;
  /** Warm 1.1 MB events back to back (the echo handler only). */
  warmLarge?: Summary;
}

/** The JSON file deno task bench writes. */
export interface Results {
  date: string;
  machine: {
    cpu: string;
    cores: number;
    memoryGiB: number;
    kernel: string;
    deno: string;
    node: string;
    go: string;
  };
  settings: {
    runs: number;
    coldRuns: number;
    gapMs: number;
    smallEventBytes: number;
    largeEventBytes: number;
  };
  contenders: Record<string, ContenderResult>;
  /** Contenders that could not run here, and why. */
  unavailable: Record<string, string>;
  coldCache: CacheResult[];
  /** Absent from runs made before the experiment existed. */
  v8Flags?: V8FlagsResult[];
  /** Lambda Managed Instances; absent from runs made before it was measured. */
  concurrency?: ConcurrencyResult[];
  concurrencySeconds?: number;
  streaming?: StreamingResult[];
  /** Real bundles at /opt and /var/task; absent from runs made before they were measured. */
  bundles?: BundleResult[];
  /** Sizes in bytes of the host architecture's zips and binaries. */
  artifacts: Record<string, number>;
}

/** The sizes of what the build wrote for this machine's architecture. */
export async function artifactSizes(): Promise<Record<string, number>> {
  const files: Record<string, string> = {
    [`deno-layer-${HOST_ARCH}.zip`]: `deno-layer-${HOST_ARCH}.zip`,
  };
  for (const runtime of RUNTIMES) {
    files[`${runtime}-${HOST_ARCH}.zip`] = `${runtime}-${HOST_ARCH}.zip`;
    files[`${runtime} bootstrap`] = `build/${HOST_ARCH}/${runtime}/bootstrap`;
    files[`${runtime} runtime.js`] = `build/${runtime}/runtime.js`;
  }
  files["function.zip"] = "function.zip";
  const sizes: Record<string, number> = {};
  for (const [name, path] of Object.entries(files)) {
    sizes[name] = (await Deno.stat(`${DIST}/${path}`)).size;
  }
  return sizes;
}

const ms = (v: number) => (v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0));
const times = (r: number) => (Number.isNaN(r) ? "" : ` ×${r.toFixed(2)}`);
const mib = (kib: number) => (kib / 1024).toFixed(1);

/** "p50 / p99 ×ratio", the ratio of the p50s against base. */
function cell(s: Summary | undefined, base: Summary | undefined): string {
  if (!s) return "n/a";
  return `${ms(s.p50)} / ${ms(s.p99)}${times(ratio(s.p50, base?.p50))}`;
}

function table(header: string[], rows: string[][]): string {
  const lines = [header, header.map(() => "---"), ...rows];
  return lines.map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** The results as Markdown tables, with the method in a few words. */
export function resultsMarkdown(r: Results): string {
  const base = r.contenders.baseline;
  const names = Object.keys(r.contenders);
  const s = r.settings;
  const out: string[] = [];
  out.push(
    `${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB; ` +
      `Deno ${r.machine.deno}, Node.js ${r.machine.node}; ${r.date.slice(0, 10)}. ` +
      `Times in ms as p50 / p99, ×: p50 against the baseline's.`,
  );
  out.push(
    `\nCold start (${s.coldRuns} runs, empty DENO_DIR, the ${s.smallEventBytes} B event queued):\n`,
  );
  out.push(table(
    ["contender", "start → first GET /next", "start → first result"],
    names.map((n) => [
      n,
      cell(r.contenders[n].cold.next, base?.cold.next),
      cell(r.contenders[n].cold.response, base?.cold.response),
    ]),
  ));
  const gap = `${s.gapMs} ms gap`;
  const small = `${s.smallEventBytes} B`;
  const large = `${(s.largeEventBytes / 1e6).toFixed(1)} MB`;
  out.push(
    `\nWarm latency, event handed out → result received (${s.runs} runs each, echo handler):\n`,
  );
  out.push(table(
    [
      "contender",
      `${small}, ${gap}`,
      `${small}, back to back`,
      `${large}, ${gap}`,
      `${large}, back to back`,
    ],
    names.map((n) => {
      const w = r.contenders[n].warm;
      return [
        n,
        cell(w.smallIdle, base?.warm.smallIdle),
        cell(w.smallBackToBack, base?.warm.smallBackToBack),
        cell(w.largeIdle, base?.warm.largeIdle),
        cell(w.largeBackToBack, base?.warm.largeBackToBack),
      ];
    }),
  ));
  out.push(`\nMemory (MiB) while ${large} events run:\n`);
  out.push(table(
    ["contender", "peak RSS, whole process tree", "peak RSS, first process"],
    names.map((n) => {
      const m = r.contenders[n].rss;
      const first = n.startsWith("runtime")
        ? `${mib(m.rootHwmKiB)} (bootstrap)`
        : mib(m.rootHwmKiB);
      return [n, mib(m.treePeakKiB), first];
    }),
  ));
  for (const [name, reason] of Object.entries(r.unavailable)) {
    out.push(`\n${name} did not run: ${reason}`);
  }
  if (r.bundles?.length) out.push(bundlesMarkdown(r.bundles, r.settings.gapMs));
  if (r.coldCache.length > 0) {
    const c0 = r.coldCache[0];
    out.push(
      `\nCold start of a large bundle (${c0.bundle}), by DENO_DIR (${c0.next.n} runs each):\n`,
    );
    out.push(table(
      [
        "bundle",
        "contender",
        "DENO_DIR at start",
        "start → first GET /next",
        "start → first result",
      ],
      r.coldCache.map((c) => [
        `${c.bundle} (${(c.bundleBytes / 1e6).toFixed(2)} MB)`,
        c.contender,
        c.cache,
        cell(c.next, undefined),
        cell(c.response, undefined),
      ]),
    ));
  }
  if (r.v8Flags?.length) {
    const f0 = r.v8Flags[0];
    out.push(
      `\nCold start of runtime1 by DENO_V8_FLAGS (${f0.next.n} runs each, DENO_DIR kept from the` +
        ` previous start under the same flags), × against no flags:\n`,
    );
    out.push(table(
      [
        "bundle",
        "DENO_V8_FLAGS",
        "start → first GET /next",
        "start → first result",
        "warm 1.1 MB, back to back",
      ],
      r.v8Flags.map((f) => {
        const none = r.v8Flags!.find((g) => g.bundle === f.bundle && g.flags === "");
        return [
          f.bundle,
          f.flags ? `\`${f.flags}\`` : "(none)",
          cell(f.next, none?.next),
          cell(f.response, none?.response),
          f.warmLarge ? cell(f.warmLarge, none?.warmLarge) : "",
        ];
      }),
    ));
  }
  if (r.concurrency?.length) {
    out.push(
      `\nConcurrency (AWS_LAMBDA_MAX_CONCURRENCY = C, C clients back to back for ` +
        `${r.concurrencySeconds} s a round): invocations per second, and latency queued → ` +
        `answered as p50 / p99, × against node-ric's throughput:\n`,
    );
    const cases = [...new Set(r.concurrency.map((c) => `${c.kind} ${c.concurrency}`))];
    const contenders = [...new Set(r.concurrency.map((c) => c.contender))];
    out.push(table(
      ["handler", "C", ...contenders],
      cases.map((k) => {
        const [kind, n] = k.split(" ");
        const row = r.concurrency!.filter((c) => c.kind === kind && String(c.concurrency) === n);
        const node = row.find((c) => c.contender === "node-ric");
        return [
          KIND_LABELS[kind as keyof typeof KIND_LABELS] ?? kind,
          n,
          ...contenders.map((name) => {
            const c = row.find((x) => x.contender === name);
            if (!c) return "n/a";
            const failed = c.failed ? `, ${c.failed} failed` : "";
            return `${c.perSecond.toFixed(0)}/s${times(ratio(c.perSecond, node?.perSecond))}, ` +
              `${ms(c.p50)} / ${ms(c.p99)}${failed}`;
          }),
        ];
      }),
    ));
  }
  if (r.streaming?.length) {
    const node = r.streaming.find((s) => s.contender === "node-ric");
    out.push(
      `\nStreamed responses, warm (ticks: 10 chunks of 100 KB, 10 ms apart; bulk: 50 MB as fast ` +
        `as taken): time to first byte from the event's hand-out, p50 / p99 ms; × against node-ric:\n`,
    );
    out.push(table(
      [
        "contender",
        "ticks: first byte",
        "ticks: last byte p50",
        "bulk: first byte p50",
        "bulk: MB/s p50",
      ],
      r.streaming.map((s) => [
        s.contender + (s.failed ? ` (${s.failed} failed)` : ""),
        `${ms(s.ticksTtfbP50)} / ${ms(s.ticksTtfbP99)}${
          times(ratio(s.ticksTtfbP50, node?.ticksTtfbP50))
        }`,
        `${ms(s.ticksTotalP50)}${times(ratio(s.ticksTotalP50, node?.ticksTotalP50))}`,
        `${ms(s.bulkTtfbP50)}${times(ratio(s.bulkTtfbP50, node?.bulkTtfbP50))}`,
        `${s.bulkMBps.toFixed(0)}${times(ratio(s.bulkMBps, node?.bulkMBps))}`,
      ]),
    ));
  }
  out.push(`\nSizes (${HOST_ARCH}):\n`);
  out.push(table(
    ["artifact", "bytes", "MB"],
    Object.entries(r.artifacts).map(([n, b]) => [n, String(b), (b / 1e6).toFixed(2)]),
  ));
  return out.join("\n");
}

/** The real bundles' table: one row per bundle and contender, × against node-ric's. */
function bundlesMarkdown(bundles: BundleResult[], gapMs: number): string {
  const b0 = bundles[0];
  const head = `\nReal bundles, each built by deno task build:function, layers at /opt and the ` +
    `function at /var/task (${b0.next.n} cold starts each, ${b0.warmIdle.n} warm events per ` +
    `case), × against node-ric's:\n`;
  return head + "\n" + table(
    [
      "bundle",
      "contender",
      "start → first GET /next",
      "start → first result",
      "RSS after init, MiB",
      `warm, ${gapMs} ms gap`,
      "warm, back to back",
    ],
    bundles.map((b) => {
      const node = bundles.find((n) => n.bundle === b.bundle && n.contender === "node-ric");
      return [
        `${b.bundle} (${(b.bundleBytes / 1e6).toFixed(2)} MB)`,
        b.contender,
        cell(b.next, node?.next),
        cell(b.response, node?.response),
        `${mib(b.rssKiB.p50)}${times(ratio(b.rssKiB.p50, node?.rssKiB.p50))}`,
        cell(b.warmIdle, node?.warmIdle),
        cell(b.warmBackToBack, node?.warmBackToBack),
      ];
    }),
  );
}
