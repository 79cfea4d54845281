import assert from "node:assert/strict";
import { MissingTool, requireTools, tool } from "./_tools.ts";

/** Options under which no tool can be found: an empty PATH. */
const NOWHERE = { args: ["version"], env: { PATH: "/nonexistent" }, clearEnv: true };

Deno.test("a missing go says what to install, and which version", async () => {
  await assert.rejects(
    tool("go", NOWHERE).output(),
    new MissingTool(
      "go is not installed, or not on PATH: install Go 1.26.6 or newer (https://go.dev/dl/): " +
        "it builds the bootstrap and AWS's emulator; then run again",
    ),
  );
  assert.throws(() => tool("go", NOWHERE).spawn(), MissingTool);
});

Deno.test("a missing npm says to install Node.js, and why", async () => {
  await assert.rejects(
    tool("npm", NOWHERE).output(),
    /^MissingTool: npm is not installed.*Node\.js with npm/,
  );
});

Deno.test("a missing working directory is not a missing tool", async () => {
  await assert.rejects(
    tool(Deno.execPath(), { args: ["--version"], cwd: "/nonexistent-dir" }).output(),
    (err: Error) => err instanceof Deno.errors.NotFound && /No such cwd/.test(err.message),
  );
});

Deno.test("a tool that is there runs", async () => {
  const out = await tool(Deno.execPath(), { args: ["--version"], stdout: "piped" }).output();
  assert.ok(out.success);
  assert.match(new TextDecoder().decode(out.stdout), /^deno /);
});

/** Runs fn with PATH set to dirs alone, as a machine without the other tools would have it. */
async function withPath(dirs: string[], fn: () => Promise<void>): Promise<void> {
  const saved = Deno.env.get("PATH");
  Deno.env.set("PATH", dirs.join(":"));
  try {
    await fn();
  } finally {
    Deno.env.set("PATH", saved ?? "");
  }
}

Deno.test("requireTools names every missing tool at once, before any work", async () => {
  await withPath(["/nonexistent"], async () => {
    await assert.rejects(
      requireTools(["go", "npm", "go"]),
      new MissingTool(
        "go and npm are not installed, or not on PATH: install Go 1.26.6 or newer " +
          "(https://go.dev/dl/): it builds the bootstrap and AWS's emulator; and Node.js with npm " +
          "(https://nodejs.org/): npm fetches the pinned Deno binaries; then run again",
      ),
    );
  });
  await requireTools([]);
});

Deno.test("requireTools refuses a go too old to fetch the toolchain the build asks for", async () => {
  const dir = await Deno.makeTempDir({ prefix: "old-go-" });
  try {
    await Deno.writeTextFile(`${dir}/go`, "#!/bin/sh\necho go version go1.20.14 linux/amd64\n");
    await Deno.chmod(`${dir}/go`, 0o755);
    await withPath([dir, "/usr/bin", "/bin"], async () => {
      await assert.rejects(
        requireTools(["go"]),
        /^MissingTool: go1\.20 is too old: install Go 1\.26\.6/,
      );
    });
    await Deno.writeTextFile(`${dir}/go`, "#!/bin/sh\necho go version go1.21.0 linux/amd64\n");
    await withPath([dir, "/usr/bin", "/bin"], () => requireTools(["go"]));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
