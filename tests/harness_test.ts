// The harness itself: a test waiting for output that can no longer come fails
// at once, naming what it waited for, instead of hanging the whole run.
import assert from "node:assert/strict";
import { withBootstrap, within } from "./_harness.ts";

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

Deno.test("a wait begun as another fails at the output's end fails too", async () => {
  await withBootstrap({}, async (b) => {
    await b.api.invoke({});
    const first = b.stdoutMatches(/this line is never written/);
    const then = first.catch(() => b.stdoutMatches(/nor this one/));
    // Handled from now on: it may fail before stop returns.
    const settled = assert.rejects(
      within(5_000, then, "the second wait never settled"),
      /output ended/,
    );
    await b.stop();
    await settled;
  });
});

Deno.test("a wait nobody awaits does not hide the test's own failure", async () => {
  const failure = withBootstrap({}, async (b) => {
    b.stdoutMatches(/this line is never written/); // left behind by a test that fails first
    await b.api.invoke({});
    throw new Error("the test's own failure");
  });
  await assert.rejects(failure, /the test's own failure/);
});
