// The deploy tasks, run as real processes against moto (a real AWS API
// emulator), with small zips made here instead of the built ones. Each test
// checks what AWS holds afterwards, not what the script says it did.
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { CreateAccessKeyCommand, CreateUserCommand } from "@aws-sdk/client-iam";
import {
  GetFunctionCommand,
  GetFunctionUrlConfigCommand,
  GetLayerVersionCommand,
  GetPolicyCommand,
  type LayerVersionsListItem,
  ListLayersCommand,
  ListLayerVersionsCommand,
} from "@aws-sdk/client-lambda";
import { CreateBucketCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { createZip, readZip } from "../scripts/zip.ts";
import { recordLayers } from "../scripts/_layer_sources.ts";
import { distZips, ROOT } from "../scripts/_paths.ts";
import { ACCOUNT, deploy, type DeployRun, type Moto, withMoto } from "./_moto.ts";

const ZIPS = distZips();
/** Just over Lambda's 50 MiB direct-upload limit. */
const OVER_LIMIT = 50 * 1024 * 1024 + 1;

/** Every test's zips, under one directory that goes when the tests are done. */
const SCRATCH = Deno.makeTempDirSync({ prefix: "deploy-test-" });
globalThis.addEventListener("unload", () => Deno.removeSync(SCRATCH, { recursive: true }));

/** A dist/ of small real zips, one file each, whose contents say which zip and which edition. */
async function fakeDist(): Promise<string> {
  const dir = await Deno.makeTempDir({ dir: SCRATCH, prefix: "dist-" });
  for (const name of ZIPS) await writeZip(dir, name, "v1");
  return dir;
}

async function writeZip(dir: string, name: string, edition: string): Promise<void> {
  const data = new TextEncoder().encode(`${name} ${edition}\n`);
  // The function's zip holds the bundle its default handler runs, as deno task build makes it.
  const file = name === "function" ? "function.bundle.js" : "file.txt";
  await Deno.writeFile(`${dir}/${name}.zip`, createZip([{ name: file, data, mode: 0o644 }]));
}

/** Random, incompressible bytes just over the direct-upload limit, as a zip would be. */
async function writeBigZip(dir: string, name: string): Promise<void> {
  await Deno.writeFile(`${dir}/${name}.zip`, randomBytes(OVER_LIMIT));
}

async function sha256(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("hex");
}

/** A zip's SHA-256 as Lambda reports a function's CodeSha256: base64. */
async function codeSha256(path: string): Promise<string> {
  return createHash("sha256").update(await Deno.readFile(path)).digest("base64");
}

async function versions(moto: Moto, layer: string): Promise<LayerVersionsListItem[]> {
  const out = await moto.lambda.send(new ListLayerVersionsCommand({ LayerName: layer }));
  return (out.LayerVersions ?? []).sort((a, b) => a.Version! - b.Version!);
}

async function createRole(moto: Moto): Promise<string> {
  const trust = {
    Version: "2012-10-17",
    Statement: [{
      Effect: "Allow",
      Principal: { Service: "lambda.amazonaws.com" },
      Action: "sts:AssumeRole",
    }],
  };
  const out = await moto.iam.send(
    new CreateRoleCommand({
      RoleName: "deno-lambda",
      AssumeRolePolicyDocument: JSON.stringify(trust),
    }),
  );
  return out.Role!.Arn!;
}

function layerArn(name: string, version: number): string {
  return `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:${name}:${version}`;
}

/** Asserts a run succeeded, showing its output when it did not. */
function assertOk(run: DeployRun): void {
  assert.equal(run.code, 0, `deploy failed:\n${run.stdout}\n${run.stderr}`);
}

/** Asserts a run failed with one clear line matching re, and no stack trace. */
function assertFails(run: DeployRun, re: RegExp): void {
  assert.equal(run.code, 1, `deploy did not fail:\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stderr, re);
  assert.match(run.stderr, /^Deploy failed: /m);
  assert.doesNotMatch(run.stderr, /^\s+at /m, "a stack trace was printed");
}

Deno.test("deploy publishes every layer for provided.al2023 and its architecture, then creates the function on them", async () => {
  const dist = await fakeDist();
  await withMoto(async (moto) => {
    const role = await createRole(moto);
    const run = await deploy(moto, [
      "all",
      "--dist",
      dist,
      "--role",
      role,
      "--runtime",
      "runtime2",
      "--memory",
      "512",
      "--timeout",
      "30",
    ]);
    assertOk(run);

    for (
      const [layer, zip, arch] of [
        ["deno-x86_64", "deno-layer-x86_64", "x86_64"],
        ["deno-arm64", "deno-layer-arm64", "arm64"],
        ["deno-runtime1-x86_64", "runtime1-x86_64", "x86_64"],
        ["deno-runtime1-arm64", "runtime1-arm64", "arm64"],
        ["deno-runtime2-x86_64", "runtime2-x86_64", "x86_64"],
        ["deno-runtime2-arm64", "runtime2-arm64", "arm64"],
      ]
    ) {
      const [only, ...more] = await versions(moto, layer);
      assert.equal(more.length, 0, `${layer} has more than one version`);
      assert.deepEqual(only.CompatibleRuntimes, ["provided.al2023"]);
      assert.deepEqual(only.CompatibleArchitectures, [arch]);
      assert.match(only.Description!, new RegExp(`sha256:${await sha256(`${dist}/${zip}.zip`)}`));
      assert.ok(run.stdout.includes(layerArn(layer, 1)), `${layer}'s ARN is not printed`);
    }

    const fn = await moto.lambda.send(new GetFunctionCommand({ FunctionName: "deno-hello" }));
    const c = fn.Configuration!;
    assert.equal(c.Runtime, "provided.al2023");
    assert.equal(c.Handler, "function.handler");
    assert.deepEqual(c.Architectures, ["x86_64"]);
    assert.equal(c.MemorySize, 512);
    assert.equal(c.Timeout, 30);
    assert.equal(c.Role, role);
    assert.deepEqual(c.Layers?.map((l) => l.Arn), [
      layerArn("deno-x86_64", 1),
      layerArn("deno-runtime2-x86_64", 1),
    ]);
    assert.equal(c.CodeSha256, await codeSha256(`${dist}/function.zip`));
    assert.match(run.stdout, /deno-hello: created/);
    assert.match(run.stdout, /aws lambda invoke --region us-east-1 --function-name deno-hello/);
    // The example's own sample event, which it answers with a 200.
    assert.match(run.stdout, /--payload fileb:\/\/events\/apigw_v2\.json \/dev\/stdout/);
    assert.match(run.stdout, /^All 6 layers published$/m);
  });
});

