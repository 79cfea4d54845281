// AWS clients for the deploy tasks, and AWS failures turned into one-line
// messages a user can act on. Clients read the standard AWS environment
// (AWS_PROFILE, the credential chain, AWS_ENDPOINT_URL and its per-service
// variants) through the SDK itself.
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";

/** An expected failure: deploy prints its message alone, without a stack trace. */
export class DeployError extends Error {
  override name = "DeployError";
}

/** Where the clients connect and as whom; undefined fields come from the AWS environment. */
export interface AwsSettings {
  region?: string;
  profile?: string;
}

/** The Lambda and S3 clients of one deploy. */
export interface AwsClients {
  lambda: LambdaClient;
  s3: S3Client;
  region: string;
}

/**
 * The region from --region, else AWS_REGION, else AWS_DEFAULT_REGION (which the
 * JavaScript SDK does not read by itself), else the profile's, via the SDK.
 */
export function resolveRegion(flag: string | undefined): string | undefined {
  return flag || Deno.env.get("AWS_REGION") || Deno.env.get("AWS_DEFAULT_REGION") || undefined;
}

/** Builds the clients, failing when no region can be found. */
export async function createClients(settings: AwsSettings): Promise<AwsClients> {
  const config = { region: resolveRegion(settings.region), profile: settings.profile };
  const lambda = new LambdaClient(config);
  let region: string;
  try {
    region = await lambda.config.region();
  } catch {
    throw new DeployError(
      "No AWS region: pass --region, set AWS_REGION, or give the profile a region",
    );
  }
  return { lambda, s3: new S3Client({ ...config, region }), region };
}

interface SdkError {
  name?: string;
  message?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

function statusOf(err: SdkError): number | undefined {
  return err.$metadata?.httpStatusCode ?? err.$response?.statusCode;
}

/** The message for a failed AWS call; `action` says what was being done ("publish layer x"). */
export function explainAwsError(action: string, err: unknown): string {
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkError;
  const name = e.name ?? "";
  const message = (e.message ?? String(err)).trim().replace(/\.$/, "");
  if (name === "CredentialsProviderError" || /could not load credentials/i.test(message)) {
    return "No AWS credentials: set AWS_PROFILE (or pass --profile), or AWS_ACCESS_KEY_ID and " +
      "AWS_SECRET_ACCESS_KEY, or sign in with a profile that has credentials";
  }
  if (
    ["UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId"].includes(name) ||
    ["SignatureDoesNotMatch", "InvalidSignatureException"].includes(name)
  ) {
    return `AWS rejected the credentials: cannot ${action}: ${message}`;
  }
  if (statusOf(e) === 403 || /AccessDenied/.test(name)) {
    return `Access denied: cannot ${action}: the credentials lack the permission` +
      (name.startsWith("AccessDenied") ? ` (${message})` : "");
  }
  if (name === "NoSuchBucket" || /NoSuchBucket/.test(message)) {
    return `Bucket not found: cannot ${action}: create it in the deploy's region, or pass another --bucket`;
  }
  if (/role defined for the function cannot be assumed/i.test(message)) {
    return `Role cannot be assumed by Lambda: cannot ${action}: ` +
      "check that the --role ARN names an existing role that trusts lambda.amazonaws.com";
  }
  if (/ECONNREFUSED|ENOTFOUND|connection refused|error sending request/i.test(message)) {
    return `Cannot reach AWS: cannot ${action}: ${message}`;
  }
  return `Cannot ${action}: ${name && name !== "Error" ? `${name}: ` : ""}${message}`;
}

/** Runs one AWS call, turning its failure into a DeployError that says what was being done. */
export async function aws<T>(action: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof DeployError) throw err;
    throw new DeployError(explainAwsError(action, err));
  }
}
