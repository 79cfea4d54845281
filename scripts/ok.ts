// `deno task ok`: everything a change must pass before it lands, in order of
// cost: format, lint, type checks, the workflows' lint, gofmt, go vet, Go tests
// (race detector on), a short fuzz of each Go parser, then the build and every
// Deno test. Ends with one "N passed, N failed" line over all tests.
import { parseFlags, runMain } from "./_cli.ts";
import { ROOT } from "./_paths.ts";
import { tool } from "./_tools.ts";

const USAGE = `Usage: deno task ok

Runs everything a change must pass before it lands, in order of cost: deno fmt --check,
deno lint, deno task check, actionlint, gofmt, go vet, the Go tests under the race detector,
a short fuzz of each Go parser, then deno task test (the build and every Deno test). Stops
at the first step that fails; ends with one "N passed, N failed" line over all tests.

Flags:
  -h, --help  this help`;

/** actionlint lints .github/workflows; `go run` builds it from its Go module. */
const ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12";

const steps: { cmd: string; args: string[]; dir?: string }[] = [
  { cmd: "deno", args: ["fmt", "--check"] },
  { cmd: "deno", args: ["lint"] },
  { cmd: "deno", args: ["task", "check"] },
  { cmd: "go", args: ["run", ACTIONLINT] },
  { cmd: "gofmt", args: ["-l", ".", "../bench"], dir: "bootstrap" },
  { cmd: "go", args: ["vet", "./..."], dir: "bootstrap" },
  // The bench's Go programs are one file each, run with go run.
  ...[...Deno.readDirSync(`${ROOT}/bench`)].map((e) => e.name).filter((n) => n.endsWith(".go"))
    .sort().map((name) => ({
      cmd: "go",
      args: ["vet", `../bench/${name}`],
      dir: "bootstrap",
    })),
  // Under the race detector: the bootstrap's goroutines share connections and
  // bodies. It needs cgo, so a C compiler (.ci/run installs gcc).
  { cmd: "go", args: ["test", "-race", "-count=1", "-v", "./..."], dir: "bootstrap" },
  // A few seconds of fuzzing per parser of bytes from Deno or the Runtime API.
  { cmd: "deno", args: ["run", "--allow-all", "scripts/fuzz.ts", "--time", "2s"] },
  { cmd: "deno", args: ["task", "test"] },
];

const root = `${ROOT}/`;
const decoder = new TextDecoder();

/** Copies a stream to stdout while keeping its text. */
async function tee(stream: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of stream) {
    await Deno.stdout.write(chunk);
    text += decoder.decode(chunk, { stream: true });
  }
  return text;
}

/** Go's verbose lines and Deno's summary line in a step's output, as counts. */
function testCounts(text: string): { passed: number; failed: number } {
  let passed = text.match(/^--- PASS: /gm)?.length ?? 0;
  let failed = text.match(/^--- FAIL: /gm)?.length ?? 0;
  const summary = text.match(/(\d+) passed (?:\(\d+ steps?\) )?\| (\d+) failed/);
  if (summary) {
    passed += Number(summary[1]);
    failed += Number(summary[2]);
  }
  return { passed, failed };
}

async function main(argv: string[]): Promise<number> {
  parseFlags(argv, {});
  let passed = 0;
  let failed = 0;
  for (const { cmd, args, dir } of steps) {
    const label = `${dir ? `(${dir}) ` : ""}${cmd} ${args.join(" ")}`;
    console.log(`\n== ${label}`);
    const child = tool(cmd, { args, cwd: `${root}${dir ?? ""}`, stdout: "piped" }).spawn();
    const [text, status] = await Promise.all([tee(child.stdout), child.status]);
    const counts = testCounts(text);
    passed += counts.passed;
    failed += counts.failed;
    const unformatted = cmd === "gofmt" ? text.trim() : "";
    if (!status.success || unformatted) {
      console.error(`\nok: failed at ${label}${unformatted ? ": not gofmt-formatted" : ""}`);
      console.log(`${passed} passed, ${failed} failed`);
      return 1;
    }
  }
  console.log(`\nok: everything passed\n${passed} passed, ${failed} failed`);
  return 0;
}

if (import.meta.main) await runMain({ usage: USAGE }, main);
