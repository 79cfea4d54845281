// Hostile invocations: deadlines that are missing or absurd, event bodies that
// stall, errors that throw when read, errors nothing catches, and headers too
// large to pass on. Each fails its own invocation with a clear error of the
// right class, and the runtime serves on.
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { withBootstrap, within } from "./_harness.ts";

const HOSTILE = "hostile.run";

for (const runtime of RUNTIMES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${runtime}: ${name}`, fn);

  t("a missing or unusable deadline falls back to AWS_LAMBDA_FUNCTION_TIMEOUT", async () => {
    const env = { AWS_LAMBDA_FUNCTION_TIMEOUT: "1" };
    await withBootstrap({ runtime, handler: HOSTILE, env }, async (b) => {
      for (const deadline of [null, "", "0", "-5", "abc", "1e3", "99999999999999999999"]) {
        const requestId = `deadline-${deadline}`;
        const hung = await within(
          10_000,
          b.api.invoke({ run: "hangs" }, { deadline, requestId }),
          `deadline ${JSON.stringify(deadline)}`,
        );
        assert.equal(hung.errorType, "Runtime.Timeout", hung.body);
        assert.equal(
          JSON.parse(hung.body).errorMessage,
          `RequestId: ${requestId} Error: Task timed out after 1.00 seconds`,
        );
        const quick = await b.api.invoke({ run: "whoami" }, { deadline });
        assert.equal(quick.kind, "response", quick.body);
      }
      assert.match(
        b.stderr(),
        /deadline-null\tERROR\tLambda-Runtime-Deadline-Ms is missing: the invocation gets AWS_LAMBDA_FUNCTION_TIMEOUT \(1 s\)/,
      );
      assert.match(
        b.stderr(),
        /deadline-abc\tERROR\tLambda-Runtime-Deadline-Ms "abc" is unusable: the invocation gets AWS_LAMBDA_FUNCTION_TIMEOUT \(1 s\)/,
      );
    });
  });

  t("an event body that stalls times its invocation out, and the runtime serves on", async () => {
    await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
      for (const size of [1_000, 200_000]) {
        const event = { run: "whoami", pad: "x".repeat(size) };
        const out = await within(
          10_000,
          b.api.invoke(event, { stallBody: true, timeoutMs: 1000, requestId: `stall-${size}` }),
          `stalled ${size} B event`,
        );
        assert.equal(out.errorType, "Runtime.Timeout", out.body);
        assert.match(JSON.parse(out.body).errorMessage, new RegExp(`^RequestId: stall-${size} `));
        const next = await b.api.invoke({ run: "whoami" });
        assert.equal(next.kind, "response", next.body);
      }
    });
  });

  t(
    "errors whose name, message or stack throw when read still fail the invocation clearly",
    async () => {
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        for (const run of ["throwsProxy", "throwsGetters", "throwsNullPrototype"]) {
          const out = await b.api.invoke({ run });
          assert.equal(out.kind, "error", out.body);
          // Node.js's runtime names this case "handled".
          assert.equal(out.errorType, "handled", `${run}: ${out.body}`);
          assert.match(JSON.parse(out.body).errorMessage, /cannot be read/);
          const next = await b.api.invoke({ run: "whoami" });
          assert.equal(next.kind, "response", next.body);
        }
      });
    },
  );

  t(
    "an error nothing catches fails the invocation it happened in, logged once in plain text",
    async () => {
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        const thrown = await b.api.invoke({ run: "uncaught" }, { requestId: "uncaught-1" });
        assert.equal(thrown.errorType, "TypeError", thrown.body);
        assert.equal(JSON.parse(thrown.body).errorMessage, "thrown where nothing catches it");
        assert.equal((await b.api.invoke({ run: "whoami" })).kind, "response");

        const rejected = await b.api.invoke({ run: "unhandledRejection" }, {
          requestId: "rejected-1",
        });
        assert.equal(rejected.errorType, "Runtime.UnhandledPromiseRejection", rejected.body);
        assert.equal(
          JSON.parse(rejected.body).errorMessage,
          "RangeError: rejected where nothing handles it",
        );
        assert.equal((await b.api.invoke({ run: "whoami" })).kind, "response");
        await b.stop();

        const output = b.stdout() + b.stderr();
        assert.ok(!output.includes("\x1b["), "no terminal escapes in the logs");
        // One record each from runtime.js, as Node.js's runtime writes it; the
        // bootstrap's "Invoke Error" record follows, as for every failure.
        const records = (label: string) =>
          output.split("\n").filter((l) => l.includes(`\tERROR\t${label} \t`));
        const uncaught = records("Uncaught Exception");
        assert.equal(uncaught.length, 1, uncaught.join("\n"));
        assert.match(
          uncaught[0],
          /\tuncaught-1\tERROR\tUncaught Exception \t\{"errorType":"TypeError"/,
        );
        const unhandled = records("Unhandled Promise Rejection");
        assert.equal(unhandled.length, 1, unhandled.join("\n"));
        assert.match(
          unhandled[0],
          /\trejected-1\tERROR\tUnhandled Promise Rejection \t\{"errorType":"Runtime\.UnhandledPromiseRejection"/,
        );
      });
    },
  );

  t(
    "an error with an empty or an endless name is still posted as that invocation's error",
    async () => {
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        const nameless = await b.api.invoke({ run: "throwsNameless" });
        assert.equal(nameless.kind, "error", nameless.body);
        assert.equal(nameless.errorType, "Error");
        assert.deepEqual(
          { ...JSON.parse(nameless.body), stackTrace: [], trace: [] },
          { errorType: "Error", errorMessage: "payment declined", stackTrace: [], trace: [] },
        );
        const long = await within(
          20_000,
          b.api.invoke({ run: "throwsLongName" }),
          "an error named with 3 MB got no answer",
        );
        assert.equal(long.kind, "error", long.body.slice(0, 200));
        assert.equal(long.errorType, "E".repeat(256));
        assert.equal(JSON.parse(long.body).errorMessage, "long name");
        assert.equal((await b.api.invoke({ run: "whoami" })).kind, "response");
      });
    },
  );

  t(
    "an error with a stack of millions of lines or a message of megabytes is posted and logged cut to its bounds",
    async () => {
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        for (const run of ["throwsEndlessStack", "throwsHtmlMessage"]) {
          const before = b.stderr().length + b.stdout().length;
          const requestId = `${run}-1`;
          const out = await within(
            20_000,
            b.api.invoke({ run }, { requestId }),
            `${run}: no answer`,
          );
          assert.equal(out.kind, "error", out.body.slice(0, 200));
          assert.ok(out.body.length < 1 << 20, `${run}: an error body of ${out.body.length} bytes`);
          const error = JSON.parse(out.body);
          assert.equal(error.errorType, "Error");
          if (run === "throwsEndlessStack") {
            assert.equal(error.errorMessage, "endless stack");
            assert.match(error.stackTrace.at(-1), /stack cut short/);
          } else {
            assert.match(
              error.errorMessage,
              /^<{1000}.*\[cut short: the message was 6000000 bytes\]$/s,
            );
          }
          await b.stderrMatches(new RegExp(`${requestId}\tERROR\tInvoke Error`));
          const logged = b.stderr().length + b.stdout().length - before;
          assert.ok(logged < 2 << 20, `${run}: ${logged} bytes of log for one throw`);
        }
        assert.equal((await b.api.invoke({ run: "whoami" })).kind, "response");
      });
    },
  );

  t(
    "origin storage (localStorage, the Cache API) is not defined, as on Node.js, and carries nothing between invocations",
    async () => {
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        for (const requestId of ["storage-1", "storage-2"]) {
          const out = await b.api.invoke({ run: "originStorage" }, { requestId });
          assert.equal(out.kind, "response", out.body);
          // Deno keeps both on disk, under DENO_DIR, where runtime2's next
          // process would find them.
          assert.deepEqual(JSON.parse(out.body), {
            localStorage: "unavailable: ReferenceError",
            caches: "unavailable: ReferenceError",
          });
        }
      });
    },
  );

  t(
    "a Deno process that never becomes ready times the invocation out, and the runtime serves on",
    async () => {
      await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
        // From now on every new Deno hangs while it imports the function;
        // runtime1's current one exits, so the next invocation needs a new one.
        const armed = await b.api.invoke({ run: "armHangAtImport", exit: runtime === "runtime1" });
        assert.equal(armed.kind, "response", armed.body);
        if (runtime === "runtime1") await b.stderrMatches(/Deno exited between invocations/);
        for (const requestId of ["hangs-1", "hangs-2"]) {
          const out = await within(
            10_000,
            b.api.invoke({ run: "whoami" }, { requestId, timeoutMs: 1500 }),
            `${requestId}: nothing posted`,
          );
          assert.equal(out.errorType, "Runtime.Timeout", out.body);
          assert.match(JSON.parse(out.body).errorMessage, new RegExp(`^RequestId: ${requestId} `));
        }
        await Deno.remove(`${b.tmpDir}/hang-at-import`);
        // runtime2's next process started importing while the hang was armed;
        // the one after it was not.
        const recovered = [];
        for (let i = 0; i < 2; i++) {
          const out = await within(
            10_000,
            b.api.invoke({ run: "whoami" }, { timeoutMs: 1500 }),
            "nothing posted after the hang was lifted",
          );
          recovered.push(out.kind === "response" ? "response" : out.errorType);
        }
        assert.deepEqual(
          recovered,
          runtime === "runtime1" ? ["response", "response"] : ["Runtime.Timeout", "response"],
        );
      });
    },
  );

  t("an invocation header too large to pass on fails that invocation only", async () => {
    await withBootstrap({ runtime, handler: HOSTILE }, async (b) => {
      const context = (bytes: number) => JSON.stringify({ custom: { pad: "x".repeat(bytes) } });
      const big = await b.api.invoke({ run: "whoami" }, {
        clientContext: context(70_000),
        requestId: "big-context",
      });
      assert.equal(big.errorType, "Runtime.InvalidInvocationHeader", big.body);
      assert.match(
        JSON.parse(big.body).errorMessage,
        /^RequestId: big-context Error: Lambda-Runtime-Client-Context is 70\d\d\d bytes/,
      );
      // Lambda allows 3,583 bytes; what runtime.js can take still passes.
      const fits = await b.api.invoke({ run: "whoami" }, { clientContext: context(20_000) });
      assert.equal(fits.kind, "response", fits.body);
    });
  });
}
