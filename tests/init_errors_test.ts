// Init failures are posted to /runtime/init/error before the first GET /next,
// with a Runtime.* type naming the cause, and the bootstrap exits non-zero.
import assert from "node:assert/strict";
import { RUNTIMES } from "../scripts/_paths.ts";
import { withBootstrap } from "./_harness.ts";

const cases: {
  name: string;
  handler: string;
  type: string;
  message: RegExp;
  env?: Record<string, string>;
  withoutDeno?: boolean;
}[] = [
  {
    name: "a syntax error",
    handler: "syntax_error.handler",
    type: "Runtime.UserCodeSyntaxError",
    message: /^SyntaxError: /,
  },
  {
    name: "a throw at import, as the error itself, as on Node.js",
    handler: "throws_at_import.handler",
    type: "Error",
    message: /^cannot start: missing configuration$/,
  },
  {
    name: "a bundle that does not exist",
    handler: "missing.handler",
    type: "Runtime.ImportModuleError",
    message: /^Cannot find module "missing": no missing\.bundle\.js in /,
  },
  {
    name: "a bundle importing a missing module",
    handler: "imports_missing.handler",
    type: "Runtime.ImportModuleError",
    message: /does_not_exist\.js/,
  },
  {
    name: "a callback-style handler (three parameters), as on Node.js 24",
    handler: "handlers.callbackStyle",
    type: "Runtime.CallbackHandlerDeprecated",
    message:
      /^handlers\.callbackStyle is declared with 3 parameters \(event, context, callback\), a callback-based function handler, which AWS Lambda has removed support for starting with Node\.js 24: declare it with \(event, context\), and return the result or a promise of it$/,
  },
  {
    name: "a missing export",
    handler: "handlers.nope",
    type: "Runtime.HandlerNotFound",
    message: /^handlers\.nope is undefined or not exported$/,
  },
  {
    name: "an export that is not a function",
    handler: "handlers.notAFunction",
    type: "Runtime.HandlerNotFound",
    message: /^handlers\.notAFunction is not a function$/,
  },
  {
    name: "a malformed handler name",
    handler: "handlers",
    type: "Runtime.MalformedHandlerName",
    message: /^Bad handler "handlers": expected <module>\.<export>/,
  },
  {
    name: "Deno exiting during import",
    handler: "exits_at_import.handler",
    type: "Runtime.ExitError",
    message: /^Error: Runtime exited with error: exit status 7$/,
  },
  {
    name: "no Deno layer",
    handler: "handlers.echo",
    type: "Runtime.DenoNotFound",
    message: /deno not found at .*\/bin\/deno or on PATH; add the Deno layer/,
    env: { PATH: "/nonexistent" },
    withoutDeno: true,
  },
];

for (const runtime of RUNTIMES) {
  for (const c of cases) {
    Deno.test(`${runtime}: ${c.name} is reported to /init/error as ${c.type}`, async () => {
      await withBootstrap(
        { runtime, handler: c.handler, env: c.env, withoutDeno: c.withoutDeno },
        async (b) => {
          const status = await b.exited();
          assert.equal(status.code, 1);
          assert.equal(b.api.initErrors.length, 1);
          const [posted] = b.api.initErrors;
          assert.equal(posted.errorType, c.type);
          const body = JSON.parse(posted.body);
          assert.equal(body.errorType, c.type);
          assert.match(body.errorMessage, c.message);
          assert.ok(Array.isArray(body.stackTrace));
          assert.equal(b.api.nextCalls, 0, "GET /next must not be called after an init failure");
          assert.match(b.stderr(), new RegExp(`Init Error .*${c.type.replace(".", "\\.")}`));
        },
      );
    });
  }

  Deno.test(`${runtime}: with no function deployed, the layer's dummy bundle answers`, async () => {
    const empty = await Deno.makeTempDir();
    try {
      await withBootstrap(
        { runtime, handler: "function.handler", taskRoot: empty },
        async ({ api }) => {
          const out = await api.invoke({ ping: 1 });
          assert.equal(out.kind, "response");
          const body = JSON.parse(out.body);
          assert.match(body.message, /No function deployed/);
          assert.deepEqual(body.event, { ping: 1 });
        },
      );
    } finally {
      await Deno.remove(empty, { recursive: true });
    }
  });
}
