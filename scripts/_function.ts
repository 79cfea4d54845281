// The function: created, or its code and configuration updated, on top of the
// latest published versions of the Deno layer and one runtime layer. Lambda
// accepts no further change to a function until the previous one is done, so
// every step waits for the function to be active again.
import {
  CreateFunctionCommand,
  type FunctionConfiguration,
  GetFunctionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from "@aws-sdk/client-lambda";
import { aws, type AwsClients, awsIfExists, DeployError } from "./_aws.ts";
import { LAMBDA_RUNTIME, latestVersion, type Layer } from "./_layers.ts";
import type { Arch, Runtime } from "./_paths.ts";
import { step } from "./_progress.ts";
import { codeFor, describeUpload, megabytes, readZip, type Zip } from "./_upload.ts";
import { relative } from "node:path";
import { bundleName } from "./_bundle.ts";
import { readZip as readZipEntries } from "./zip.ts";

/** How long to wait for Lambda to finish creating or updating the function. */
const MAX_WAIT_SECONDS = 300;

/** The function to deploy. */
export interface FunctionSpec {
  name: string;
  zipPath: string;
  arch: Arch;
  runtime: Runtime;
  handler: string;
  memory: number;
  timeout: number;
  /** The execution role's ARN; required to create, kept as it is on update when absent. */
  role?: string;
  /** The Deno layer, then the runtime layer, for the function's architecture. */
  layers: [Layer, Layer];
  /** A sample event the function answers, for the invoke hint: an absolute path. */
  sampleEvent?: string;
}

/**
 * Fails unless the zip holds the bundle the handler names, which Lambda would
 * not find; returns the zip's file names.
 */
export function checkBundle(zip: Zip, handler: string): string[] {
  const bundle = bundleName(handler);
  let names: string[];
  try {
    names = readZipEntries(zip.bytes).map((e) => e.name);
  } catch (err) {
    throw new DeployError(`${zip.shown} is no zip Lambda can take: ${(err as Error).message}`);
  }
  if (names.includes(bundle)) return names;
  const found = names.filter((n) => n.endsWith(".bundle.js"));
  throw new DeployError(
    `${zip.shown} has no ${bundle}, which handler ${handler} runs` +
      (found.length ? ` (it holds ${found.join(", ")})` : "") +
      `: pass the handler it was built for, or --entry to build it for this one`,
  );
}

/** Lambda's CodeSha256: the base64 SHA-256 of the zip. */
function codeSha256(zip: Zip): string {
  const bytes = zip.sha256.match(/../g)!.map((h) => parseInt(h, 16));
  return btoa(String.fromCharCode(...bytes));
}

/** The ARNs of the latest versions of the function's layers, failing when one is not published. */
async function layerArns(clients: AwsClients, layers: Layer[]): Promise<string[]> {
  const arns = [];
  const missing: Layer[] = [];
  for (const layer of layers) {
    const latest = await latestVersion(clients, layer.name);
    if (latest?.LayerVersionArn) arns.push(latest.LayerVersionArn);
    else missing.push(layer);
  }
  if (missing.length > 0) {
    const arch = layers[0].arch;
    throw new DeployError(
      `No version of layer ${missing.map((l) => l.name).join(" or ")} is published: run ` +
        missing.map((l) => `deno task deploy:${l.kind} --arch ${arch}`).join(" and ") +
        ` first, or deno task deploy --arch ${arch} for the layers and the function at once`,
    );
  }
  return arns;
}

/** The function's configuration, or undefined when it does not exist. */
export async function getFunction(
  clients: AwsClients,
  name: string,
): Promise<FunctionConfiguration | undefined> {
  const got = await awsIfExists(
    `read function ${name}`,
    () => clients.lambda.send(new GetFunctionCommand({ FunctionName: name })),
  );
  return got?.Configuration;
}

async function waitUntil(
  clients: AwsClients,
  name: string,
  what: "active" | "updated",
): Promise<void> {
  const wait = what === "active" ? waitUntilFunctionActiveV2 : waitUntilFunctionUpdatedV2;
  await step(
    `Waiting for ${name} to be ${what}`,
    () =>
      aws(
        `wait for function ${name} to be ${what}`,
        () =>
          wait({ client: clients.lambda, maxWaitTime: MAX_WAIT_SECONDS }, { FunctionName: name }),
      ),
  );
}

/** Creates or updates the function, waits until it is active, and returns its ARN. */
export async function deployFunction(
  clients: AwsClients,
  spec: FunctionSpec,
  bucket: string | undefined,
): Promise<string> {
  const zip = await readZip(spec.zipPath);
  const layers = await layerArns(clients, spec.layers);
  const settings = {
    FunctionName: spec.name,
    Runtime: LAMBDA_RUNTIME,
    Handler: spec.handler,
    MemorySize: spec.memory,
    Timeout: spec.timeout,
    Layers: layers,
    Description: `Deno on Lambda, ${spec.runtime}`,
  } as const;
  const existing = await getFunction(clients, spec.name);
  let arn: string;
  if (!existing) {
    if (!spec.role) {
      throw new DeployError(
        `Missing --role: creating function ${spec.name} needs an execution role, the ARN of an ` +
          "IAM role that trusts lambda.amazonaws.com",
      );
    }
    const code = await codeFor(clients, spec.name, zip, bucket);
    const created = await step(
      `Creating function ${spec.name}`,
      () =>
        aws(`create function ${spec.name}`, () =>
          clients.lambda.send(
            new CreateFunctionCommand({
              ...settings,
              Role: spec.role,
              Architectures: [spec.arch],
              Code: code,
            }),
          )),
    );
    arn = created.FunctionArn!;
    await waitUntil(clients, spec.name, "active");
    console.log(`${spec.name}: created`);
  } else {
    arn = existing.FunctionArn!;
    if (existing.CodeSha256 !== codeSha256(zip) || existing.Architectures?.[0] !== spec.arch) {
      const code = await codeFor(clients, spec.name, zip, bucket);
      await step(
        `Updating the code of ${spec.name} from ${zip.shown}`,
        () =>
          aws(`update the code of function ${spec.name}`, () =>
            clients.lambda.send(
              new UpdateFunctionCodeCommand({
                FunctionName: spec.name,
                Architectures: [spec.arch],
                ...code,
              }),
            )),
      );
      await waitUntil(clients, spec.name, "updated");
    } else {
      console.log(`${spec.name}: code unchanged (CodeSha256 ${existing.CodeSha256})`);
    }
    await step(
      `Updating the configuration of ${spec.name}`,
      () =>
        aws(
          `update the configuration of function ${spec.name}`,
          () =>
            clients.lambda.send(
              new UpdateFunctionConfigurationCommand({ ...settings, Role: spec.role }),
            ),
        ),
    );
    await waitUntil(clients, spec.name, "updated");
    console.log(`${spec.name}: updated`);
  }
  console.log(`  ${arn}\n  layers: ${layers.join(", ")}`);
  return arn;
}

/** How to invoke the function once it is deployed: with its sample event when it has one. */
export function invokeHint(spec: FunctionSpec, region: string): string {
  const { name } = spec;
  // As the user's shell will read it: deno task runs scripts from the project, and says
  // where it was started in INIT_CWD.
  const sampleEvent = spec.sampleEvent &&
    relative(Deno.env.get("INIT_CWD") ?? Deno.cwd(), spec.sampleEvent);
  // fileb:// sends the file's bytes as they are; inline JSON needs the CLI v2 told it is not base64.
  const payload = sampleEvent
    ? `fileb://${sampleEvent}`
    : `'{}' --cli-binary-format raw-in-base64-out`;
  return [
    `Invoke it from the Lambda console's Test tab${
      sampleEvent ? `, with ${sampleEvent} as the event` : ""
    }:`,
    `  https://${region}.console.aws.amazon.com/lambda/home?region=${region}#/functions/${name}?tab=testing`,
    `or, with the AWS CLI or any SDK (this one: InvokeCommand of @aws-sdk/client-lambda):`,
    `  aws lambda invoke --region ${region} --function-name ${name} \\`,
    `    --payload ${payload} /dev/stdout`,
  ].join("\n");
}

/** What deployFunction would do, without calling AWS. */
export async function planFunction(
  spec: FunctionSpec,
  bucket: string | undefined,
): Promise<string> {
  const zip = await readZip(spec.zipPath);
  return [
    `Would create or update function ${spec.name}: ${LAMBDA_RUNTIME}, handler ${spec.handler}, ` +
    `${spec.arch}, ${spec.memory} MB, ${spec.timeout} s, role ${
      spec.role ?? "(unchanged; required to create)"
    }`,
    `  code ${zip.shown} (${megabytes(zip.bytes.length)}), ${
      describeUpload(spec.name, zip, bucket)
    }`,
    `  layers: the latest versions of ${spec.layers.map((l) => l.name).join(" and ")}`,
  ].join("\n");
}