/** The function's URL as Lambda holds it, and who is granted to call the function, by action. */
async function functionUrl(moto: Moto, name: string) {
  const url = await moto.lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: name }));
  const statements = await moto.lambda.send(new GetPolicyCommand({ FunctionName: name }))
    .then((p) => JSON.parse(p.Policy!).Statement as { Principal: unknown; Action: string }[])
    .catch(() => []);
  return {
    url: url.FunctionUrl,
    auth: url.AuthType,
    mode: url.InvokeMode,
    publicGrants: statements.filter((s) => s.Principal === "*").map((s) => s.Action).sort(),
  };
}

Deno.test("deploy:function --url makes a function URL, for IAM callers unless told, and keeps it as asked", async () => {
  const dist = await fakeDist();
  await withMoto(async (moto) => {
    const role = await createRole(moto);
    const fn = ["function", "--dist", dist, "--url"];
    const first = await deploy(moto, ["all", "--dist", dist, "--url", "--role", role]);
    assertOk(first);
    const made = await functionUrl(moto, "deno-hello");
    assert.deepEqual({ ...made, url: undefined }, {
      url: undefined,
      auth: "AWS_IAM",
      mode: "BUFFERED",
      publicGrants: [],
    });
    assert.ok(first.stdout.includes(`deno-hello URL: ${made.url} (AWS_IAM, BUFFERED): created`));

    const again = await deploy(moto, fn);
    assertOk(again);
    assert.ok(again.stdout.includes(`deno-hello URL: ${made.url} (AWS_IAM, BUFFERED): unchanged`));

    // Public only when asked: both grants a public URL needs, once each.
    for (const done of ["updated", "unchanged"]) {
      const run = await deploy(moto, [...fn, "--url-auth", "none"]);
      assertOk(run);
      assert.ok(run.stdout.includes(`deno-hello URL: ${made.url} (NONE, BUFFERED): ${done}`));
      assert.deepEqual(await functionUrl(moto, "deno-hello"), {
        url: made.url,
        auth: "NONE",
        mode: "BUFFERED",
        publicGrants: ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"],
      });
    }

    // Back to IAM: the public grants go.
    assertOk(await deploy(moto, fn));
    assert.deepEqual((await functionUrl(moto, "deno-hello")).publicGrants, []);
    assert.equal((await functionUrl(moto, "deno-hello")).auth, "AWS_IAM");

    // A streamed URL. (moto keeps a URL's invoke mode when it is updated: only creation shows it.)
    const streamed = ["function", "--dist", dist, "--function-name", "streamer", "--role", role];
    assertOk(await deploy(moto, [...streamed, "--url", "--url-mode", "stream"]));
    assert.equal((await functionUrl(moto, "streamer")).mode, "RESPONSE_STREAM");
  });
});

