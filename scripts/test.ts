// `deno task test`: builds every zip, then runs every Deno test against them
// (the tests drive the built bootstrap, layers and function as real processes).
import { runBuild } from "./_build.ts";
import { AlreadySaid, parseFlagsAndPositionals, runMain } from "./_cli.ts";
import { ROOT } from "./_paths.ts";

/** Where the tests are: the integration tests, the example's, the scripts', the runtime's, CDK's. */
const TEST_DIRS = ["tests/", "function/", "scripts/", "runtimes/", "cdk/"];

const USAGE = `Usage: deno task test [--filter TEXT] [--no-build] [PATH...]

Builds every zip (deno task build), then runs the Deno tests under ${TEST_DIRS.join(", ")}
(or the PATHs given) with every permission. The Go tests run in deno task ok.

Flags:
  --filter TEXT  only the tests whose name contains TEXT (or matches /RE/)
  --no-build     test what dist/ holds, without building first
  -h, --help     this help`;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlagsAndPositionals(args, {
    filter: { type: "string" },
    "no-build": { type: "boolean", default: false },
  });
  if (!values["no-build"]) await runBuild([]);
  const status = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "--allow-all",
      "--unstable-no-legacy-abort",
      ...(values.filter === undefined ? [] : ["--filter", values.filter]),
      ...(positionals.length ? positionals : TEST_DIRS),
    ],
    cwd: ROOT,
    stdin: "null",
  }).spawn().status;
  if (!status.success) throw new AlreadySaid("Tests failed");
  return 0;
}

if (import.meta.main) await runMain({ usage: USAGE }, main);
