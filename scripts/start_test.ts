import assert from "node:assert/strict";
import { resolve } from "node:path";
import { processesWithEnv } from "./_processes.ts";
import { runScript } from "./_run_script.ts";
import { freePort } from "./_rie.ts";
import { isSource, newest, parseStartArgs } from "./start.ts";
import { interrupt, type Started, within, withStart } from "./_start_process.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("start: Lambda's defaults, and every flag", () => {
  assert.deepEqual(parseStartArgs([]), {
    runtime: "runtime1",
    port: 9000,
    timeout: 3,
    memory: 128,
    env: {},
    watch: false,
    entry: resolve("function/mod.ts"),
    handler: "function.handler",
  });
  assert.deepEqual(
    parseStartArgs([
      "--runtime=runtime2",
      "--port=9100",
      "--timeout=30",
      "--memory=1024",
      "--env",
      "A=1",
      "--env",
      "B=x=y",
      "--env",
      "EMPTY=",
      "--watch",
      "--entry=elsewhere/main.ts",
      "--handler=main.handler",
    ]),
    {
      runtime: "runtime2",
      port: 9100,
      timeout: 30,
      memory: 1024,
      env: { A: "1", B: "x=y", EMPTY: "" },
      watch: true,
      entry: resolve("elsewhere/main.ts"),
      handler: "main.handler",
    },
  );
});

Deno.test("start: --env _HANDLER=... sets the handler, as Lambda's setting does", () => {
  const options = parseStartArgs(["--env", "_HANDLER=index.handler", "--env", "A=1"]);
  assert.equal(options.handler, "index.handler");
  assert.deepEqual(options.env, { A: "1" });
  assert.equal(parseStartArgs(["--handler=x.y", "--env=_HANDLER=x.y"]).handler, "x.y");
});

Deno.test("start: the build's output, caches, git and tests are no sources of a function", () => {
  for (const path of ["dist/local/functions/x/function.zip", ".cache/rie/x", ".git/index"]) {
    assert.equal(isSource(`${ROOT}${path}`), false, path);
  }
  assert.equal(isSource(`${ROOT}hello/index_test.ts`), false);
  assert.equal(isSource(`${ROOT}index.ts`), true);
  assert.equal(isSource(`${ROOT}hello/dist.ts`), true);
});

