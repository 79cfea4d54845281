// `deno task bench`: this runtime against its alternatives, on one machine, the
// same Runtime API and the same handler. Builds first (deno task build), then
// prints tables (Markdown, as pasted into the README) and writes the figures as
// JSON.
//
//   deno task bench [--quick] [--runs N] [--cold-runs N] [--gap-ms MS]
//                   [--only runtime1,baseline] [--no-cache-experiment]
//                   [--no-v8-flags-experiment] [--no-concurrency] [--no-streaming]
//                   [--no-bundles]
//                   [--out bench/results.json]
//
// Nothing here is asserted: the numbers compare contenders on one machine.
import { runBuild } from "./_build.ts";
import { errorMessage, integer, parseFlags, runMain, UsageError } from "./_cli.ts";
import { BenchApi } from "./_bench_api.ts";
import { runCacheExperiment } from "./_bench_cache.ts";
import { runV8FlagsExperiment } from "./_bench_v8_flags.ts";
import { concurrencyRuns } from "./_bench_concurrency.ts";
import { streamingRuns } from "./_bench_streaming.ts";
import { runBundlesExperiment } from "./_bench_bundles.ts";
import {
  baselineContender,
  type Contender,
  lambdaPathsProblem,
  layerContender,
  nodeRicContender,
  unpackLayers,
} from "./_bench_contenders.ts";
import { artifactSizes, type Results, resultsMarkdown } from "./_bench_report.ts";
import { resultsChart } from "./_bench_chart.ts";
import {
  addBenchHandlers,
  coldStarts,
  LARGE_EVENT,
  SMALL_EVENT,
  taskRoot,
  warmRuns,
} from "./_bench_run.ts";
import { DENO_VERSION, ROOT } from "./_paths.ts";

async function versionOf(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim().split("\n")[0];
  } catch {
    return "not installed";
  }
}

async function machine(): Promise<Results["machine"]> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo");
  return {
    cpu: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? "unknown",
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    kernel: Deno.osRelease(),
    deno: DENO_VERSION,
    node: await versionOf("node", ["--version"]),
    go: await versionOf("go", ["version"]),
  };
}

/** The contenders --only may name. */
const CONTENDERS = ["runtime1", "runtime2", "baseline", "node-ric"];

const USAGE = `Usage: deno task bench [flags]

Builds, then compares runtime1 and runtime2 with an in-process baseline and AWS's Node.js
runtime interface client on this machine: cold starts, warm latencies, concurrency (Lambda
Managed Instances), and two experiments.

Flags:
  --quick                     fewer runs: 30 warm, 5 cold (default: 300 and 30)
  --runs N                    warm runs per case
  --cold-runs N               cold starts per contender
  --gap-ms MS                 pause before each warm invocation of the idle cases
                              (default: 100)
  --only NAMES                these contenders only, comma-separated: runtime1, runtime2,
                              baseline, node-ric (default: all)
  --no-cache-experiment       skip the cold starts of a large bundle by DENO_DIR cache variant
  --no-v8-flags-experiment    skip the cold starts of runtime1 by DENO_V8_FLAGS
  --no-concurrency            skip the cases at AWS_LAMBDA_MAX_CONCURRENCY 8, 32 and 64
  --no-streaming              skip the streamed responses (time to first byte, throughput)
  --no-bundles                skip the real bundles (Hono, Powertools, the AWS SDK) run at
                              /opt and /var/task, which takes root
  --out FILE                  where the figures go, as JSON (default: bench/results.json)
  -h, --help                  this help`;

