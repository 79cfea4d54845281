// `deno task build` run from another task (start, bench): the build script as a
// child process, its output shown as it comes.
import { AlreadySaid } from "./_cli.ts";
import { ROOT } from "./_paths.ts";

/** Runs scripts/build.ts with args; throws when it fails, after its own message. */
export async function runBuild(args: string[]): Promise<void> {
  const status = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}/scripts/build.ts`, ...args],
    stdin: "null",
  }).spawn().status;
  if (!status.success) throw new AlreadySaid("The build failed: see above");
}
