import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ROOT } from "./_paths.ts";
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

Deno.test("unzip -Z sees Unix modes, made by Unix, and 1980-01-01 00:00", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/a.zip`, createZip(files));
    const out = await new Deno.Command("unzip", { args: ["-Z", "a.zip"], cwd: dir }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const text = new TextDecoder().decode(out.stdout);
    assert.match(text, /^-rwxr-xr-x {2}2\.0 unx +100000 b- defN 80-Jan-01 00:00 bin\/deno$/m);
    assert.match(text, /^-rwxr-xr-x {2}2\.0 unx +4 b- defN 80-Jan-01 00:00 bootstrap$/m);
    assert.match(text, /^-rw-r--r-- {2}2\.0 unx +11 b- defN 80-Jan-01 00:00 runtime\.js$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("createZip gives the same bytes in every time zone", async () => {
  const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
  const code = `import { createZip } from "./scripts/zip.ts";
    const data = new TextEncoder().encode("export {};\\n");
    const zip = createZip([{ name: "runtime.js", data, mode: 0o644 }]);
    console.log(Array.from(zip, (b) => b.toString(16).padStart(2, "0")).join(""));`;
  const here = sha256(createZip([files[0]]));
  for (const tz of ["UTC", "America/Los_Angeles", "Asia/Kathmandu", "Pacific/Kiritimati"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--ext=ts", code],
      cwd: ROOT,
      env: { TZ: tz },
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const hex = new TextDecoder().decode(out.stdout).trim();
    assert.equal(sha256(Uint8Array.from(hex.match(/../g)!, (h) => parseInt(h, 16))), here, tz);
  }
});

Deno.test("createZip refuses two files of one name", () => {
  assert.throws(() => createZip([files[0], files[0]]), /^Error: Duplicate zip entry: runtime\.js$/);
});

Deno.test("readZip rejects what is not a zip", () => {
  assert.throws(() => readZip(new Uint8Array(64)), /Not a zip archive/);
});
