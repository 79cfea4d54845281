import assert from "node:assert/strict";
import {
  layerKeyFile,
  layerSources,
  layerSourcesKey,
  layersState,
  recordLayers,
} from "./_layer_sources.ts";

Deno.test("the layers' sources are theirs alone: no tests, no function, no lock", async () => {
  const sources = await layerSources();
  assert.ok(sources.includes("bootstrap/main.go"));
  assert.ok(sources.includes("bootstrap/go.mod"));
  assert.ok(sources.includes("runtimes/_shared/handler.js"));
  assert.ok(sources.includes("scripts/build.ts"));
  for (const source of sources) {
    assert.doesNotMatch(source, /_test\.(go|js)$|\/testdata\/|^function\/|deno\.(lock|json)$/);
  }
});

Deno.test("layers are current only as recorded: same sources, same zips", async () => {
  const dist = await Deno.makeTempDir({ prefix: "layer-record-" });
  try {
    assert.equal(await layersState("x86_64", dist), "unknown");
    await Deno.writeTextFile(`${dist}/runtime1-x86_64.zip`, "zip");
    await recordLayers("x86_64", await layerSourcesKey(), ["runtime1-x86_64.zip"], dist);
    assert.equal(await layersState("x86_64", dist), "current");

    // Rewritten by another build, which keeps no record: not the zip recorded.
    await Deno.utime(`${dist}/runtime1-x86_64.zip`, 1, 1);
    assert.equal(await layersState("x86_64", dist), "stale");

    await recordLayers("x86_64", "other sources", ["runtime1-x86_64.zip"], dist);
    assert.equal(await layersState("x86_64", dist), "stale");
    await Deno.writeTextFile(layerKeyFile("x86_64", dist), "not json");
    assert.equal(await layersState("x86_64", dist), "unknown");
  } finally {
    await Deno.remove(dist, { recursive: true });
  }
});
