// `deno task fuzz`: runs each Go fuzz target of the bootstrap in turn (Go
// fuzzes one target per invocation). Targets are found by scanning the
// bootstrap's packages' *_test.go for `func FuzzXxx(`, so a new one needs no
// list here. The first failure stops the run (exit 1) and says where Go kept
// the input that failed; bad flags exit 2.
import { parseFlags, runMain, UsageError } from "./_cli.ts";
import { ROOT } from "./_paths.ts";
import { tool } from "./_tools.ts";

const BOOTSTRAP = `${ROOT}/bootstrap`;

const USAGE = `Usage: deno task fuzz [--time 3s] [--only FuzzName]

Runs each Go fuzz target of the bootstrap in turn; stops at the first failure.

Flags:
  --time DURATION  how long to fuzz each target: a Go duration (3s, 1m30s) or a number of
                   runs (500x) (default: 3s)
  --only NAME      fuzz this one target instead of all
  -h, --help       this help`;

/** What `deno task fuzz` was asked to do. */
export interface FuzzOptions {
  /** Go's -fuzztime for each target. */
  time: string;
  /** The one target to fuzz, or undefined for all. */
  only?: string;
}

/** Parses the command line; throws a UsageError that says what is wrong. */
export function parseFuzzArgs(args: string[]): FuzzOptions {
  const values = parseFlags(args, {
    time: { type: "string", default: "3s" },
    only: { type: "string" },
  });
  if (!isFuzzTime(values.time)) {
    throw new UsageError(
      `Bad --time "${values.time}": expected a Go duration such as 3s or 1m30s, or runs such as 500x`,
    );
  }
  return { time: values.time, only: values.only };
}

/** Whether text is what go test's -fuzztime takes: a duration, or a number of runs and "x". */
export function isFuzzTime(text: string): boolean {
  return /^\d+x$/.test(text) || /^(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.test(text);
}

/** The fuzz targets declared in Go test sources (FuzzXxx, as go test names them), in order. */
export function findFuzzTargets(sources: string[]): string[] {
  return sources.flatMap((source) =>
    [...source.matchAll(/^func (Fuzz(?:[A-Z0-9_]\w*)?)\(/gm)].map((m) => m[1])
  );
}

/** Where Go wrote the input that failed, from its output; undefined when it wrote none. */
export function failingInput(output: string): string | undefined {
  return output.match(/Failing input written to (\S+)/)?.[1];
}

/**
 * Whether a failed run is only Go's own race at the end of -fuzztime
 * (go.dev/issue/75804, unfixed before Go 1.27): the target reports "context
 * deadline exceeded" as it stops, and no input failed.
 */
export function isStopRace(target: string, output: string): boolean {
  const stopped = new RegExp(
    `^--- FAIL: ${target} \\([\\d.]+s\\)\\n\\s+context deadline exceeded$`,
    "m",
  );
  return stopped.test(output) && failingInput(output) === undefined;
}

/** A fuzz target and the package (a directory below bootstrap/, "." for main) it is in. */
export interface FuzzTarget {
  name: string;
  pkg: string;
}

/** The fuzz targets of every package of the bootstrap, package by package. */
export async function fuzzTargets(dir = BOOTSTRAP, pkg = "."): Promise<FuzzTarget[]> {
  const files: string[] = [];
  const below: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith("_test.go")) files.push(entry.name);
    if (entry.isDirectory && entry.name !== "testdata") below.push(entry.name);
  }
  const sources = await Promise.all(files.sort().map((f) => Deno.readTextFile(`${dir}/${f}`)));
  const here = findFuzzTargets(sources).map((name) => ({ name, pkg }));
  const deeper = await Promise.all(
    below.sort().map((d) => fuzzTargets(`${dir}/${d}`, `${pkg}/${d}`)),
  );
  return here.concat(...deeper);
}

/** How one target's run went. */
interface FuzzRun {
  ok: boolean;
  /** Go's stdout and stderr. */
  output: string;
  /** The line printed for it. */
  summary: string;
}

/** Fuzzes one target for time. */
async function fuzz(fuzzTarget: FuzzTarget, time: string, width: number): Promise<FuzzRun> {
  const target = fuzzTarget.name;
  const started = performance.now();
  const { success, stdout, stderr } = await tool("go", {
    args: ["test", "-run=^$", `-fuzz=^${target}$`, `-fuzztime=${time}`, fuzzTarget.pkg],
    cwd: BOOTSTRAP,
  }).output();
  const decoder = new TextDecoder();
  const output = decoder.decode(stdout) + decoder.decode(stderr);
  const race = !success && isStopRace(target, output);
  const ok = success || race;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const execs = [...output.matchAll(/execs: (\d+)/g)].pop()?.[1];
  const summary = `${target.padEnd(width)}  ${ok ? "ok  " : "FAIL"}  ${seconds} s` +
    (execs ? `, ${execs} runs` : "") +
    (race ? " (Go's stop race at the end, go.dev/issue/75804: no input failed)" : "");
  return { ok, output, summary };
}

/** Says why a target failed and how to run its failing input again. */
function failureReport({ name: target, pkg }: FuzzTarget, output: string): string {
  const input = failingInput(output);
  if (!input) {
    return `fuzz: ${target} failed, and Go wrote no input (a seed from f.Add, or the build, failed): ` +
      `see its output above`;
  }
  const name = input.split("/").pop();
  return `fuzz: ${target} failed; the failing input is in bootstrap/${pkg}/${input}\n` +
    `Run it again with: (cd bootstrap && go test -run='^${target}$/^${name}$' ${pkg})`;
}

async function main(args: string[]): Promise<number> {
  const options = parseFuzzArgs(args);
  const all = await fuzzTargets();
  if (all.length === 0) {
    console.error("No fuzz targets in bootstrap/");
    return 1;
  }
  const targets = options.only === undefined ? all : all.filter((t) => t.name === options.only);
  if (targets.length === 0) {
    console.error(
      `No fuzz target ${options.only} in bootstrap/: one of ${all.map((t) => t.name).join(", ")}`,
    );
    return 2;
  }
  const width = Math.max(...targets.map((t) => t.name.length));
  const started = performance.now();
  for (const target of targets) {
    const run = await fuzz(target, options.time, width);
    console.log(run.summary);
    if (!run.ok) {
      console.log(run.output.trimEnd());
      console.error(failureReport(target, run.output));
      return 1;
    }
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const plural = targets.length === 1 ? "" : "s";
  console.log(
    `fuzz: ${targets.length} target${plural} passed, ${options.time} each, ${seconds} s in all`,
  );
  return 0;
}

if (import.meta.main) await runMain({ usage: USAGE }, main);
