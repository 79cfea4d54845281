// Writing functions: a TypeScript function bundled by the build, its npm
// dependencies inside, its stack traces mapped to the .ts lines, and Deno's
// permissions applied, all through the real bootstrap.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { CODE_CACHE_FILE } from "../scripts/_code_cache.ts";
import { DIST, HOST_ARCH, ROOT, RUNTIMES } from "../scripts/_paths.ts";
import { unzipTo } from "../scripts/zip.ts";
import { buildFunction, builtOnce, withBootstrap } from "./_harness.ts";
import { motoEnv, withMoto } from "./_moto.ts";

const probe = buildFunction("tests/fixtures/ts/capabilities.ts");
const nested = buildFunction("tests/fixtures/ts/capabilities.ts", "nested", "api/v1.handler");

for (const runtime of RUNTIMES) {
  const opts = async (env: Record<string, string> = {}) => ({
    runtime,
    handler: "function.handler",
    taskRoot: await probe,
    env,
  });

  Deno.test(`${runtime}: error stack traces name the original .ts file and line`, async () => {
    await withBootstrap(await opts(), async (b) => {
      const out = await b.api.invoke({ action: "fail" });
      const body = JSON.parse(out.body);
      assert.equal(body.errorType, "RangeError");
      assert.equal(body.stackTrace[0], "RangeError: cannot handle fail");
      assert.match(
        body.stackTrace[1],
        /at checkInput \(file:\/\/\/.*\/tests\/fixtures\/ts\/capabilities\.ts:9:9\)/,
      );

      await b.api.invoke({ action: "log" }, { requestId: "log-1" });
      await b.stop();
      assert.match(
        b.stdout(),
        /\tlog-1\tERROR\tError: logged from typescript\r {4}at handler \(file:\/\/\/.*capabilities\.ts:18:21\)/,
      );
    });
  });

  Deno.test(`${runtime}: a bundle in a subdirectory (api/v1.handler) still names the .ts file`, async () => {
    const taskRoot = await nested;
    const options = { runtime, handler: "api/v1.handler", taskRoot, env: {} };
    await withBootstrap(options, async (b) => {
      const body = JSON.parse((await b.api.invoke({ action: "fail" })).body);
      assert.equal(body.errorType, "RangeError");
      assert.equal(
        body.stackTrace[1],
        `    at checkInput (file://${taskRoot}/tests/fixtures/ts/capabilities.ts:9:9)`,
      );
    });
  });

  Deno.test(`${runtime}: by default a function reads its task root and TMPDIR, not the rest`, async () => {
    await withBootstrap(await opts(), async (b) => {
      const own = await b.api.invoke({ action: "read", path: `${await probe}/function.bundle.js` });
      assert.equal(own.kind, "response");
      await Deno.writeTextFile(`${b.tmpDir}/scratch.txt`, "scratch");
      assert.equal(
        (await b.api.invoke({ action: "read", path: `${b.tmpDir}/scratch.txt` })).body,
        '"scratch"',
      );

      const denied = await b.api.invoke({ action: "read", path: `${ROOT}/deno.json` });
      assert.equal(denied.errorType, "NotCapable");
      assert.match(
        JSON.parse(denied.body).errorMessage,
        /^Requires read access to ".*deno\.json": add --allow-read=.*deno\.json to DENO_LAMBDA_PERMISSIONS, for example DENO_LAMBDA_PERMISSIONS="--allow-net --allow-env --allow-sys --allow-read=.* --allow-read=.*deno\.json"$/,
      );
    });
  });

  Deno.test(`${runtime}: DENO_LAMBDA_PERMISSIONS widens and narrows what the function may do`, async () => {
    const listener = Deno.listen({ hostname: "127.0.0.2", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const accepting = (async () => {
      for await (const conn of listener) conn.close();
    })();
    try {
      await withBootstrap(await opts(), async (b) => {
        assert.equal((await b.api.invoke({ action: "connect", port })).body, '"connected"');
      });
      const narrowed = {
        DENO_LAMBDA_PERMISSIONS: "--allow-net=api.example.com --allow-read=" + ROOT,
      };
      await withBootstrap(await opts(narrowed), async (b) => {
        const refused = await b.api.invoke({ action: "connect", port });
        assert.equal(refused.errorType, "NotCapable");
        assert.match(
          JSON.parse(refused.body).errorMessage,
          /Requires net access to "127\.0\.0\.2:\d+"/,
        );
        const widened = await b.api.invoke({ action: "read", path: `${ROOT}/deno.json` });
        assert.equal(widened.kind, "response");
      });
    } finally {
      listener.close();
      await accepting.catch(() => {});
    }
  });

  Deno.test(`${runtime}: a function granted no network still runs, and cannot connect`, async () => {
    await withBootstrap(await opts({ DENO_LAMBDA_PERMISSIONS: "--allow-env" }), async (b) => {
      const refused = await b.api.invoke({ action: "connect", port: 9 });
      assert.equal(refused.errorType, "NotCapable");
      assert.match(
        JSON.parse(refused.body).errorMessage,
        /Requires net access to "127\.0\.0\.2:9"/,
      );
      // The runtime's own needs (its channel on a loopback port) took nothing from it: it serves on.
      const failed = JSON.parse((await b.api.invoke({ action: "fail" })).body);
      assert.equal(failed.errorType, "RangeError");
    });
  });

  Deno.test(`${runtime}: --deny-net is refused at init`, async () => {
    await withBootstrap(await opts({ DENO_LAMBDA_PERMISSIONS: "--deny-net" }), async (b) => {
      // A denial beats every grant, the channel's too: say so, not "exit status 1".
      assert.equal((await b.exited()).code, 1);
      assert.equal(b.api.initErrors[0]?.errorType, "Runtime.InvalidPermissions");
      assert.match(
        JSON.parse(b.api.initErrors[0].body).errorMessage,
        /--deny-net also denies what the runtime needs .*channel on 127\.0\.0\.1.*leave --allow-net out instead/,
      );
    });
  });

  Deno.test(`${runtime}: a malformed DENO_LAMBDA_PERMISSIONS fails init and says why`, async () => {
    await withBootstrap(
      await opts({ DENO_LAMBDA_PERMISSIONS: "--allow-net --inspect" }),
      async (b) => {
        assert.equal((await b.exited()).code, 1);
        assert.equal(b.api.initErrors[0]?.errorType, "Runtime.InvalidPermissions");
        assert.match(
          JSON.parse(b.api.initErrors[0].body).errorMessage,
          /"--inspect" is not a Deno permission flag/,
        );
      },
    );
  });
}

Deno.test("the example function's npm dependency is inside its bundle", async () => {
  const taskRoot = await Deno.makeTempDir();
  try {
    await unzipTo(`${DIST}/function.zip`, taskRoot);
    const bundle = await Deno.readTextFile(`${taskRoot}/function.bundle.js`);
    assert.doesNotMatch(bundle, /from\s+["']npm:/, "no npm: imports left to fetch at run time");
    assert.match(bundle, /\/\/# sourceMappingURL=function\.bundle\.js\.map/);
    const map = JSON.parse(await Deno.readTextFile(`${taskRoot}/function.bundle.js.map`));
    assert.ok(map.sources.includes("function/mod.ts"), map.sources);
    assert.ok(map.sources.some((s: string) => s.startsWith("npm:valibot/")), map.sources);
  } finally {
    await Deno.remove(taskRoot, { recursive: true });
  }
});

Deno.test("a function built from two checkouts, into two places, gives the same zip byte for byte", async () => {
  // What lets SAM, CDK and deploy tell an unchanged function from a changed one, whoever builds it.
  const dir = await Deno.makeTempDir({ prefix: "two-checkouts-" });
  try {
    // A second checkout, elsewhere: what the function build needs, and this one's Deno downloads.
    const other = `${dir}/elsewhere/deno-lambda`;
    await Deno.mkdir(other, { recursive: true });
    await new Deno.Command("cp", {
      args: ["-r", "scripts", "deno.json", "deno.lock", other],
      cwd: ROOT,
    })
      .output();
    await Deno.symlink(`${ROOT}/.cache`, `${other}/.cache`);
    await Deno.writeTextFile(`${dir}/index.ts`, 'export const handler = (): string => "same";\n');
    const hashes = [];
    for (const [checkout, out] of [[ROOT, `${dir}/one`], [other, `${dir}/two`]]) {
      const args = ["run", "--allow-all", `${checkout}/scripts/build.ts`, "--function-only"];
      args.push("--entry", `${dir}/index.ts`, "--handler", "index.handler", "--out-dir", out);
      const run = await new Deno.Command(Deno.execPath(), { args, cwd: checkout, stderr: "piped" })
        .output();
      assert.ok(run.success, new TextDecoder().decode(run.stderr));
      hashes.push(
        createHash("sha256").update(await Deno.readFile(`${out}/function.zip`)).digest("hex"),
      );
    }
    assert.equal(hashes[0], hashes[1]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a function in a project of its own is bundled with its deno.json, traces relative to it", async () => {
  // Its import map names a module of its own; this repository's deno.json knows nothing of it.
  const project = await Deno.makeTempDir({ prefix: "own-project-" });
  try {
    await Deno.mkdir(`${project}/src`);
    await Deno.mkdir(`${project}/lib`);
    await Deno.writeTextFile(
      `${project}/deno.json`,
      JSON.stringify({ imports: { "#greet": "./lib/greet.ts" } }),
    );
    await Deno.writeTextFile(
      `${project}/lib/greet.ts`,
      "export function greet(name: string): string {\n  throw new Error(`no greeting for ${name}`);\n}\n",
    );
    await Deno.writeTextFile(
      `${project}/src/index.ts`,
      'import { greet } from "#greet";\nexport const handler = () => greet("you");\n',
    );
    const taskRoot = await buildFunction(`${project}/src/index.ts`, "own-project", "index.handler");
    const options = { runtime: "runtime1" as const, handler: "index.handler", taskRoot, env: {} };
    await withBootstrap(options, async (b) => {
      const body = JSON.parse((await b.api.invoke({})).body);
      assert.equal(body.errorMessage, "no greeting for you");
      assert.equal(body.stackTrace[1], `    at greet (file://${taskRoot}/lib/greet.ts:2:9)`);
    });
  } finally {
    await Deno.remove(project, { recursive: true });
  }
});

/**
 * A function of each kind of entry, built once for both runtimes: CommonJS
 * (.cjs, and .js under "type": "commonjs", which reach their handler through
 * the default export) and ES modules (.mjs, .mts, .js). Each answers its kind.
 */
let entryKindsBuilt: Promise<[string, string][]> | undefined;
const entryKinds = () =>
  entryKindsBuilt ??= (async () => {
    const project = await Deno.makeTempDir({ prefix: "entry-kinds-" });
    const files: Record<string, string> = {
      "cjs/index.cjs": "exports.handler = async (event) => ({ kind: 'cjs', n: event.n * 2 });\n",
      "js-commonjs/package.json": '{ "type": "commonjs" }\n',
      "js-commonjs/lib.js": "module.exports = { kind: 'js-commonjs' };\n",
      "js-commonjs/index.js": "const lib = require('./lib.js');\n" +
        "module.exports.handler = async (event) => ({ kind: lib.kind, n: event.n * 2 });\n",
      "mjs/index.mjs": "export const handler = (event) => ({ kind: 'mjs', n: event.n * 2 });\n",
      "mts/index.mts":
        "export const handler = (event: { n: number }) => ({ kind: 'mts', n: event.n * 2 });\n",
      "js-esm/index.js":
        "export const handler = (event) => ({ kind: 'js-esm', n: event.n * 2 });\n",
    };
    try {
      for (const [path, text] of Object.entries(files)) {
        await Deno.mkdir(`${project}/${path.split("/")[0]}`, { recursive: true });
        await Deno.writeTextFile(`${project}/${path}`, text);
      }
      const built: [string, string][] = [];
      for (const entry of Object.keys(files).filter((f) => f.includes("/index."))) {
        const kind = entry.split("/")[0];
        built.push([
          kind,
          await buildFunction(`${project}/${entry}`, `kind-${kind}`, "index.handler"),
        ]);
      }
      return built;
    } finally {
      await Deno.remove(project, { recursive: true });
    }
  })();

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: CommonJS (.cjs; .js under "type": "commonjs") and ES module (.mjs, .mts, .js) entries run`, async () => {
    for (const [kind, taskRoot] of await entryKinds()) {
      const options = { runtime, handler: "index.handler", taskRoot, env: {} };
      await withBootstrap(options, async (b) => {
        const out = await b.api.invoke({ n: 21 });
        assert.deepEqual([out.kind, JSON.parse(out.body)], ["response", { kind, n: 42 }], kind);
      });
    }
  });
}

/** Builds entry as index.handler, for x86_64 alone, which the build must refuse; what it says. */
async function refusedBuild(entry: string, env: Record<string, string> = {}): Promise<string> {
  const args = ["run", "--allow-all", "scripts/build.ts", "--function-only", "--arch", "x86_64"];
  args.push("--entry", entry, "--handler", "index.handler", "--out-dir", `${entry}.out`);
  const run = await new Deno.Command(Deno.execPath(), { args, cwd: ROOT, env, stderr: "piped" })
    .output();
  assert.equal(run.code, 1);
  return new TextDecoder().decode(run.stderr);
}

Deno.test("the build refuses a syntax error, naming its place, without Deno's own backtrace", async () => {
  const dir = await Deno.makeTempDir({ prefix: "syntax-" });
  try {
    await Deno.writeTextFile(`${dir}/index.ts`, "export const handler = () => {\n  return 1;\n");
    const said = await refusedBuild(`${dir}/index.ts`);
    assert.match(said, /^Build failed: Cannot bundle .*index\.ts:/m);
    assert.match(said, /index\.ts:2:\d+/);
    assert.doesNotMatch(said, /Stack backtrace|<unknown>/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the build refuses a callback-style handler, saying how to declare it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "callback-" });
  try {
    await Deno.writeTextFile(
      `${dir}/index.ts`,
      "export function handler(_e: unknown, _c: unknown, cb: (e: null, r: string) => void) {\n" +
        '  cb(null, "done");\n}\n',
    );
    assert.match(
      await refusedBuild(`${dir}/index.ts`),
      /^Build failed: index\.handler is declared with 3 parameters \(event, context, callback\), a callback-based function handler, which AWS Lambda has removed support for starting with Node\.js 24: declare it with \(event, context\), and return the result or a promise of it; as it is, Lambda would fail init with Runtime\.CallbackHandlerDeprecated$/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const invokeStore = buildFunction("tests/fixtures/ts/invoke_store.ts", "invoke-store");

/** How to run the store-reading function on runtime, with env. */
async function storeFunction(runtime: "runtime1" | "runtime2", env: Record<string, string> = {}) {
  return { runtime, handler: "function.handler", taskRoot: await invokeStore, env };
}

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: the function's copy of @aws/lambda-invoke-store reads each invocation's ids`, async () => {
    const options = await storeFunction(runtime);
    await withBootstrap(options, async (b) => {
      for (const [i, tenantId] of ["tenant-a", undefined].entries()) {
        const traceId =
          `Root=1-6750f5a0-00000000000000000000000${i};Parent=53995c3f42cd8ad8;Sampled=1`;
        const out = await b.api.invoke({ waitMs: 5 }, {
          requestId: `store-${i}`,
          traceId,
          tenantId,
        });
        assert.deepEqual(JSON.parse(out.body), {
          awslambda: "object",
          theRuntimes: true,
          requestId: `store-${i}`,
          traceId,
          tenantId: tenantId ?? null,
        });
      }
    });
  });
}

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: under Managed Instances the package's multi-context store is the runtime's, each invocation's own`, async () => {
    // Given AWS_LAMBDA_MAX_CONCURRENCY, the package makes an AsyncLocalStorage
    // store of its own unless it finds the runtime's at globalThis.awslambda.
    const env = { AWS_LAMBDA_MAX_CONCURRENCY: "16", AWS_LAMBDA_LOG_FORMAT: "JSON" };
    await withBootstrap(await storeFunction(runtime, env), async (b) => {
      const outs = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          b.api.invoke({ waitMs: 16 - i }, {
            requestId: `mi-store-${i}`,
            traceId: `Root=1-6750f5a0-${String(i).padStart(24, "0")}`,
            tenantId: `tenant-${i}`,
          })),
      );
      outs.forEach((out, i) =>
        assert.deepEqual(JSON.parse(out.body), {
          awslambda: "object",
          theRuntimes: true,
          requestId: `mi-store-${i}`,
          traceId: `Root=1-6750f5a0-${String(i).padStart(24, "0")}`,
          tenantId: `tenant-${i}`,
        })
      );
      assert.equal(b.api.mostInFlight, 16);
    });
  });
}

