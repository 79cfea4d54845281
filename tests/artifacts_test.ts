// The build's contract: exact zip names, contents and modes, the pinned Deno,
// and the function bundle working through the real bootstrap.
import assert from "node:assert/strict";
import {
  type Arch,
  ARCHES,
  DENO_VERSION,
  DIST,
  HOST_ARCH,
  ROOT,
  RUNTIMES,
} from "../scripts/_paths.ts";
import { archProblem } from "../scripts/_arch_runner.ts";
import { DENO_DIR_FILES, prepareDenoDir } from "../scripts/_code_cache.ts";
import { readZip, unzipTo } from "../scripts/zip.ts";
import { httpApiEvent } from "../function/_event.ts";
import { withBootstrap } from "./_harness.ts";

function contents(zip: string): Record<string, number> {
  return Object.fromEntries(
    readZip(Deno.readFileSync(`${DIST}/${zip}`)).map((e) => [e.name, e.mode]),
  );
}

/** The prepared DENO_DIR's files for arch, as zip entries. */
const denoDir = (arch: string) =>
  Object.fromEntries(DENO_DIR_FILES.map((f) => [`deno-dir/${arch}/${f}`, 0o644]));

/**
 * The architectures the build compiles code caches for: those whose Deno runs
 * here (the foreign one under qemu). CI sets qemu up, so there it is both.
 */
const cached = Deno.env.get("CI") === "true" ? Object.keys(ARCHES) : (await Promise.all(
  (Object.keys(ARCHES) as Arch[]).map(async (a) => (await archProblem(a)) === null ? [a] : []),
)).flat();

Deno.test("dist holds every zip with the promised files and modes", () => {
  for (const arch of Object.keys(ARCHES)) {
    assert.deepEqual(contents(`deno-layer-${arch}.zip`), { "bin/deno": 0o755 });
    for (const runtime of RUNTIMES) {
      assert.deepEqual(contents(`${runtime}-${arch}.zip`), {
        "bootstrap": 0o755,
        "function.bundle.js": 0o644,
        "runtime.js": 0o644,
        // The prepared code cache, compiled by this architecture's Deno.
        ...(cached.includes(arch) ? denoDir(arch) : {}),
      });
    }
  }
  assert.deepEqual(contents("function.zip"), {
    "function.bundle.js": 0o644,
    "function.bundle.js.map": 0o644,
    ...Object.assign({}, ...cached.map(denoDir)),
  });
});

Deno.test("a prepared code cache comes out the same twice, keyed for where it runs", async () => {
  const modules = [{
    path: `${ROOT}/runtimes/_shared/function.bundle.js`,
    runsAt: "/opt/function.bundle.js",
  }];
  const first = await prepareDenoDir(Deno.execPath(), modules);
  const second = await prepareDenoDir(Deno.execPath(), modules);
  assert.deepEqual(first.map((f) => f.name), DENO_DIR_FILES);
  assert.deepEqual(first, second);
  const text = new TextDecoder("latin1").decode(first[0].data);
  assert.ok(text.includes("file:///opt/function.bundle.js"));
  assert.ok(text.includes("ext:deno_fetch/20_headers.js"));
});

Deno.test("the Deno layer holds the pinned version, and bootstraps are static for their arch", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await unzipTo(`${DIST}/deno-layer-${HOST_ARCH}.zip`, dir);
    const out = await new Deno.Command(`${dir}/bin/deno`, { args: ["--version"] }).output();
    assert.match(new TextDecoder().decode(out.stdout), new RegExp(`^deno ${DENO_VERSION} `));
    for (const [arch, machine] of [["x86_64", 0x3e], ["arm64", 0xb7]] as const) {
      const [bootstrap] = readZip(Deno.readFileSync(`${DIST}/runtime1-${arch}.zip`))
        .filter((e) => e.name === "bootstrap");
      const elf = new DataView(bootstrap.data.buffer, bootstrap.data.byteOffset);
      assert.equal(elf.getUint32(0), 0x7f454c46, "ELF magic");
      assert.equal(elf.getUint16(18, true), machine, `${arch} machine type`);
      const text = new TextDecoder("latin1").decode(bootstrap.data);
      assert.ok(!text.includes("/lib64/ld-linux"), `${arch} bootstrap must be static`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("function.zip runs through the bootstrap as function.handler", async () => {
  const taskRoot = await Deno.makeTempDir();
  try {
    await unzipTo(`${DIST}/function.zip`, taskRoot);
    for (const runtime of RUNTIMES) {
      await withBootstrap({ runtime, handler: "function.handler", taskRoot }, async (b) => {
        const event = httpApiEvent("POST", "/greetings", '{"name":"Deno","language":"es"}');
        const out = await b.api.invoke(event, { requestId: "fn-1" });
        const res = JSON.parse(out.body);
        assert.equal(res.statusCode, 200);
        assert.deepEqual(JSON.parse(res.body), { message: "Hola, Deno!", requestId: "fn-1" });
        const bad = JSON.parse((await b.api.invoke(httpApiEvent("POST", "/greetings", "{}"))).body);
        assert.equal(bad.statusCode, 400);
        await b.stop();
        assert.match(b.stdout(), /\tfn-1\tINFO\tGreeted Deno in es\n/);
      });
    }
  } finally {
    await Deno.remove(taskRoot, { recursive: true });
  }
});
