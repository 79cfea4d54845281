// The harness itself: a test waiting for output that can no longer come fails
// at once, naming what it waited for, instead of hanging the whole run.
import assert from "node:assert/strict";
import { withBootstrap } from "./_harness.ts";

Deno.test("a wait for output fails once the bootstrap's output has ended", async () => {
  await withBootstrap({}, async (b) => {
    await b.api.invoke({});
    const never = b.stdoutMatches(/this line is never written/);
    await b.stop();
    await assert.rejects(never, /output ended without matching \/this line is never written\//);
    // A wait begun after the end fails too.
    await assert.rejects(b.stderrMatches(/nor this one/), /output ended without matching/);
  });
});