Deno.test("in a GitHub Actions job, the layers' ARNs go to the job's summary, in one table", async () => {
  const dist = await fakeDist();
  const summary = `${dist}/summary.md`;
  await withMoto(async (moto) => {
    const env = { GITHUB_STEP_SUMMARY: summary };
    assertOk(await deploy(moto, ["deno-layer", "--dist", dist], env));
    assertOk(await deploy(moto, ["runtime2", "--dist", dist, "--arch", "arm64"], env));
    assert.equal(
      await Deno.readTextFile(summary),
      [
        "| layer | architecture | region | version ARN |",
        "| --- | --- | --- | --- |",
        `| deno-x86_64 | x86_64 | us-east-1 | \`${layerArn("deno-x86_64", 1)}\` |`,
        `| deno-arm64 | arm64 | us-east-1 | \`${layerArn("deno-arm64", 1)}\` |`,
        `| deno-runtime2-arm64 | arm64 | us-east-1 | \`${layerArn("deno-runtime2-arm64", 1)}\` |`,
        "",
      ].join("\n"),
    );
  });
});

Deno.test("a second deploy of the same zips publishes nothing and says so", async () => {
  const dist = await fakeDist();
  await withMoto(async (moto) => {
    assertOk(await deploy(moto, ["deno-layer", "--dist", dist]));
    const again = await deploy(moto, ["deno-layer", "--dist", dist]);
    assertOk(again);
    assert.match(again.stdout, /deno-x86_64: unchanged, version 1 already holds sha256:/);
    assert.match(again.stdout, /deno-arm64: unchanged, version 1 already holds sha256:/);
    assert.match(again.stdout, /^All 2 layers unchanged: nothing published$/m);
    assert.equal((await versions(moto, "deno-x86_64")).length, 1);
    assert.equal((await versions(moto, "deno-arm64")).length, 1);
  });
});