Deno.test("start: a dangling link (an editor's lock file) does not stop the staleness check", async () => {
  const dir = await Deno.makeTempDir({ prefix: "start-newest-" });
  try {
    await Deno.writeTextFile(`${dir}/mod.ts`, "export {};\n");
    await Deno.symlink(`${dir}/nowhere`, `${dir}/.#mod.ts`);
    const mtime = (await Deno.stat(`${dir}/mod.ts`)).mtime!.getTime();
    assert.equal(await newest([dir]), mtime);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start: a bad flag gets a clear message", () => {
  const cases: [string[], RegExp][] = [
    [["--runtime", "runtime3"], /^Unknown runtime "runtime3": use runtime1 or runtime2$/],
    [["--env", "NOVALUE"], /^Bad --env "NOVALUE": expected KEY=VALUE$/],
    [["--env", "1A=x"], /^Bad --env "1A=x": expected KEY=VALUE$/],
    [["--port", "99999"], /^Bad --port "99999": expected a whole number from 1 to 65535$/],
    [["--timeout", "1.5"], /^Bad --timeout "1.5": expected a whole number from 1 to 900$/],
    [["--memory", "64"], /^Bad --memory "64": expected a whole number from 128 to 10240$/],
    [["--wach"], /^Unknown flag --wach: did you mean --watch\?$/],
    [
      ["hello/index.ts"],
      /^Unexpected argument 'hello\/index\.ts': pass the entry point as --entry hello\/index\.ts$/,
    ],
    [
      ["--handler", "index"],
      /^Bad handler "index": expected <module>\.<export> inside the function/,
    ],
    [["--handler", "/abs.handler"], /^Bad handler "\/abs\.handler": expected/],
    [
      ["--handler", "a.handler", "--env", "_HANDLER=b.handler"],
      /^--handler a\.handler and --env _HANDLER=b\.handler disagree: give one$/,
    ],
    [
      ["--env", "AWS_LAMBDA_MAX_CONCURRENCY=8"],
      /^--env AWS_LAMBDA_MAX_CONCURRENCY: the emulator runs Managed Instances only .*docs\/managed-instances\.md/,
    ],
  ];
  for (const [args, message] of cases) {
    assert.throws(() => parseStartArgs(args), (err: Error) => {
      assert.match(err.message, message, args.join(" "));
      return true;
    });
  }
});

function invoke(port: number, ...args: string[]) {
  return runScript("invoke.ts", ["--port", String(port), ...args]);
}

for (const runtime of ["runtime1", "runtime2"]) {
  Deno.test(`start: ${runtime} serves the function until Ctrl-C, then nothing is left running`, async () => {
    const port = freePort();
    const args = [
      "--port",
      String(port),
      "--runtime",
      runtime,
      "--timeout",
      "5",
      "--env",
      "GREETING=unused",
    ];
    await withStart(args, async (started) => {
      const { out, err } = started;
      const [, tmpDir] = await out.seen(/^ {2}\/tmp {7}(\S+)$/m);
      await out.seen(/^Ctrl-C stops everything\.$/m);
      assert.match(out.text(), new RegExp(`invoke at  http://127\\.0\\.0\\.1:${port}/`));

      const fromEvent = await invoke(port, "--event", `${ROOT}events/apigw_v2.json`);
      assert.equal(fromEvent.code, 0, fromEvent.stderr);
      assert.match(fromEvent.stdout, /^{\n {2}"statusCode": 200,/);
      assert.match(fromEvent.stdout, /\\"message\\":\\"Hello, Deno!\\"/);
      assert.match(fromEvent.stderr, /^\nsuccess, HTTP 200, \d+\.\d ms\n$/);
      await out.seen(/\tINFO\tGreeted Deno in en\n/); // the function's logs, as Lambda writes them

      // The SQS sample is no HTTP API event: the example says so, and invoke flags the 400.
      const fromSqs = await invoke(port, "--event", `${ROOT}events/sqs.json`);
      assert.match(fromSqs.stdout, /"statusCode": 400/);
      assert.match(fromSqs.stdout, /Expected an API Gateway HTTP API event/);
      assert.equal(fromSqs.code, 1);
      assert.match(
        fromSqs.stderr,
        /^\nsuccess, but the answer is an HTTP 400 error \(its statusCode\), HTTP 200, /,
      );

      assert.equal((await interrupt(started)).code, 0, err.text());
      assert.match(out.text(), /\nStopped: the emulator, the bootstrap and Deno are gone\n$/);
      assert.deepEqual(await processesWithEnv(`TMPDIR=${tmpDir}`), []);
      await assert.rejects(Deno.stat(tmpDir), Deno.errors.NotFound);
      assert.equal((await invoke(port)).code, 1, "nothing listens any more");
    });
  });
}

Deno.test("start: a port in use is refused before anything starts", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const out = await runScript("start.ts", ["--port", String(listener.addr.port)]);
    assert.equal(out.code, 1);
    assert.equal(
      out.stderr,
      `Port ${listener.addr.port} is in use: stop what listens there, or pick another --port\n`,
    );
  } finally {
    listener.close();
  }
});

