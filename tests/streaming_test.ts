// runtime1 passes a large result from Deno on to the Runtime API as it
// arrives. A result cut off halfway must never reach the API as a result: the
// post is abandoned, the invocation fails, and a fresh Deno serves the next.
import assert from "node:assert/strict";
import { denoProcessesOf, withBootstrap } from "./_harness.ts";

Deno.test("runtime1: a result cut off on its way out is not posted; the invocation fails and a fresh Deno serves the next", async () => {
  await withBootstrap({ runtime: "runtime1", handler: "handlers.bigResponse" }, async (b) => {
    const { api, tmpDir } = b;
    const warm = await api.invoke({ bytes: 12 });
    assert.equal(warm.kind, "response", warm.body);
    const before = await denoProcessesOf(tmpDir);
    assert.equal(before.length, 1);

    // 40 MB is more than the sockets between Deno and the mock can hold, so
    // Deno is still writing when it is killed, as soon as the post begins.
    api.beforeResultBody = async () => {
      api.beforeResultBody = undefined;
      for (const pid of await denoProcessesOf(tmpDir)) Deno.kill(pid, "SIGKILL");
    };
    const cut = await api.invoke({ bytes: 40 * 1024 * 1024 }, { requestId: "cut-1" });
    assert.deepEqual(
      api.incompletePosts,
      ["cut-1 response"],
      "the result post was not abandoned halfway",
    );
    assert.equal(cut.kind, "error");
    assert.equal(cut.errorType, "Runtime.ExitError");
    assert.match(
      JSON.parse(cut.body).errorMessage,
      /^RequestId: cut-1 Error: Runtime exited with error: signal: killed$/,
    );
    await b.stderrMatches(/Runtime\.ExitError/); // logged, as every failed invocation is

    const next = await api.invoke({ bytes: 12 });
    assert.equal(next.kind, "response", next.body);
    assert.equal(JSON.parse(next.body), "x".repeat(10));
    const after = await denoProcessesOf(tmpDir);
    assert.equal(after.length, 1);
    assert.notEqual(
      after[0],
      before[0],
      "the next invocation ran on the killed process's successor",
    );
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
