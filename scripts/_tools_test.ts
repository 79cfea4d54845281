import assert from "node:assert/strict";
import { MissingTool, tool } from "./_tools.ts";

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
