// Lambda Managed Instances: with AWS_LAMBDA_MAX_CONCURRENCY set, the runtime
// keeps that many invocations going at once, each with its own request id,
// trace id and tenant id (in the invocation store, not the process-wide
// _X_AMZN_TRACE_ID) and its own request id on every log line. A timeout or a
// crash fails the invocations it must and no others (bootstrap/concurrency.go).
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { type Bootstrap, withBootstrap } from "./_harness.ts";
import type { Outcome } from "./_mock_runtime_api.ts";

const MANAGED = { AWS_LAMBDA_MAX_CONCURRENCY: "8", AWS_LAMBDA_LOG_FORMAT: "JSON" };

interface Seen {
  awsRequestId: string;
  requestId: string;
  traceId: string | null;
  tenantId: string | null;
  envTraceId: string | null;
  pid: number;
  mostRunning: number;
}

function seen(out: Outcome): Seen {
  assert.equal(out.kind, "response", out.body);
  return JSON.parse(out.body);
}

/** Resolves once every request id has logged its start; the pids they run in. */
async function started(b: Bootstrap, ids: string[]): Promise<Map<string, number>> {
  for (const id of ids) await b.stdoutMatches(new RegExp(`"start ${id} \\d+"`));
  const pids = new Map<string, number>();
  for (const id of ids) {
    pids.set(id, Number(b.stdout().match(new RegExp(`"start ${id} (\\d+)"`))![1]));
  }
  return pids;
}

