import assert from "node:assert/strict";
import { bundleName, rewriteSourceMap } from "./_bundle.ts";

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