Deno.test("a changed zip publishes a new version, and an update moves the function onto it", async () => {
  const dist = await fakeDist();
  await withMoto(async (moto) => {
    const role = await createRole(moto);
    const arm = ["--dist", dist, "--arch", "arm64"];
    assertOk(await deploy(moto, ["deno-layer", ...arm]));
    assertOk(await deploy(moto, ["runtime1", ...arm]));
    assertOk(await deploy(moto, ["function", ...arm, "--role", role]));

    await writeZip(dist, "deno-layer-arm64", "v2");
    await writeZip(dist, "function", "v2");
    const layer = await deploy(moto, ["deno-layer", "--dist", dist]);
    assertOk(layer);
    assert.match(layer.stdout, /deno-x86_64: published version 1/);
    assert.match(layer.stdout, /deno-arm64: published version 2/);
    const [v1, v2] = await versions(moto, "deno-arm64");
    assert.notEqual(v1.Description, v2.Description);
    assert.match(
      v2.Description!,
      new RegExp(`sha256:${await sha256(`${dist}/deno-layer-arm64.zip`)}`),
    );

    const update = await deploy(moto, [
      "function",
      ...arm,
      "--memory",
      "1024",
      "--timeout",
      "60",
      "--handler",
      "function.other",
    ]);
    assertOk(update);
    assert.match(update.stdout, /deno-hello: updated/);
    const c = (await moto.lambda.send(new GetFunctionCommand({ FunctionName: "deno-hello" })))
      .Configuration!;
    assert.equal(c.MemorySize, 1024);
    assert.equal(c.Timeout, 60);
    assert.equal(c.Handler, "function.other");
    assert.equal(c.Role, role, "the role was not kept");
    assert.deepEqual(c.Architectures, ["arm64"]);
    assert.deepEqual(c.Layers?.map((l) => l.Arn), [
      layerArn("deno-arm64", 2),
      layerArn("deno-runtime1-arm64", 1),
    ]);
    assert.equal(c.CodeSha256, await codeSha256(`${dist}/function.zip`));
  });
});

Deno.test("a zip over 50 MiB goes through the S3 bucket", async () => {
  const dist = await fakeDist();
  await writeBigZip(dist, "deno-layer-x86_64");
  await withMoto(async (moto) => {
    await moto.s3.send(new CreateBucketCommand({ Bucket: "deploy-test-bucket" }));
    const run = await deploy(moto, [
      "deno-layer",
      "--dist",
      dist,
      "--arch",
      "x86_64",
      "--bucket",
      "deploy-test-bucket",
    ]);
    assertOk(run);
    const hex = await sha256(`${dist}/deno-layer-x86_64.zip`);
    const key = `deno-lambda/deno-x86_64/${hex}.zip`;
    assert.match(run.stderr, new RegExp(`Uploading .* to s3://deploy-test-bucket/${key}`));
    const objects = await moto.s3.send(new ListObjectsV2Command({ Bucket: "deploy-test-bucket" }));
    assert.deepEqual(objects.Contents?.map((o) => [o.Key, o.Size]), [[key, OVER_LIMIT]]);
    const layer = await moto.lambda.send(
      new GetLayerVersionCommand({ LayerName: "deno-x86_64", VersionNumber: 1 }),
    );
    assert.equal(layer.Content?.CodeSize, OVER_LIMIT);
    assert.match(layer.Description!, new RegExp(`sha256:${hex}`));
  });
});

Deno.test("a zip over 50 MiB without --bucket is refused with the limit explained", async () => {
  const dist = await fakeDist();
  await writeBigZip(dist, "deno-layer-x86_64");
  await withMoto(async (moto) => {
    const run = await deploy(moto, ["deno-layer", "--dist", dist, "--arch", "x86_64"]);
    assertFails(
      run,
      /too big to upload directly: it is 50\.0 MiB, and Lambda takes at most 50 MiB/,
    );
    assert.match(run.stderr, /pass --bucket/);
    const layers = await moto.lambda.send(new ListLayersCommand({}));
    assert.deepEqual(layers.Layers, []);
  });
});

