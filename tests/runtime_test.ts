// What a handler observes, driven through the real bootstrap and the unpacked
// layers against the strict mock Runtime API.
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { denoProcessesOf, withBootstrap, within } from "./_harness.ts";

for (const runtime of RUNTIMES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${runtime}: ${name}`, fn);

  t("events of every JSON type arrive unchanged and come back as results", async () => {
    await withBootstrap({ runtime, handler: "handlers.identity" }, async ({ api, stop }) => {
      const events = [{ a: [1, 2, { b: null }] }, [1, "two"], "text", 42.5, null, true, {
        unicode: "héllo wörld ✓ 日本語 🎉",
        escapes: 'quote " backslash \\ newline \n tab \t nul \u0000',
      }];
      for (const event of events) {
        const out = await api.invoke(event);
        assert.equal(out.kind, "response");
        assert.equal(out.contentType, "application/json");
        assert.deepEqual(JSON.parse(out.body), event);
      }
      assert.equal((await stop()).code, 0);
    });
  });

  t("a 6 MB event arrives whole", async () => {
    await withBootstrap({ runtime, handler: "handlers.identity" }, async ({ api }) => {
      const event = { data: "é".repeat(3_000_000 - 20) }; // 2 bytes each in UTF-8
      const out = await api.invoke(event);
      assert.equal(out.kind, "response");
      assert.equal(JSON.parse(out.body).data, event.data);
    });
  });

  t("large events of any size, one after another, each arrive and return whole", async () => {
    // runtime1 passes large bodies on as they arrive; runtime2 reads them into buffers it reuses.
    await withBootstrap({ runtime, handler: "handlers.identity" }, async ({ api }) => {
      for (const [i, size] of [1_000_000, 300_000, 2_000_000, 70_000, 1_000_000, 5].entries()) {
        const event = { i, data: String.fromCharCode(97 + i).repeat(size) };
        const out = await api.invoke(event);
        assert.equal(out.kind, "response");
        assert.deepEqual(JSON.parse(out.body), event);
      }
    });
  });

  t("a function reading stdin gets its end and takes nothing from the runtime", async () => {
    await withBootstrap({ runtime, handler: "handlers.readsStdin" }, async ({ api }) => {
      for (const i of [1, 2]) {
        const out = await api.invoke({ i });
        assert.equal(out.kind, "response", out.body);
        assert.deepEqual(JSON.parse(out.body), { event: { i }, stdin: null });
      }
    });
  });

  t("async handlers, undefined results and nested exports", async () => {
    await withBootstrap({ runtime, handler: "handlers.asyncValue" }, async ({ api }) => {
      const out = await api.invoke({ x: 1 });
      assert.deepEqual(JSON.parse(out.body), { async: true, event: { x: 1 } });
    });
    await withBootstrap({ runtime, handler: "handlers.returnsUndefined" }, async ({ api }) => {
      const out = await api.invoke({});
      assert.equal(out.kind, "response");
      assert.equal(out.body, "null");
    });
    await withBootstrap({ runtime, handler: "handlers.nested.deeper.handler" }, async ({ api }) => {
      assert.equal((await api.invoke({})).body, '"nested"');
    });
  });

  t("context carries the invocation's and the function's details", async () => {
    await withBootstrap({ runtime, env: { CUSTOM_VARIABLE: "custom" } }, async (b) => {
      const identity = { cognitoIdentityId: "id-1", cognitoIdentityPoolId: "pool-1" };
      const clientContext = { client: { installation_id: "inst" }, custom: { k: "v" }, env: {} };
      const out = await b.api.invoke({ n: 1 }, {
        requestId: "request-abc",
        timeoutMs: 10_000,
        traceId: "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        cognitoIdentity: JSON.stringify(identity),
        clientContext: JSON.stringify(clientContext),
        tenantId: "tenant-7",
        functionArn: "arn:aws:lambda:us-east-1:123456789012:function:test-function:live",
      });
      const r = JSON.parse(out.body);
      assert.deepEqual(r.event, { n: 1 });
      assert.equal(r.context.awsRequestId, "request-abc");
      assert.equal(
        r.context.invokedFunctionArn,
        "arn:aws:lambda:us-east-1:123456789012:function:test-function:live",
      );
      assert.equal(r.context.functionName, "test-function");
      assert.equal(r.context.functionVersion, "$LATEST");
      assert.equal(r.context.memoryLimitInMB, "256");
      assert.equal(r.context.logGroupName, "/aws/lambda/test-function");
      assert.equal(r.context.logStreamName, "2026/11/25/[$LATEST]0123456789abcdef");
      assert.deepEqual(r.context.identity, identity);
      assert.deepEqual(r.context.clientContext, clientContext);
      assert.equal(r.context.tenantId, "tenant-7");
      assert.ok(r.context.remaining > 8_000 && r.context.remaining <= 10_000, r.context.remaining);
      assert.equal(
        r.traceId,
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
      );
      assert.deepEqual(r.env, {
        region: "us-east-1",
        accessKeyId: "AKIDTESTTESTTEST",
        custom: "custom",
        denoDir: `${b.tmpDir}/deno-dir`,
      });

      // Without the header, the previous trace id must not linger.
      const second = JSON.parse((await b.api.invoke({ n: 2 })).body);
      assert.equal(second.traceId, null);
      assert.equal(second.context.identity, null);
      assert.equal(second.context.clientContext, null);
      assert.equal(second.context.tenantId, null);
    });
  });

  t(
    "handler errors go to /error in Node.js's shape, trace included, and the environment keeps serving",
    async () => {
      for (
        const [handler, type, message] of [
          ["throwsError", "TypeError", "bad input"],
          ["rejects", "RangeError", "out of range"],
          ["throwsString", "string", "plain string"],
        ]
      ) {
        await withBootstrap({ runtime, handler: `handlers.${handler}` }, async ({ api, stop }) => {
          for (let i = 0; i < 2; i++) {
            const out = await api.invoke({ i });
            assert.equal(out.kind, "error");
            assert.equal(out.status, 202);
            assert.equal(out.errorType, type);
            assert.equal(out.contentType, "application/vnd.aws.lambda.error+json");
            const body = JSON.parse(out.body);
            assert.equal(body.errorType, type);
            assert.equal(body.errorMessage, message);
            assert.ok(Array.isArray(body.stackTrace));
            // Node.js's runtime names the stack trace, Lambda's documentation stackTrace.
            assert.deepEqual(body.trace, body.stackTrace);
            if (type !== "string") {
              assert.equal(body.stackTrace[0], `${type}: ${message}`);
              assert.match(body.stackTrace.join("\n"), /handlers\.bundle\.js/);
            }
          }
          assert.equal((await stop()).code, 0);
        });
      }
    },
  );

  t(
    "an error name that cannot go into a header is made safe there and kept in the body",
    async () => {
      await withBootstrap({ runtime, handler: "handlers.throwsOddName" }, async ({ api, stop }) => {
        for (let i = 0; i < 2; i++) {
          const out = await api.invoke({});
          assert.equal(out.kind, "error");
          assert.equal(out.errorType, "Odd__X-Injected: 1_");
          assert.equal(JSON.parse(out.body).errorType, "Odd\r\nX-Injected: 1\u00e9");
        }
        assert.equal((await stop()).code, 0);
      });
    },
  );

  t("results that cannot be serialised fail that invocation only", async () => {
    for (const handler of ["returnsBigInt", "returnsCycle"]) {
      await withBootstrap({ runtime, handler: `handlers.${handler}` }, async ({ api }) => {
        for (let i = 0; i < 2; i++) {
          const out = await api.invoke({});
          assert.equal(out.kind, "error");
          // Node.js's runtime's type and message, and why.
          assert.equal(out.errorType, "Runtime.JSONStringifyError");
          assert.match(
            JSON.parse(out.body).errorMessage,
            /^Unable to stringify response body: TypeError: /,
          );
        }
      });
    }
  });

  t(
    "a response over 6 MB is refused with 413, logged, and the environment keeps serving",
    async () => {
      await withBootstrap({ runtime, handler: "handlers.bigResponse" }, async (b) => {
        const big = await b.api.invoke({ bytes: 6 * 1024 * 1024 + 101 });
        assert.equal(big.status, 413);
        assert.equal(big.errorType, "Function.ResponseSizeTooLarge");
        const ok = await b.api.invoke({ bytes: 1000 });
        assert.equal(ok.kind, "response");
        assert.equal(ok.body.length, 1000);
        assert.equal((await b.stop()).code, 0);
        assert.match(
          b.stderr(),
          /ERROR\tFunction\.ResponseSizeTooLarge: the response is 6291557 bytes/,
        );
      });
    },
  );

  t(
    "Deno exiting mid-invocation is Runtime.ExitError and a fresh Deno serves the next",
    async () => {
      await withBootstrap({ runtime, handler: "handlers.lifecycle" }, async (b) => {
        const before = JSON.parse((await b.api.invoke({})).body);
        const out = await b.api.invoke({ exit: 3 }, { requestId: "dies-here" });
        assert.equal(out.kind, "error");
        assert.equal(out.errorType, "Runtime.ExitError");
        assert.equal(
          JSON.parse(out.body).errorMessage,
          "RequestId: dies-here Error: Runtime exited with error: exit status 3",
        );
        const after = JSON.parse((await b.api.invoke({})).body);
        assert.notEqual(after.pid, before.pid);
        assert.equal(after.invocations, 1);
        assert.equal((await b.stop()).code, 0);
        assert.doesNotMatch(b.stderr(), /between invocations/);
      });
    },
  );

  if (runtime === "runtime1") {
    // runtime2 discards each process right after its result.
    t("Deno dying between invocations is replaced before the next event", async () => {
      await withBootstrap({ runtime, handler: "handlers.lifecycle" }, async (b) => {
        const before = JSON.parse((await b.api.invoke({ crashAfterResult: true })).body);
        await b.stderrMatches(/Deno exited between invocations \(exit status 128\)/);
        assert.match(
          b.stdout(),
          /\tERROR\tUnhandled Promise Rejection \t.*unhandled, after the result/,
        );
        const after = await b.api.invoke({});
        assert.equal(after.kind, "response", after.body);
        assert.notEqual(JSON.parse(after.body).pid, before.pid);
        assert.equal(JSON.parse(after.body).invocations, 1);
      });
    });
  }

  t("a handler still running at the deadline times out and Deno is replaced", async () => {
    await withBootstrap({ runtime, handler: "handlers.lifecycle" }, async (b) => {
      const before = JSON.parse((await b.api.invoke({})).body);
      const out = await b.api.invoke({ hang: true }, { requestId: "too-slow", timeoutMs: 1000 });
      assert.equal(out.kind, "error");
      assert.equal(out.errorType, "Runtime.Timeout");
      assert.match(
        JSON.parse(out.body).errorMessage,
        /^RequestId: too-slow Error: Task timed out after \d\.\d\d seconds$/,
      );
      assert.deepEqual(await denoProcessesOf(b.tmpDir).then((p) => p.includes(before.pid)), false);
      const after = JSON.parse((await b.api.invoke({})).body);
      assert.notEqual(after.pid, before.pid);
      assert.equal(after.invocations, 1);
    });
  });

  t("processes a handler starts are killed with it at the deadline", async () => {
    const env = { DENO_LAMBDA_PERMISSIONS: "--allow-run=sleep" };
    await withBootstrap({ runtime, handler: "handlers.lifecycle", env }, async (b) => {
      const out = await b.api.invoke({ spawn: true, hang: true }, { timeoutMs: 1500 });
      assert.equal(out.errorType, "Runtime.Timeout");
      await b.api.nextCalled(2);
      const pids = await denoProcessesOf(b.tmpDir);
      // Only a fresh Deno (runtime1's replacement or runtime2's spare), never the sleeper.
      for (const pid of pids) {
        const cmdline = await Deno.readTextFile(`/proc/${pid}/cmdline`);
        assert.doesNotMatch(cmdline, /^sleep/, `orphaned grandchild ${pid}`);
      }
      assert.equal(pids.length, 1, JSON.stringify(pids));
    });
  });

  t("SIGTERM stops Deno and the bootstrap within a second, leaving nothing running", async () => {
    await withBootstrap({ runtime, handler: "handlers.lifecycle" }, async (b) => {
      await b.api.invoke({});
      await b.api.nextCalled(2); // runtime2 discards the used process before fetching again
      // runtime1's one process, or runtime2's spare for the next event.
      assert.equal((await denoProcessesOf(b.tmpDir)).length, 1);
      const started = performance.now();
      const status = await b.stop("SIGTERM");
      const elapsed = performance.now() - started;
      assert.equal(status.code, 0);
      assert.ok(elapsed < 1000, `took ${elapsed} ms`);
      assert.deepEqual(await denoProcessesOf(b.tmpDir), []);
    });
  });

  t("if the bootstrap is killed outright, Deno does not survive it", async () => {
    await withBootstrap({ runtime, handler: "handlers.lifecycle" }, async (b) => {
      await b.api.invoke({});
      await b.api.nextCalled(2);
      assert.equal((await denoProcessesOf(b.tmpDir)).length, 1);
      // Deno shares the bootstrap's stdout: the output ends only once Deno is gone too.
      await within(5000, b.stop("SIGKILL"), "Deno outlived the bootstrap");
      assert.deepEqual(await denoProcessesOf(b.tmpDir), []);
    });
  });
}
