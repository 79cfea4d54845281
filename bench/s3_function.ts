// deno task bench's large function: the AWS SDK's S3 client, about 1.5 MB
// bundled, created at import as a real function would.
import { ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";

const s3 = new S3Client({ region: "us-east-1" });

export function handler(_event: unknown, context: { awsRequestId: string }): unknown {
  return {
    requestId: context.awsRequestId,
    command: new ListBucketsCommand({}).constructor.name,
    region: typeof s3.config.region,
  };
}
