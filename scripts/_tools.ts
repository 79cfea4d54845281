// The tools the scripts run besides Deno, and what a missing one means: an
// error that says what to install, and which version, instead of "Failed to
// spawn 'go': entity not found".

/** What each tool is for, and how to get it. */
const TOOLS: Record<string, string> = {
  go: "Go 1.26.6 or newer (https://go.dev/dl/): it builds the bootstrap and AWS's emulator",
  gofmt: "Go 1.26.6 or newer (https://go.dev/dl/), which comes with gofmt",
  npm: "Node.js with npm (https://nodejs.org/): npm fetches the pinned Deno binaries",
  tar: "tar, from your system's packages: it unpacks the Deno binaries npm fetches",
  python3: "Python 3 (https://www.python.org/): the deploy tests run moto, an AWS emulator",
};

/** A tool the scripts need is not on PATH. */
export class MissingTool extends Error {
  override name = "MissingTool";
}

/** The error for a tool not found on PATH. */
export function missingTool(cmd: string): MissingTool {
  const what = TOOLS[cmd] ?? cmd;
  return new MissingTool(
    `${cmd} is not installed, or not on PATH: install ${what}; then run again`,
  );
}

/** new Deno.Command(cmd, options), whose spawn or output fails with MissingTool when cmd is not there. */
export function tool(cmd: string, options: Deno.CommandOptions): {
  output(): Promise<Deno.CommandOutput>;
  spawn(): Deno.ChildProcess;
} {
  const command = new Deno.Command(cmd, options);
  // Spawning also fails with NotFound when the working directory is missing.
  const explain = (err: unknown) =>
    err instanceof Deno.errors.NotFound && !missingDir(options.cwd) ? missingTool(cmd) : err;
  return {
    output: async () => {
      try {
        return await command.output(); // a failed spawn throws before any promise
      } catch (err) {
        throw explain(err);
      }
    },
    spawn: () => {
      try {
        return command.spawn();
      } catch (err) {
        throw explain(err);
      }
    },
  };
}

function missingDir(cwd: string | URL | undefined): boolean {
  if (cwd === undefined) return false;
  try {
    return !Deno.statSync(cwd).isDirectory;
  } catch {
    return true;
  }
}
