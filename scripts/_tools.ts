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

/** The oldest go that fetches the toolchain a go.mod asks for by itself (GOTOOLCHAIN=auto). */
const OLDEST_GO = [1, 21];

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

/** The path of cmd on PATH, or undefined. */
async function onPath(cmd: string): Promise<string | undefined> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    const path = `${dir || "."}/${cmd}`;
    const info = await Deno.stat(path).catch(() => null);
    if (info?.isFile && (info.mode ?? 0o111) & 0o111) return path;
  }
  return undefined;
}

/**
 * Fails, before any work starts, when a tool among cmds is not on PATH, naming
 * all that are missing at once; or when go is too old to fetch the toolchain
 * the builds ask for.
 */
export async function requireTools(cmds: string[]): Promise<void> {
  const unique = [...new Set(cmds)];
  const missing: string[] = [];
  for (const cmd of unique) if (!await onPath(cmd)) missing.push(cmd);
  if (missing.length === 1) throw missingTool(missing[0]);
  if (missing.length > 1) {
    throw new MissingTool(
      `${missing.join(" and ")} are not installed, or not on PATH: install ` +
        `${missing.map((cmd) => TOOLS[cmd] ?? cmd).join("; and ")}; then run again`,
    );
  }
  if (unique.includes("go")) {
    const out = await tool("go", { args: ["version"], stdout: "piped", stderr: "null" }).output();
    const [major, minor] = (new TextDecoder().decode(out.stdout).match(/go(\d+)\.(\d+)/) ?? [])
      .slice(1).map(Number);
    if (major < OLDEST_GO[0] || (major === OLDEST_GO[0] && minor < OLDEST_GO[1])) {
      throw new MissingTool(`go${major}.${minor} is too old: install ${TOOLS.go}; then run again`);
    }
  }
}
