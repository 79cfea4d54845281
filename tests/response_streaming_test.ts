// Response streaming, as on AWS's managed Node.js runtime: a handler wrapped in
// awslambda.streamifyResponse writes to a response stream, and its bytes reach
// the Runtime API as they are written, in a chunked post with
// Lambda-Runtime-Function-Response-Mode: streaming; an error after the first
// byte goes in the post's trailers (bootstrap/streamed.go,
// runtimes/_shared/streaming.js).
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { buildFunction, builtOnce, withBootstrap } from "./_harness.ts";
import type { Outcome, Streamed } from "./_mock_runtime_api.ts";
import { motoEnv, withMoto } from "./_moto.ts";

const MiB = 1024 * 1024;

function streamed(out: Outcome): Streamed {
  assert.ok(out.stream, `not streamed: ${out.kind} ${out.body.slice(0, 300)}`);
  return out.stream;
}

for (const runtime of RUNTIMES) {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${runtime}: ${name}`, fn);
  const streaming = (handler: string, fn: Parameters<typeof withBootstrap>[1]) =>
    withBootstrap({ runtime, handler: `streaming.${handler}`, streams: true }, fn);

  t("bytes leave as the handler writes them, with Node's default content type", async () => {
    await streaming("chunks", async (b) => {
      const out = await b.api.invoke({ n: 5, size: 10, gapMs: 100 });
      assert.equal(out.kind, "response", out.body);
      assert.equal(out.body, "x".repeat(50));
      assert.equal(out.contentType, "application/octet-stream");
      const { chunks } = streamed(out);
      // The handler waits 100 ms between writes: a post that held the bytes
      // back until the end would get them all at once.
      assert.ok(chunks.length >= 5, `${chunks.length} pieces`);
      assert.ok(chunks.at(-1)!.at - chunks[0].at >= 300, JSON.stringify(chunks));
      const typed = await b.api.invoke({ n: 2, contentType: "text/event-stream" });
      assert.equal(typed.contentType, "text/event-stream");
      assert.equal(typed.body, "x".repeat(20));
    });
  });

  t(
    "a buffer the handler refills once its write's callback came is sent as it was written",
    async () => {
      // A piece is the stream's until its write's callback: a callback that came
      // before the piece left runtime.js (queued in Deno.serve, or not yet
      // written to the channel) would let these refills reach it. The Runtime
      // API reads slowly, so that the pieces back up behind it instead of all
      // fitting in the sockets' buffers at once.
      await streaming("reuses", async (b) => {
        b.api.streamPace = () => new Promise((resolve) => setTimeout(resolve, 1));
        const n = 64, size = 256 * 1024;
        const out = await b.api.invoke({ n, size });
        assert.equal(out.kind, "response", out.body.slice(0, 300));
        const body = new TextDecoder().decode(streamed(out).bytes);
        assert.equal(body.length, n * size);
        for (let i = 0; i < n; i++) {
          const piece = body.slice(i * size, (i + 1) * size);
          assert.equal(piece, String.fromCharCode(0x61 + (i % 26)).repeat(size), `piece ${i}`);
        }
      });
    },
  );

  t("stream.pipeline into the response stream", async () => {
    await streaming("piped", async (b) => {
      const out = await b.api.invoke({ lines: 1000 });
      assert.equal(out.kind, "response", out.body);
      assert.equal(out.body, Array.from({ length: 1000 }, (_, i) => `line ${i}\n`).join(""));
    });
  });

  t("HttpResponseStream.from: the prelude, 8 NUL bytes, then the body", async () => {
    await streaming("http", async (b) => {
      const prelude = JSON.stringify({
        statusCode: 201,
        headers: { "x-custom": "yes" },
        cookies: ["a=1"],
      });
      const out = await b.api.invoke({});
      assert.equal(out.contentType, "application/vnd.awslambda.http-integration-response");
      assert.equal(out.body, prelude + "\0".repeat(8) + "hello world");
      // Unlike Node's runtime, an end() with no write before still sends the prelude.
      const endOnly = await b.api.invoke({ endOnly: true });
      assert.equal(endOnly.body, prelude + "\0".repeat(8) + "only an end");
    });
  });

  t("an error before the first byte is the invocation's error, posted to /error", async () => {
    await streaming("failsBefore", async (b) => {
      const out = await b.api.invoke({});
      assert.equal(out.kind, "error");
      assert.equal(out.stream, undefined);
      assert.equal(out.errorType, "EarlyError");
      assert.equal(JSON.parse(out.body).errorMessage, "nothing written yet");
    });
  });

  t(
    "one process serves streams, errors before and after the first byte and empty streams in any order",
    async () => {
      // runtime1 keeps a stream's connection for the next invocation when it
      // ended well, and drops it when the handler failed before its first byte:
      // each result must be its own whatever came before it.
      await streaming("mixed", async (b) => {
        // The bridge's answer and the stream's head may reach the bootstrap
        // in either order: five rounds of short streams try both.
        const round = [
          "stream",
          "before",
          "stream",
          "after",
          "stream",
          "empty",
          "stream",
          "before",
        ];
        const steps = [...round, ...round, ...round, ...round, ...round, "stream"];
        for (const [i, step] of steps.entries()) {
          const text = `text ${i} `.repeat((i % 8) + 1);
          const out = await b.api.invoke({ step, text });
          const what = `step ${i} (${step}): ${out.kind} ${out.body.slice(0, 200)}`;
          switch (step) {
            case "stream":
              assert.equal(out.kind, "response", what);
              assert.equal(new TextDecoder().decode(streamed(out).bytes), text, what);
              break;
            case "empty":
              assert.equal(out.kind, "response", what);
              assert.equal(streamed(out).bytes.length, 0, what);
              break;
            case "before":
              assert.equal(out.kind, "error", what);
              assert.equal(out.stream, undefined, what);
              assert.equal(JSON.parse(out.body).errorMessage, "before the first byte", what);
              break;
            case "after":
              assert.equal(out.kind, "error", what);
              assert.equal(new TextDecoder().decode(streamed(out).bytes), text, what);
              assert.equal(
                JSON.parse(streamed(out).errorBody!).errorMessage,
                "after the first byte",
              );
          }
        }
        assert.equal(b.api.initErrors.length, 0);
      });
    },
  );

  t("an error after the first byte ends the stream with Node's trailers", async () => {
    await streaming("failsAfter", async (b) => {
      const out = await b.api.invoke({});
      const s = streamed(out);
      assert.equal(out.kind, "error");
      assert.equal(new TextDecoder().decode(s.bytes), "partial ");
      assert.equal(s.trailers["lambda-runtime-function-error-type"], "LateError");
      const body = JSON.parse(s.errorBody!);
      assert.equal(body.errorType, "LateError");
      assert.equal(body.errorMessage, "half way");
      assert.ok(Array.isArray(body.trace) && body.trace.length > 0, s.errorBody!);
      await b.stderrMatches(/Invoke Error/);
      // The process serves on.
      const again = await b.api.invoke({});
      assert.equal(again.errorType, "LateError");
    });
  });

  t(
    "what the handler wrote before it threw goes out first, then the error, within 3 KiB of trailers",
    async () => {
      await streaming("writesThenThrows", async (b) => {
        const prelude = JSON.stringify({ statusCode: 200 });
        const out = await b.api.invoke({ pieces: ["a", "b", "c"], messageBytes: 20_000 });
        const s = streamed(out);
        assert.equal(out.body, prelude + "\0".repeat(8) + "abc");
        assert.equal(out.errorType, "ThrownError");
        // Go's net/http server (the Runtime API's) drops a trailer section over 4 KiB whole.
        const encoded = s.trailers["lambda-runtime-function-error-body"];
        assert.ok(encoded.length <= 3 * 1024, `${encoded.length} bytes of error body`);
        const body = JSON.parse(s.errorBody!);
        assert.equal(body.errorType, "ThrownError");
        assert.match(body.errorMessage, /^m+ \[cut short to fit the trailers\]$/);
      });
    },
  );

  t(
    "the next event waits for the handler to settle after its response ended, as on Node.js",
    async () => {
      await streaming("tail", async (b) => {
        const first = b.api.invoke({ ms: 300 }, { requestId: "first" });
        const second = b.api.invoke({ ms: 0 }, { requestId: "second" });
        assert.equal((await first).body, "done");
        assert.equal((await second).body, "done");
        await b.stdoutMatches(/settled second/);
        const log = b.stdout();
        assert.ok(log.indexOf("settled first") < log.indexOf("start second"), log);
      });
    },
  );

  t(
    "a handler that is not async, and a content type set too late, fail as on Node.js",
    async () => {
      await streaming("notAsync", async (b) => {
        const out = await b.api.invoke({});
        assert.equal(out.kind, "error");
        assert.equal(
          JSON.parse(out.body).errorMessage,
          "Streaming does not support non-async handlers.",
        );
      });
      await streaming("lateType", async (b) => {
        const out = await b.api.invoke({});
        assert.equal(out.errorType, "Runtime.InvalidStreamingOperation");
        assert.equal(
          JSON.parse(streamed(out).errorBody!).errorMessage,
          "Cannot set content-type, too late.",
        );
      });
    },
  );

  t("an error thrown after end() is logged, and the response stands, as on Node.js", async () => {
    await streaming("endsThenThrows", async (b) => {
      for (const last of [undefined, "b"]) {
        const out = await b.api.invoke({ last });
        assert.equal(out.kind, "response", `${out.body} ${out.stream?.errorBody}`);
        assert.equal(out.body, last ? "ab" : "a");
      }
      await b.stdoutMatches(
        /Invoke Error.*thrown after end\(\)[\s\S]*Invoke Error.*thrown after end\(\)/,
      );
    });
    // Under Managed Instances too, each log line names its invocation.
    const env = { AWS_LAMBDA_MAX_CONCURRENCY: "2" };
    await withBootstrap(
      { runtime, handler: "streaming.endsThenThrows", env, streams: true },
      async (b) => {
        const outs = await Promise.all(
          ["late-1", "late-2"].map((requestId) => b.api.invoke({}, { requestId })),
        );
        assert.deepEqual(outs.map((o) => o.body), ["a", "a"]);
        await b.stdoutMatches(/\tlate-1\tERROR\tInvoke Error \t.*thrown after end/);
        await b.stdoutMatches(/\tlate-2\tERROR\tInvoke Error \t.*thrown after end/);
      },
    );
    await streaming("notAsyncEnds", async (b) => {
      const out = await b.api.invoke({});
      assert.equal(out.kind, "response", `${out.body} ${out.stream?.errorBody}`);
      assert.equal(out.body, "x");
      await b.stdoutMatches(/Invoke Error.*Streaming does not support non-async handlers\./);
    });
  });

  t("write() takes any value, as JSON unless a string or bytes, as on Node.js", async () => {
    await streaming("writesValues", async (b) => {
      const out = await b.api.invoke({ values: [{ a: 1 }, 42, "s", null, [true]] });
      assert.equal(out.kind, "response", out.body);
      // null throws on Node.js too, where the runtime reads its length first.
      assert.equal(out.body, '{"a":1}42s!TypeError[true]');
    });
  });

  t(
    "the stream buffers 64 KiB by default, as on Node.js 22 and later, and a content type with a line break throws",
    async () => {
      await streaming("streamFacts", async (b) => {
        const out = await b.api.invoke({});
        assert.equal(out.kind, "response", out.body);
        assert.deepEqual(JSON.parse(out.body), {
          writableHighWaterMark: 65536,
          thrown: "TypeError ERR_INVALID_CHAR",
        });
      });
    },
  );

  t(
    "10 MB streams whole, over the 6 MB buffered limit; a plain handler beside it is buffered",
    async () => {
      await streaming("bulk", async (b) => {
        const out = await b.api.invoke({ mb: 10 });
        assert.equal(out.kind, "response", out.body.slice(0, 300));
        assert.equal(streamed(out).bytes.length, 10 * MiB);
        assert.ok(streamed(out).bytes.every((x) => x === 0x61));
      });
      await streaming("plain", async (b) => {
        const out = await b.api.invoke({ n: 1 });
        assert.equal(out.stream, undefined);
        assert.deepEqual(JSON.parse(out.body), { plain: true, event: { n: 1 } });
      });
    },
  );

  t(
    "a slow Runtime API slows the handler: 100 MB pass with Deno and the bootstrap staying small",
    async () => {
      await streaming("bulk", async (b) => {
        // The mock waits 20 ms after each MiB it reads: slower than Deno
        // writes, so without backpressure the bytes would pile up.
        let paced = 0;
        b.api.streamPace = (read) => {
          if (read - paced < MiB) return Promise.resolve();
          paced = read;
          return new Promise((resolve) => setTimeout(resolve, 20));
        };
        const out = await b.api.invoke({ mb: 100 }, { timeoutMs: 120_000 });
        assert.equal(streamed(out).bytes.length, 100 * MiB);
        await b.stdoutMatches(/bulk peak rss \d+/);
        const denoPeak = Number(b.stdout().match(/bulk peak rss (\d+)/)![1]);
        assert.ok(denoPeak < 120 * MiB, `Deno peaked at ${denoPeak} bytes`);
        const status = Deno.readTextFileSync(`/proc/${b.pid}/status`);
        const bootstrapPeak = Number(status.match(/VmHWM:\s+(\d+)/)![1]) * 1024;
        assert.ok(bootstrapPeak < 40 * MiB, `the bootstrap peaked at ${bootstrapPeak} bytes`);
      });
    },
  );

  t("at 200 MiB the stream ends with Function.ResponseSizeTooLarge", async () => {
    await streaming("bulk", async (b) => {
      const out = await b.api.invoke({ mb: 201 }, { timeoutMs: 120_000 });
      const s = streamed(out);
      assert.equal(s.bytes.length, 200 * MiB);
      assert.equal(out.errorType, "Function.ResponseSizeTooLarge");
      // The process serves on.
      assert.equal(streamed(await b.api.invoke({ mb: 1 })).bytes.length, MiB);
    });
  });
}

for (const runtime of RUNTIMES) {
  // runtime2's process runs a dry invocation before it says it is ready:
  // what the function's own code does meanwhile is nobody's invocation.
  Deno.test(`${runtime}: a timer a streaming function's import set logs as no invocation's, and a throw in it ends the process`, async () => {
    await withBootstrap(
      { runtime, handler: "timer_at_import.handler", streams: true },
      async (b) => {
        const out = await b.api.invoke({});
        assert.equal(out.kind, "response", out.body);
        await b.stop();
        assert.match(b.stdout(), /\tundefined\tINFO\tlogged by a timer set at import\n/);
        assert.doesNotMatch(b.stdout(), /warm-up/);
      },
    );
    await withBootstrap(
      { runtime, handler: "timer_at_import.handler", streams: true, env: { TIMER_THROWS: "1" } },
      async (b) => {
        const out = await b.api.invoke({}).catch((err: Error) => err);
        assert.ok(out instanceof Error || out.kind !== "response", JSON.stringify(out));
        await b.stop();
        assert.match(b.stdout(), /Uncaught Exception \t.*thrown by a timer set at import/);
        assert.doesNotMatch(b.stdout(), /warm-up/);
      },
    );
  });
}

Deno.test("runtime1: a function that begins its stream before runtime.js has read a large event leaves the bootstrap serving", async () => {
  // The head comes while the bootstrap is still passing the event on from the
  // Runtime API's connection, which it reuses once the invocation's outcome
  // is known: it must wait until the event is through.
  await withBootstrap(
    { runtime: "runtime1", handler: "early_head.handler", streams: true },
    async (b) => {
      for (let i = 0; i < 3; i++) {
        const small = await b.api.invoke({ i });
        assert.equal(small.kind, "response", small.body);
        const large = await Promise.race([
          b.api.invoke({ pad: "p".repeat(6_000_000) }),
          b.exited().then((status) =>
            assert.fail(`the bootstrap exited: ${JSON.stringify(status)}`)
          ),
        ]);
        assert.ok(large.kind === "response" || large.kind === "error", large.kind);
      }
      assert.doesNotMatch(b.stderr(), /panic|DATA RACE/);
    },
  );
});

Deno.test("runtime1: a stream the function writes on its kept connection after its invocation never becomes another's response", async () => {
  await withBootstrap(
    { runtime: "runtime1", handler: "early_head.handler", streams: true },
    async (b) => {
      const warm = await b.api.invoke({ text: "warm" });
      assert.equal(warm.body, "warm");
      const attack = await b.api.invoke({ text: "attack", forge: true });
      assert.equal(attack.body, "attack");
      await b.stdoutMatches(/forged a stream/);
      for (let i = 0; i < 4; i++) {
        const out = await b.api.invoke({ text: `secret of caller-${i}` });
        // The first may fail, on the forged stream it meets; none gets
        // another invocation's bytes, and the ones after it get their own.
        if (i === 0 && out.kind === "error") {
          assert.equal(out.errorType, "Runtime.BridgeError", out.body);
          continue;
        }
        assert.equal(out.kind, "response", out.body);
        assert.equal(out.body, `secret of caller-${i}`);
      }
    },
  );
});

Deno.test("runtime1: a stream with a large event that runs past its deadline fails alone, and the runtime serves on", async () => {
  // A large event comes on from the Runtime API's connection as it arrives;
  // once it has gone to Deno whole, that connection carries the stream's post.
  // The bridge request, still open until the handler settles, must leave it be
  // when the deadline ends it.
  await withBootstrap(
    { runtime: "runtime1", handler: "streaming.chunks", streams: true },
    async (b) => {
      const pad = "p".repeat(200_000);
      const late = await b.api.invoke({ n: 5, size: 10, gapMs: 400, pad }, { timeoutMs: 1000 });
      assert.equal(late.errorType, "Runtime.Timeout", late.body.slice(0, 300));
      const next = await b.api.invoke({ n: 2, size: 3, pad });
      assert.equal(next.kind, "response", next.body.slice(0, 300));
      assert.equal(next.body, "x".repeat(6));
    },
  );
});

const typed = buildFunction("tests/fixtures/ts/streaming.ts", "streaming");
const hono = buildFunction("tests/fixtures/ts/hono_stream.ts", "hono-stream");
const real = builtOnce(
  "tests/fixtures/ts/real_streams.ts",
  "real-streams",
  "function.download",
);

/** A function URL's event for GET path, as Lambda hands it out (payload format 2.0). */
function urlEvent(path: string) {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { host: "abc.lambda-url.us-east-1.on.aws", accept: "*/*" },
    requestContext: {
      accountId: "123456789012",
      apiId: "abc",
      domainName: "abc.lambda-url.us-east-1.on.aws",
      domainPrefix: "abc",
      http: { method: "GET", path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "curl" },
      requestId: "r-1",
      routeKey: "$default",
      stage: "$default",
      time: "01/Dec/2026:00:00:00 +0000",
      timeEpoch: 1796083200000,
    },
    isBase64Encoded: false,
  };
}

/** An HTTP integration response split into its prelude and its body. */
function httpParts(out: Outcome): { prelude: Record<string, unknown>; body: string } {
  assert.equal(out.contentType, "application/vnd.awslambda.http-integration-response");
  const at = out.body.indexOf("\0".repeat(8));
  assert.ok(at > 0, out.body);
  return { prelude: JSON.parse(out.body.slice(0, at)), body: out.body.slice(at + 8) };
}

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: a TypeScript streaming function, typed by @types/aws-lambda, through the real build`, async () => {
    const taskRoot = await typed;
    await withBootstrap(
      { runtime, handler: "function.handler", taskRoot, streams: true },
      async (b) => {
        const out = await b.api.invoke({ lines: 3 }, { requestId: "ts-1" });
        const { prelude, body } = httpParts(out);
        assert.deepEqual(prelude, {
          statusCode: 200,
          headers: { "content-type": "text/plain", "x-request-id": "ts-1" },
        });
        assert.equal(body, "line 0\nline 1\nline 2\n");
      },
    );
  });

  Deno.test(`${runtime}: Hono's streamHandle streams a Hono app's response as it is written`, async () => {
    const taskRoot = await hono;
    await withBootstrap(
      { runtime, handler: "function.handler", taskRoot, streams: true },
      async (b) => {
        const out = await b.api.invoke(urlEvent("/ticks"));
        const { prelude, body } = httpParts(out);
        assert.equal(prelude.statusCode, 200);
        assert.equal(body, "tick 0\ntick 1\ntick 2\n");
        // Hono waits 100 ms after each line: they arrive apart.
        const { chunks } = streamed(out);
        assert.ok(chunks.at(-1)!.at - chunks[0].at >= 150, JSON.stringify(chunks));
      },
    );
  });
}

