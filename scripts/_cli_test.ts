import assert from "node:assert/strict";
import denoJson from "../deno.json" with { type: "json" };
import {
  HelpRequested,
  integer,
  parseFlags,
  parseFlagsAndPositionals,
  UsageError,
} from "./_cli.ts";
import { ROOT } from "./_paths.ts";

const OPTIONS = {
  data: { type: "string" },
  port: { type: "string", default: "9000" },
  watch: { type: "boolean", default: false },
} as const;

Deno.test("parseFlags gives each flag's value or its default", () => {
  assert.deepEqual({ ...parseFlags([], OPTIONS) }, { port: "9000", watch: false });
  assert.deepEqual(
    { ...parseFlags(["--data", "{}", "--port=9100", "--watch"], OPTIONS) },
    { data: "{}", port: "9100", watch: true },
  );
});

Deno.test("-h and --help ask for help wherever they are, even after a bad flag", () => {
  for (const args of [["--help"], ["-h"], ["--watch", "--help"], ["--wach", "-h"], ["x", "-h"]]) {
    assert.throws(() => parseFlags(args, OPTIONS), HelpRequested, args.join(" "));
  }
});

Deno.test("--help as a flag's value or after -- is not a request for help", () => {
  assert.throws(
    () => parseFlags(["--data", "--help"], OPTIONS),
    new UsageError("Option '--data' argument is ambiguous"),
  );
  assert.throws(
    () => parseFlags(["--", "--help"], OPTIONS),
    new UsageError("Unexpected argument '--help'"),
  );
  assert.deepEqual(parseFlagsAndPositionals(["--", "--help"], OPTIONS).positionals, ["--help"]);
});

Deno.test("a bad command line is a UsageError in our words", () => {
  const cases: [string[], string][] = [
    [["--wach"], "Unknown flag --wach: did you mean --watch?"],
    [["-w"], "Unknown flag -w"],
    [["--data"], "Option '--data <value>' argument missing"],
    [["--watch=yes"], "Option '--watch' does not take an argument"],
    [["runtime1"], "Unexpected argument 'runtime1'"],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseFlags(args, OPTIONS), new UsageError(message), args.join(" "));
  }
});

Deno.test("parseFlagsAndPositionals gives the positionals apart from the flags", () => {
  const { values, positionals } = parseFlagsAndPositionals(["all", "--watch", "x"], OPTIONS);
  assert.deepEqual(positionals, ["all", "x"]);
  assert.equal(values.watch, true);
  assert.throws(() => parseFlagsAndPositionals(["all", "--wach"], OPTIONS), UsageError);
});

Deno.test("integer takes whole numbers in range and refuses the rest", () => {
  assert.equal(integer("--port", "9000", 1, 65535), 9000);
  for (const bad of ["0", "65536", "1.5", "-1", "", "0x10", "9 "]) {
    assert.throws(
      () => integer("--port", bad, 1, 65535),
      new UsageError(`Bad --port "${bad}": expected a whole number from 1 to 65535`),
    );
  }
});

const DEPLOY_FLAGS = [
  "--region",
  "--profile",
  "--arch",
  "--bucket",
  "--dist",
  "--layer-prefix",
  "--dry-run",
  "--entry",
  "--function-name",
  "--role",
  "--runtime",
  "--handler",
  "--memory",
  "--timeout",
];
const BUILD_FLAGS = [
  "--arch",
  "--entry",
  "--handler",
  "--out-dir",
  "--function-only",
  "--layers-only",
  "--task-root",
];

/** Every task that runs a script, and the flags its usage must list. */
const TASK_FLAGS: Record<string, string[]> = {
  "build": BUILD_FLAGS,
  "build:function": BUILD_FLAGS,
  "deploy": DEPLOY_FLAGS,
  "deploy:deno-layer": DEPLOY_FLAGS,
  "deploy:runtime1": DEPLOY_FLAGS,
  "deploy:runtime2": DEPLOY_FLAGS,
  "deploy:function": DEPLOY_FLAGS,
  "start": [
    "--runtime",
    "--port",
    "--timeout",
    "--memory",
    "--env",
    "--watch",
    "--entry",
    "--handler",
  ],
  "invoke": ["--event", "--data", "--port"],
  "bench": [
    "--quick",
    "--runs",
    "--cold-runs",
    "--gap-ms",
    "--only",
    "--no-cache-experiment",
    "--no-v8-flags-experiment",
    "--out",
  ],
  "fuzz": ["--time", "--only"],
  "ok": [],
  "install:rie": [],
  "test": ["--filter", "--no-build"],
};
/** The tasks that are plain Deno commands, with Deno's own --help. */
const DENO_COMMANDS = ["check"];

/** Runs `deno task name ...args` from the repository root, to its end. */
async function task(name: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "--quiet", name, ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdin: "null",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("every task that runs a script is listed here", () => {
  const tasks = Object.keys(denoJson.tasks).filter((t) => !DENO_COMMANDS.includes(t));
  assert.deepEqual(tasks.sort(), Object.keys(TASK_FLAGS).sort());
});

for (const [name, flags] of Object.entries(TASK_FLAGS)) {
  Deno.test(`deno task ${name} answers --help with its usage, and a bad flag with exit 2`, async () => {
    const [help, bad] = await Promise.all([task(name, ["--help"]), task(name, ["--no-such"])]);

    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: deno task /);
    assert.doesNotMatch(help.stderr, /Usage:/);
    for (const flag of [...flags, "--help"]) {
      assert.match(help.stdout, new RegExp(`(^|[\\s[|,])${flag}(?=[\\s\\]|,=]|$)`, "m"), flag);
    }

    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stdout, "");
    // After what Deno may say first, such as npm downloads on a fresh machine.
    assert.ok(bad.stderr.endsWith(`Unknown flag --no-such\n${help.stdout}`), bad.stderr);
  });
}

Deno.test("deno task bench refuses an unknown contender and a count that is no number, with exit 2", async () => {
  const [only, runs] = await Promise.all([
    task("bench", ["--only", "runtime1,nodejs"]),
    task("bench", ["--runs", "abc"]),
  ]);
  assert.equal(only.code, 2, only.stderr);
  assert.match(
    only.stderr,
    /^Bad --only "runtime1,nodejs": nodejs is no contender; name some of runtime1, runtime2, baseline, node-ric, comma-separated$/m,
  );
  assert.equal(runs.code, 2, runs.stderr);
  assert.match(runs.stderr, /^Bad --runs "abc": expected a whole number from 1 to 100000$/m);
});
