// @ts-check
import assert from "node:assert/strict";
import { RuntimeError } from "./errors.js";
import { loadFailure, loadHandler } from "./handler.js";
import { withTempFiles } from "./testdata/helpers.js";

/** Writes the bundle (and the modules beside it) and loads exportPath from it. */
function load(
  /** @type {Record<string, string>} */ files,
  /** @type {string} */ exportPath,
) {
  return withTempFiles(
    files,
    (dir) => loadHandler(`${dir}/index.js`, exportPath, `index.${exportPath}`),
  );
}

/**
 * The body of the RuntimeError that loading exportPath from the files throws,
 * with the temporary directory's path written as DIR.
 */
function loadError(
  /** @type {Record<string, string>} */ files,
  /** @type {string} */ exportPath,
) {
  return withTempFiles(files, async (dir) => {
    try {
      await loadHandler(`${dir}/index.js`, exportPath, `index.${exportPath}`);
    } catch (err) {
      const body = loadFailure(err);
      return {
        ...body,
        errorMessage: body.errorMessage.replaceAll(dir, "DIR"),
        stackTrace: body.stackTrace.map((line) => line.replaceAll(dir, "DIR")),
      };
    }
    assert.fail(`loading ${exportPath} did not throw`);
  });
}

Deno.test("loadHandler returns the named export", async () => {
  const handler = await load({
    "index.js": "export function handler(event) { return { got: event }; }",
  }, "handler");
  assert.deepEqual(await handler({ a: 1 }, {}), { got: { a: 1 } });
});

Deno.test("loadHandler follows a nested export path", async () => {
  const handler = await load({
    "index.js": 'export const a = { b: { c: () => "deep" } };',
  }, "a.b.c");
  assert.equal(await handler(null, {}), "deep");
});

Deno.test("a missing export is Runtime.HandlerNotFound, worded as on Node.js", async () => {
  const files = { "index.js": "export const a = { b: {} }; export function handler() {}" };
  assert.deepEqual(await loadError(files, "nope"), {
    errorType: "Runtime.HandlerNotFound",
    errorMessage: "index.nope is undefined or not exported",
    stackTrace: [],
  });
  assert.deepEqual(await loadError(files, "a.b.c"), {
    errorType: "Runtime.HandlerNotFound",
    errorMessage: "index.a.b.c is undefined or not exported",
    stackTrace: [],
  });
  assert.equal(
    (await loadError(files, "a.x.y")).errorMessage,
    "index.a.x.y is undefined or not exported",
  );
});

Deno.test("an export that is not a function is Runtime.HandlerNotFound", async () => {
  const files = {
    "index.js": "export const count = 42; export const obj = {}; export const off = null;",
  };
  for (const name of ["count", "obj", "off"]) {
    assert.deepEqual(await loadError(files, name), {
      errorType: "Runtime.HandlerNotFound",
      errorMessage: `index.${name} is not a function`,
      stackTrace: [],
    });
  }
});

Deno.test("a syntax error in the bundle is Runtime.UserCodeSyntaxError", async () => {
  const body = await loadError({ "index.js": "export const x = ;\n" }, "handler");
  assert.equal(body.errorType, "Runtime.UserCodeSyntaxError");
  // Deno wraps the parser's SyntaxError in a TypeError: the message drops the wrapper.
  assert.match(body.errorMessage, /^SyntaxError: Expression expected/);
  assert.match(body.errorMessage, /DIR\/index\.js:1:18/);
});

Deno.test("a syntax error V8 finds is Runtime.UserCodeSyntaxError", async () => {
  const body = await loadError({ "index.js": "export const x = 1;\nlet x = 2;\n" }, "handler");
  assert.equal(body.errorType, "Runtime.UserCodeSyntaxError");
  assert.match(body.errorMessage, /^SyntaxError: Identifier 'x' has already been declared/);
});

Deno.test("a syntax error in an imported module is Runtime.UserCodeSyntaxError", async () => {
  const body = await loadError({
    "index.js": 'import "./lib/broken.js";\nexport const handler = () => 1;\n',
    "lib/broken.js": "export function (\n",
  }, "handler");
  assert.equal(body.errorType, "Runtime.UserCodeSyntaxError");
  assert.match(body.errorMessage, /^SyntaxError: /);
  assert.match(body.errorMessage, /DIR\/lib\/broken\.js/);
});

// As on Node.js, whose runtime passes on what the import threw unless it is a
// syntax error or a module not found.
Deno.test("a throw at import fails init with the error's own type, message and stack", async () => {
  const body = await loadError({
    "index.js": 'throw new RangeError("cannot start: missing configuration");\n',
  }, "handler");
  assert.equal(body.errorType, "RangeError");
  assert.equal(body.errorMessage, "cannot start: missing configuration");
  assert.equal(body.stackTrace[0], "RangeError: cannot start: missing configuration");
  assert.match(body.stackTrace[1], /DIR\/index\.js:1:7/);
});

Deno.test("a non-error thrown at import fails init with its type, as on Node.js", async () => {
  assert.deepEqual(await loadError({ "index.js": 'throw "not ready";\n' }, "handler"), {
    errorType: "string",
    errorMessage: "not ready",
    stackTrace: [],
  });
});

