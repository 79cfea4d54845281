import assert from "node:assert/strict";
import {
  bundleConditions,
  bundleName,
  deferStreamPromises,
  loadedWhereRun,
  rewriteSourceMap,
} from "./_bundle.ts";

Deno.test("rewriteSourceMap makes project paths root-relative and hides the npm cache", () => {
  const map = {
    version: 3,
    sources: [
      "../../../function/mod.ts",
      "../../../../../root/.cache/deno/npm/some.registry/valibot/1.5.0/dist/index.js",
      "/elsewhere/lib.ts",
    ],
    sourcesContent: ["a", "b", "c"],
    mappings: "AAAA",
    names: [],
  };
  const out = rewriteSourceMap(map, "/repo/dist/build/function", "/repo");
  assert.deepEqual(out.sources, [
    "function/mod.ts",
    "npm:valibot/1.5.0/dist/index.js",
    "/elsewhere/lib.ts",
  ]);
  assert.equal(out.sourcesContent, undefined);
  assert.equal(out.mappings, "AAAA");
});

Deno.test("rewriteSourceMap names the files on this machine for a local run", () => {
  const map = {
    version: 3,
    sources: ["../../../../../myfn/index.ts", "/root/.cache/deno/npm/reg/ms/2.1.3/index.js"],
    mappings: "AAAA",
    names: [],
  };
  const out = rewriteSourceMap(map, "/repo/dist/local/x/build/function", "/repo", "here");
  assert.deepEqual(out.sources, ["/repo/myfn/index.ts", "npm:ms/2.1.3/index.js"]);
});

Deno.test("bundleName reads the module of a handler as the bootstrap does", () => {
  assert.equal(bundleName("function.handler"), "function.bundle.js");
  assert.equal(bundleName("index.handler"), "index.bundle.js");
  assert.equal(bundleName("index.a.b"), "index.bundle.js");
  assert.equal(bundleName("api/v1.main"), "api/v1.bundle.js");
  assert.equal(bundleName("api.v1/index.main"), "api.v1/index.bundle.js");
  for (const bad of ["index", "index.", ".handler", "/abs.handler", "../up.handler", "a//b.c"]) {
    assert.throws(
      () => bundleName(bad),
      /^Error: Bad handler .*: expected <module>\.<export>/,
      bad,
    );
  }
});

Deno.test("rewriteSourceMap keeps a bundle in a subdirectory naming the project's paths", () => {
  const map = { version: 3, sources: ["../../../../hello/index.ts"], mappings: "AAAA", names: [] };
  const out = rewriteSourceMap(map, "/repo/dist/build/function/api", "/repo", "task-root", "api");
  // Read from /var/task/api/index.bundle.js.map: /var/task/hello/index.ts.
  assert.deepEqual(out.sources, ["../hello/index.ts"]);
});

Deno.test("deferStreamPromises makes named imports of node:stream/promises lazy, line for line", async () => {
  const code = [
    "const a = 1;",
    'import { pipeline } from "node:stream/promises";',
    'import { finished as done, pipeline as pipe } from "stream/promises";',
    "export { a };",
  ].join("\n");
  const out = deferStreamPromises(code);
  assert.equal(out.split("\n").length, 4, "the source map's lines stay true");
  assert.doesNotMatch(out, /^import /m);
  const mod = await import(`data:text/javascript,${
    encodeURIComponent(`${out}
    import { Readable, Writable } from "node:stream";
    const got = [];
    const sink = () => new Writable({ write(chunk, _, next) { got.push(String(chunk)); next(); } });
    await pipeline(Readable.from(["a", "b"]), sink());
    const last = sink();
    await pipe(Readable.from(["c"]), last);
    await done(last);
    export const pieces = got.join("");`)
  }`);
  assert.equal(mod.pieces, "abc");
});

Deno.test("deferStreamPromises leaves what it cannot keep the same", () => {
  const kept = [
    'import * as sp from "node:stream/promises";',
    'import sp from "node:stream/promises";',
    'import { pipeline, somethingNew } from "node:stream/promises";',
    'import { pipeline } from "node:stream";',
    '  import { pipeline } from "node:stream/promises";',
    'const text = `import { pipeline } from "node:stream/promises"; in a string`;',
  ].join("\n");
  assert.equal(deferStreamPromises(kept), kept);
});

Deno.test("bundleConditions takes module unless the user chose the conditions, none included", () => {
  assert.equal(bundleConditions(undefined), "module");
  assert.equal(bundleConditions(""), "");
  assert.equal(bundleConditions("worker"), "worker");
});

const MARK = (spec: string) =>
  `    note: You can mark the path "${spec}" as external to exclude it from the bundle, which will ` +
  "remove this error and leave the unresolved path in the bundle.";

Deno.test("loadedWhereRun names what packages require() or import() and nothing installs, and only that", () => {
  const inPackage = "file:///deno-dir/npm/registry/fw/1.0.0/core.js";
  const required = (spec: string) =>
    `error: Could not find package '${spec}' from referrer '${inPackage}' (fw@1.0.0).\n` +
    `    at ${inPackage}:3:9\n${MARK(spec)} You can also surround this "require" call with a ` +
    "try/catch block to handle this failure at run-time instead of bundle-time.\n";
  const imported = (spec: string, at = inPackage) =>
    `error: Could not resolve "${spec}"\n    at ${at}:7:2\n${MARK(spec)} You can also add ` +
    '".catch()" here to handle this failure at run-time instead of bundle-time.\n';
  const end = "error: bundling failed\n\nStack backtrace:\n   0: <unknown>\n";
  assert.deepEqual(
    loadedWhereRun(required("b-opt") + imported("a-opt/sub.js") + required("b-opt") + end),
    ["a-opt/sub.js", "b-opt"],
  );
  const local = "/work/main/node_modules/fw/core.js";
  assert.deepEqual(loadedWhereRun(imported("c", `file://${local}`) + end), ["c"]);
  // The project's own code must find what it loads.
  assert.equal(loadedWhereRun(required("b") + imported("x", "file:///work/fn/mod.ts") + end), null);
  // A static import has no run-time way out: the bundle would not load.
  const staticImport = `error: Could not resolve "s"\n    at ${inPackage}:1:1\n${MARK("s")}\n`;
  assert.equal(loadedWhereRun(required("b") + staticImport + end), null);
  assert.equal(loadedWhereRun('error: Module not found "file:///work/fn/x.ts".\n' + end), null);
  assert.equal(loadedWhereRun(""), null);
});
