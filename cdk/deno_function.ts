// A CDK construct for a Deno function on Lambda: `new DenoFunction(this, "Api",
// { entry: "api/index.ts" })` bundles the entry with this project's build (at
// synth time, through CDK's local bundling, as NodejsFunction does with
// esbuild), and puts it on the Deno layer and a runtime layer on
// provided.al2023. The layers are made once per stack and architecture from
// the project's zips (`deno task build`), or taken by ARN. Everything else is
// lambda.Function's own options.
//
// It imports aws-cdk-lib and constructs as bare names: a Deno app maps them in
// deno.json, a Node.js app has them in node_modules. It uses no import.meta,
// so that a CommonJS app can load it too.
import { AssetHashType, DockerImage, Stack } from "aws-cdk-lib";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { bundleName } from "../scripts/_handler.ts";

/** runtime1 keeps one Deno process per execution environment; runtime2 one per invocation. */
export type DenoRuntime = "runtime1" | "runtime2";

/** Where the layers come from: the project's zips, unless an ARN is given. */
export interface DenoLayersProps {
  /** An existing Deno layer version for the architecture (default: made from distDir). */
  readonly denoLayerArn?: string;
  /** An existing runtime layer version (default: made from distDir). */
  readonly runtimeLayerArn?: string;
  /**
   * The checkout of this project, whose scripts/build.ts bundles (default: the
   * nearest directory above the working directory holding scripts/build.ts
   * and deno.json).
   */
  readonly projectRoot?: string;
  /** Where the layers' zips are (default: projectRoot's dist/). */
  readonly distDir?: string;
}

/** A DenoFunction's own props, the layers' and every lambda.Function option but code and runtime. */
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
    const dist = () => distDir(props);
    return {
      deno: layer(scope, props.denoLayerArn, `DenoLayer-${arch.name}`, dist, (d) => ({
        code: lambda.Code.fromAsset(zip(d, `deno-layer-${arch.name}`)),
        description: "Deno, as bin/deno",
        compatibleRuntimes: [lambda.Runtime.PROVIDED_AL2023],
        compatibleArchitectures: [arch],
      })),
      runtime: layer(
        scope,
        props.runtimeLayerArn,
        `DenoRuntimeLayer-${runtime}-${arch.name}`,
        dist,
        (d) => ({
          code: lambda.Code.fromAsset(zip(d, `${runtime}-${arch.name}`)),
          description: `Deno Lambda ${runtime}: bootstrap and runtime.js`,
          compatibleRuntimes: [lambda.Runtime.PROVIDED_AL2023],
          compatibleArchitectures: [arch],
        }),
      ),
    };
  }
}

/** The dist/ each layer of a stack was made from. */
const layerSources = new WeakMap<Construct, string>();

/**
 * The stack's layer of that id, made from the zips in dist() the first time;
 * or the layer version arn names, imported once per stack. A stack's layer
 * comes from one dist/: asking for it from another is an error, not a
 * silently shared layer.
 */
function layer(
  scope: Construct,
  arn: string | undefined,
  id: string,
  dist: () => string,
  props: (dist: string) => lambda.LayerVersionProps,
): lambda.ILayerVersion {
  const stack = Stack.of(scope);
  const key = arn ? `Imported-${createHash("sha256").update(arn).digest("hex").slice(0, 12)}` : id;
  const found = stack.node.tryFindChild(key) as lambda.LayerVersion | undefined;
  if (found) {
    const from = layerSources.get(found);
    if (!arn && from !== undefined && from !== dist()) {
      throw new Error(
        `DenoFunction: stack ${stack.stackName} has its ${id} from ${from} already, and this ` +
          `function asks for it from ${dist()}: give every function of a stack the same distDir`,
      );
    }
    return found;
  }
  if (arn) return lambda.LayerVersion.fromLayerVersionArn(stack, key, arn);
  const made = new lambda.LayerVersion(stack, key, props(dist()));
  layerSources.set(made, dist());
  return made;
}