Deno.test("an unreadable value thrown at import fails init as handled, as on Node.js", async () => {
  const bundle = 'throw new Proxy({}, { get() { throw new Error("trap"); } });\n';
  const body = await loadError({ "index.js": bundle }, "handler");
  assert.equal(body.errorType, "handled");
  assert.deepEqual(body.stackTrace, []);
});

Deno.test("a require() at import of a module nothing installs is Runtime.ImportModuleError, as Node.js's MODULE_NOT_FOUND is", async () => {
  const body = await loadError({
    "index.js": 'import { createRequire } from "node:module";\n' +
      'createRequire(import.meta.url)("./not_installed.cjs");\nexport const handler = () => 1;\n',
  }, "handler");
  assert.equal(body.errorType, "Runtime.ImportModuleError");
  assert.match(body.errorMessage, /not_installed\.cjs/);
});

Deno.test("a missing import is Runtime.ImportModuleError naming the bundle and the module", async () => {
  const body = await loadError({
    "index.js": 'import "./does_not_exist.js";\nexport const handler = () => 1;\n',
  }, "handler");
  assert.equal(body.errorType, "Runtime.ImportModuleError");
  assert.match(
    body.errorMessage,
    /^Cannot load DIR\/index\.js: TypeError: Module not found "file:\/\/DIR\/does_not_exist\.js"/,
  );
});

// BUG (handler.js, importError): Deno colours the location in a "Module not
// found" message (ESC[36m...) whatever stdout is, and the runtime passes the
// message on as the init error's errorMessage, escape codes and all. NO_COLOR
// in Deno's environment, or stripping /\x1b\[[0-9;]*m/ here, would fix it.
Deno.test({
  name: "a missing import's message is plain text",
  async fn() {
    const body = await loadError({
      "index.js": 'import "./does_not_exist.js";\nexport const handler = () => 1;\n',
    }, "handler");
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(body.errorMessage, /\x1b/);
  },
});

Deno.test("a bundle that does not exist is Runtime.ImportModuleError", async () => {
  const body = await withTempFiles({}, async (dir) => {
    const bundle = `${dir}/function.bundle.js`;
    const err = await loadHandler(bundle, "handler", "function.handler").catch((e) => e);
    assert.ok(err instanceof RuntimeError);
    return { ...err.body(), errorMessage: err.message.replaceAll(dir, "DIR") };
  });
  assert.equal(body.errorType, "Runtime.ImportModuleError");
  assert.match(
    body.errorMessage,
    /^Cannot load DIR\/function\.bundle\.js: TypeError: Module not found "file:\/\/DIR\/function\.bundle\.js"/,
  );
});

Deno.test("loadHandler imports a path with characters URLs treat specially", async () => {
  const name = "a dir #1 %20 ?q=x/my bundle%.js";
  const handler = await withTempFiles(
    { [name]: 'export const handler = () => "found";' },
    (dir) => loadHandler(`${dir}/${name}`, "handler", "my bundle%.handler"),
  );
  assert.equal(await handler(null, {}), "found");
});

Deno.test("loadHandler finds a CommonJS module's handler under its default export", async () => {
  // What deno bundle makes of `exports.handler = ...`: module.exports as the default export.
  const cjs = {
    "index.js": `var module = { exports: {} };
      module.exports.handler = (event) => ({ cjs: event });
      module.exports.api = { get: () => "nested" };
      export default module.exports;`,
  };
  assert.deepEqual(await (await load(cjs, "handler"))(1, {}), { cjs: 1 });
  assert.equal(await (await load(cjs, "api.get"))(1, {}), "nested");
  // A named export comes first.
  const both = {
    "index.js": `export const handler = () => "named";
      export default { handler: () => "default" };`,
  };
  assert.equal(await (await load(both, "handler"))(1, {}), "named");
});

Deno.test("loadHandler refuses a handler declared with three parameters, unless it streams", async () => {
  assert.deepEqual(
    await loadError(
      { "index.js": "export function handler(event, context, callback) {}" },
      "handler",
    ),
    {
      errorType: "Runtime.CallbackHandlerDeprecated",
      errorMessage:
        "index.handler is declared with 3 parameters (event, context, callback), a callback-based function handler, which AWS Lambda has removed support for starting with Node.js 24: declare it with (event, context), and return the result or a promise of it",
      stackTrace: [],
    },
  );
});

Deno.test("loadHandler takes a streaming handler, three parameters and all, and refuses a malformed one", async () => {
  // awslambda.streamifyResponse marks a handler (event, responseStream, context) so.
  const marked = (/** @type {string} */ value) => ({
    "index.js": `export function handler(event, stream, context) { return "streams"; }
      handler[Symbol.for("aws.lambda.runtime.handler.streaming")] = ${value};`,
  });
  const fn = await load(marked('"response"'), "handler");
  assert.equal(fn.length, 3, "the callback rule is for handlers that do not stream");
  // As Node.js's runtime refuses any other mark.
  assert.deepEqual(await loadError(marked('"request"'), "handler"), {
    errorType: "Runtime.MalformedStreamingHandler",
    errorMessage: "index.handler is marked as streaming, but only response streaming is supported",
    stackTrace: [],
  });
});