async function main(args: string[]): Promise<number> {
  const values = parseFlags(args, {
    quick: { type: "boolean", default: false },
    runs: { type: "string" },
    "cold-runs": { type: "string" },
    "gap-ms": { type: "string", default: "100" },
    only: { type: "string" },
    "no-cache-experiment": { type: "boolean", default: false },
    "no-v8-flags-experiment": { type: "boolean", default: false },
    "no-concurrency": { type: "boolean", default: false },
    "no-streaming": { type: "boolean", default: false },
    "no-bundles": { type: "boolean", default: false },
    out: { type: "string", default: `${ROOT}/bench/results.json` },
  });
  const settings = {
    runs: integer("--runs", values.runs ?? (values.quick ? "30" : "300"), 1, 100_000),
    coldRuns: integer("--cold-runs", values["cold-runs"] ?? (values.quick ? "5" : "30"), 1, 10_000),
    gapMs: integer("--gap-ms", values["gap-ms"], 0, 60_000),
    smallEventBytes: SMALL_EVENT.length,
    largeEventBytes: LARGE_EVENT.length,
  };
  const only = values.only?.split(",");
  const unknown = only?.filter((name) => !CONTENDERS.includes(name));
  if (unknown?.length) {
    throw new UsageError(
      `Bad --only "${values.only}": ${unknown.join(", ")} is no contender; name some of ${
        CONTENDERS.join(", ")
      }, comma-separated`,
    );
  }
  const wanted = (name: string) => !only || only.includes(name);
  await runBuild([]);

  const runtime1Layer = await unpackLayers("runtime1");
  const runtime2Layer = await unpackLayers("runtime2");
  const contenders: Contender[] = [
    layerContender("runtime1", runtime1Layer),
    layerContender("runtime2", runtime2Layer),
    baselineContender(runtime1Layer),
  ];
  const unavailable: Record<string, string> = {};
  if (wanted("node-ric")) {
    const node = await nodeRicContender();
    if (typeof node === "string") unavailable["node-ric"] = node;
    else contenders.push(node);
  }

  const api = new BenchApi();
  const root = await taskRoot();
  const results: Results = {
    date: new Date().toISOString(),
    machine: await machine(),
    settings,
    contenders: {},
    unavailable,
    coldCache: [],
    artifacts: await artifactSizes(),
  };
  try {
    const chosen = contenders.filter((c) => wanted(c.name));
    console.error(`Cold starts: ${settings.coldRuns} of each...`);
    const cold = await coldStarts(api, chosen, root, settings.coldRuns);
    console.error(`Warm latencies: ${settings.runs} runs per case, in turns...`);
    const warm = await warmRuns(api, chosen, root, settings, (round, rounds) => {
      console.error(`  round ${round + 1} of ${rounds}...`);
    });
    for (const contender of chosen) {
      results.contenders[contender.name] = {
        description: contender.description,
        cold: cold.get(contender)!,
        ...warm.get(contender)!,
      };
    }
    if (!values["no-bundles"]) {
      // Built as users build them and run where Lambda puts them; the
      // baseline has no build of its own.
      const bundled = chosen.filter((c) => c.name !== "baseline");
      const problem = await lambdaPathsProblem();
      if (problem) unavailable["real bundles"] = problem;
      else {
        console.error(`Real bundles: ${bundled.map((c) => c.name).join(", ")}...`);
        results.bundles = await runBundlesExperiment(api, bundled, {
          coldRuns: settings.coldRuns,
          warmRuns: Math.min(settings.runs, 100),
          gapMs: settings.gapMs,
        }, (what) => console.error(`  ${what}...`));
      }
    }
    if (!values["no-cache-experiment"]) {
      console.error(`Cold starts of a large bundle, DENO_DIR cache variants...`);
      results.coldCache = await runCacheExperiment(api, {
        runtime1Layer,
        runs: settings.coldRuns,
      });
    }
    if (!values["no-concurrency"]) {
      // The in-process baseline serves one invocation at a time.
      const concurrent = chosen.filter((c) => c.name !== "baseline");
      const seconds = values.quick ? 1.5 : 3;
      console.error(`Concurrency: ${concurrent.map((c) => c.name).join(", ")}...`);
      await addBenchHandlers(root, "concurrency");
      results.concurrency = await concurrencyRuns(api, concurrent, root, {
        seconds,
        rounds: values.quick ? 1 : 3,
      }, (what) => console.error(`  ${what}...`));
      results.concurrencySeconds = seconds;
    }
    if (!values["no-streaming"]) {
      // The in-process baseline does not stream.
      const streaming = chosen.filter((c) => c.name !== "baseline");
      console.error(`Streaming: ${streaming.map((c) => c.name).join(", ")}...`);
      await addBenchHandlers(root, "streaming");
      results.streaming = await streamingRuns(streaming, root, {
        rounds: values.quick ? 1 : 3,
        invocations: values.quick ? 10 : 30,
      }, (what) => console.error(`  ${what}...`));
    }
    if (!values["no-v8-flags-experiment"]) {
      console.error(`Cold starts of runtime1 by DENO_V8_FLAGS...`);
      results.v8Flags = await runV8FlagsExperiment(api, {
        runtime1Layer,
        runs: settings.coldRuns,
        warmRuns: settings.runs,
      });
    }
  } finally {
    await api.close();
    await Deno.remove(root, { recursive: true });
  }
  await Deno.writeTextFile(values.out!, JSON.stringify(results, null, 2) + "\n");
  const chart = values.out!.replace(/(\.json)?$/, ".svg");
  await Deno.writeTextFile(chart, resultsChart(results));
  console.log(resultsMarkdown(results));
  console.error(`Wrote ${values.out} and ${chart}`);
  return 0;
}

if (import.meta.main) {
  await runMain({ usage: USAGE, failure: (err) => `Bench failed: ${errorMessage(err)}` }, main);
}
