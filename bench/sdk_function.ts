// deno task bench's AWS SDK function: S3 and STS clients created at import, as
// a real function would; the handler resolves their configuration and builds
// commands (the bench has no AWS to send them to).
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { Context } from "aws-lambda";

const s3 = new S3Client({});
const sts = new STSClient({});

export async function handler(_event: unknown, context: Context) {
  const [region, credentials] = await Promise.all([s3.config.region(), sts.config.credentials()]);
  return {
    requestId: context.awsRequestId,
    region,
    signed: Boolean(credentials.accessKeyId),
    commands: [new ListBucketsCommand({}), new GetCallerIdentityCommand({})].map((c) =>
      c.constructor.name
    ),
  };
}
