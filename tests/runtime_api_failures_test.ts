// When the Runtime API itself fails, nothing can be reported: the bootstrap
// exits non-zero promptly, without a busy loop, and leaves nothing running.
import { freePort } from "../scripts/_rie.ts";
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { denoProcessesOf, layerDir } from "./_harness.ts";

async function runBootstrap(runtime: (typeof RUNTIMES)[number], api: string) {
  const layer = await layerDir(runtime);
  const tmpDir = await Deno.makeTempDir();
  const out = await new Deno.Command(`${layer}/bootstrap`, {
    clearEnv: true,
    env: {
      AWS_LAMBDA_RUNTIME_API: api,
      LAMBDA_TASK_ROOT: `${layer}`,
      _HANDLER: "function.handler",
      TMPDIR: tmpDir,
      PATH: "/usr/bin:/bin",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const leftovers = await denoProcessesOf(tmpDir);
  await Deno.remove(tmpDir, { recursive: true });
  return { ...out, stderr: new TextDecoder().decode(out.stderr), leftovers };
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

  Deno.test(`${runtime}: without AWS_LAMBDA_RUNTIME_API the bootstrap explains and exits`, async () => {
    const result = await runBootstrap(runtime, "");
    assert.equal(result.code, 1);
    assert.match(result.stderr, /AWS_LAMBDA_RUNTIME_API is not set/);
  });
}
