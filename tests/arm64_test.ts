// The arm64 layers, run: the arm64 bootstrap and the arm64 Deno, from the
// arm64 zips, under qemu-user against the mock Runtime API. A layer we publish
// but never ran is not shipped, so in CI (CI=true) a missing qemu fails these
// tests; elsewhere they are skipped, saying why. Under qemu Deno takes seconds
// to start, so every wait is bounded generously.
import assert from "node:assert/strict";
import { archProblem } from "../scripts/_arch_runner.ts";
import { RUNTIMES } from "../scripts/_paths.ts";
import {
  type Bootstrap,
  denoProcessesOf,
  listeningPorts,
  processesRunning,
  withBootstrap,
  within,
} from "./_harness.ts";

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

for (const runtime of RUNTIMES) {
  Deno.test({
    name:
      `arm64 ${runtime}: a streamed response passes through the arm64 bootstrap, error trailers and all`,
    ignore: problem !== null && !inCi,
    fn: async () => {
      if (problem !== null) throw new Error(`Cannot run the arm64 layers in CI: ${problem}`);
      const options = { runtime, arch: "arm64" as const, streams: true };
      await withBootstrap({ ...options, handler: "streaming.chunks" }, async (b) => {
        const out = await within(
          WITHIN_MS,
          b.api.invoke({ n: 3, size: 4 }, { timeoutMs: WITHIN_MS }),
          "no streamed result under qemu",
        );
        assert.equal(out.kind, "response", out.body);
        assert.equal(out.body, "x".repeat(12));
        assert.equal(out.stream?.trailers["lambda-runtime-function-error-type"], undefined);
      });
      await withBootstrap({ ...options, handler: "streaming.failsAfter" }, async (b) => {
        const out = await within(
          WITHIN_MS,
          b.api.invoke({}, { timeoutMs: WITHIN_MS }),
          "no streamed error under qemu",
        );
        assert.equal(out.body, "partial ");
        assert.equal(out.errorType, "LateError");
      });
    },
  });
}

// The hostile functions whose defences rest on the kernel (the channel, the
// shutdown signals, the processes a function starts) against the arm64
// bootstrap. qemu-user 7.2 refuses PR_SET_CHILD_SUBREAPER, so processes whose
// parent already exited (a double fork) are out of reach under it; a
// setsid'd child is not.
for (const runtime of RUNTIMES) {
  const t = (name: string, fn: () => Promise<void>) =>
    Deno.test({
      name: `arm64 ${runtime}: ${name}`,
      ignore: problem !== null && !inCi,
      fn: async () => {
        if (problem !== null) throw new Error(`Cannot run the arm64 layers in CI: ${problem}`);
        await fn();
      },
    });
  const invoke = (b: Bootstrap, event: unknown, requestId?: string) =>
    within(
      WITHIN_MS,
      b.api.invoke(event, { timeoutMs: WITHIN_MS, requestId }),
      `no result under qemu for ${JSON.stringify(event)}`,
    );

  t("frames forged into every reachable channel never become an answer", async () => {
    await withBootstrap({ runtime, arch: "arm64", handler: "hostile.run" }, async (b) => {
      const ports = await listeningPorts(b.pid);
      for (let i = 0; i < 2; i++) {
        assert.equal((await invoke(b, { run: "forgeChannels", ports })).kind, "response");
        const honest = await invoke(b, { run: "whoami", i }, `honest-${i}`);
        assert.equal(JSON.parse(honest.body).requestId, `honest-${i}`);
      }
    });
  });

  t(
    "on SIGTERM mid-invocation the function's shutdown listeners run, then nothing is left",
    async () => {
      await withBootstrap({ runtime, arch: "arm64", handler: "hostile.run" }, async (b) => {
        b.api.invoke({ run: "waits", ms: WITHIN_MS }, { timeoutMs: WITHIN_MS }).catch(() => {});
        await within(WITHIN_MS, b.stdoutMatches(/waiting in \d+\n/), "the handler never ran");
        const pid = b.stdout().match(/waiting in (\d+)\n/)![1];
        assert.equal((await b.stop("SIGTERM")).code, 0);
        assert.match(b.stdout(), new RegExp(`Deno SIGTERM listener ran in ${pid}\n`));
        assert.deepEqual(await denoProcessesOf(b.tmpDir), []);
      });
    },
  );

  t("a process a function starts in a session of its own ends with the environment", async () => {
    const tag = String(Math.floor(Math.random() * 1e9));
    const sleepers = () => processesRunning(`sleep 3600.${tag}`);
    try {
      await withBootstrap({
        runtime,
        arch: "arm64",
        handler: "hostile.run",
        env: { DENO_LAMBDA_PERMISSIONS: "--allow-run --allow-env" },
      }, async (b) => {
        const out = await invoke(b, { run: "spawnOrphans", tag, setsidOnly: true });
        assert.equal(out.kind, "response", out.body);
        await within(WITHIN_MS, b.api.nextCalled(2), "no second GET /next");
        // runtime2 ends it with the invocation; runtime1 with the environment.
        assert.equal((await sleepers()).length, runtime === "runtime2" ? 0 : 1);
        assert.equal((await b.stop("SIGTERM")).code, 0);
        assert.deepEqual(await sleepers(), []);
      });
    } finally {
      for (const pid of await sleepers()) Deno.kill(pid, "SIGKILL");
    }
  });
}
