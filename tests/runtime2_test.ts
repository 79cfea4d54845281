// runtime2: every invocation gets a Deno process that never served another,
// and its result travels on a channel that user output cannot corrupt.
import assert from "node:assert/strict";
import { withBootstrap } from "./_harness.ts";

Deno.test("runtime2: no state, globals or timers carry over between invocations", async () => {
  await withBootstrap({ runtime: "runtime2", handler: "handlers.isolation" }, async ({ api }) => {
    const pids = new Set<number>();
    for (let i = 0; i < 4; i++) {
      const r = JSON.parse((await api.invoke({ i })).body);
      assert.deepEqual({ ...r, pid: 0 }, { pid: 0, invocations: 1, seen: null, timerFired: false });
      pids.add(r.pid);
    }
    assert.equal(pids.size, 4, "every invocation has its own process");
  });
});

Deno.test("runtime2: a spare that dies while it starts is replaced, and the event waiting for it is served", async () => {
  await withBootstrap({ runtime: "runtime2", handler: "spare_dies.handler" }, async ({ api }) => {
    const first = await api.invoke({});
    assert.equal(first.kind, "response", first.body);
    const second = await api.invoke({}, { requestId: "after-the-death" });
    assert.equal(second.kind, "response", second.body);
    assert.notEqual(JSON.parse(second.body).pid, JSON.parse(first.body).pid);
  });
});

Deno.test("runtime2: events queued back to back each get a fresh process", async () => {
  await withBootstrap({ runtime: "runtime2", handler: "handlers.isolation" }, async ({ api }) => {
    const results = await Promise.all([1, 2, 3].map((i) => api.invoke({ i })));
    const parsed = results.map((r) => JSON.parse(r.body));
    assert.deepEqual(parsed.map((r) => r.invocations), [1, 1, 1]);
    assert.equal(new Set(parsed.map((r) => r.pid)).size, 3);
  });
});

Deno.test("runtime2: stdout noise cannot corrupt the result, and still reaches the logs", async () => {
  await withBootstrap({ runtime: "runtime2", handler: "handlers.noisy" }, async (b) => {
    for (let i = 0; i < 2; i++) {
      const out = await b.api.invoke({}, { requestId: `noisy-${i}` });
      assert.equal(out.kind, "response");
      assert.equal(out.body, '{"real":true}');
    }
    await b.stop();
    const stdout = b.stdout();
    assert.match(stdout, /\{"errorType":"Fake","length":3\}\n\{\}\n/);
    assert.match(stdout, /partial line without newline/);
    assert.ok(stdout.split("y".repeat(3_000_000)).length === 3, "both megabyte writes arrive");
    assert.match(stdout, /\tnoisy-0\tINFO\tnoisy console line\n/);
    assert.match(stdout, /\tnoisy-1\tINFO\tnoisy console line\n/);
  });
});

Deno.test("runtime2: the event reaches the process without command-line arguments", async () => {
  await withBootstrap({
    runtime: "runtime2",
    handler: "handlers.startedWith",
    env: { DENO_LAMBDA_PERMISSIONS: "--allow-all" }, // Deno grants /proc/self only to --allow-all
  }, async ({ api }) => {
    const marker = `secret-${crypto.randomUUID()}`;
    const r = JSON.parse((await api.invoke({ marker })).body);
    assert.deepEqual(r.args, []);
    assert.ok(!r.cmdline.includes(marker), r.cmdline);
    assert.match(r.cmdline, /runtime\.js/);
  });
});
