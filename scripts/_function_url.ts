// The function's URL: created or updated as asked, for IAM-signed callers
// unless made public explicitly. A public URL needs two grants on the
// function, to anyone: lambda:InvokeFunctionUrl for an unsigned URL, and
// lambda:InvokeFunction for calls through the URL only; making the URL IAM's
// again takes both away.
import {
  AddPermissionCommand,
  CreateFunctionUrlConfigCommand,
  type FunctionUrlAuthType,
  GetFunctionUrlConfigCommand,
  GetPolicyCommand,
  type InvokeMode,
  RemovePermissionCommand,
  UpdateFunctionUrlConfigCommand,
} from "@aws-sdk/client-lambda";
import { aws, type AwsClients, awsIfExists } from "./_aws.ts";

/** How the URL is reached: who may call it, and whether its answer is streamed. */
export interface UrlSpec {
  auth: "iam" | "none";
  mode: "buffered" | "stream";
}

const AUTH: Record<UrlSpec["auth"], FunctionUrlAuthType> = { iam: "AWS_IAM", none: "NONE" };
const MODE: Record<UrlSpec["mode"], InvokeMode> = {
  buffered: "BUFFERED",
  stream: "RESPONSE_STREAM",
};

/** The grants a public URL needs, by statement id, as the Lambda console names them. */
const PUBLIC_GRANTS = [
  {
    StatementId: "FunctionURLAllowPublicAccess",
    Action: "lambda:InvokeFunctionUrl",
    FunctionUrlAuthType: "NONE" as const,
  },
  {
    StatementId: "FunctionURLAllowInvokeAction",
    Action: "lambda:InvokeFunction",
    InvokedViaFunctionUrl: true,
  },
];

/** Creates or updates the function's URL as spec says, and prints it. */
export async function deployFunctionUrl(
  clients: AwsClients,
  name: string,
  spec: UrlSpec,
): Promise<string> {
  const want = { AuthType: AUTH[spec.auth], InvokeMode: MODE[spec.mode] };
  const existing = await awsIfExists(
    `read the URL of function ${name}`,
    () => clients.lambda.send(new GetFunctionUrlConfigCommand({ FunctionName: name })),
  );
  let url = existing?.FunctionUrl;
  let done = "unchanged";
  if (!existing) {
    const made = await aws(
      `create the URL of function ${name}`,
      () =>
        clients.lambda.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, ...want })),
    );
    url = made.FunctionUrl;
    done = "created";
  } else if (existing.AuthType !== want.AuthType || existing.InvokeMode !== want.InvokeMode) {
    await aws(
      `update the URL of function ${name}`,
      () =>
        clients.lambda.send(new UpdateFunctionUrlConfigCommand({ FunctionName: name, ...want })),
    );
    done = "updated";
  }
  const granted = await statementIds(clients, name);
  for (const grant of PUBLIC_GRANTS) {
    const has = granted.has(grant.StatementId);
    if (spec.auth === "none" && !has) await grantPublic(clients, name, grant);
    if (spec.auth === "iam" && has) await revokePublic(clients, name, grant.StatementId);
  }
  console.log(`${name} URL: ${url} (${want.AuthType}, ${want.InvokeMode}): ${done}`);
  return url!;
}

/** The ids of the statements of the function's policy; none when it has no policy. */
async function statementIds(clients: AwsClients, name: string): Promise<Set<string>> {
  const got = await awsIfExists(
    `read the policy of function ${name}`,
    () => clients.lambda.send(new GetPolicyCommand({ FunctionName: name })),
  );
  const policy = JSON.parse(got?.Policy ?? "{}") as { Statement?: { Sid?: string }[] };
  return new Set((policy.Statement ?? []).map((st) => st.Sid ?? ""));
}

async function grantPublic(
  clients: AwsClients,
  name: string,
  grant: typeof PUBLIC_GRANTS[number],
): Promise<void> {
  await aws(`let anyone call function ${name} through its URL`, () =>
    clients.lambda.send(
      new AddPermissionCommand({ FunctionName: name, Principal: "*", ...grant }),
    ));
}

async function revokePublic(clients: AwsClients, name: string, statementId: string) {
  await aws(`take public access to function ${name} away`, () =>
    clients.lambda.send(
      new RemovePermissionCommand({ FunctionName: name, StatementId: statementId }),
    ));
}

/** What deployFunctionUrl would do, without calling AWS. */
export function planFunctionUrl(name: string, spec: UrlSpec): string {
  return `Would create or update the URL of function ${name}: ${AUTH[spec.auth]}, ${
    MODE[spec.mode]
  }${spec.auth === "none" ? ", callable by anyone" : ""}`;
}
