// A CDK construct for a Deno function on Lambda: `new DenoFunction(this, "Api",
// { entry: "api/index.ts" })` bundles the entry with this project's build (at
// synth time, as NodejsFunction does with esbuild), and puts it on the Deno
// layer and a runtime layer on provided.al2023. The layers are made once per
// stack and architecture from the project's zips (`deno task build`), or taken
// by ARN. Everything else is lambda.Function's own options.
//
// It imports aws-cdk-lib and constructs as bare names: a Deno app maps them in
// deno.json, a Node.js app has them in node_modules.
import { Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project this file belongs to: its build bundles, its dist/ holds the layers' zips. */
const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** runtime1 keeps one Deno process per execution environment; runtime2 one per invocation. */
export type DenoRuntime = "runtime1" | "runtime2";

/** Where the layers come from: this project's zips, unless an ARN is given. */
export interface DenoLayersProps {
  /** An existing Deno layer version for the architecture (default: made from dist/). */
  readonly denoLayerArn?: string;
  /** An existing runtime layer version (default: made from dist/). */
  readonly runtimeLayerArn?: string;
  /** The project whose dist/ holds the zips (default: the one this file is in). */
  readonly projectRoot?: string;
}

export interface DenoFunctionProps
  extends Omit<lambda.FunctionOptions, "architecture">, DenoLayersProps {
  /** The function's entry point, TypeScript or JavaScript. */
  readonly entry: string;
  /** `<module>.<export>`; the bundle is named `<module>.bundle.js` (default: index.handler). */
  readonly handler?: string;
  /** Default: runtime1. */
  readonly denoRuntime?: DenoRuntime;
  /** Default: x86_64. */
  readonly architecture?: lambda.Architecture;
  /** The deno executable that runs the build (default: deno, from PATH). */
  readonly denoPath?: string;
}

/** The Deno layer and a runtime layer for one architecture, made once per stack. */
export class DenoLayers {
  /** The layers for arch and runtime in scope's stack: made the first time, shared after. */
  static of(
    scope: Construct,
    arch: lambda.Architecture,
    runtime: DenoRuntime,
    props: DenoLayersProps = {},
  ): { deno: lambda.ILayerVersion; runtime: lambda.ILayerVersion } {
    const root = props.projectRoot ?? PROJECT;
    return {
      deno: layer(scope, props.denoLayerArn, `DenoLayer-${arch.name}`, () => ({
        code: lambda.Code.fromAsset(zip(root, `deno-layer-${arch.name}`)),
        description: "Deno, as bin/deno",
        compatibleRuntimes: [lambda.Runtime.PROVIDED_AL2023],
        compatibleArchitectures: [arch],
      })),
      runtime: layer(
        scope,
        props.runtimeLayerArn,
        `DenoRuntimeLayer-${runtime}-${arch.name}`,
        () => ({
          code: lambda.Code.fromAsset(zip(root, `${runtime}-${arch.name}`)),
          description: `Deno Lambda ${runtime}: bootstrap and runtime.js`,
          compatibleRuntimes: [lambda.Runtime.PROVIDED_AL2023],
          compatibleArchitectures: [arch],
        }),
      ),
    };
  }
}

/**
 * The stack's layer of that id, made from props the first time; or the layer
 * version arn names, imported once per stack.
 */
function layer(
  scope: Construct,
  arn: string | undefined,
  id: string,
  props: () => lambda.LayerVersionProps,
): lambda.ILayerVersion {
  const stack = Stack.of(scope);
  const key = arn ? `Imported-${createHash("sha256").update(arn).digest("hex").slice(0, 12)}` : id;
  const found = stack.node.tryFindChild(key) as lambda.ILayerVersion | undefined;
  if (found) return found;
  return arn
    ? lambda.LayerVersion.fromLayerVersionArn(stack, key, arn)
    : new lambda.LayerVersion(stack, key, props());
}

/** A zip of the project's dist/, or an error that says how to build it. */
function zip(root: string, name: string): string {
  const path = join(root, "dist", `${name}.zip`);
  if (!existsSync(path)) {
    const arch = name.replace(/^.*-(x86_64|arm64)$/, "$1");
    throw new Error(
      `DenoFunction: no ${path}: run deno task build --arch ${arch} in ${root}, ` +
        "or give the layer's ARN (denoLayerArn, runtimeLayerArn)",
    );
  }
  return path;
}

/** A Lambda function running a bundled TypeScript entry point on Deno. */
export class DenoFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: DenoFunctionProps) {
    const {
      entry: _entry,
      handler = "index.handler",
      denoRuntime = "runtime1",
      architecture = lambda.Architecture.X86_64,
      denoPath: _denoPath,
      denoLayerArn: _deno,
      runtimeLayerArn: _runtime,
      projectRoot: _root,
      ...options
    } = props;
    const layers = DenoLayers.of(scope, architecture, denoRuntime, props);
    super(scope, id, {
      ...options,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler,
      architecture,
      code: lambda.Code.fromAsset(bundle(props, handler, architecture)),
      layers: [layers.deno, layers.runtime, ...(options.layers ?? [])],
    });
  }
}

/**
 * Builds the entry's function.zip with the project's build (its bundle, source
 * map and code cache for the architecture), into dist/cdk/<hash>/, and
 * returns its path. Throws with the build's own message when it fails.
 */
function bundle(props: DenoFunctionProps, handler: string, arch: lambda.Architecture): string {
  const root = props.projectRoot ?? PROJECT;
  const entry = resolve(props.entry);
  const key = createHash("sha256").update(`${entry}\n${handler}\n${arch.name}`).digest("hex");
  const out = join(root, "dist", "cdk", key.slice(0, 12));
  const args = ["run", "--allow-all", join(root, "scripts", "build.ts"), "--function-only"];
  args.push("--entry", entry, "--handler", handler, "--arch", arch.name, "--out-dir", out);
  const run = spawnSync(props.denoPath ?? "deno", args, { cwd: root, encoding: "utf8" });
  if (run.error || run.status !== 0) {
    const why = run.error?.message ?? `${run.stderr}${run.stdout}`.trim();
    throw new Error(`DenoFunction: cannot bundle ${props.entry}: ${why}`);
  }
  return join(out, "function.zip");
}