/** The checkout of this project: props.projectRoot, else found above the working directory. */
function projectRoot(props: DenoLayersProps): string {
  if (props.projectRoot) return resolve(props.projectRoot);
  for (let dir = process.cwd();; dir = dirname(dir)) {
    if (existsSync(join(dir, "scripts", "build.ts")) && existsSync(join(dir, "deno.json"))) {
      return dir;
    }
    if (dirname(dir) === dir) {
      throw new Error(
        "DenoFunction: no checkout of deno-lambda (scripts/build.ts and " +
          `deno.json) in ${process.cwd()} or above it: pass projectRoot`,
      );
    }
  }
}

function distDir(props: DenoLayersProps): string {
  return props.distDir ? resolve(props.distDir) : join(projectRoot(props), "dist");
}

/** A zip of dist, or an error that says how to build it. */
function zip(dist: string, name: string): string {
  const path = join(dist, `${name}.zip`);
  if (!existsSync(path)) {
    const arch = name.replace(/^.*-(x86_64|arm64)$/, "$1");
    throw new Error(
      `DenoFunction: no ${path}: run deno task build --arch ${arch} in the project, ` +
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
      distDir: _dist,
      ...options
    } = props;
    checkProps(`DenoFunction ${scope.node.path}/${id}`, props.entry, handler, architecture);
    const layers = DenoLayers.of(scope, architecture, denoRuntime, props);
    super(scope, id, {
      ...options,
      runtime: lambda.Runtime.PROVIDED_AL2023,
      handler,
      architecture,
      code: bundled(scope, id, props, handler, architecture),
      layers: [layers.deno, layers.runtime, ...(options.layers ?? [])],
    });
  }
}

/**
 * Refuses, by the prop's name, what the build would refuse later, or only when
 * the stack is bundled: an entry that is not there, a handler that cannot name
 * a bundle, an architecture with no Deno layer.
 */
function checkProps(where: string, entry: string, handler: string, arch: lambda.Architecture) {
  if (!existsSync(entry)) throw new Error(`${where}: entry ${resolve(entry)}: no such file`);
  try {
    bundleName(handler);
  } catch (err) {
    throw new Error(`${where}: handler: ${(err as Error).message}`);
  }
  if (![lambda.Architecture.X86_64.name, lambda.Architecture.ARM_64.name].includes(arch.name)) {
    throw new Error(
      `${where}: architecture ${arch.name}: expected lambda.Architecture.X86_64 or ARM_64`,
    );
  }
}

/**
 * The function's code: the entry's function.zip (its bundle, source map and
 * code cache for the architecture), built with the project's build by CDK's
 * local bundling. CDK bundles only the stacks it synthesises for deployment,
 * and names the asset by the zip's content, which the build makes the same
 * for the same sources.
 */
function bundled(
  scope: Construct,
  id: string,
  props: DenoFunctionProps,
  handler: string,
  arch: lambda.Architecture,
): lambda.Code {
  const entry = resolve(props.entry);
  const deno = props.denoPath ?? "deno";
  const build = (outDir: string) => [
    "run",
    "--allow-all",
    join(projectRoot(props), "scripts", "build.ts"),
    "--function-only",
    ...["--entry", entry, "--handler", handler, "--arch", arch.name, "--out-dir", outDir],
  ];
  const where = `DenoFunction ${scope.node.path}/${id}`;
  return lambda.Code.fromAsset(dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: the local bundling below always bundles, or throws.
      image: DockerImage.fromRegistry("deno-lambda-builds-locally"),
      // What is run, which also tells apart the entries of one directory in CDK's cache.
      command: [deno, ...build("/asset-output")],
      local: {
        tryBundle(outputDir: string): boolean {
          const run = spawnSync(deno, build(outputDir), {
            encoding: "utf8",
            env: { ...process.env, NO_COLOR: "1" },
            stdio: ["ignore", "pipe", "pipe"],
          });
          if ((run.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
            throw new Error(
              `${where}: no ${deno} to bundle ${props.entry} with: install Deno ` +
                "(npm install -g deno), or pass denoPath",
            );
          }
          if (run.error || run.status !== 0) {
            const why = run.error?.message ?? `${run.stderr}${run.stdout}`.trim();
            throw new Error(`${where}: cannot bundle ${props.entry}: ${why}`);
          }
          // The build's progress and warnings, as NodejsFunction shows esbuild's.
          if (run.stderr) process.stderr.write(run.stderr);
          return true;
        },
      },
    },
  });
}