Deno.test("with AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA=1, as on Node.js, no store is shared", async () => {
  const env = { AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA: "1" };
  const options = await storeFunction("runtime1", env);
  await withBootstrap(options, async (b) => {
    const out = await b.api.invoke({ waitMs: 0 }, { requestId: "alone", traceId: "Root=1-b" });
    assert.deepEqual(JSON.parse(out.body), {
      awslambda: "undefined",
      theRuntimes: false,
      requestId: "-",
      traceId: null,
      tenantId: null,
    });
  });
});

Deno.test("with the environment narrowed, the store and its package still work", async () => {
  // The runtime and @aws/lambda-invoke-store read variables of their own, granted whatever the function is.
  const env = { DENO_LAMBDA_PERMISSIONS: "--allow-env=STAGE" };
  const options = await storeFunction("runtime2", env);
  await withBootstrap(options, async (b) => {
    const out = await b.api.invoke({ waitMs: 0 }, { requestId: "narrow", traceId: "Root=1-c" });
    assert.equal(out.kind, "response", out.body);
    assert.deepEqual(JSON.parse(out.body).traceId, "Root=1-c");
  });
});

Deno.test("the build lists a CommonJS entry's exports when its handler is not one of them", async () => {
  const dir = await Deno.makeTempDir({ prefix: "commonjs-missing-" });
  try {
    await Deno.writeTextFile(`${dir}/index.cjs`, "exports.main = async () => 'main';\n");
    assert.match(
      await refusedBuild(`${dir}/index.cjs`),
      /^Build failed: index\.handler is undefined or not exported \(it exports: default \(main\)\), so Lambda would fail init with Runtime\.HandlerNotFound/m,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the build refuses a compile directory in TMPDIR that is a link planted there", async () => {
  // On a shared machine anyone may create $TMPDIR/deno-lambda-build first, pointing elsewhere:
  // the build, which empties its directory there, must not follow it.
  const dir = await Deno.makeTempDir({ prefix: "planted-" });
  try {
    const handlerDir = createHash("sha256").update("index.handler").digest("hex").slice(0, 12);
    await Deno.mkdir(`${dir}/victim/${handlerDir}`, { recursive: true });
    await Deno.writeTextFile(`${dir}/victim/${handlerDir}/keep.txt`, "keep");
    await Deno.mkdir(`${dir}/tmp`);
    await Deno.symlink(`${dir}/victim`, `${dir}/tmp/deno-lambda-build`);
    await Deno.writeTextFile(`${dir}/index.ts`, "export const handler = () => 1;\n");
    assert.match(
      await refusedBuild(`${dir}/index.ts`, { TMPDIR: `${dir}/tmp` }),
      /^Build failed: Cannot build in .*\/tmp\/deno-lambda-build \(not a directory of this user's own: a link\): set TMPDIR to a directory of your own$/m,
    );
    assert.equal(await Deno.readTextFile(`${dir}/victim/${handlerDir}/keep.txt`), "keep");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

const honoApp = buildFunction("tests/fixtures/ts/hono_app.ts", "hono-app");

Deno.test("a Hono app's bundle does not load Node.js streams at init, which only its streaming handler uses", async () => {
  // hono/aws-lambda imports pipeline from node:stream/promises for streamHandle
  // alone. The build defers that import; what the prepared code cache holds is
  // what importing the bundle compiled, so Deno's Node.js streams are not in it.
  const taskRoot = await honoApp;
  assert.doesNotMatch(
    await Deno.readTextFile(`${taskRoot}/function.bundle.js`),
    /^import .* from "node:stream\/promises";$/m,
  );
  const db = new DatabaseSync(`${taskRoot}/deno-dir/${HOST_ARCH}/${CODE_CACHE_FILE}`);
  try {
    const modules = db.prepare("SELECT specifier FROM codecache").all().map((r) => r.specifier);
    assert.ok(
      modules.includes("file:///var/task/function.bundle.js"),
      "the bundle is in the cache",
    );
    assert.deepEqual(modules.filter((m) => String(m).includes("internal/streams/")), []);
  } finally {
    db.close();
  }
});

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: a Hono app answers API Gateway through hono/aws-lambda`, async () => {
    const options = { runtime, handler: "function.handler", taskRoot: await honoApp };
    await withBootstrap(options, async (b) => {
      const event = {
        version: "2.0",
        routeKey: "$default",
        rawPath: "/hello/Ada",
        rawQueryString: "",
        headers: { host: "example.com" },
        requestContext: { http: { method: "GET", path: "/hello/Ada" }, domainName: "example.com" },
        isBase64Encoded: false,
      };
      const out = await b.api.invoke(event);
      assert.equal(out.kind, "response", out.body);
      const answer = JSON.parse(out.body);
      assert.equal(answer.statusCode, 200);
      assert.deepEqual(JSON.parse(answer.body), { message: "Hello, Ada!" });
    });
  });
}

const nodeFrameworks = builtOnce(
  "tests/fixtures/ts/node_frameworks.ts",
  "node-frameworks",
  "function.expressHandler",
);

/** An API Gateway HTTP API (payload 2.0) event, as a function URL's. */
function httpApiEvent(method: string, path: string, query = "", body?: unknown) {
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { host: "example.com" };
  if (text !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = String(new TextEncoder().encode(text).length);
  }
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: query,
    queryStringParameters: query ? Object.fromEntries(new URLSearchParams(query)) : undefined,
    headers,
    requestContext: {
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "198.51.100.23", userAgent: "test" },
      domainName: "example.com",
      requestId: "api-1",
      stage: "$default",
      timeEpoch: 1764547200000,
    },
    body: text,
    isBase64Encoded: false,
  };
}

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: Express through serverless-http and Fastify through @fastify/aws-lambda answer API Gateway`, async () => {
    const taskRoot = await nodeFrameworks();
    for (const handler of ["expressHandler", "fastifyHandler"]) {
      await withBootstrap({ runtime, handler: `function.${handler}`, taskRoot }, async (b) => {
        const got = await b.api.invoke(httpApiEvent("GET", "/hello/Ada", "q=1"));
        assert.equal(got.kind, "response", got.body);
        const answer = JSON.parse(got.body);
        assert.equal(answer.statusCode, 200, got.body);
        assert.match(answer.headers["content-type"], /^application\/json/);
        const expected = handler === "expressHandler" ? { hello: "Ada", q: "1" } : { hello: "Ada" };
        assert.deepEqual(JSON.parse(answer.body), expected);
        if (handler === "expressHandler") {
          const cookies = [answer.headers["set-cookie"], ...(answer.cookies ?? [])].flat();
          assert.ok(cookies.some((c) => /^seen=1;/.test(c)), got.body);
        }
        const posted = await b.api.invoke(httpApiEvent("POST", "/echo", "", { a: [1, "é"] }));
        const created = JSON.parse(posted.body);
        assert.equal(created.statusCode, 201, posted.body);
        assert.deepEqual(JSON.parse(created.body), { got: { a: [1, "é"] } });
      });
    }
  });
}

/**
 * Builds a project of its own whose package fw (in node_modules, as npm
 * installs it) requires fw-extra, which nothing installs, as fwCode says.
 */
async function buildWithMissingPackage(fwCode: string) {
  const dir = await Deno.makeTempDir({ prefix: "missing-package-" });
  try {
    await Deno.mkdir(`${dir}/node_modules/fw`, { recursive: true });
    await Deno.writeTextFile(
      `${dir}/package.json`,
      '{"private":true,"dependencies":{"fw":"1.0.0"}}',
    );
    await Deno.writeTextFile(
      `${dir}/node_modules/fw/package.json`,
      '{"name":"fw","version":"1.0.0","main":"index.js"}',
    );
    await Deno.writeTextFile(`${dir}/node_modules/fw/index.js`, fwCode);
    await Deno.writeTextFile(
      `${dir}/mod.ts`,
      'import fw from "fw";\nexport const handler = (e: { name: string }) => fw.hello(e.name);\n',
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "-q",
        "build:function",
        "--arch",
        HOST_ARCH,
        "--entry",
        `${dir}/mod.ts`,
        "--out-dir",
        dir,
      ],
      cwd: ROOT,
      env: { NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return { success: out.success, text, taskRoot: `${dir}/task`, zip: `${dir}/function.zip`, dir };
  } catch (err) {
    await Deno.remove(dir, { recursive: true });
    throw err;
  }
}

Deno.test("the build leaves out a package that a package requires only when a feature runs, and says so", async () => {
  const built = await buildWithMissingPackage(
    'let extra;\nexports.extra = () => (extra ??= require("fw-extra"));\n' +
      "exports.hello = (name) => `hello ${name}`;\n",
  );
  try {
    assert.ok(built.success, built.text);
    assert.match(built.text, /Left out of the bundle, as nothing installs them: fw-extra\./);
    await unzipTo(built.zip, built.taskRoot);
    await withBootstrap(
      { runtime: "runtime1", handler: "function.handler", taskRoot: built.taskRoot },
      async (b) => {
        const out = await b.api.invoke({ name: "Ada" });
        assert.equal(out.body, '"hello Ada"');
      },
    );
  } finally {
    await Deno.remove(built.dir, { recursive: true });
  }
});

Deno.test("the build refuses a bundle that a package needs a missing package to import", async () => {
  const built = await buildWithMissingPackage(
    'const extra = require("fw-extra");\nexports.hello = (name) => `hello ${name} ${extra}`;\n',
  );
  try {
    assert.equal(built.success, false, built.text);
    assert.match(
      built.text,
      /A package requires fw-extra as the bundle is imported, and nothing installs it \(Cannot find module 'fw-extra'\): add fw-extra to the project's dependencies; as it is, Lambda would fail init with Runtime.ImportModuleError/,
    );
    assert.doesNotMatch(built.text, /Left out/);
  } finally {
    await Deno.remove(built.dir, { recursive: true });
  }
});

const powertools = builtOnce("tests/fixtures/ts/powertools.ts", "powertools");

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: Powertools' logger and metrics write their JSON records with the invocation's context`, async () => {
    const env = { AWS_LAMBDA_FUNCTION_NAME: "orders-fn" };
    await withBootstrap(
      { runtime, handler: "function.handler", taskRoot: await powertools(), env },
      async (b) => {
        for (const [order, requestId] of [["o-1", "pt-1"], ["o-2", "pt-2"]]) {
          const out = await b.api.invoke({ order }, { requestId });
          assert.deepEqual(JSON.parse(out.body), { order });
        }
        // As on Node.js, the logger writes errors to stderr, the rest to stdout.
        await b.stdoutMatches(/"ordersReceived":1[\s\S]*"ordersReceived":1/);
        await b.stderrMatches(/"order check failed"[\s\S]*"order check failed"/);
        const records = `${b.stdout()}\n${b.stderr()}`.split("\n").filter((l) => l.startsWith("{"))
          .map((l) => JSON.parse(l));
        for (const [order, requestId] of [["o-1", "pt-1"], ["o-2", "pt-2"]]) {
          const info = records.find((r) => r.message === "order received" && r.order === order);
          assert.ok(info, b.stdout());
          assert.equal(info.level, "INFO");
          assert.equal(info.service, "orders");
          assert.equal(info.function_request_id, requestId);
          assert.equal(info.function_name, "orders-fn");
          const error = records.find((r) =>
            r.message === "order check failed" && r.order === order
          );
          assert.equal(error?.error?.name, "RangeError", b.stdout());
          assert.equal(error.error.message, "quantity out of range");
          assert.match(error.error.stack, /powertools\.ts:\d+/, "the stack names the source");
        }
        const emf = records.filter((r) => r._aws && "ordersReceived" in r);
        assert.equal(emf.length, 2, b.stdout());
        assert.equal(emf[0].ordersReceived, 1);
        assert.deepEqual(emf[0]._aws.CloudWatchMetrics[0].Namespace, "shop");
      },
    );
  });
}

const tracedFunction = builtOnce("tests/fixtures/ts/tracer.ts", "tracer");

for (const runtime of RUNTIMES) {
  // runtime2 discards a process once its result is posted, with whatever it
  // still had to send: tracing is on, but the segments never leave
  // (docs/functions.md, "runtime2").
  const sends = runtime === "runtime1";
  Deno.test(`${runtime}: Powertools' tracer is on${sends ? ", and sends the handler's subsegment, in the invocation's trace, to the X-Ray daemon" : ""}`, async () => {
    const { createSocket } = await import("node:dgram");
    const daemon = createSocket("udp4");
    const segments: Record<string, unknown>[] = [];
    const arrived = Promise.withResolvers<void>();
    daemon.on("message", (message: Uint8Array) => {
      // A datagram is a JSON header line, then the segment's JSON.
      const [, segment] = new TextDecoder().decode(message).split("\n");
      segments.push(JSON.parse(segment));
      if (segments.length === 2) arrived.resolve();
    });
    await new Promise<void>((bound) => daemon.bind(0, "127.0.0.1", bound));
    try {
      const env = { AWS_XRAY_DAEMON_ADDRESS: `127.0.0.1:${daemon.address().port}` };
      await withBootstrap(
        { runtime, handler: "function.handler", taskRoot: await tracedFunction(), env },
        async (b) => {
          const roots = [
            "1-6759e988-bd862e3fe1be46a994272793",
            "1-6759e988-bd862e3fe1be46a994272794",
          ];
          for (const [i, root] of roots.entries()) {
            const out = await b.api.invoke({ order: `o-${i}` }, {
              traceId: `Root=${root};Parent=53995c3f42cd8ad8;Sampled=1`,
            });
            assert.deepEqual(JSON.parse(out.body), { order: `o-${i}`, tracing: true });
          }
          if (!sends) return;
          await arrived.promise;
          for (const [i, root] of roots.entries()) {
            const segment = segments.find((s) => s.trace_id === root);
            assert.ok(segment, JSON.stringify(segments));
            assert.equal(segment.name, "## function.handler");
            assert.equal(segment.parent_id, "53995c3f42cd8ad8");
            assert.deepEqual(segment.annotations, {
              ColdStart: i === 0,
              Service: "orders",
              order: `o-${i}`,
            });
          }
        },
      );
    } finally {
      daemon.close();
    }
  });
}

const nestApp = builtOnce("tests/fixtures/nest/mod.ts", "nest");

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: a NestJS app, in a project of its own, bundles without the packages it loads only for features it does not use, and answers API Gateway`, async () => {
    const taskRoot = await nestApp();
    await withBootstrap({ runtime, handler: "function.handler", taskRoot }, async (b) => {
      for (const name of ["Ada", "Grace"]) {
        const out = await b.api.invoke(httpApiEvent("GET", `/hello/${name}`));
        assert.equal(out.kind, "response", out.body);
        const answer = JSON.parse(out.body);
        assert.equal(answer.statusCode, 200, out.body);
        assert.deepEqual(JSON.parse(answer.body), { message: `Hello, ${name}!` });
      }
    });
  });
}

const s3Function = builtOnce("tests/fixtures/ts/s3_roundtrip.ts", "s3-roundtrip");

Deno.test("the build takes the AWS SDK's ES modules, which Deno imports faster than its CommonJS", async () => {
  // The SDK's packages offer both builds: the exports' "module" condition,
  // which bundlers follow, names the ES modules; "node" names the CommonJS.
  const map = JSON.parse(await Deno.readTextFile(`${await s3Function()}/function.bundle.js.map`));
  const smithy = (map.sources as string[]).filter((s) => s.includes("@smithy/core/"));
  assert.ok(smithy.length > 0, "@smithy/core is in the bundle");
  assert.deepEqual(smithy.filter((s) => !s.includes("/dist-es/")), []);
});

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: a function on the AWS SDK puts an S3 object and reads it back (moto)`, async () => {
    const taskRoot = await s3Function();
    await withMoto(async (moto) => {
      const env = motoEnv(moto);
      const aws = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith("AWS_")));
      await withBootstrap(
        { runtime, handler: "function.handler", taskRoot, env: aws },
        async (b) => {
          const out = await b.api.invoke({
            bucket: "deno-lambda-test",
            key: "a/b.txt",
            text: "héllo",
          });
          assert.equal(out.kind, "response", out.body);
          assert.deepEqual(JSON.parse(out.body), { text: "héllo", sameETag: true });
        },
      );
    });
  });
}
