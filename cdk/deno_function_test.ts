// The DenoFunction construct, synthesised into a CloudFormation template with
// aws-cdk-lib's assertions: no AWS account. The bundle is the project's real
// build of a small entry; the layers are the zips deno task build left in dist/.
import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as lambda from "aws-cdk-lib/aws-lambda";
import assert from "node:assert/strict";
import { ROOT } from "../scripts/_paths.ts";
import { readZip } from "../scripts/zip.ts";
import { DenoFunction, type DenoFunctionProps } from "./deno_function.ts";
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

Deno.test("DenoFunction: a missing zip, a broken entry, or no deno says what to do", async () => {
  await withStack((stack, { entry }) => {
    const empty = Deno.makeTempDirSync({ prefix: "cdk-no-dist-" });
    try {
      assert.throws(
        () => new DenoFunction(stack, "F", { entry, denoPath: deno, distDir: empty }),
        new RegExp(
          `DenoFunction: no ${empty}/deno-layer-x86_64\\.zip: run deno task build --arch x86_64 in the project, or give the layer's ARN`,
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
      /DenoFunction Test\/F: cannot bundle .*index\.ts: Build failed: Cannot bundle /,
    );
  });
  await withStack((stack, { entry }) => {
    assert.throws(
      () => new DenoFunction(stack, "F", { entry, denoPath: "/nowhere/deno" }),
      /DenoFunction Test\/F: no \/nowhere\/deno to bundle .*index\.ts with: install Deno \(npm install -g deno\), or pass denoPath/,
    );
  });
});

Deno.test("DenoFunction: a bad entry, handler or architecture is refused by its prop's name, bundled or not", async () => {
  // Not bundled (another stack is deployed), so the build cannot be what finds them.
  const s = await scratch();
  try {
    const app = new App({ outdir: s.out, context: { "aws:cdk:bundling-stacks": ["Other"] } });
    const stack = new Stack(app, "Test");
    const cases: [Partial<DenoFunctionProps>, RegExp][] = [
      [
        { entry: `${s.dir}/nothere.ts` },
        /^DenoFunction Test\/F: entry .*\/nothere\.ts: no such file$/,
      ],
      [
        { handler: "index" },
        /^DenoFunction Test\/F: handler: Bad handler "index": expected <module>\.<export> inside the function/,
      ],
      [
        { architecture: lambda.Architecture.custom("riscv") },
        /^DenoFunction Test\/F: architecture riscv: expected lambda\.Architecture\.X86_64 or ARM_64$/,
      ],
    ];
    for (const [props, message] of cases) {
      assert.throws(
        () => new DenoFunction(stack, "F", { entry: s.entry, denoPath: deno, ...props }),
        (err: Error) => message.test(err.message) || assert.fail(err.message),
      );
    }
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
});

Deno.test("DenoFunction: outside a checkout, without projectRoot, it says to pass one", async () => {
  const elsewhere = await Deno.makeTempDir({ prefix: "cdk-elsewhere-" });
  try {
    await Deno.writeTextFile(`${elsewhere}/index.ts`, "export const handler = () => 1;\n");
    // An app run from elsewhere, which makes one function without projectRoot and one with it.
    await Deno.writeTextFile(
      `${elsewhere}/app.ts`,
      `import { App, Stack } from "aws-cdk-lib";
import { DenoFunction } from ${JSON.stringify(`${ROOT}/cdk/deno_function.ts`)};
const stack = new Stack(new App({ outdir: "cdk.out" }), "Test");
const props = { entry: "index.ts", denoPath: ${JSON.stringify(deno)} };
try {
  new DenoFunction(stack, "F", props);
} catch (err) {
  console.log(err.message);
}
new DenoFunction(stack, "G", { ...props, projectRoot: ${JSON.stringify(ROOT)} });
console.log("G made");
`,
    );
    const run = await new Deno.Command(deno, {
      args: ["run", "--allow-all", "--config", `${ROOT}/deno.json`, "app.ts"],
      cwd: elsewhere,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(run.stdout);
    assert.ok(run.success, new TextDecoder().decode(run.stderr));
    assert.equal(
      out,
      `DenoFunction: no checkout of deno-lambda (scripts/build.ts and deno.json) in ${elsewhere} ` +
        "or above it: pass projectRoot\nG made\n",
    );
  } finally {
    await Deno.remove(elsewhere, { recursive: true });
  }
});

Deno.test("DenoFunction: one stack's layers come from one dist", async () => {
  await withStack((stack, { entry }) => {
    new DenoFunction(stack, "One", { entry, denoPath: deno });
    assert.throws(
      () => new DenoFunction(stack, "Two", { entry, denoPath: deno, distDir: "/elsewhere/dist" }),
      /stack Test has its DenoLayer-x86_64 from .*\/dist already, and this function asks for it from \/elsewhere\/dist: give every function of a stack the same distDir/,
    );
  });
});

Deno.test("DenoFunction: two entries of one directory get a bundle each, named by its content", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cdk-entries-" });
  /** The S3 keys of both functions' code, synthesised into out, after checking what is inside. */
  const assets = (out: string) => {
    const app = new App({ outdir: out });
    const stack = new Stack(app, "Test");
    new DenoFunction(stack, "Api", {
      entry: `${dir}/api.ts`,
      handler: "api.handler",
      denoPath: deno,
    });
    new DenoFunction(stack, "Worker", {
      entry: `${dir}/worker.ts`,
      handler: "worker.run",
      denoPath: deno,
    });
    app.synth();
    const functions = Template.fromStack(stack).findResources("AWS::Lambda::Function");
    const keys = Object.values(functions).map((fn) => fn.Properties.Code.S3Key as string);
    const bundles = keys.map((key) =>
      readZip(Deno.readFileSync(`${out}/asset.${key.replace(/\.zip$/, "")}.zip`))
        .map((e) => e.name).filter((n) => n.endsWith(".js"))
    );
    assert.deepEqual(bundles, [["api.bundle.js"], ["worker.bundle.js"]]);
    return keys;
  };
  try {
    await Deno.writeTextFile(`${dir}/api.ts`, 'export const handler = () => "api";\n');
    await Deno.writeTextFile(`${dir}/worker.ts`, 'export const run = () => "worker";\n');
    const first = assets(`${dir}/one.out`);
    // Synthesised again, the same sources make the same assets, which a deploy leaves as they are.
    assert.deepEqual(assets(`${dir}/two.out`), first);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DenoFunction: a stack CDK is not deploying is not bundled", async () => {
  const s = await scratch();
  try {
    // As `cdk deploy Other` sets it: only the stack named is bundled.
    const app = new App({ outdir: s.out, context: { "aws:cdk:bundling-stacks": ["Other"] } });
    const stack = new Stack(app, "Test");
    await Deno.writeTextFile(s.entry, "export const handler = (;\n");
    new DenoFunction(stack, "F", { entry: s.entry, denoPath: deno });
    Template.fromStack(stack).resourceCountIs("AWS::Lambda::Function", 1);
  } finally {
    await Deno.remove(s.dir, { recursive: true });
  }
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

Deno.test("the example app refuses an architecture or runtime it does not know", () => {
  assert.throws(
    () => exampleApp("cdk.out", { DENO_LAMBDA_RUNTIME: "runtime3" }),
    /^Error: DENO_LAMBDA_RUNTIME=runtime3: expected runtime1 or runtime2$/,
  );
  assert.throws(
    () => exampleApp("cdk.out", { DENO_LAMBDA_ARCH: "aarch64" }),
    /^Error: DENO_LAMBDA_ARCH=aarch64: expected x86_64 or arm64$/,
  );
});
