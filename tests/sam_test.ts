// The SAM template (examples/sam/template.yaml): linted by cfn-lint, then
// deployed to moto as `sam deploy` would (tests/_sam_deploy.py), for each way
// of choosing the layers, and checked in what moto holds. Small zips made here
// stand for the built ones, each recognisable by its hash.
import { GetLayerVersionCommand, ListLayersCommand } from "@aws-sdk/client-lambda";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ROOT } from "../scripts/_paths.ts";
import { createZip } from "../scripts/zip.ts";
import { motoEnv, withMoto } from "./_moto.ts";

const TEMPLATE = "examples/sam/template.yaml";
const ZIPS = [
  "deno-layer-x86_64",
  "deno-layer-arm64",
  "runtime1-x86_64",
  "runtime1-arm64",
  "runtime2-x86_64",
  "runtime2-arm64",
  "function",
];

/** A copy of the template beside a dist/ of small zips, as the project lays them out. */
async function project(): Promise<{ dir: string; hashes: Map<string, string> }> {
  const dir = await Deno.makeTempDir({ prefix: "sam-test-" });
  await Deno.mkdir(`${dir}/examples/sam`, { recursive: true });
  await Deno.mkdir(`${dir}/dist`);
  await Deno.copyFile(`${ROOT}/${TEMPLATE}`, `${dir}/${TEMPLATE}`);
  const hashes = new Map<string, string>();
  for (const name of ZIPS) {
    const data = new TextEncoder().encode(`${name}\n`);
    const zip = createZip([{ name: "file.txt", data, mode: 0o644 }]);
    await Deno.writeFile(`${dir}/dist/${name}.zip`, zip);
    hashes.set(createHash("sha256").update(zip).digest("base64"), name);
  }
  return { dir, hashes };
}

interface Deployed {
  status: string;
  resources: Record<string, { type: string }>;
  types: string[];
  unmodelled: { resources: string[]; outputs: string[] };
  functions: Record<string, Record<string, unknown>>;
}

/** Deploys the copy's template to moto with parameters; what the helper saw. */
async function samDeploy(
  endpoint: string,
  dir: string,
  stack: string,
  params: Record<string, string>,
): Promise<Deployed> {
  const out = await new Deno.Command("python3", {
    args: [`${ROOT}/tests/_sam_deploy.py`, `${dir}/${TEMPLATE}`, stack, JSON.stringify(params)],
    clearEnv: true,
    env: motoEnv({ endpoint }, { AWS_DEFAULT_REGION: "us-east-1" }),
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, `${text}\n${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text);
}

Deno.test("cfn-lint finds nothing wrong in the SAM template", async () => {
  const out = await new Deno.Command("cfn-lint", {
    args: [TEMPLATE],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output().catch((err) => {
    throw new Error(`cfn-lint is not installed (.ci/run installs it from PyPI): ${err}`);
  });
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
});

Deno.test("the SAM template deploys the layers its parameters choose, and the function on them", async (t) => {
  const { dir, hashes } = await project();
  try {
    await withMoto(async (moto) => {
      /** The zip each layer moto holds came from, by its hash. */
      const layerZips = async (stack: string) => {
        const zips: string[] = [];
        for (const layer of (await moto.lambda.send(new ListLayersCommand({}))).Layers ?? []) {
          if (!layer.LayerName!.startsWith(`${stack}-`)) continue;
          const version = await moto.lambda.send(
            new GetLayerVersionCommand({
              LayerName: layer.LayerName,
              VersionNumber: layer.LatestMatchingVersion!.Version,
            }),
          );
          zips.push(hashes.get(version.Content!.CodeSha256!) ?? "an unknown zip");
        }
        return zips.sort();
      };

      await t.step("defaults: x86_64, runtime1, layers from dist/", async () => {
        const out = await samDeploy(moto.endpoint, dir, "defaults", {});
        assert.equal(out.status, "CREATE_COMPLETE");
        assert.deepEqual(await layerZips("defaults"), ["deno-layer-x86_64", "runtime1-x86_64"]);
        const fn = out.functions.Function;
        assert.equal(fn.Runtime, "provided.al2023");
        assert.equal(fn.Handler, "function.handler");
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

      await t.step("arm64, runtime2, an existing Deno layer by ARN", async () => {
        const deno = "arn:aws:lambda:us-east-1:123456789012:layer:deno-arm64:7";
        const out = await samDeploy(moto.endpoint, dir, "arm", {
          Architecture: "arm64",
          Runtime: "runtime2",
          DenoLayerArn: deno,
          Handler: "index.handler",
        });
        assert.deepEqual(await layerZips("arm"), ["runtime2-arm64"]);
        const fn = out.functions.Function;
        assert.deepEqual(fn.Architectures, ["arm64"]);
        assert.equal(fn.Handler, "index.handler");
        assert.equal((fn.Layers as unknown[])[0], deno);
        assert.match((fn.Layers as { Ref: string }[])[1].Ref, /^Runtime2LayerArm/);
      });

      await t.step("both layers by ARN: nothing published", async () => {
        const arns = {
          DenoLayerArn: "arn:aws:lambda:us-east-1:123456789012:layer:deno-x86_64:2",
          RuntimeLayerArn: "arn:aws:lambda:us-east-1:123456789012:layer:deno-runtime1-x86_64:4",
        };
        const out = await samDeploy(moto.endpoint, dir, "arns", arns);
        assert.deepEqual(await layerZips("arns"), []);
        assert.deepEqual(out.functions.Function.Layers, Object.values(arns));
        assert.deepEqual(
          Object.values(out.resources).filter((r) => r.type === "AWS::Lambda::LayerVersion"),
          [],
        );
      });
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
