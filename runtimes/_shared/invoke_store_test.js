// @ts-check
import assert from "node:assert/strict";
import { InvokeStore, PROTECTED_KEYS } from "./invoke_store.js";

Deno.test("the store holds the current invocation's ids, as @aws/lambda-invoke-store reads them", async () => {
  const store = new InvokeStore();
  assert.equal(store.hasContext(), false);
  assert.equal(store.getRequestId(), "-");
  const context = {
    [PROTECTED_KEYS.REQUEST_ID]: "r-1",
    [PROTECTED_KEYS.X_RAY_TRACE_ID]: "Root=1-a",
    [PROTECTED_KEYS.TENANT_ID]: "t-1",
  };
  const got = await store.run(context, async () => {
    await Promise.resolve();
    return [store.getRequestId(), store.getXRayTraceId(), store.getTenantId()];
  });
  assert.deepEqual(got, ["r-1", "Root=1-a", "t-1"]);
  // The package's keys are registered symbols: its copy and this store agree on them.
  assert.equal(store.get(Symbol.for("_AWS_LAMBDA_X_RAY_TRACE_ID")), "Root=1-a");
  assert.equal(store.getTraceparent(), undefined);
});

Deno.test("a function may keep keys of its own in the store, but not change the runtime's", () => {
  const store = new InvokeStore();
  store.run({ [PROTECTED_KEYS.REQUEST_ID]: "r-2" }, () => {
    store.set("mine", 1);
    assert.equal(store.get("mine"), 1);
    assert.throws(
      () => store.set(PROTECTED_KEYS.REQUEST_ID, "forged"),
      /^Error: Cannot modify protected Lambda context field: Symbol\(_AWS_LAMBDA_REQUEST_ID\)$/,
    );
    assert.equal(store.getRequestId(), "r-2");
  });
});

Deno.test("under concurrency each invocation reads its own ids, after awaits and in timers", async () => {
  const { AsyncLocalStorage } = await import("node:async_hooks");
  const store = new InvokeStore(new AsyncLocalStorage());
  const seen = await Promise.all(Array.from({ length: 16 }, (_, i) =>
    store.run({
      [PROTECTED_KEYS.REQUEST_ID]: `r-${i}`,
      [PROTECTED_KEYS.X_RAY_TRACE_ID]: `Root=1-${i}`,
    }, async () => {
      store.set("mine", i);
      // Later invocations finish first: every context is live at once.
      await new Promise((resolve) => setTimeout(resolve, 16 - i));
      const inTimer = await new Promise((resolve) =>
        setTimeout(() => resolve(store.getRequestId()))
      );
      return [store.getRequestId(), store.getXRayTraceId(), store.get("mine"), inTimer];
    })));
  assert.deepEqual(
    seen,
    Array.from({ length: 16 }, (_, i) => [`r-${i}`, `Root=1-${i}`, i, `r-${i}`]),
  );
  // Outside every invocation there is none, and nothing to set a key on.
  assert.equal(store.hasContext(), false);
  assert.throws(() => store.set("mine", 1), /^Error: No context available$/);
});
