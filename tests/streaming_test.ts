// runtime1 passes a large result from Deno on to the Runtime API as it
// arrives. A result cut off halfway must never reach the caller: the post is
// abandoned, and as AWS's Runtime API then refuses any other answer for the
// invocation, the bootstrap exits so that Lambda fails it and starts afresh.
import assert from "node:assert/strict";
import { denoProcessesOf, withBootstrap } from "./_harness.ts";

Deno.test("runtime1: a result cut off on its way out is never passed on; the bootstrap says why and exits, leaving nothing behind", async () => {
  await withBootstrap({ runtime: "runtime1", handler: "handlers.halfAResult" }, async (b) => {
    const { api, tmpDir } = b;
    const warm = await api.invoke({ bytes: 12, whole: true });
    assert.equal(warm.kind, "response", warm.body);

    // Deno writes half the result it announced, then nothing more, and is
    // killed as soon as the post begins: the result is cut off halfway.
    const bytes = 1_000_000;
    api.beforeResultBody = async () => {
      api.beforeResultBody = undefined;
      for (const pid of await denoProcessesOf(tmpDir)) Deno.kill(pid, "SIGKILL");
    };
    const cut = api.invoke({ bytes }, { requestId: "cut-1" });
    // As AWS's emulator does, the mock then refuses the error post and
    // GET /next: the bootstrap must exit, and Lambda fails the invocation.
    await assert.rejects(cut, /Invocation cut-1 got no result: the bootstrap exited with code 1/);
    assert.deepEqual(
      api.incompletePosts,
      ["cut-1 response"],
      "the result post was not abandoned halfway",
    );
    const stderr = b.stderr();
    assert.match(stderr, /Runtime\.ExitError/); // logged, as every failed invocation is
    assert.match(
      stderr,
      new RegExp(
        `invocation cut-1: its result was cut off after \\d+ of ${bytes} bytes \\(Runtime\\.ExitError\\), and the Runtime API takes no other answer for it: exiting`,
      ),
    );
    assert.deepEqual(await denoProcessesOf(tmpDir), []);
  });
});

Deno.test("runtime1: large results of any size, one after another, pass through whole", async () => {
  await withBootstrap({ runtime: "runtime1", handler: "handlers.bigResponse" }, async ({ api }) => {
    for (const bytes of [6 * 1024 * 1024, 64 * 1024, 64 * 1024 - 1, 5, 3_000_000]) {
      const out = await api.invoke({ bytes });
      assert.equal(out.kind, "response");
      assert.equal(out.body.length, bytes);
      assert.equal(out.body, JSON.stringify("x".repeat(bytes - 2)));
    }
  });
});