for (const runtime of RUNTIMES) {
  const withReal = (
    handler: string,
    env: Record<string, string>,
    fn: Parameters<typeof withBootstrap>[1],
  ) =>
    real().then((taskRoot) =>
      withBootstrap({ runtime, handler: `function.${handler}`, taskRoot, env, streams: true }, fn)
    );

  Deno.test(`${runtime}: an S3 object piped from the AWS SDK into an HTTP response stream arrives whole (moto)`, async () => {
    await withMoto(async (moto) => {
      const aws = Object.fromEntries(
        Object.entries(motoEnv(moto)).filter(([k]) => k.startsWith("AWS_")),
      );
      await withReal("download", aws, async (b) => {
        const size = 3 * MiB + 7;
        const out = await b.api.invoke({ bucket: "deno-lambda-download", key: "big.bin", size });
        const { prelude, body } = httpParts(out);
        assert.deepEqual(prelude, {
          statusCode: 200,
          headers: { "content-type": "application/octet-stream" },
        });
        assert.equal(body.length, size);
        let wrong = -1;
        for (let i = 0; i < size && wrong < 0; i++) {
          if (body.charCodeAt(i) !== 0x61 + (i % 26)) wrong = i;
        }
        assert.equal(wrong, -1, `the body is the object's bytes (first wrong at ${wrong})`);
        assert.ok(streamed(out).chunks.length > 1, "the object came in pieces");
      });
    });
  });

  Deno.test(`${runtime}: a proxied upstream event stream (fetch, Readable.fromWeb, pipeline) reaches the caller as the upstream sends it`, async () => {
    const gapMs = 100;
    const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
      const events = (async function* () {
        for (let i = 0; i < 4; i++) {
          if (i > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
          yield new TextEncoder().encode(`data: ${i}\n\n`);
        }
      })();
      return new Response(ReadableStream.from(events), {
        headers: { "content-type": "text/event-stream" },
      });
    });
    try {
      await withReal("proxy", {}, async (b) => {
        const out = await b.api.invoke({ url: `http://127.0.0.1:${upstream.addr.port}/` });
        assert.equal(out.kind, "response", out.body);
        assert.equal(out.contentType, "text/event-stream");
        assert.equal(out.body, "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\n");
        const { chunks } = streamed(out);
        // Bytes held back to the end would come at once; a slow reader may
        // merge two events, but not all four.
        assert.ok(chunks.at(-1)!.at - chunks[0].at >= gapMs, JSON.stringify(chunks));
      });
    } finally {
      await upstream.shutdown();
    }
  });

  Deno.test(`${runtime}: middy's streamifyResponse execution mode streams a handler's { statusCode, body: Readable }`, async () => {
    await withReal("withMiddy", {}, async (b) => {
      const out = await b.api.invoke({ lines: 3 }, { requestId: "middy-1" });
      const { prelude, body } = httpParts(out);
      assert.deepEqual(prelude, { statusCode: 201, headers: { "content-type": "text/plain" } });
      assert.equal(body, "middy-1 0\nmiddy-1 1\nmiddy-1 2\n");
    });
  });
}

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: under Managed Instances streams run at once, and one past its deadline fails alone`, async () => {
    const env = { AWS_LAMBDA_MAX_CONCURRENCY: "4", AWS_LAMBDA_LOG_FORMAT: "JSON" };
    await withBootstrap({ runtime, handler: "streaming.chunks", env, streams: true }, async (b) => {
      // 30 writes 200 ms apart cannot end within 3 s, which leaves a loaded
      // machine time to hand the event out before its deadline.
      const late = b.api.invoke({ n: 30, size: 3, gapMs: 200 }, { timeoutMs: 3000 });
      late.catch(() => {}); // awaited below
      const others = [1, 2, 3].map(() => b.api.invoke({ n: 4, size: 5, gapMs: 100 }));
      const stalled = await late;
      assert.equal(stalled.errorType, "Runtime.Timeout", stalled.body);
      assert.ok(stalled.body.length < 90, "some pieces came before the deadline, not all");
      for (const out of await Promise.all(others)) {
        assert.equal(out.kind, "response", out.body);
        assert.equal(out.body, "x".repeat(20));
      }
      assert.ok(b.api.mostInFlight >= 4, `${b.api.mostInFlight} at once`);
      const after = await b.api.invoke({ n: 2, size: 1 });
      assert.equal(after.body, "xx", "the environment serves on");
    });
  });
}
