// A zip on its way to Lambda: read and hashed once, then sent either inline in
// the API request or, past Lambda's direct-upload limit, through an S3 bucket.
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { aws, type AwsClients, DeployError } from "./_aws.ts";
import { step } from "./_progress.ts";
import { ROOT } from "./_paths.ts";

/**
 * Lambda refuses zips over 50 MB (MiB, as AWS counts) sent inline in
 * PublishLayerVersion, CreateFunction or UpdateFunctionCode; bigger ones must
 * come from S3.
 */
export const DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024;

/** A zip read from disk, with its SHA-256. */
export interface Zip {
  /** The path as shown to the user: relative to the repository when inside it. */
  shown: string;
  bytes: Uint8Array;
  /** Lowercase hex SHA-256 of the bytes. */
  sha256: string;
}

/** Where Lambda takes the zip from: inline bytes or an S3 object. */
export type Code = { ZipFile: Uint8Array } | { S3Bucket: string; S3Key: string };

/** Reads a zip, failing with a hint to build it when it does not exist. */
export async function readZip(path: string): Promise<Zip> {
  const shown = path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new DeployError(`Missing ${shown}: run deno task build first`);
    }
    throw err;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  const sha256 = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  return { shown, bytes, sha256 };
}

/** A size in megabytes, for messages. */
export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The S3 key a zip is uploaded to: content-addressed, so equal zips share one object. */
function s3Key(name: string, zip: Zip): string {
  return `deno-lambda/${name}/${zip.sha256}.zip`;
}

/** How a zip would travel, for --dry-run. */
export function describeUpload(name: string, zip: Zip, bucket: string | undefined): string {
  if (zip.bytes.length <= DIRECT_UPLOAD_LIMIT) return "uploaded directly";
  if (bucket) return `uploaded through s3://${bucket}/${s3Key(name, zip)}`;
  return `over the 50 MiB direct-upload limit: fails without --bucket`;
}

/** Fails when the zip is over the direct-upload limit and no bucket is given to go through. */
export function checkUploadable(zip: Zip, bucket: string | undefined): void {
  if (zip.bytes.length <= DIRECT_UPLOAD_LIMIT || bucket) return;
  throw new DeployError(
    `${zip.shown} is too big to upload directly: it is ${megabytes(zip.bytes.length)}, and ` +
      "Lambda takes at most 50 MiB in the request itself; pass --bucket with an S3 bucket in the " +
      "same region, and the zip goes through it",
  );
}

/** The zip as Lambda's Code argument, uploading it to the bucket first when it is too big. */
export async function codeFor(
  clients: AwsClients,
  name: string,
  zip: Zip,
  bucket: string | undefined,
): Promise<Code> {
  checkUploadable(zip, bucket);
  if (zip.bytes.length <= DIRECT_UPLOAD_LIMIT) return { ZipFile: zip.bytes };
  const key = s3Key(name, zip);
  await step(
    `Uploading ${zip.shown} (${megabytes(zip.bytes.length)}) to s3://${bucket}/${key}`,
    () =>
      aws(
        `upload ${zip.shown} to s3://${bucket}`,
        () => clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: zip.bytes })),
      ),
  );
  return { S3Bucket: bucket!, S3Key: key };
}
