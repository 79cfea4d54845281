// Lambda-Runtime-Invocation-Id: the bootstrap echoes each invocation's id on
// its answer, so that a late answer cannot land on a newer invocation that
// reuses the request id. A stale answer (410) is logged, and the loop goes
// on; an API that sends no id (older ones, AWS's emulator) changes nothing.
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { withBootstrap } from "./_harness.ts";

for (const runtime of RUNTIMES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${runtime}: ${name}`, fn);

  t("each answer, result or error, echoes its invocation's id", async () => {
    await withBootstrap({ runtime, handler: "handlers.echo" }, async ({ api }) => {
      const ok = await api.invoke({ n: 1 }, { invocationId: "inv-ok" });
      assert.deepEqual([ok.kind, ok.status, ok.invocationId], ["response", 202, "inv-ok"]);
    });
    await withBootstrap({ runtime, handler: "handlers.throwsError" }, async ({ api }) => {
      const failed = await api.invoke({}, { invocationId: "inv-failed" });
      assert.deepEqual([failed.kind, failed.status, failed.invocationId], [
        "error",
        202,
        "inv-failed",
      ]);
    });
  });

  t(
    "a large result echoes its invocation's id too (runtime1 passes it on as it arrives)",
    async () => {
      await withBootstrap({ runtime, handler: "handlers.identity" }, async ({ api }) => {
        const out = await api.invoke({ data: "x".repeat(2_000_000) }, {
          invocationId: "inv-large",
        });
        assert.deepEqual([out.kind, out.status, out.invocationId], ["response", 202, "inv-large"]);
      });
    },
  );

  t("a stale answer (410) is logged once, and the next invocation is served", async () => {
    await withBootstrap({ runtime, handler: "handlers.echo" }, async (b) => {
      const late = await b.api.invoke({}, { requestId: "late-1", stale: true });
      assert.equal(late.status, 410);
      const next = await b.api.invoke({ after: true });
      assert.deepEqual([next.kind, next.status], ["response", 202]);
      await b.stderrMatches(/late-1.*refused the result.*410/);
      assert.equal(b.stderr().match(/refused the result/g)?.length, 1, b.stderr());
    });
    await withBootstrap({ runtime, handler: "handlers.throwsError" }, async (b) => {
      assert.equal((await b.api.invoke({}, { requestId: "late-2", stale: true })).status, 410);
      assert.equal((await b.api.invoke({})).kind, "error");
      // One post: a 410 is about the invocation, not the error's size, so no shorter one follows.
      assert.deepEqual(b.api.stalePosts, ["late-2 error"]);
    });
  });

  t("without an invocation id, answers carry none", async () => {
    await withBootstrap({ runtime, handler: "handlers.echo" }, async ({ api }) => {
      const out = await api.invoke({}, { invocationId: null });
      assert.deepEqual([out.kind, out.status, out.invocationId], ["response", 202, null]);
    });
  });
}