for (const runtime of RUNTIMES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${runtime}: ${name}`, fn);

  t(
    "16 events at concurrency 8: 8 at once, each with its own ids after an await, and its own log lines",
    async () => {
      await withBootstrap({ runtime, handler: "handlers.concurrent", env: MANAGED }, async (b) => {
        const outs = await Promise.all(
          Array.from({ length: 16 }, (_, i) =>
            b.api.invoke({ ms: 300 }, {
              requestId: `mi-${i}`,
              traceId: `Root=1-00000000-${String(i).padStart(24, "0")}`,
              tenantId: i % 2 ? `tenant-${i}` : undefined,
            })),
        );
        assert.equal(
          b.api.mostInFlight,
          8,
          "as many invocations at once as AWS_LAMBDA_MAX_CONCURRENCY, never more",
        );
        outs.forEach((out, i) => {
          assert.deepEqual(
            { ...seen(out), pid: 0, mostRunning: 0 },
            {
              awsRequestId: `mi-${i}`,
              requestId: `mi-${i}`,
              traceId: `Root=1-00000000-${String(i).padStart(24, "0")}`,
              tenantId: i % 2 ? `tenant-${i}` : null,
              // One variable cannot be every invocation's: the store has it instead.
              envTraceId: null,
              pid: 0,
              mostRunning: 0,
            },
          );
        });
        const pids = new Set(outs.map((out) => seen(out).pid));
        if (runtime === "runtime2") {
          assert.equal(pids.size, 16, "each invocation in a fresh process");
        } else {
          assert.ok(pids.size <= 2, "runtime1 keeps a Deno process per CPU (2 here), no more");
          assert.ok(
            Math.max(...outs.map((out) => seen(out).mostRunning)) >= 4,
            "each Deno runs several handlers at once",
          );
        }
        // Every record carries the request id of the invocation that wrote it,
        // though they interleave. (The last may reach stdout after the result.)
        for (let i = 0; i < 16; i++) await b.stdoutMatches(new RegExp(`"end mi-${i}"`));
        const records = b.stdout().split("\n").filter((l) => l.startsWith("{")).map((l) =>
          JSON.parse(l)
        );
        const mine = records.filter((r) => /^(start|end) mi-/.test(r.message));
        assert.equal(mine.length, 32);
        for (const r of mine) assert.equal(r.requestId, r.message.split(" ")[1], JSON.stringify(r));
        const order = mine.map((r) => r.message.split(" ").slice(0, 2).join(" "));
        assert.ok(
          order.indexOf("start mi-1") < order.indexOf("end mi-0"),
          `the invocations' records interleave: ${order.join(", ")}`,
        );
      });
    },
  );

  t(
    "an invocation past its deadline fails alone; the others, and the next, are served",
    async () => {
      await withBootstrap({ runtime, handler: "handlers.concurrent", env: MANAGED }, async (b) => {
        // The deadline leaves a loaded machine time to start the handler, whose
        // start the others wait for; a short one could pass before it.
        const late = b.api.invoke({ ms: 60_000 }, { requestId: "late", timeoutMs: 3_000 });
        await Promise.race([
          started(b, ["late"]),
          late.then((out) => assert.fail(`ended before its handler started: ${out.body}`)),
        ]);
        const others = Array.from(
          { length: 3 },
          (_, i) => b.api.invoke({ ms: 600 }, { requestId: `on-time-${i}` }),
        );
        const timedOut = await late;
        assert.equal(timedOut.errorType, "Runtime.Timeout", timedOut.body);
        for (const out of await Promise.all(others)) assert.equal(out.kind, "response", out.body);
        const next = seen(await b.api.invoke({ ms: 1 }, { requestId: "after" }));
        if (runtime === "runtime1") {
          // The process is not replaced: a handler past its deadline runs on, as
          // on Managed Instances, where getRemainingTimeInMillis goes below zero.
          assert.equal(next.pid, (await started(b, ["late"])).get("late"));
        }
      });
    },
  );

  t(
    "a crash fails the invocations in flight in that process only, and the next event is served",
    async () => {
      const env = { ...MANAGED, DENO_LAMBDA_WORKERS: "2" };
      await withBootstrap({ runtime, handler: "handlers.concurrent", env }, async (b) => {
        const sleepers = ["s-0", "s-1", "s-2", "s-3"];
        const sleeping = sleepers.map((requestId) => b.api.invoke({ ms: 1_500 }, { requestId }));
        const pids = await started(b, sleepers);
        const crash = await b.api.invoke({ ms: 0, exit: true }, { requestId: "crash" });
        assert.equal(crash.errorType, "Runtime.ExitError", crash.body);
        const crashed = (await started(b, ["crash"])).get("crash");
        const outs = await Promise.all(sleeping);
        const failed = sleepers.filter((_, i) => outs[i].kind === "error");
        for (const i of sleepers.keys()) {
          if (outs[i].kind === "error") assert.equal(outs[i].errorType, "Runtime.ExitError");
        }
        // Exactly the invocations in the crashed process fail: with runtime1,
        // those its worker was serving; with runtime2, none but its own.
        assert.deepEqual(failed, sleepers.filter((id) => pids.get(id) === crashed));
        assert.ok(failed.length < sleepers.length, "the other worker's invocations are served");
        if (runtime === "runtime1") assert.ok(failed.length > 0, "the crash hit a busy worker");
        const next = await b.api.invoke({ ms: 1 }, { requestId: "after" });
        assert.equal(next.kind, "response", next.body);
      });
    },
  );

  t(
    "an error escaping a handler fails the invocations in flight in its process, and no other",
    async () => {
      const env = { ...MANAGED, DENO_LAMBDA_WORKERS: "1" };
      await withBootstrap({ runtime, handler: "handlers.concurrent", env }, async (b) => {
        const sleeping = ["a", "b"].map((requestId) => b.api.invoke({ ms: 1_500 }, { requestId }));
        const first = await started(b, ["a", "b"]);
        const escaper = await b.api.invoke({ ms: 1_000, escape: true }, { requestId: "escaper" });
        assert.equal(escaper.errorType, "Error", escaper.body);
        assert.match(JSON.parse(escaper.body).errorMessage, /escaped from a timer/);
        for (const out of await Promise.all(sleeping)) {
          if (runtime === "runtime1") {
            // One process: it cannot be told whose error it was.
            assert.equal(out.errorType, "Error", out.body);
            assert.match(JSON.parse(out.body).errorMessage, /escaped from a timer/);
          } else {
            assert.equal(out.kind, "response", out.body);
          }
        }
        const next = seen(await b.api.invoke({ ms: 1 }, { requestId: "after" }));
        assert.notEqual(next.pid, first.get("a"), "the process is replaced");
      });
    },
  );

  t(
    "a large result stalling past its deadline fails alone, and leaves the others served",
    async () => {
      const env = { ...MANAGED, DENO_LAMBDA_WORKERS: "1" };
      await withBootstrap({ runtime, handler: "handlers.dispatch", env }, async (b) => {
        const innocent = b.api.invoke({ fn: "concurrent", ms: 2_500 }, { requestId: "innocent" });
        innocent.catch(() => {}); // awaited below; a failure must not surface before the assertions
        await started(b, ["innocent"]);
        const big = await b.api.invoke(
          { fn: "bigThenBlock", ms: 300, block: 1_500, size: 6_000_000 },
          { requestId: "big", timeoutMs: 600 },
        );
        // Whether the result stalls before its end or gets out whole first is
        // the machine's timing; either way it concerns this invocation only.
        if (big.kind === "error") assert.equal(big.errorType, "Runtime.Timeout", big.body);
        else assert.equal(big.body.length, 6_000_002);
        const out = await innocent;
        assert.equal(out.kind, "response", out.body);
        assert.equal((await b.api.invoke({ fn: "concurrent", ms: 1 })).kind, "response");
      });
    },
  );

  t("log records from processes at once never interleave", async () => {
    const env = { ...MANAGED, DENO_LAMBDA_WORKERS: "4" };
    await withBootstrap({ runtime, handler: "handlers.dispatch", env }, async (b) => {
      const ids = Array.from({ length: 8 }, (_, i) => `L${i}`);
      await Promise.all(
        ids.map((requestId) => b.api.invoke({ fn: "bigLog", n: 20, size: 10_000 }, { requestId })),
      );
      // Every record is in once 160 whole lines are; each must then parse.
      await b.stdoutMatches(/^(?:[^\n]*\n){160}/);
      const lines = b.stdout().split("\n").slice(0, -1);
      for (const line of lines) {
        const record = JSON.parse(line);
        assert.equal(record.message, record.requestId.repeat(10_000));
      }
    });
  });

  t("the end of one invocation leaves the processes another started running", async () => {
    const env = { ...MANAGED, DENO_LAMBDA_PERMISSIONS: "--allow-all" };
    await withBootstrap({ runtime, handler: "handlers.dispatch", env }, async (b) => {
      const orphan = b.api.invoke({ fn: "orphanMaker", ms: 1_500 }, { requestId: "orphan" });
      await started(b, ["orphan"]);
      assert.equal((await b.api.invoke({ fn: "concurrent", ms: 300 })).kind, "response");
      const out = await orphan;
      assert.equal(JSON.parse(out.body).alive, true, out.body);
    });
  });
}

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: large results share the bootstrap's room: those past it wait, and all arrive whole`, async () => {
    // 12 results of 6 MB at once would be 72 MB in the bootstrap; its room
    // for results read whole under concurrency is 32 MiB, so 5 fit and 7 wait
    // until a post is answered.
    const env = { AWS_LAMBDA_MAX_CONCURRENCY: "12" };
    await withBootstrap({ runtime, handler: "handlers.bigResponse", env }, async (b) => {
      let held = 0;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => release = resolve);
      let overflow!: () => void;
      const overflowed = new Promise<void>((resolve) => overflow = resolve);
      b.api.beforeResultBody = async () => {
        if (++held > 5) overflow();
        await gate;
      };
      const bytes = 6_000_000;
      const outs = Promise.all(Array.from({ length: 12 }, () => b.api.invoke({ bytes })));
      outs.catch(() => {}); // awaited below
      const waiting = b.stderrMatches(/^(?:[\s\S]*?waits for room){7}/);
      try {
        await Promise.race([waiting, overflowed]);
        assert.equal(held <= 5, true, `${held} results held at once, over the room`);
      } finally {
        release(); // else the mock's shutdown would wait on the held posts
      }
      for (const out of await outs) {
        assert.equal(out.kind, "response", out.body.slice(0, 300));
        assert.equal(out.body.length, bytes);
      }
      assert.match(b.stderr(), /a result of 6000000 bytes waits for room/);
    });
  });
}

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: a small result waiting for room arrives whole, though its process has exited`, async () => {
    // Six results of 5.59 MB fill the 32 MiB room to within 14 KB while their
    // posts are held, so a 100 KB result waits for a post to be answered,
    // whichever order the waits come in. Under runtime2 its process has sent
    // it whole and exits meanwhile: the wait is the bootstrap's, and outlasts
    // the second the bootstrap gives what a process sent just before it
    // exited.
    const env = { AWS_LAMBDA_MAX_CONCURRENCY: "8" };
    await withBootstrap({ runtime, handler: "handlers.bigResponse", env }, async (b) => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => release = resolve);
      let allHeld!: () => void;
      const held = new Promise<void>((resolve) => allHeld = resolve);
      let posts = 0;
      b.api.beforeResultBody = () => {
        if (++posts === 6) allHeld(); // each post holds its result's room
        return gate;
      };
      const bigs = Promise.all(Array.from({ length: 6 }, () => b.api.invoke({ bytes: 5_590_000 })));
      bigs.catch(() => {}); // awaited below
      let small: Promise<Outcome> | undefined;
      try {
        await held;
        small = b.api.invoke({ bytes: 100_000 });
        await b.stderrMatches(/a result of 100000 bytes waits for room/);
        await new Promise((resolve) => setTimeout(resolve, 2000));
      } finally {
        release(); // else the mock's shutdown would wait on the held posts
      }
      const out = await small!;
      assert.equal(out.kind, "response", out.body.slice(0, 300));
      assert.equal(out.body.length, 100_000);
      for (const big of await bigs) assert.equal(big.kind, "response", big.body.slice(0, 300));
    });
  });
}

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: a result announced and then held back gives its room up, and the others' results arrive`, async () => {
    // Five results are announced at 8 MiB each and never sent: four fill the
    // 32 MiB room and the fifth waits for it, and so does a 100 KB result
    // after them. runtime.js writes a result whole after its head, so the
    // bootstrap gives a body that has room a few seconds to arrive, not the
    // rest of its invocation's time: the held-back ones fail, and the 100 KB
    // result arrives well within its own deadline.
    const env = { AWS_LAMBDA_MAX_CONCURRENCY: "8" };
    await withBootstrap({ runtime, handler: "hostile.run", env }, async (b) => {
      const farOff = String(Date.now() + 60_000);
      const stalls = Array.from(
        { length: 5 },
        (_, i) =>
          b.api.invoke({ run: "stallResult" }, { requestId: `stall-${i}`, deadline: farOff }),
      );
      stalls.forEach((s) => s.catch(() => {})); // awaited below
      await b.stderrMatches(/a result of 8388608 bytes waits for room/);
      const sized = b.api.invoke({ run: "sized", bytes: 100_000 }, { timeoutMs: 30_000 });
      await b.stderrMatches(/a result of 100002 bytes waits for room/);
      const out = await sized;
      assert.equal(out.kind, "response", out.body.slice(0, 300));
      assert.equal(out.body.length, 100_002);
      for (const stall of await Promise.all(stalls)) {
        assert.equal(stall.kind, "error", stall.body.slice(0, 300));
        assert.match(stall.body, /held back/);
      }
    });
  });
}
