// When the Runtime API itself fails, nothing can be reported: the bootstrap
// exits non-zero promptly, without a busy loop, and leaves nothing running.
import { freePort } from "../scripts/_rie.ts";
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { denoProcessesOf, FIXTURES, layerDir } from "./_harness.ts";

async function runBootstrap(runtime: (typeof RUNTIMES)[number], api: string, handler?: string) {
  const layer = await layerDir(runtime);
  const tmpDir = await Deno.makeTempDir();
  const out = await new Deno.Command(`${layer}/bootstrap`, {
    clearEnv: true,
    env: {
      AWS_LAMBDA_RUNTIME_API: api,
      LAMBDA_TASK_ROOT: handler ? FIXTURES : `${layer}`,
      _HANDLER: handler ?? "function.handler",
      TMPDIR: tmpDir,
      PATH: "/usr/bin:/bin",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const leftovers = await denoProcessesOf(tmpDir);
  await Deno.remove(tmpDir, { recursive: true });
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { ...out, stdout: decode(out.stdout), stderr: decode(out.stderr), leftovers };
}

/**
 * A Runtime API that hands out one event and hangs up halfway through it,
 * which Deno.serve cannot do. Returns each request's first line.
 */
function apiCuttingTheEvent(eventBytes: number, sentBytes: number) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const requests: string[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      const head = await readHead(conn);
      requests.push(head.split("\r\n")[0]);
      if (head.startsWith("GET ")) {
        const answer = "HTTP/1.1 200 OK\r\nLambda-Runtime-Aws-Request-Id: cut-1\r\n" +
          `Lambda-Runtime-Deadline-Ms: ${Date.now() + 30_000}\r\n` +
          `Content-Length: ${eventBytes}\r\n\r\n` + '{"data":"' + "x".repeat(sentBytes - 9);
        await conn.writable.getWriter().write(new TextEncoder().encode(answer)).catch(() => {});
      }
      conn.close();
    }
  })();
  return {
    address: `127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    requests,
    close: async () => {
      listener.close();
      await serving.catch(() => {});
    },
  };
}

async function readHead(conn: Deno.Conn): Promise<string> {
  const buf = new Uint8Array(64 * 1024);
  let text = "";
  while (!text.includes("\r\n\r\n")) {
    const n = await conn.read(buf);
    if (n === null) break;
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  return text;
}

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: a Runtime API that refuses connections ends the bootstrap`, async () => {
    // A port that was free a moment ago and is closed now.
    const result = await runBootstrap(runtime, `127.0.0.1:${freePort()}`);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /get next invocation: .*connection refused/);
    assert.deepEqual(result.leftovers, []);
  });

  Deno.test(`${runtime}: a 500 from GET /next ends the bootstrap`, async () => {
    let nextCalls = 0;
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      if (new URL(req.url).pathname.endsWith("/invocation/next")) nextCalls++;
      return new Response('{"errorType":"ServiceException"}', { status: 500 });
    });
    try {
      const result = await runBootstrap(runtime, `127.0.0.1:${server.addr.port}`);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /GET \/invocation\/next: Runtime API answered 500/);
      assert.equal(nextCalls, 1, "no retry loop");
      assert.deepEqual(result.leftovers, []);
    } finally {
      await server.shutdown();
    }
  });

  Deno.test(`${runtime}: an event cut off on its way from the Runtime API never reaches the handler`, async () => {
    // runtime1 passes a large event on to Deno as it arrives: Deno must not
    // take the half it got for an event.
    const api = apiCuttingTheEvent(1_000_000, 500_000);
    try {
      const result = await runBootstrap(runtime, api.address, "handlers.logs");
      assert.equal(result.code, 1);
      assert.match(
        result.stderr,
        /get next invocation: .*body cut off after 500000 of 1000000 bytes/,
      );
      assert.doesNotMatch(result.stdout + result.stderr, /hello log/, "the handler ran");
      assert.deepEqual(
        api.requests,
        ["GET /2018-06-01/runtime/invocation/next HTTP/1.1"],
        "nothing is posted",
      );
      assert.deepEqual(result.leftovers, []);
    } finally {
      await api.close();
    }
  });

  Deno.test(`${runtime}: without AWS_LAMBDA_RUNTIME_API the bootstrap explains and exits`, async () => {
    const result = await runBootstrap(runtime, "");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /AWS_LAMBDA_RUNTIME_API is not set/);
  });
}
