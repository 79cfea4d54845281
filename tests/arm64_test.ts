// The arm64 layers, run: the arm64 bootstrap and the arm64 Deno, from the
// arm64 zips, under qemu-user against the mock Runtime API. A layer we publish
// but never ran is not shipped, so in CI (CI=true) a missing qemu fails these
// tests; elsewhere they are skipped, saying why. Under qemu Deno takes seconds
// to start, so every wait is bounded generously.
import assert from "node:assert/strict";
import { archProblem } from "../scripts/_arch_runner.ts";
import { RUNTIMES } from "../scripts/_paths.ts";
import { withBootstrap, within } from "./_harness.ts";

const WITHIN_MS = 90_000;

const problem = await archProblem("arm64");
const inCi = Deno.env.get("CI") === "true";
if (problem !== null && !inCi) console.log(`arm64 tests skipped: ${problem}`);

for (const runtime of RUNTIMES) {
  Deno.test({
    name: `arm64 ${runtime}: the arm64 bootstrap and Deno serve invocations under qemu`,
    ignore: problem !== null && !inCi,
    fn: async () => {
      if (problem !== null) throw new Error(`Cannot run the arm64 layers in CI: ${problem}`);
      await withBootstrap({ runtime, arch: "arm64", handler: "handlers.echo" }, async (b) => {
        const results = [];
        for (let i = 0; i < 4; i++) {
          const out = await within(
            WITHIN_MS,
            b.api.invoke({ i }, { timeoutMs: WITHIN_MS, traceId: `Root=1-arm64-${i}` }),
            `invocation ${i}: no result under qemu`,
          );
          assert.equal(out.kind, "response", out.body);
          results.push(JSON.parse(out.body));
        }
        assert.deepEqual(results.map((r) => r.event.i), [0, 1, 2, 3]);
        assert.deepEqual(results.map((r) => r.arch), ["aarch64", "aarch64", "aarch64", "aarch64"]);
        assert.deepEqual(
          results.map((r) => r.traceId),
          [0, 1, 2, 3].map((i) => `Root=1-arm64-${i}`),
        );
        assert.deepEqual(
          results.map((r) => r.invocations),
          runtime === "runtime1" ? [1, 2, 3, 4] : [1, 1, 1, 1],
        );
      });
    },
  });
}
