// Hostile functions against the runtime's processes: nothing a function starts
// outlives its invocation (runtime2) or the environment's shutdown (both), and
// its own SIGTERM listeners run at shutdown, idle, busy or streaming.
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { type Bootstrap, denoProcessesOf, processesRunning, withBootstrap } from "./_harness.ts";

const HOSTILE = "hostile.run";
/** Run permission, which starting processes needs; env for TMPDIR. */
const RUN = { DENO_LAMBDA_PERMISSIONS: "--allow-run --allow-env" };

/** A tag for one test's sleepers, and a way to kill any it leaves. */
function sleepers() {
  const tag = String(Math.floor(Math.random() * 1e9));
  const text = `sleep 3600.${tag}`;
  return {
    tag,
    alive: () => processesRunning(text),
    cleanUp: async () => {
      for (const pid of await processesRunning(text)) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone */ }
      }
    },
  };
}

for (const runtime of RUNTIMES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${runtime}: ${name}`, fn);
  // Every process has imported the function, and so holds its SIGTERM
  // listeners: runtime2's spare as well as its busy process.
  const everyImport = runtime === "runtime2"
    ? /imported in \d+\n[^]*imported in \d+\n/
    : /imported in \d+\n/;

  if (runtime === "runtime2") {
    t(
      "processes a function starts, setsid and double-forked ones too, end with its invocation",
      async () => {
        const s = sleepers();
        try {
          await withBootstrap({ runtime, handler: HOSTILE, env: RUN }, async (b) => {
            const out = await b.api.invoke({ run: "spawnOrphans", tag: s.tag });
            assert.equal(out.kind, "response", out.body);
            await b.api.nextCalled(2); // the used process is discarded before the next GET
            assert.deepEqual(await s.alive(), []);
            const next = await b.api.invoke({ run: "whoami" });
            assert.equal(next.kind, "response", next.body);
          });
        } finally {
          await s.cleanUp();
        }
      },
    );
  }

  t("processes a function starts are gone once the bootstrap exits on SIGTERM", async () => {
    const s = sleepers();
    try {
      await withBootstrap({ runtime, handler: HOSTILE, env: RUN }, async (b) => {
        const out = await b.api.invoke({ run: "spawnOrphans", tag: s.tag });
        assert.equal(out.kind, "response", out.body);
        if (runtime === "runtime1") {
          // They belong to the environment until it ends.
          assert.equal((await s.alive()).length, 2);
        }
        assert.equal((await b.stop("SIGTERM")).code, 0);
        assert.deepEqual(await s.alive(), []);
        assert.deepEqual(await denoProcessesOf(b.tmpDir), []);
      });
    } finally {
      await s.cleanUp();
    }
  });

  t("a chain of processes each in a session of its own ends as a whole", async () => {
    const s = sleepers();
    try {
      await withBootstrap({ runtime, handler: HOSTILE, env: RUN }, async (b) => {
        const out = await b.api.invoke({ run: "spawnOrphans", tag: s.tag, depth: 120 });
        assert.equal(out.kind, "response", out.body);
        await b.api.nextCalled(2);
        if (runtime === "runtime2") assert.deepEqual(await s.alive(), []);
        else assert.equal((await s.alive()).length, 121);
        assert.equal((await b.stop("SIGTERM")).code, 0);
        assert.deepEqual(await s.alive(), []);
      });
    } finally {
      await s.cleanUp();
    }
  });

  t("processes a function starts end when its invocation times out", async () => {
    const s = sleepers();
    try {
      await withBootstrap({ runtime, handler: HOSTILE, env: RUN }, async (b) => {
        const out = await b.api.invoke({ run: "spawnOrphans", tag: s.tag, hang: true }, {
          timeoutMs: 1500,
        });
        assert.equal(out.errorType, "Runtime.Timeout", out.body);
        await b.api.nextCalled(2);
        assert.deepEqual(await s.alive(), []);
        const next = await b.api.invoke({ run: "whoami" });
        assert.equal(next.kind, "response", next.body);
      });
    } finally {
      await s.cleanUp();
    }
  });

  t(
    "on SIGTERM an idle environment runs the function's shutdown listeners, then ends",
    async () => {
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        assert.equal((await b.api.invoke({ run: "whoami" })).kind, "response");
        await b.api.nextCalled(2);
        const [pid] = await denoProcessesOf(b.tmpDir);
        // runtime2's spare imports the function while the first event runs.
        await b.stdoutMatches(new RegExp(`imported in ${pid}\n`));
        assert.equal((await b.stop("SIGTERM")).code, 0);
        assert.match(b.stdout(), new RegExp(`Deno SIGTERM listener ran in ${pid}\n`));
        assert.match(b.stdout(), new RegExp(`process SIGTERM listener ran in ${pid}\n`));
        assert.deepEqual(await denoProcessesOf(b.tmpDir), []);
      });
    },
  );

  // The handler's wait and the deadline are Lambda's longest timeout, further
  // off than withBootstrap's own wait for a test: a bootstrap that exits once
  // the handler is done or the deadline passed, not on SIGTERM, fails it.
  const farOff = { ms: 15 * 60_000 };
  const farDeadline = { timeoutMs: 15 * 60_000 };

  t(
    "on SIGTERM mid-invocation the busy process runs its shutdown listeners, then ends",
    async () => {
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        b.api.invoke({ run: "waits", ...farOff }, farDeadline).catch(() => {}); // never answered
        const pid = await stdoutPid(b, /waiting in (\d+)\n/);
        await sigtermRunsListeners(b, pid, everyImport);
      });
    },
  );

  t(
    "on SIGTERM mid-stream the streaming process runs its shutdown listeners, then ends, its post abandoned",
    async () => {
      await withBootstrap(
        { runtime, handler: "hostile.streamsThenWaits", streams: true },
        async (b) => {
          const posting = new Promise<void>((resolve) => {
            b.api.streamPace = () => Promise.resolve(resolve());
          });
          const outcome = b.api.invoke(farOff, farDeadline);
          outcome.catch(() => {});
          await posting; // the first chunk reached the Runtime API: the post is in flight
          const pid = await stdoutPid(b, /streaming in (\d+)\n/);
          await sigtermRunsListeners(b, pid, everyImport);
          // As for an invocation cut short without a stream, no answer is posted.
          await b.api.incompletePost();
          await assert.rejects(outcome, /got no result/);
        },
      );
    },
  );

  t(
    "on SIGTERM as a stream's handler settles its process runs its shutdown listeners, then ends",
    async () => {
      await withBootstrap(
        { runtime, handler: "hostile.endsThenWaits", streams: true },
        async (b) => {
          const out = await b.api.invoke(farOff, farDeadline);
          assert.equal(out.body, "all of it\n");
          const pid = await stdoutPid(b, /settling in (\d+)\n/);
          await sigtermRunsListeners(b, pid, everyImport);
        },
      );
    },
  );
}

/**
 * Once every Deno process has imported the function (everyImport matches the
 * bootstrap's stdout), SIGTERM ends the bootstrap with 0, after pid's shutdown
 * listeners ran, and leaves no Deno.
 */
async function sigtermRunsListeners(b: Bootstrap, pid: string, everyImport: RegExp): Promise<void> {
  await b.stdoutMatches(everyImport);
  assert.equal((await b.stop("SIGTERM")).code, 0);
  assert.match(b.stdout(), new RegExp(`Deno SIGTERM listener ran in ${pid}\n`));
  assert.match(b.stdout(), new RegExp(`process SIGTERM listener ran in ${pid}\n`));
  assert.deepEqual(await denoProcessesOf(b.tmpDir), []);
}

/** The pid in the first line of the bootstrap's stdout that matches re, once one does. */
async function stdoutPid(b: Bootstrap, re: RegExp): Promise<string> {
  await b.stdoutMatches(re);
  return b.stdout().match(re)![1];
}
