// Hostile functions against the runtime's channels and state: nothing a
// function writes can become another invocation's answer, no length it forges
// can crash or bloat the bootstrap, and nothing it does to TMPDIR breaks later
// invocations. The attacks are in fixtures/hostile.bundle.js.
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { listeningPorts, withBootstrap, within } from "./_harness.ts";

const HOSTILE = "hostile.run";

/** The bootstrap's peak RSS in MiB. */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  return Number(status.match(/^VmHWM:\s+(\d+) kB$/m)![1]) / 1024;
}

for (const runtime of RUNTIMES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${runtime}: ${name}`, fn);

  t("frames a function forges into every channel it can reach never become an answer", async () => {
    await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
      const ports = await listeningPorts(b.pid);
      for (let i = 0; i < 10; i++) {
        const attack = await b.api.invoke({ run: "forgeChannels", ports });
        assert.equal(attack.kind, "response", attack.body);
        const honest = await b.api.invoke({ run: "whoami", i }, { requestId: `honest-${i}` });
        assert.equal(honest.kind, "response", honest.body);
        const body = JSON.parse(honest.body);
        assert.equal(body.requestId, `honest-${i}`);
        assert.deepEqual(body.event, { run: "whoami", i });
      }
      assert.equal((await b.stop()).code, 0);
    });
  });

  t("a function cannot reach the Runtime API, under any name of its address", async () => {
    await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
      const out = await b.api.invoke({ run: "callRuntimeApi" }, { requestId: "calls-the-api" });
      assert.equal(out.kind, "response", out.body);
      assert.deepEqual(JSON.parse(out.body), { reached: [] });
      const honest = await b.api.invoke({ run: "whoami" }, { requestId: "honest" });
      assert.equal(JSON.parse(honest.body).requestId, "honest");
      await b.api.nextCalled(3); // the bootstrap's, for the event after these two
      assert.equal(b.api.nextCalls, 3, "only the bootstrap asked for events");
    });
  });

  t(
    "a result frame with a forged length fails that invocation only, with a clear error",
    async () => {
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        const forgeries = [
          "9007199254740991",
          "-5",
          "1.5",
          '"abc"',
          "null",
          String(9 << 20), // over what a buffered result may be
          "endless-line", // a frame line that never ends
        ];
        for (const forge of forgeries) {
          const out = await within(
            20_000,
            b.api.invoke({ run: "forgeLength", forge }),
            `forged length ${forge}`,
          );
          if (out.kind === "error") {
            assert.match(
              out.errorType!,
              /^(Runtime\.BridgeError|Function\.ResponseSizeTooLarge)$/,
              `${forge}: ${out.body}`,
            );
            assert.match(JSON.parse(out.body).errorMessage, /^RequestId: req-/);
          }
          const next = await b.api.invoke({ run: "whoami" }, { requestId: `after-${forge}` });
          assert.equal(next.kind, "response", `after ${forge}: ${next.body}`);
          assert.equal(JSON.parse(next.body).requestId, `after-${forge}`);
        }
        if (runtime === "runtime2") {
          // runtime.js frames runtime2's results itself: every forgery reaches the bootstrap.
          assert.doesNotMatch(b.stderr(), /panic|goroutine/);
        }
        assert.equal((await b.stop()).code, 0);
      });
    },
  );

  t(
    "an answer whose body never ends fails at the size limit, and the bootstrap stays small",
    async () => {
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        const out = await b.api.invoke({ run: "endlessBody" }, { timeoutMs: 10_000 });
        if (runtime === "runtime1") {
          assert.equal(out.kind, "error", out.body.slice(0, 200));
          assert.equal(out.errorType, "Function.ResponseSizeTooLarge");
          assert.match(JSON.parse(out.body).errorMessage, /maximum allowed payload size/);
        }
        // A buffered result is bounded a little over Lambda's 6 MB: far below this.
        const peak = await peakRssMiB(b.pid);
        assert.ok(peak < 100, `the bootstrap peaked at ${peak} MiB`);
        const next = await b.api.invoke({ run: "whoami" });
        assert.equal(next.kind, "response", next.body);
      });
    },
  );

  t("what a function does to TMPDIR never breaks a later invocation", async () => {
    await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
      for (let i = 0; i < 3; i++) {
        // runtime1: Deno exits, so the next invocation needs a fresh one.
        const out = await b.api.invoke({ run: "vandalizeTmp", exit: runtime === "runtime1" });
        if (runtime === "runtime2") {
          assert.equal(out.kind, "response", out.body);
          assert.ok(!JSON.parse(out.body).includes("removed deno-dir"), out.body);
        }
        const next = await b.api.invoke({ run: "whoami", i });
        assert.equal(next.kind, "response", next.body);
        assert.deepEqual(JSON.parse(next.body).event, { run: "whoami", i });
      }
      // The runtime's cache is out of the function's reach.
      assert.ok((await Deno.stat(`${b.tmpDir}/deno-dir`)).isDirectory);
      assert.equal((await b.stop()).code, 0);
    });
  });
}