Deno.test("deploy failures give a clear message, not a stack trace", async (t) => {
  const dist = await fakeDist();
  const empty = await Deno.makeTempDir({ dir: SCRATCH, prefix: "empty-" });
  await withMoto(async (moto) => {
    await t.step("a zip not built yet", async () => {
      assertFails(
        await deploy(moto, ["runtime1", "--dist", empty]),
        /Missing \S*\/runtime1-x86_64\.zip, \S*\/runtime1-arm64\.zip: run deno task build first\n/,
      );
    });
    await t.step("the other architecture's zips not built: every missing zip at once", async () => {
      const half = await fakeDist();
      for (const zip of ["deno-layer-arm64", "runtime1-arm64", "runtime2-arm64"]) {
        await Deno.remove(`${half}/${zip}.zip`);
      }
      assertFails(
        await deploy(moto, ["all", "--dist", half, "--dry-run"]),
        /Missing \S*\/deno-layer-arm64\.zip, \S*\/runtime1-arm64\.zip, \S*\/runtime2-arm64\.zip: run deno task build first, or pass --arch x86_64\n/,
      );
    });
    await t.step("no credentials", async () => {
      const run = await deploy(moto, ["runtime1", "--dist", dist], {
        AWS_ACCESS_KEY_ID: undefined,
        AWS_SECRET_ACCESS_KEY: undefined,
      });
      assertFails(run, /No AWS credentials: set AWS_PROFILE/);
    });
    await t.step("no region", async () => {
      const run = await deploy(moto, ["runtime1", "--dist", dist], { AWS_REGION: undefined });
      assertFails(run, /No AWS region: pass --region/);
    });
    await t.step("the function's layers not published yet", async () => {
      assertFails(
        await deploy(moto, ["function", "--dist", dist, "--role", await createRole(moto)]),
        /No version of layer deno-x86_64 or deno-runtime1-x86_64 is published: run deno task deploy:deno-layer --arch x86_64 and deno task deploy:runtime1 --arch x86_64 first, or deno task deploy --arch x86_64 /,
      );
    });
    await t.step("creating a function without --role", async () => {
      assertOk(await deploy(moto, ["deno-layer", "--dist", dist, "--arch", "x86_64"]));
      assertOk(await deploy(moto, ["runtime1", "--dist", dist, "--arch", "x86_64"]));
      assertFails(
        await deploy(moto, ["function", "--dist", dist]),
        /Missing --role: function deno-hello does not exist yet, and creating it needs an execution role/,
      );
    });
    await t.step("a role that does not exist", async () => {
      assertFails(
        await deploy(moto, [
          "function",
          "--dist",
          dist,
          "--role",
          `arn:aws:iam::${ACCOUNT}:role/none`,
        ]),
        /Role cannot be assumed by Lambda: cannot create function deno-hello/,
      );
    });
    await t.step("a bucket that does not exist", async () => {
      await writeBigZip(dist, "runtime2-arm64");
      assertFails(
        await deploy(moto, [
          "runtime2",
          "--dist",
          dist,
          "--arch",
          "arm64",
          "--bucket",
          "no-such-bucket",
        ]),
        /Bucket not found: cannot upload .*runtime2-arm64\.zip to s3:\/\/no-such-bucket/,
      );
    });
    await t.step("bad flags", async () => {
      assertFails(
        await deploy(moto, ["function", "--arch", "all"]),
        /Invalid --arch for a function/,
      );
      assertFails(await deploy(moto, ["runtime3"]), /Unknown task: runtime3/);
      assertFails(await deploy(moto, ["function", "--memory", "64"]), /Invalid --memory: 64/);
      assertFails(
        await deploy(moto, ["function", "--url", "--url-auth", "public"]),
        /Invalid --url-auth: public \(expected iam, none\)/,
      );
      assertFails(
        await deploy(moto, ["function", "--url-auth", "none"]),
        /--url-auth and --url-mode go with --url/,
      );
      assertFails(
        await deploy(moto, ["runtime1", "--url"]),
        /--url is for deploy:function and deploy, not deploy:runtime1/,
      );
    });
    assert.equal(
      await moto.lambda.send(new GetFunctionCommand({ FunctionName: "deno-hello" })).then(
        () => "exists",
        (err) => err.name,
      ),
      "ResourceNotFoundException",
      "a failed deploy created the function",
    );
  });
});

/** A role ARN of the right shape, which no check before publishing can tell from a real one. */
const ROLE = `arn:aws:iam::${ACCOUNT}:role/deno-lambda`;

