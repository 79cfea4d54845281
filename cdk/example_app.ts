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

/** The example's stack in a new app writing to outdir. */
export function exampleApp(
  outdir = "cdk.out",
  env: Record<string, string | undefined> = {},
): { app: App; stack: Stack } {
  const app = new App({ outdir });
  const stack = new Stack(app, "DenoGreetings");
  const fn = new DenoFunction(stack, "Greetings", {
    entry: fileURLToPath(new URL("../function/mod.ts", import.meta.url)),
    handler: "function.handler",
    architecture: env.DENO_LAMBDA_ARCH === "arm64"
      ? lambda.Architecture.ARM_64
      : lambda.Architecture.X86_64,
    denoRuntime: (env.DENO_LAMBDA_RUNTIME ?? "runtime1") as DenoRuntime,
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
  const { app } = exampleApp("cdk.out", {
    DENO_LAMBDA_ARCH: Deno.env.get("DENO_LAMBDA_ARCH"),
    DENO_LAMBDA_RUNTIME: Deno.env.get("DENO_LAMBDA_RUNTIME"),
  });
  const assembly = app.synth();
  console.log(
    `Synthesised into ${assembly.directory}: npx aws-cdk@2 deploy --app ${assembly.directory}`,
  );
}
