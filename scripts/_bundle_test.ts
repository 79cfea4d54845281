import assert from "node:assert/strict";
import { rewriteSourceMap } from "./_bundle.ts";

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