Deno.test("deploy checks its inputs before publishing anything", async (t) => {
  const dist = await fakeDist();
  await withMoto(async (moto) => {
    await t.step("no --role for a function that does not exist yet", async () => {
      const run = await deploy(moto, ["all", "--dist", dist]);
      assertFails(
        run,
        /Missing --role: function deno-hello does not exist yet.*nothing was published/,
      );
      assert.doesNotMatch(run.stdout, /published/);
    });
    await t.step("a handler whose bundle the zip does not hold", async () => {
      const run = await deploy(moto, ["all", "--dist", dist, "--handler", "index.handler"]);
      assertFails(
        run,
        /function\.zip has no index\.bundle\.js, which handler index\.handler runs \(it holds function\.bundle\.js\): pass the handler it was built for, or --entry/,
      );
    });
    await t.step("a handler that is no <module>.<export>", async () => {
      assertFails(
        await deploy(moto, ["function", "--dist", dist, "--handler", "../x.handler"]),
        /Bad handler "\.\.\/x\.handler": expected <module>\.<export> inside the function/,
      );
    });
    await t.step("a function zip over 50 MiB without --bucket", async () => {
      const big = await fakeDist();
      await writeBigZip(big, "function");
      assertFails(
        await deploy(moto, ["all", "--dist", big, "--role", ROLE, "--arch", "x86_64"]),
        /function\.zip is too big to upload directly: .*pass --bucket/,
      );
    });
    await t.step("a function zip that is no zip", async () => {
      const broken = await fakeDist();
      await Deno.writeTextFile(`${broken}/function.zip`, "not a zip");
      assertFails(
        await deploy(moto, ["all", "--dist", broken, "--role", ROLE, "--arch", "x86_64"]),
        /function\.zip is no zip Lambda can take: Not a zip archive/,
      );
    });
    await t.step("a role, function name or bucket AWS would refuse", async () => {
      assertFails(
        await deploy(moto, ["all", "--dist", dist, "--role", "deno-lambda"]),
        /Invalid --role: deno-lambda \(expected an IAM role's ARN, such as arn:aws:iam::/,
      );
      assertFails(
        await deploy(moto, ["all", "--dist", dist, "--role", ROLE, "--function-name", "my fn!"]),
        /Invalid --function-name: my fn! \(expected 1 to 64 letters, digits, hyphens/,
      );
      assertFails(
        await deploy(moto, ["all", "--dist", dist, "--role", ROLE, "--bucket", "My_Bucket"]),
        /Invalid --bucket: My_Bucket \(expected an S3 bucket name/,
      );
    });
    await t.step("layers built from other sources than the checkout's", async () => {
      const stale = await fakeDist();
      await recordLayers("x86_64", "other sources", ["runtime1-x86_64.zip"], stale);
      assertFails(
        await deploy(moto, ["runtime1", "--dist", stale]),
        /The x86_64 layers in \S+ were built from other sources than this checkout's, or changed since: run deno task build --arch x86_64 first/,
      );
    });
    await t.step("--entry with a layer task", async () => {
      assertFails(
        await deploy(moto, ["runtime1", "--dist", dist, "--entry", "function/mod.ts"]),
        /--entry is for deploy:function and deploy, not deploy:runtime1/,
      );
    });
    assert.deepEqual((await moto.lambda.send(new ListLayersCommand({}))).Layers, []);
  });
});

Deno.test("deploy:function --entry builds that function, its bundle named after the handler", async () => {
  const dist = await fakeDist();
  await withMoto(async (moto) => {
    const role = await createRole(moto);
    assertOk(await deploy(moto, ["deno-layer", "--dist", dist, "--arch", "x86_64"]));
    assertOk(await deploy(moto, ["runtime1", "--dist", dist, "--arch", "x86_64"]));
    const run = await deploy(moto, [
      "function",
      ...["--dist", dist, "--role", role, "--function-name", "greeter"],
      ...["--entry", "tests/fixtures/ts/capabilities.ts", "--handler", "index.handler"],
    ]);
    assertOk(run);
    const built = run.stdout.match(/^Built in (dist\/deploy\/[0-9a-f]+)\/:$/m)?.[1];
    assert.ok(built, `no build of the entry:\n${run.stdout}`);
    const zip = `${ROOT}/${built}/function.zip`;
    const names = readZip(await Deno.readFile(zip)).map((e) => e.name);
    assert.ok(names.includes("index.bundle.js"), names.join(", "));
    const c = (await moto.lambda.send(new GetFunctionCommand({ FunctionName: "greeter" })))
      .Configuration!;
    assert.equal(c.Handler, "index.handler");
    assert.equal(c.CodeSha256, await codeSha256(zip));
    // Not the example: the hint sends an event any function takes.
    assert.match(
      run.stdout,
      /--payload '\{\}' --cli-binary-format raw-in-base64-out \/dev\/stdout/,
    );
  });
});

Deno.test("access denied is reported as such", async () => {
  const dist = await fakeDist();
  // With auth on after two requests, moto checks every later one against IAM:
  // the two create a user with no policy, whose key the deploy then uses.
  await withMoto(async (moto) => {
    await moto.iam.send(new CreateUserCommand({ UserName: "no-permissions" }));
    const key = (await moto.iam.send(new CreateAccessKeyCommand({ UserName: "no-permissions" })))
      .AccessKey!;
    const run = await deploy(moto, ["deno-layer", "--dist", dist], {
      AWS_ACCESS_KEY_ID: key.AccessKeyId,
      AWS_SECRET_ACCESS_KEY: key.SecretAccessKey,
    });
    assertFails(run, /Access denied: cannot list the versions of layer deno-x86_64/);
  }, { INITIAL_NO_AUTH_ACTION_COUNT: "2" });
});

Deno.test("--dry-run prints the plan and calls no AWS", async () => {
  const dist = await fakeDist();
  await withMoto(async (moto) => {
    // No credentials at all: any AWS call would fail.
    const run = await deploy(moto, [
      "all",
      "--dist",
      dist,
      "--dry-run",
      "--url",
      "--url-auth",
      "none",
    ], {
      AWS_ACCESS_KEY_ID: undefined,
      AWS_SECRET_ACCESS_KEY: undefined,
    });
    assertOk(run);
    for (
      const layer of ["deno-x86_64", "deno-arm64", "deno-runtime1-arm64", "deno-runtime2-x86_64"]
    ) {
      assert.match(run.stdout, new RegExp(`Would publish layer ${layer} from `));
    }
    assert.match(run.stdout, /Would create or update function deno-hello: provided\.al2023/);
    assert.match(
      run.stdout,
      /^Would create or update the URL of function deno-hello: NONE, BUFFERED, callable by anyone$/m,
    );
    assert.match(run.stdout, /^Warning: no --role: the deploy will stop before publishing/m);
    // The fake function zip has no code cache, as one built for the other architecture.
    assert.match(run.stderr, /^Warning: \S*function\.zip has no code cache for x86_64: /m);
    const noRegion = await deploy(moto, ["runtime1", "--dist", dist, "--dry-run"], {
      AWS_REGION: undefined,
    });
    assertOk(noRegion);
    assert.match(noRegion.stdout, /^Dry run: no AWS calls; region none\nWarning: No AWS region: /);
    assert.deepEqual((await moto.lambda.send(new ListLayersCommand({}))).Layers, []);
  });
});

Deno.test("--help lists the flags", async () => {
  const run = await deploy(undefined, ["--help"]);
  assertOk(run);
  for (
    const flag of [
      "region",
      "profile",
      "arch",
      "bucket",
      "dry-run",
      "dist",
      "function-name",
      "role",
      "runtime",
      "memory",
      "timeout",
    ]
  ) {
    assert.match(run.stdout, new RegExp(`--${flag} `));
  }
  assert.match(run.stdout, /AWS_ENDPOINT_URL/);
});
