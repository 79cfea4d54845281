// The built bootstrap of each runtime behind AWS's own Runtime Interface
// Emulator (RIE), the way `deno task start` serves it: what the mock Runtime
// API checks in detail, checked once more against AWS's implementation.
// Where the two differ, the README's "Run it locally" section says which is
// right per AWS's documentation.
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { processesWithEnv } from "../scripts/_processes.ts";
import { functionEnv, invokeFunction, type Rie, startRie } from "../scripts/_rie.ts";
import { FIXTURES, layerDir } from "./_harness.ts";

interface RieTestOptions {
  runtime: (typeof RUNTIMES)[number];
  handler: string;
  /** AWS_LAMBDA_FUNCTION_TIMEOUT, seconds; default 10. */
  timeout?: number;
}

/** Serves a fixture handler behind the emulator, runs fn, and always stops everything. */
async function withRie(options: RieTestOptions, fn: (rie: Rie) => Promise<void>): Promise<void> {
  const optDir = await layerDir(options.runtime);
  const tmpDir = await Deno.makeTempDir({ prefix: "rie-test-" });
  const rie = await startRie({
    bootstrap: `${optDir}/bootstrap`,
    cwd: FIXTURES,
    env: functionEnv({
      optDir,
      taskRoot: FIXTURES,
      tmpDir,
      timeout: options.timeout ?? 10,
      memory: 256,
      handler: options.handler,
      env: { CUSTOM_VARIABLE: "from the function's configuration" },
    }),
  });
  let failed = true;
  try {
    await fn(rie);
    failed = false;
  } finally {
    const left = await rie.stop();
    if (failed) console.error(`--- emulator and function output ---\n${rie.output()}`);
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
    if (!failed) {
      assert.deepEqual(left, [], "nothing outlives the emulator");
      assert.deepEqual(await processesWithEnv(`TMPDIR=${tmpDir}`), []);
    }
  }
}

function json(body: string): Record<string, unknown> {
  return JSON.parse(body);
}

