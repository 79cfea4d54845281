// A newcomer's first hour, scripted: in a copy of the project, a function of
// their own in its own folder, with an npm import the project has never seen,
// served with `deno task start --handler index.handler`, invoked, failed and
// logged from; then a deploy that lacks --role. Each step checks what the
// newcomer would see. (`--help` of every task: scripts/_cli_test.ts.)
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { freePort } from "../scripts/_rie.ts";
import { HOST_ARCH, ROOT } from "../scripts/_paths.ts";
import { layerKeyFile, layersCurrent } from "../scripts/_layer_sources.ts";
import { runScript } from "../scripts/_run_script.ts";
import { interrupt, withStart } from "../scripts/_start_process.ts";
import { ListLayersCommand } from "@aws-sdk/client-lambda";
import { deploy, withMoto } from "./_moto.ts";

/** The newcomer's function: an npm package, a two-line log, and a failure on request. */
const FUNCTION = `import ms from "npm:ms@2.1.3";

export function handler(event: { fail?: boolean }): { wait: string } {
  console.log("first line\\nsecond line");
  if (event.fail) {
    throw new Error("asked to fail"); // line 6
  }
  return { wait: ms(90_000) };
}
`;

/** The layers a local start uses on this machine, and the build's record of their sources. */
const LAYERS = [
  `deno-layer-${HOST_ARCH}.zip`,
  `runtime1-${HOST_ARCH}.zip`,
  `runtime2-${HOST_ARCH}.zip`,
  `layers-${HOST_ARCH}.key`,
];

/**
 * A copy of the project as a clone has it, with the layers deno task test
 * built (so the start builds nothing it need not) and the downloads of
 * .cache/ (Deno, the emulator) shared.
 */
async function copyProject(): Promise<string> {
  assert.ok(await layersCurrent(HOST_ARCH), "The layers in dist/ are stale: deno task build first");
  const copy = await Deno.makeTempDir({ prefix: "newcomer with spaces-" }); // as some home directories have
  const files = await new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
    stdout: "piped",
  }).output();
  for (const file of new TextDecoder().decode(files.stdout).split("\0").filter(Boolean)) {
    const to = `${copy}/${file}`;
    await Deno.mkdir(to.slice(0, to.lastIndexOf("/")), { recursive: true });
    await Deno.copyFile(`${ROOT}/${file}`, to).catch((err) => {
      if (!(err instanceof Deno.errors.NotFound)) throw err; // deleted, not yet committed
    });
  }
  await Deno.mkdir(`${copy}/dist`);
  for (const name of [...LAYERS, "function.zip"]) {
    await Deno.copyFile(`${ROOT}/dist/${name}`, `${copy}/dist/${name}`);
    // The build's record holds each zip's modification time: a copy keeps it.
    const { atime, mtime } = await Deno.stat(`${ROOT}/dist/${name}`);
    await Deno.utime(`${copy}/dist/${name}`, atime!, mtime!);
  }
  await Deno.symlink(`${ROOT}/.cache`, `${copy}/.cache`);
  return copy;
}

/** Each file's SHA-256 and modification time: what a rebuild would change. */
async function fingerprint(dir: string, names: string[]): Promise<string[]> {
  return await Promise.all(names.map(async (name) => {
    const path = `${dir}/${name}`;
    const hash = createHash("sha256").update(await Deno.readFile(path)).digest("hex");
    return `${name} ${hash} ${(await Deno.stat(path)).mtime?.getTime()}`;
  }));
}

/** `deno task invoke` in the copy. */
async function invoke(copy: string, port: number, data: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${copy}/scripts/invoke.ts`,
      "--port",
      String(port),
      "--data",
      data,
    ],
    cwd: copy,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

Deno.test("a newcomer's function: its own folder, an npm import, --handler index.handler", async () => {
  const copy = await copyProject();
  try {
    assert.equal(layerKeyFile(HOST_ARCH, `${copy}/dist`), `${copy}/dist/${LAYERS[3]}`);
    await Deno.mkdir(`${copy}/hello`);
    await Deno.writeTextFile(`${copy}/hello/index.ts`, FUNCTION);
    const lockBefore = await Deno.readTextFile(`${copy}/deno.lock`);
    const layersBefore = await fingerprint(`${copy}/dist`, LAYERS);
    const port = freePort();

    const args = [
      "--port",
      String(port),
      "--entry",
      "hello/index.ts",
      "--handler",
      "index.handler",
    ];
    await withStart(args, async (started) => {
      const { out, err } = started;
      await out.seen(/^Ctrl-C stops everything\.$/m);
      assert.match(out.text(), /^Serving index\.handler on runtime1 \(/m);
      assert.match(out.text(), /\(hello\/index\.ts, bundled\)/);
      // The function was built; no layer was.
      assert.match(out.text(), /^ {2}function\.zip /m);
      assert.doesNotMatch(
        out.text() + err.text(),
        / {2}(deno-layer|runtime[12])-\w+\.zip +[\d.]+ MB|go build/,
      );

      const ok = await invoke(copy, port, "{}");
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(JSON.parse(ok.stdout), { wait: "2m" });
      // Two lines on the terminal: Lambda's carriage return shown as a line break.
      await out.seen(/\tINFO\tfirst line\nsecond line\n/);
      assert.doesNotMatch(out.text(), /\r/);

      const failed = await invoke(copy, port, '{"fail":true}');
      assert.equal(failed.code, 1);
      const error = JSON.parse(failed.stdout);
      assert.equal(error.errorMessage, "asked to fail");
      // The trace names the file the newcomer edits, not a copy under dist/.
      assert.match(
        error.stackTrace[1],
        new RegExp(`at handler \\(file://${copy}/hello/index\\.ts:6:`),
      );

      assert.equal((await interrupt(started)).code, 0, err.text());
    }, copy);

    // The npm import is the function's: the lock took it, and the next start,
    // which sees the lock changed, builds nothing: the layers did not notice.
    const lockAfter = await Deno.readTextFile(`${copy}/deno.lock`);
    assert.notEqual(lockAfter, lockBefore);
    assert.match(lockAfter, /"npm:ms@2\.1\.3"/);
    await withStart(args, async (started) => {
      await started.out.seen(/^Ctrl-C stops everything\.$/m);
      assert.match(started.out.text(), /^Serving index\.handler on /);
      assert.equal((await interrupt(started)).code, 0, started.err.text());
    }, copy);
    assert.deepEqual(await fingerprint(`${copy}/dist`, LAYERS), layersBefore);
  } finally {
    await Deno.remove(copy, { recursive: true });
  }
});

Deno.test("a newcomer's first deploy without --role stops before publishing anything", async () => {
  await withMoto(async (moto) => {
    const run = await deploy(moto, ["all", "--arch", HOST_ARCH]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(
      run.stderr,
      /^Deploy failed: Missing --role: function deno-hello does not exist yet/m,
    );
    assert.doesNotMatch(run.stdout + run.stderr, /^Publishing|: published version/m);
    assert.deepEqual((await moto.lambda.send(new ListLayersCommand({}))).Layers, []);

    const dry = await runScript("deploy.ts", ["all", "--dry-run", "--arch", HOST_ARCH]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^Warning: no --role: /m);
  });
});
