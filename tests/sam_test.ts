// The SAM templates (examples/sam/template.yaml, publishing the layers, and
// function.yaml, on layers by ARN): linted by cfn-lint, then deployed to moto
// as `sam deploy` would (tests/_sam_deploy.py), and checked in what moto holds.
// Small zips made here stand for the built ones, each recognisable by its hash.
import {
  GetFunctionCommand,
  GetLayerVersionCommand,
  GetPolicyCommand,
  LambdaClient,
  ListLayersCommand,
} from "@aws-sdk/client-lambda";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { bundleName } from "../scripts/_bundle.ts";
import { distZips, ROOT } from "../scripts/_paths.ts";
import { createZip } from "../scripts/zip.ts";
import { motoEnv, withMoto } from "./_moto.ts";

const TEMPLATES = ["examples/sam/template.yaml", "examples/sam/function.yaml"];
const ZIPS = distZips();

/**
 * A copy of the templates beside a dist/ of small zips, as the project lays
 * them out: those named, or all of them.
 */
async function project(zips = ZIPS): Promise<{ dir: string; hashes: Map<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "sam-test-" });
  await Deno.mkdir(`${dir}/examples/sam`, { recursive: true });
  await Deno.mkdir(`${dir}/dist`);
  for (const template of TEMPLATES) {
    await Deno.copyFile(`${ROOT}/${template}`, `${dir}/${template}`);
  }
  const hashes = new Map<string, string>();
  for (const name of zips) {
    const data = new TextEncoder().encode(`${name}\n`);
    const zip = createZip([{ name: "file.txt", data, mode: 0o644 }]);
    await Deno.writeFile(`${dir}/dist/${name}.zip`, zip);
    hashes.set(createHash("sha256").update(zip).digest("base64"), name);
  }
  return { dir, hashes };
}

interface Deployed {
  status: string;
  resources: Record<string, { type: string; id: string }>;
  types: string[];
  unmodelled: { resources: string[]; outputs: string[] };
  functions: Record<string, Record<string, unknown>>;
  permissions: Record<string, Record<string, unknown>>;
  urls: Record<string, Record<string, unknown>>;
  httpApis: Record<string, { Body: { paths: Record<string, Record<string, unknown>> } }>;
}

