import assert from "node:assert/strict";
import { ROOT } from "./_paths.ts";

/**
 * Runs a step in a child process, its stderr not a terminal. The step's work
 * waits for a line on stdin, which the test sends once it has seen what it
 * expects (or right away): no timing decides what is printed.
 */
async function runStep(silentFor: number, answerWhen: RegExp | null, fails = false) {
  const script = `
    import { step } from "${ROOT}/scripts/_progress.ts";
    const line = Deno.stdin.readable.getReader();
    await step("Building the thing", async (progress) => {
      progress("3 of 5 MB");
      await line.read();
      if (${fails}) throw new Error("broken");
    }, { silentFor: ${silentFor} }).catch(() => {});
  `;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdin: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  let text = "";
  const reading = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (answerWhen?.test(text)) await writer.write(new Uint8Array([10])).catch(() => {});
    }
  })();
  if (answerWhen === null) await writer.write(new Uint8Array([10]));
  await child.status;
  await reading;
  await writer.close().catch(() => {});
  return text;
}

Deno.test("a step done before its silence is over prints nothing", async () => {
  assert.equal(await runStep(60_000, null), "");
});

Deno.test("a step still running after its silence says so, then how long it took", async () => {
  const text = await runStep(1, /^Building the thing\.\.\.\n$/);
  assert.match(text, /^Building the thing\.\.\.\nBuilding the thing: done in \d+\.\d s\n$/);
});

Deno.test("a step with no silence says it started, and that it failed", async () => {
  const text = await runStep(0, /\.\.\.\n$/, true);
  assert.match(text, /^Building the thing\.\.\.\nBuilding the thing: failed after \d+\.\d s\n$/);
});
