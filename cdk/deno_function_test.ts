// The DenoFunction construct, synthesised into a CloudFormation template with
// aws-cdk-lib's assertions: no AWS account. The bundle is the project's real
// build of a small entry; the layers are the zips deno task build left in dist/.
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import assert from "node:assert/strict";
import { readZip } from "../scripts/zip.ts";
import { DenoFunction } from "./deno_function.ts";
import { exampleApp } from "./example_app.ts";

/** A directory with an entry point of its own, and the cloud assembly's. */
async function scratch(): Promise<{ dir: string; entry: string; out: string }> {
  const dir = await Deno.makeTempDir({ prefix: "cdk-test-" });
  await Deno.writeTextFile(`${dir}/index.ts`, 'export const handler = (): string => "hi";\n');
  return { dir, entry: `${dir}/index.ts`, out: `${dir}/cdk.out` };
}

/** Runs fn with a fresh app and stack, then removes the scratch directory. */
async function withStack(
  fn: (stack: Stack, s: { entry: string; out: string; app: App }) => Promise<void> | void,
): Promise<void> {
  const s = await scratch();
  try {
    const app = new App({ outdir: s.out });
    await fn(new Stack(app, "Test"), { ...s, app });
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
}

const deno = Deno.execPath();

Deno.test("DenoFunction: provided.al2023, its handler, architecture, options and both layers", async () => {
  await withStack(async (stack, { entry, out, app }) => {
    new DenoFunction(stack, "Api", {
      entry,
      denoPath: deno,
      architecture: lambda.Architecture.ARM_64,
      denoRuntime: "runtime2",
      memorySize: 512,
      environment: { STAGE: "test" },
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "provided.al2023",
      Handler: "index.handler",
      Architectures: ["arm64"],
      MemorySize: 512,
      Environment: { Variables: { STAGE: "test" } },
      Layers: [
        { Ref: Match.stringLikeRegexp("^DenoLayerarm64") },
        { Ref: Match.stringLikeRegexp("^DenoRuntimeLayerruntime2arm64") },
      ],
    });
    template.resourceCountIs("AWS::Lambda::LayerVersion", 2);
    template.hasResourceProperties("AWS::Lambda::LayerVersion", {
      Description: "Deno Lambda runtime2: bootstrap and runtime.js",
      CompatibleRuntimes: ["provided.al2023"],
      CompatibleArchitectures: ["arm64"],
    });

    // The function's asset is the project's build: the bundle named after the handler.
    app.synth();
    const code = Object.values(template.findResources("AWS::Lambda::Function"))[0].Properties.Code;
    const asset = `${out}/asset.${code.S3Key.replace(/\.zip$/, "")}.zip`;
    const names = readZip(await Deno.readFile(asset)).map((e) => e.name);
    assert.ok(names.includes("index.bundle.js"), names.join(", "));
    assert.ok(names.includes("index.bundle.js.map"), names.join(", "));
  });
});

Deno.test("DenoFunction: the functions of a stack share its layers", async () => {
  await withStack((stack, { entry }) => {
    new DenoFunction(stack, "One", { entry, denoPath: deno });
    new DenoFunction(stack, "Two", { entry, denoPath: deno, handler: "index.handler" });
    new DenoFunction(stack, "Three", { entry, denoPath: deno, denoRuntime: "runtime2" });
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::Lambda::Function", 3);
    // One Deno layer, and a runtime layer for each runtime used.
    template.resourceCountIs("AWS::Lambda::LayerVersion", 3);
  });
});

Deno.test("DenoFunction: layers given by ARN are used as they are, nothing published", async () => {
  const arns = {
    denoLayerArn: "arn:aws:lambda:eu-west-1:123456789012:layer:deno-x86_64:3",
    runtimeLayerArn: "arn:aws:lambda:eu-west-1:123456789012:layer:deno-runtime1-x86_64:5",
  };
  await withStack((stack, { entry }) => {
    new DenoFunction(stack, "One", { entry, denoPath: deno, ...arns });
    new DenoFunction(stack, "Two", { entry, denoPath: deno, ...arns });
    const template = Template.fromStack(stack);
    template.resourceCountIs("AWS::Lambda::LayerVersion", 0);
    template.allResourcesProperties("AWS::Lambda::Function", {
      Layers: [arns.denoLayerArn, arns.runtimeLayerArn],
    });
  });
});

Deno.test("DenoFunction: a missing zip or a broken entry says what to do", async () => {
  await withStack((stack, { entry }) => {
    const empty = Deno.makeTempDirSync({ prefix: "cdk-no-dist-" });
    try {
      assert.throws(
        () => new DenoFunction(stack, "F", { entry, denoPath: deno, projectRoot: empty }),
        new RegExp(
          `DenoFunction: no ${empty}/dist/deno-layer-x86_64\\.zip: run deno task build --arch x86_64 in ${empty}, or give the layer's ARN`,
        ),
      );
    } finally {
      Deno.removeSync(empty, { recursive: true });
    }
  });
  await withStack(async (stack, { entry }) => {
    await Deno.writeTextFile(entry, "export const handler = (;\n");
    assert.throws(
      () => new DenoFunction(stack, "F", { entry, denoPath: deno }),
      /DenoFunction: cannot bundle .*index\.ts: Build failed: Cannot bundle /,
    );
  });
});

Deno.test("the example app: the greeting function behind an HTTP API and a function URL", async () => {
  const out = await Deno.makeTempDir({ prefix: "cdk-example-" });
  try {
    const { app, stack } = exampleApp(out, { DENO_LAMBDA_RUNTIME: "runtime2" });
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Handler: "function.handler",
      Runtime: "provided.al2023",
      Architectures: ["x86_64"],
    });
    template.hasResourceProperties("AWS::Lambda::LayerVersion", {
      Description: "Deno Lambda runtime2: bootstrap and runtime.js",
    });
    template.resourceCountIs("AWS::ApiGatewayV2::Api", 1);
    template.hasResourceProperties("AWS::Lambda::Url", { AuthType: "AWS_IAM" });
    assert.ok(app.synth().stacks.length === 1);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