/** Deploys one of the copy's templates to moto with parameters; what the helper saw. */
async function samDeploy(
  endpoint: string,
  template: string,
  stack: string,
  params: Record<string, string>,
): Promise<Deployed> {
  const out = await new Deno.Command("python3", {
    args: [`${ROOT}/tests/_sam_deploy.py`, template, stack, JSON.stringify(params)],
    clearEnv: true,
    env: motoEnv({ endpoint }, { AWS_DEFAULT_REGION: "us-east-1" }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, `${text}\n${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text);
}

/** The zips of the layers moto holds for stack, by their hashes. */
async function layerZips(lambda: LambdaClient, stack: string, hashes: Map<string, string>) {
  const zips: string[] = [];
  for (const layer of (await lambda.send(new ListLayersCommand({}))).Layers ?? []) {
    if (!layer.LayerName!.startsWith(`${stack}-`)) continue;
    const version = await lambda.send(
      new GetLayerVersionCommand({
        LayerName: layer.LayerName,
        VersionNumber: layer.LatestMatchingVersion!.Version,
      }),
    );
    zips.push(hashes.get(version.Content!.CodeSha256!) ?? "an unknown zip");
  }
  return zips.sort();
}

/**
 * The deployed function as moto holds it: its zip (by hash), runtime and
 * handler, and who may call it, by action, and the condition on each.
 */
async function deployedFunction(
  lambda: LambdaClient,
  out: Deployed,
  hashes: Map<string, string>,
) {
  const name = out.resources.Function.id;
  const got = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
  const policy = await lambda.send(new GetPolicyCommand({ FunctionName: name }))
    .then((p) => JSON.parse(p.Policy!).Statement as Record<string, unknown>[])
    .catch(() => []);
  return {
    zip: hashes.get(got.Configuration!.CodeSha256!) ?? "an unknown zip",
    runtime: got.Configuration!.Runtime,
    handler: got.Configuration!.Handler,
    grants: policy.map((s) => [s.Principal, s.Action, s.Condition]) as unknown[][],
  };
}

/**
 * The function's two front doors, in the template as deployed (moto models
 * neither): an HTTP API sending every route to it as payload 2.0, the event
 * the example reads; and a function URL with the auth type asked for.
 */
function assertFrontDoors(out: Deployed, authType: string) {
  const apis = Object.values(out.httpApis);
  assert.equal(apis.length, 1);
  const integration = apis[0].Body.paths["$default"]["x-amazon-apigateway-any-method"] as {
    "x-amazon-apigateway-integration": { type: string; payloadFormatVersion: string; uri: unknown };
  };
  const to = integration["x-amazon-apigateway-integration"];
  assert.equal(to.type, "aws_proxy");
  assert.equal(to.payloadFormatVersion, "2.0");
  assert.match(JSON.stringify(to.uri), /functions\/\$\{Function\.Arn\}\/invocations/);
  assert.deepEqual(Object.values(out.urls).map((u) => [u.TargetFunctionArn, u.AuthType]), [
    [{ Ref: "Function" }, authType],
  ]);
}

/**
 * The function as the defaults make it: function.zip on provided.al2023, its
 * handler function.handler, called by the HTTP API, and through its URL by
 * IAM callers only.
 */
async function assertDefaultFunction(
  lambda: LambdaClient,
  out: Deployed,
  hashes: Map<string, string>,
) {
  const { grants, ...deployed } = await deployedFunction(lambda, out, hashes);
  assert.deepEqual(deployed, {
    zip: "function",
    runtime: "provided.al2023",
    handler: "function.handler",
  });
  // Only the HTTP API is granted: IAM callers of the URL need no grant here.
  assert.deepEqual(grants.map((g) => g.slice(0, 2)), [API]);
  assertFrontDoors(out, "AWS_IAM");
}

/** What API Gateway's HTTP API is granted, and what a public function URL needs, as moto shows them. */
const API = [{ Service: "apigateway.amazonaws.com" }, "lambda:InvokeFunction"];
const PUBLIC_URL = [["*", "lambda:InvokeFunctionUrl"], ["*", "lambda:InvokeFunction"]];

/**
 * The grants of a public URL: both permissions, the first for an unsigned URL,
 * the second for calls through the URL only. moto drops both conditions, so
 * they are read in the template as deployed.
 */
function assertPublicUrl(out: Deployed, grants: unknown[][]) {
  const byAction = (g: unknown[][]) => g.map((x) => JSON.stringify(x.slice(0, 2))).sort();
  assert.deepEqual(byAction(grants), byAction([API, ...PUBLIC_URL]));
  const invoke = Object.values(out.permissions).filter((p) => p.Principal === "*");
  assert.deepEqual(invoke.map((p) => [p.Action, p.FunctionUrlAuthType, p.InvokedViaFunctionUrl]), [
    ["lambda:InvokeFunctionUrl", "NONE", undefined],
    ["lambda:InvokeFunction", undefined, true],
  ]);
}

Deno.test("cfn-lint finds nothing wrong in the SAM templates", async () => {
  const out = await new Deno.Command("cfn-lint", {
    args: TEMPLATES,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output().catch((err) => {
    throw new Error(`cfn-lint is not installed (.ci/run installs it from PyPI): ${err}`);
  });
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
});

Deno.test("the templates' Handler pattern takes the handlers the build does, and no others", async () => {
  for (const template of TEMPLATES) {
    const text = await Deno.readTextFile(`${ROOT}/${template}`);
    const found = text.match(/\n {2}Handler:\n(?: {4}.*\n)*? {4}AllowedPattern: "(.*)"\n/);
    assert.ok(found, `${template}: no AllowedPattern for Handler`);
    // CloudFormation matches the whole value.
    const pattern = new RegExp(`^(?:${found[1]})$`);
    for (const ok of ["function.handler", "index.handler", "api/v1.handler", "api.routes.get"]) {
      assert.match(ok, pattern, template);
      bundleName(ok);
    }
    for (const bad of ["index", "index.", "/abs.handler", "../x.handler", "a//b.handler", ".x"]) {
      assert.doesNotMatch(bad, pattern, template);
      assert.throws(() => bundleName(bad), template);
    }
  }
});

Deno.test("template.yaml publishes the layers its parameters choose, and the function on them", async (t) => {
  const { dir, hashes } = await project();
  const template = `${dir}/examples/sam/template.yaml`;
  try {
    await withMoto(async (moto) => {
      await t.step("defaults: x86_64, runtime1, a function URL for IAM callers", async () => {
        const out = await samDeploy(moto.endpoint, template, "defaults", {});
        assert.equal(out.status, "CREATE_COMPLETE");
        assert.deepEqual(await layerZips(moto.lambda, "defaults", hashes), [
          "deno-layer-x86_64",
          "runtime1-x86_64",
        ]);
        await assertDefaultFunction(moto.lambda, out, hashes);
        const fn = out.functions.Function;
        assert.deepEqual(fn.Architectures, ["x86_64"]);
        const layers = (fn.Layers as { Ref: string }[]).map((l) => l.Ref);
        assert.match(layers[0], /^DenoLayerX86/);
        assert.match(layers[1], /^Runtime1LayerX86/);
        // An HTTP API and a function URL, which moto does not model.
        for (const type of ["AWS::ApiGatewayV2::Api", "AWS::Lambda::Url"]) {
          assert.ok(out.types.includes(type), type);
        }
        assert.deepEqual(out.unmodelled.outputs.sort(), ["ApiUrl", "FunctionUrl"]);
      });

      await t.step("arm64, runtime2, a public function URL", async () => {
        const out = await samDeploy(moto.endpoint, template, "arm", {
          Architecture: "arm64",
          Runtime: "runtime2",
          Handler: "index.handler",
          FunctionUrlAuth: "NONE",
        });
        assert.deepEqual(await layerZips(moto.lambda, "arm", hashes), [
          "deno-layer-arm64",
          "runtime2-arm64",
        ]);
        const deployed = await deployedFunction(moto.lambda, out, hashes);
        assert.equal(deployed.handler, "index.handler");
        assertPublicUrl(out, deployed.grants);
        assertFrontDoors(out, "NONE");
        const fn = out.functions.Function;
        assert.deepEqual(fn.Architectures, ["arm64"]);
        const layers = (fn.Layers as { Ref: string }[]).map((l) => l.Ref);
        assert.match(layers[0], /^DenoLayerArm/);
        assert.match(layers[1], /^Runtime2LayerArm/);
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("function.yaml needs only function.zip, and puts the function on the layers it names", async (t) => {
  const { dir, hashes } = await project(["function"]);
  const template = `${dir}/examples/sam/function.yaml`;
  const arns = {
    DenoLayerArn: "arn:aws:lambda:us-east-1:123456789012:layer:deno-arm64:2",
    RuntimeLayerArn: "arn:aws:lambda:us-east-1:123456789012:layer:deno-runtime1-arm64:4",
  };
  try {
    await withMoto(async (moto) => {
      await t.step("a function URL for IAM callers", async () => {
        const out = await samDeploy(moto.endpoint, template, "arns", {
          ...arns,
          Architecture: "arm64",
        });
        assert.equal(out.status, "CREATE_COMPLETE");
        assert.deepEqual(await layerZips(moto.lambda, "arns", hashes), []);
        assert.deepEqual(
          Object.values(out.resources).filter((r) => r.type === "AWS::Lambda::LayerVersion"),
          [],
        );
        await assertDefaultFunction(moto.lambda, out, hashes);
        assert.deepEqual(out.functions.Function.Layers, Object.values(arns));
        assert.deepEqual(out.functions.Function.Architectures, ["arm64"]);
      });

      await t.step("a public function URL", async () => {
        const out = await samDeploy(moto.endpoint, template, "public", {
          ...arns,
          FunctionUrlAuth: "NONE",
        });
        assertPublicUrl(out, (await deployedFunction(moto.lambda, out, hashes)).grants);
        assertFrontDoors(out, "NONE");
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
