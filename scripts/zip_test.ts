import assert from "node:assert/strict";
import { createZip, readZip } from "./zip.ts";

const files = [
  { name: "runtime.js", data: new TextEncoder().encode("export {};\n"), mode: 0o644 },
  { name: "bin/deno", data: new Uint8Array(100_000).map((_, i) => i % 251), mode: 0o755 },
  { name: "bootstrap", data: new Uint8Array([0x7f, 0x45, 0x4c, 0x46]), mode: 0o755 },
];

Deno.test("createZip gives the same bytes for the same files in any order", () => {
  const a = createZip(files);
  const b = createZip([...files].reverse());
  assert.deepEqual(a, b);
});

Deno.test("readZip gets back every file with its data and mode, in name order", () => {
  const entries = readZip(createZip(files));
  assert.deepEqual(entries.map((e) => e.name), ["bin/deno", "bootstrap", "runtime.js"]);
  for (const e of entries) {
    const original = files.find((f) => f.name === e.name)!;
    assert.deepEqual(e.data, original.data);
    assert.equal(e.mode, original.mode);
  }
});

Deno.test("archives unpack with the system unzip, modes included", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a.zip`, createZip(files));
    const out = await new Deno.Command("unzip", { args: ["-q", "a.zip", "-d", "x"], cwd: dir })
      .output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.equal((await Deno.stat(`${dir}/x/bin/deno`)).mode! & 0o777, 0o755);
    assert.equal((await Deno.stat(`${dir}/x/runtime.js`)).mode! & 0o777, 0o644);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readZip rejects what is not a zip", () => {
  assert.throws(() => readZip(new Uint8Array(64)), /Not a zip archive/);
});
