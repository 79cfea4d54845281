// runtime1 with its busy wait on (DENO_LAMBDA_BUSY_WAIT_US): the bootstrap
// spins on the bridge socket for Deno's answer. Quick and slow answers, errors
// and a Deno that exits are reported as without it. (How the spin behaves is
// tested in bootstrap/busy_wait_test.go.)
import assert from "node:assert/strict";
import { withBootstrap } from "./_harness.ts";

Deno.test("runtime1: with the busy wait on, answers quick and slow, errors and exits all come through", async () => {
  const env = { DENO_LAMBDA_BUSY_WAIT_US: "1000" };
  await withBootstrap({ handler: "handlers.sleeps", env }, async ({ api }) => {
    for (const ms of [0, 0, 5, 0, 20, 20, 0, 0]) {
      const out = await api.invoke({ ms });
      assert.equal(out.kind, "response", out.body);
      assert.deepEqual(JSON.parse(out.body), { slept: ms });
    }
  });
  await withBootstrap({ handler: "handlers.lifecycle", env }, async ({ api }) => {
    const first = JSON.parse((await api.invoke({})).body);
    assert.equal(first.invocations, 1);
    const exited = await api.invoke({ exit: 3 });
    assert.equal(exited.kind, "error");
    assert.equal(exited.errorType, "Runtime.ExitError");
    const fresh = JSON.parse((await api.invoke({})).body);
    assert.notEqual(fresh.pid, first.pid);
    assert.equal(fresh.invocations, 1);
  });
  await withBootstrap({ handler: "handlers.throwsError", env }, async ({ api }) => {
    const out = await api.invoke({});
    assert.equal(out.kind, "error");
    assert.equal(out.errorType, "TypeError");
    assert.equal(JSON.parse(out.body).errorMessage, "bad input");
  });
});
