// A CDK app for the example function: the greeting API (function/mod.ts) on
// Deno, behind an HTTP API and a function URL. Synthesise it with
//   deno run --allow-all cdk/example_app.ts            (writes cdk.out/)
// and deploy the assembly with AWS's CDK CLI:
//   npx aws-cdk@2 deploy --app cdk.out
// Set DENO_LAMBDA_ARCH=arm64 or DENO_LAMBDA_RUNTIME=runtime2 to change them.
import { App, CfnOutput, Stack } from "aws-cdk-lib";
import { HttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { fileURLToPath } from "node:url";
import { DenoFunction, type DenoRuntime } from "./deno_function.ts";

/** env[name], one of allowed (the first when unset), or an error naming them. */
function choice<T extends string>(
  env: Record<string, string | undefined>,
  name: string,
  allowed: readonly T[],
): T {
  const value = env[name] ?? allowed[0];
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`${name}=${value}: expected ${allowed.join(" or ")}`);
  }
  return value as T;
}

/** The example's stack in a new app writing to outdir. */
export function exampleApp(
  outdir = "cdk.out",
  env: Record<string, string | undefined> = {},
): { app: App; stack: Stack } {
  const arch = choice(env, "DENO_LAMBDA_ARCH", ["x86_64", "arm64"]);
  const denoRuntime = choice<DenoRuntime>(env, "DENO_LAMBDA_RUNTIME", ["runtime1", "runtime2"]);
  const app = new App({ outdir });
  const stack = new Stack(app, "DenoGreetings");
  const fn = new DenoFunction(stack, "Greetings", {
    entry: fileURLToPath(new URL("../function/mod.ts", import.meta.url)),
    projectRoot: fileURLToPath(new URL("..", import.meta.url)),
    handler: "function.handler",
    architecture: arch === "arm64" ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
    denoRuntime,
    memorySize: 256,
  });
  const api = new HttpApi(stack, "Api", {
    defaultIntegration: new HttpLambdaIntegration("Greetings", fn),
  });
  const url = fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
  new CfnOutput(stack, "ApiUrl", { value: api.apiEndpoint });
  new CfnOutput(stack, "FunctionUrl", { value: url.url });
  return { app, stack };
}

if (import.meta.main) {
  try {
    const { app } = exampleApp("cdk.out", {
      DENO_LAMBDA_ARCH: Deno.env.get("DENO_LAMBDA_ARCH"),
      DENO_LAMBDA_RUNTIME: Deno.env.get("DENO_LAMBDA_RUNTIME"),
    });
    const assembly = app.synth();
    console.log(
      `Synthesised into ${assembly.directory}: npx aws-cdk@2 deploy --app ${assembly.directory}`,
    );
  } catch (err) {
    console.error(`Cannot synthesise the example: ${err instanceof Error ? err.message : err}`);
    Deno.exit(1);
  }
}