for (const runtime of RUNTIMES) {
  Deno.test(`rie ${runtime}: a result comes back, with Lambda's context and environment`, async () => {
    await withRie({ runtime, handler: "handlers.echo" }, async (rie) => {
      const r = await invokeFunction(rie.url, JSON.stringify({ name: "Deno", n: [1, 2] }));
      assert.equal(r.status, 200);
      assert.equal(r.error, null);
      const body = json(r.body) as {
        event: unknown;
        context: Record<string, unknown>;
        env: object;
      };
      assert.deepEqual(body.event, { name: "Deno", n: [1, 2] });
      assert.match(String(body.context.awsRequestId), /^[0-9a-f-]{36}$/);
      assert.equal(
        body.context.invokedFunctionArn,
        "arn:aws:lambda:us-east-1:012345678912:function:deno-lambda-local",
      );
      assert.equal(body.context.functionName, "deno-lambda-local");
      assert.equal(body.context.memoryLimitInMB, "256");
      const remaining = Number(body.context.remaining);
      assert.ok(remaining > 0 && remaining <= 10_000, `remaining ${remaining}`);
      assert.equal(
        (body.env as { custom: string }).custom,
        "from the function's configuration",
        "the emulator passes its environment on to the runtime",
      );
    });
  });

  Deno.test(`rie ${runtime}: a handler error is answered 200 with the error, and the function serves on`, async () => {
    await withRie({ runtime, handler: "handlers.throwsError" }, async (rie) => {
      for (let i = 0; i < 2; i++) {
        const r = await invokeFunction(rie.url, "{}");
        assert.equal(r.status, 200);
        assert.equal(r.error, "function error: TypeError");
        const body = json(r.body);
        assert.equal(body.errorType, "TypeError");
        assert.equal(body.errorMessage, "bad input");
        assert.ok(Array.isArray(body.stackTrace));
      }
    });
  });

  Deno.test(`rie ${runtime}: an init error is answered 502 with the error, and init is retried`, async () => {
    await withRie({ runtime, handler: "handlers.notThere" }, async (rie) => {
      for (let i = 0; i < 2; i++) {
        const r = await invokeFunction(rie.url, "{}");
        assert.equal(r.status, 502);
        assert.equal(r.error, "HTTP 502 (Runtime.HandlerNotFound)");
        assert.deepEqual(json(r.body), {
          errorType: "Runtime.HandlerNotFound",
          errorMessage: "handlers.notThere is undefined or not exported",
          stackTrace: [],
          trace: [],
        });
      }
      await rie.stop(); // all its output read
      const inits = rie.output().match(/bootstrap: init failed: Runtime\.HandlerNotFound/g);
      assert.equal(inits?.length, 2, "each invocation runs init again, as Lambda does");
    });
  });

  Deno.test(`rie ${runtime}: at AWS_LAMBDA_FUNCTION_TIMEOUT the invocation fails and the next starts afresh`, async () => {
    await withRie({ runtime, handler: "handlers.lifecycle", timeout: 1 }, async (rie) => {
      const first = json((await invokeFunction(rie.url, "{}")).body);
      const r = await invokeFunction(rie.url, JSON.stringify({ hang: true }));
      assert.equal(r.status, 200);
      // The emulator and the bootstrap enforce the same deadline. The emulator
      // resets the environment at once, the bootstrap first kills Deno, so the
      // emulator's answer normally wins; the bootstrap's is as right.
      if (r.error === "timeout") {
        assert.equal(r.body, "Task timed out after 1.00 seconds");
      } else {
        assert.equal(r.error, "function error: Runtime.Timeout");
      }
      const after = json((await invokeFunction(rie.url, "{}")).body);
      assert.equal(after.invocations, 1, "a fresh environment after the timeout");
      assert.notEqual(after.pid, first.pid);
    });
  });

  Deno.test(`rie ${runtime}: the client context is passed through; the trace id is not (emulator limit)`, async () => {
    await withRie({ runtime, handler: "handlers.echo" }, async (rie) => {
      const clientContext = {
        client: { installation_id: "i-1" },
        custom: { tier: "gold" },
        env: {},
      };
      const r = await invokeFunction(rie.url, "{}", {
        clientContext: JSON.stringify(clientContext),
        traceId: "Root=1-6745a1b2-0c4d8e2f1a3b5c7d9e0f1a2b;Parent=53995c3f42cd8ad8;Sampled=1",
      });
      const body = json(r.body) as { traceId: unknown; context: { clientContext: unknown } };
      assert.deepEqual(body.context.clientContext, clientContext);
      // The emulator drops X-Amzn-Trace-Id: its no-op tracer never sends
      // Lambda-Runtime-Trace-Id. Lambda does; tests/runtime_test.ts covers it.
      assert.equal(body.traceId, null);
    });
  });

  Deno.test(`rie ${runtime}: a result over 6 MB fails that invocation only, and is logged`, async () => {
    await withRie({ runtime, handler: "handlers.bigResponse" }, async (rie) => {
      const big = await invokeFunction(rie.url, JSON.stringify({ bytes: 7 * 1024 * 1024 }));
      assert.notEqual(big.error, null, `a 7 MB result was accepted: HTTP ${big.status}`);
      const small = await invokeFunction(rie.url, JSON.stringify({ bytes: 12 }));
      assert.equal(small.error, null, small.body);
      assert.equal(JSON.parse(small.body), "x".repeat(10));
      assert.match(rie.output(), /Function\.ResponseSizeTooLarge/);
    });
  });

  Deno.test(`rie ${runtime}: several invocations in a row`, async () => {
    await withRie({ runtime, handler: "handlers.echo" }, async (rie) => {
      const results = [];
      for (let i = 0; i < 5; i++) {
        const r = await invokeFunction(rie.url, JSON.stringify({ i }));
        assert.equal(r.error, null);
        results.push(json(r.body) as { event: { i: number }; invocations: number; pid: number });
      }
      assert.deepEqual(results.map((r) => r.event.i), [0, 1, 2, 3, 4]);
      const pids = new Set(results.map((r) => r.pid));
      if (runtime === "runtime1") {
        assert.deepEqual(results.map((r) => r.invocations), [1, 2, 3, 4, 5]);
        assert.equal(pids.size, 1, "one Deno serves them all");
      } else {
        assert.deepEqual(results.map((r) => r.invocations), [1, 1, 1, 1, 1]);
        assert.equal(pids.size, 5, "a Deno per invocation");
      }
    });
  });
}
