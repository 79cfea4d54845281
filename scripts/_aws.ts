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

const NO_REGION = "No AWS region: pass --region, set AWS_REGION, or give the profile a region";

/** The region the clients would use, read as the SDK reads it (no AWS call), or undefined. */
export async function findRegion(settings: AwsSettings): Promise<string | undefined> {
  const config = { region: resolveRegion(settings.region), profile: settings.profile };
  return await new LambdaClient(config).config.region().catch(() => undefined);
}

/** Builds the clients, failing when no region can be found. */
export async function createClients(settings: AwsSettings): Promise<AwsClients> {
  const region = await findRegion(settings);
  if (!region) throw new DeployError(NO_REGION);
  const config = { region, profile: settings.profile };
  return { lambda: new LambdaClient(config), s3: new S3Client(config), region };
}

/** What a dry run says when the real run would stop for lack of a region. */
export const NO_REGION_WARNING = `Warning: ${NO_REGION}; the deploy would stop there`;

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

/** As aws(), for a read of something that may not exist: undefined when it does not. */
export function awsIfExists<T>(action: string, call: () => Promise<T>): Promise<T | undefined> {
  return aws(action, async () => {
    try {
      return await call();
    } catch (err) {
      if ((err as { name?: string }).name === "ResourceNotFoundException") return undefined;
      throw err;
    }
  });
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