Deno.test("start: --watch rebuilds and restarts when the function changes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "start-watch-" });
  const write = (version: string) =>
    Deno.writeTextFile(`${dir}/mod.ts`, `export const handler = (): string => "${version}";\n`);
  await write("first");
  const port = freePort();
  try {
    await withStart(
      ["--port", String(port), "--entry", `${dir}/mod.ts`, "--watch"],
      async (started) => {
        const { out, err } = started;
        await out.seen(/^Ctrl-C stops everything\.$/m);
        assert.match(out.text(), /rebuilt and restarted when .*start-watch-\S+\/ changes/);
        assert.equal((await invoke(port, "--data", "{}")).stdout.trim(), '"first"');

        await write("second");
        await out.seen(/^Restarted: invoke at /m);
        assert.equal((await invoke(port, "--data", "{}")).stdout.trim(), '"second"');

        assert.equal((await interrupt(started)).code, 0, err.text());
        assert.match(out.text(), /\nStopped: the emulator, the bootstrap and Deno are gone\n$/);
      },
      undefined,
      { removeBuilds: true },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start: Ctrl-C stops at once when the function left a process holding the output", async () => {
  const dir = await Deno.makeTempDir({ prefix: "start-orphan-" });
  await Deno.writeTextFile(
    `${dir}/mod.ts`,
    `export function handler(): string {
  new Deno.Command("sleep", { args: ["300"] }).spawn(); // inherits the output, outlives Deno
  return "started";
}
`,
  );
  const port = freePort();
  const args = ["--port", String(port), "--entry", `${dir}/mod.ts`];
  try {
    await withStart(
      [...args, "--env", "DENO_LAMBDA_PERMISSIONS=--allow-all"],
      async (started) => {
        const { out, err } = started;
        const [, tmpDir] = await out.seen(/^ {2}\/tmp {7}(\S+)$/m);
        await out.seen(/^Ctrl-C stops everything\.$/m);
        assert.equal((await invoke(port, "--data", "{}")).stdout.trim(), '"started"');

        assert.ok(await within(15_000, interrupt(started)), "start did not stop");
        assert.equal((await started.child.status).code, 0, err.text());
        assert.match(err.text(), /^Killed processes left behind: \d+/m);
        assert.deepEqual(await processesWithEnv(`TMPDIR=${tmpDir}`), []);
      },
      undefined,
      { removeBuilds: true },
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start keeps serving when whoever reads its output goes away", async () => {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${ROOT}scripts/start.ts`, "--port", String(port)],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const err = child.stderr.pipeThrough(new TextDecoderStream());
  let tmpDir: string | undefined;
  try {
    // Read up to the banner, then close the pipe, as `| head` or quitting `less` does.
    let text = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      if (/^Ctrl-C stops everything\.$/m.test(text)) break;
    }
    tmpDir = text.match(/^ {2}\/tmp {7}(\S+)$/m)?.[1];
    const first = await invoke(port, "--event", `${ROOT}events/apigw_v2.json`);
    assert.equal(first.code, 0, first.stderr);
    const second = await invoke(port, "--event", `${ROOT}events/apigw_v2.json`);
    assert.equal(second.code, 0, second.stderr);

    child.kill("SIGINT");
    const status = await child.status;
    let errors = "";
    for await (const chunk of err) errors += chunk;
    assert.equal(status.code, 0, errors);
    assert.doesNotMatch(errors, /BrokenPipe|Uncaught/);
    assert.ok(tmpDir);
    assert.deepEqual(await processesWithEnv(`TMPDIR=${tmpDir}`), []);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* stopped */ }
    await child.status;
  }
});

Deno.test("start: a handler the entry does not export is refused before anything is served", async () => {
  const dir = await Deno.makeTempDir({ prefix: "start-handler-" });
  await Deno.writeTextFile(`${dir}/index.ts`, "export const handler = (): number => 1;\n");
  try {
    const args = ["--port", String(freePort()), "--entry", `${dir}/index.ts`];
    const out = await runScript("start.ts", [...args, "--handler", "index.nothere"]);
    assert.equal(out.code, 1);
    assert.match(
      out.stderr,
      /^Build failed: index\.nothere is undefined or not exported \(it exports: handler\), so Lambda would fail init with Runtime\.HandlerNotFound: pass a --handler that names one of \/.*\/index\.ts's exported functions$/m,
    );
    assert.doesNotMatch(out.stdout, /Serving/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("start: a missing entry point gets a clear message", async () => {
  const out = await runScript("start.ts", [
    "--port",
    String(freePort()),
    "--entry",
    "nowhere/mod.ts",
  ]);
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /No function at nowhere\/mod\.ts: pass --entry/,
  );
});

/**
 * Serves tests/fixtures/ts/<fixture> with deno task start as index.handler,
 * runs use once it serves, with its port and invoke URL, then stops it with
 * Ctrl-C, which must end it well.
 */
async function serveFixture(
  fixture: string,
  use: (served: { port: number; url: string; started: Started }) => Promise<void>,
  flags: string[] = [],
): Promise<void> {
  const port = freePort();
  const entry = `${ROOT}tests/fixtures/ts/${fixture}`;
  await withStart(
    ["--port", String(port), "--entry", entry, "--handler", "index.handler", ...flags],
    async (started) => {
      await started.out.seen(/^Ctrl-C stops everything\.$/m);
      const url = `http://127.0.0.1:${port}/2015-03-31/functions/function/invocations`;
      await use({ port, url, started });
      assert.equal((await interrupt(started)).code, 0, started.err.text());
    },
  );
}

Deno.test("start: a streamed response reaches curl and invoke piece by piece, past the emulator", async () => {
  await serveFixture("hono_stream.ts", async ({ port, url }) => {
    const event = JSON.stringify({
      version: "2.0",
      rawPath: "/ticks",
      rawQueryString: "",
      headers: { host: "localhost" },
      requestContext: { http: { method: "GET", path: "/ticks", sourceIp: "127.0.0.1" } },
      isBase64Encoded: false,
    });
    const res = await fetch(url, { method: "POST", body: event });
    // As a function URL answers: the prelude's status and headers, then the body.
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const pieces: { at: number; text: string }[] = [];
    const decoder = new TextDecoder();
    for await (const piece of res.body!) {
      pieces.push({ at: performance.now(), text: decoder.decode(piece) });
    }
    assert.equal(pieces.map((p) => p.text).join(""), "tick 0\ntick 1\ntick 2\n");
    // Hono waits 100 ms after each line: a buffered answer would bring them at once.
    assert.ok(pieces.at(-1)!.at - pieces[0].at >= 150, JSON.stringify(pieces));

    const invoked = await runScript("invoke.ts", ["--port", String(port), "--data", event]);
    assert.equal(invoked.code, 0, invoked.stderr);
    assert.equal(invoked.stdout, "tick 0\ntick 1\ntick 2\n");
    assert.match(invoked.stderr, /streamed: each piece printed as it came/);

    // A streamed HTTP answer of 400 or more is an error to flag, as a buffered one is.
    const missing = await runScript("invoke.ts", [
      "--port",
      String(port),
      "--data",
      event.replaceAll("/ticks", "/nothere"),
    ]);
    assert.equal(missing.code, 1, missing.stderr);
    assert.match(
      missing.stderr,
      /success, but the answer is an HTTP 404 error \(its status\), [\d.]+ ms$/m,
    );
  });
});

Deno.test("start: a stream that fails after its first byte is cut off, said so, and the next is served", async () => {
  await serveFixture("stream_fails.ts", async ({ url, started }) => {
    const call = () => fetch(url, { method: "POST", body: "{}" });
    assert.equal(await (await call()).text(), "call 1: partial\nwhole\n");
    const failing = await call();
    const reader = failing.body!.getReader();
    const first = await reader.read();
    assert.equal(new TextDecoder().decode(first.value), "call 2: partial\n");
    await assert.rejects(async () => {
      while (!(await reader.read()).done) { /* the rest, until the cut */ }
    });
    await started.err.seen(/the stream ended in RangeError: .*failed half way/);
    assert.equal(await (await call()).text(), "call 3: partial\nwhole\n");
  });
});

Deno.test("start: a stream past its timeout is cut off, start says why, and the next is served", async () => {
  await serveFixture("stream_fails.ts", async ({ port, started }) => {
    const hung = await runScript("invoke.ts", ["--port", String(port), "--data", '{"hang":true}']);
    assert.equal(hung.code, 1, hung.stderr);
    assert.equal(hung.stdout, "waiting\n");
    assert.match(hung.stderr, /the stream was cut off \(.*\): deno task start's output says why/);
    // The bootstrap's deadline or the emulator's, whichever ends it first.
    await started.err.seen(
      /Invoke \S+: the stream (ended in Runtime\.Timeout|was cut off before its end; the emulator says)/,
    );
    const next = await runScript("invoke.ts", ["--port", String(port)]);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(next.stdout, "call 1: partial\nwhole\n");
  }, ["--timeout", "1"]);
});

Deno.test("start: an HTTP response whose prelude never ends is refused with a 502 that says why", async () => {
  await serveFixture("stream_prelude.ts", async ({ url, started }) => {
    const endless = await fetch(url, { method: "POST", body: '{"endless":true}' });
    assert.equal(endless.status, 502);
    assert.match(await endless.text(), /prelude passed 64 KiB without its end/);
    await started.err.seen(/prelude passed 64 KiB without its end \(8 NUL bytes\)/);
    const next = await fetch(url, { method: "POST", body: "{}" });
    assert.equal(next.status, 201);
    assert.equal(await next.text(), "made\n");
  });
});
