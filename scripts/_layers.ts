// Layer versions: which layer holds which zip, what its latest version holds,
// and publishing a new version only when the zip changed. The zip's SHA-256 is
// recorded in the version's Description as "sha256:<hex>".
import {
  type LayerVersionsListItem,
  ListLayerVersionsCommand,
  PublishLayerVersionCommand,
} from "@aws-sdk/client-lambda";
import { aws, type AwsClients } from "./_aws.ts";
import { type Arch, DENO_VERSION, type Runtime } from "./_paths.ts";
import { step } from "./_progress.ts";
import { codeFor, describeUpload, megabytes, readZip } from "./_upload.ts";

/** The Lambda runtime every layer and the function are for. */
export const LAMBDA_RUNTIME = "provided.al2023";

/** The Deno layer, or one of the runtime layers. */
export type LayerKind = "deno-layer" | Runtime;

/** One layer for one architecture: its name, its zip and what its description says. */
export interface Layer {
  kind: LayerKind;
  name: string;
  zipPath: string;
  arch: Arch;
  about: string;
}

/** The layer of `kind` for `arch`: `<prefix>-<arch>` for Deno, `<prefix>-<runtime>-<arch>` else. */
export function layerFor(kind: LayerKind, arch: Arch, dist: string, prefix: string): Layer {
  if (kind === "deno-layer") {
    return {
      kind,
      name: `${prefix}-${arch}`,
      zipPath: `${dist}/deno-layer-${arch}.zip`,
      arch,
      about: `Deno ${DENO_VERSION} as bin/deno`,
    };
  }
  return {
    kind,
    name: `${prefix}-${kind}-${arch}`,
    zipPath: `${dist}/${kind}-${arch}.zip`,
    arch,
    about: `Deno Lambda ${kind}: bootstrap and runtime.js`,
  };
}

/** The content hash recorded in a layer version's description, if any. */
export function recordedHash(description: string | undefined): string | undefined {
  return description?.match(/\bsha256:([0-9a-f]{64})\b/)?.[1];
}

/** The layer's highest version number, or undefined when none is published. */
export async function latestVersion(
  clients: AwsClients,
  name: string,
): Promise<LayerVersionsListItem | undefined> {
  let latest: LayerVersionsListItem | undefined;
  let marker: string | undefined;
  do {
    const page = await aws(
      `list the versions of layer ${name}`,
      () => clients.lambda.send(new ListLayerVersionsCommand({ LayerName: name, Marker: marker })),
    );
    for (const version of page.LayerVersions ?? []) {
      if (!latest || (version.Version ?? 0) > (latest.Version ?? 0)) latest = version;
    }
    marker = page.NextMarker;
  } while (marker);
  return latest;
}

/** What publishing a layer did. */
export interface Published {
  arn: string;
  /** False when the latest version already held the same zip. */
  published: boolean;
}

/** Publishes the layer's zip as a new version, unless its latest version already holds it. */
export async function publishLayer(
  clients: AwsClients,
  layer: Layer,
  bucket: string | undefined,
): Promise<Published> {
  const zip = await readZip(layer.zipPath);
  const latest = await latestVersion(clients, layer.name);
  if (latest?.LayerVersionArn && recordedHash(latest.Description) === zip.sha256) {
    console.log(
      `${layer.name}: unchanged, version ${latest.Version} already holds sha256:${zip.sha256}; ` +
        `not publishing\n  ${latest.LayerVersionArn}`,
    );
    return { arn: latest.LayerVersionArn, published: false };
  }
  const code = await codeFor(clients, layer.name, zip, bucket);
  const out = await step(
    `Publishing ${layer.name} from ${zip.shown} (${megabytes(zip.bytes.length)})`,
    () =>
      aws(`publish layer ${layer.name}`, () =>
        clients.lambda.send(
          new PublishLayerVersionCommand({
            LayerName: layer.name,
            Description: `${layer.about} sha256:${zip.sha256}`,
            Content: code,
            CompatibleRuntimes: [LAMBDA_RUNTIME],
            CompatibleArchitectures: [layer.arch],
          }),
        )),
  );
  console.log(`${layer.name}: published version ${out.Version}\n  ${out.LayerVersionArn}`);
  return { arn: out.LayerVersionArn!, published: true };
}

/** What publishLayer would do, without calling AWS. */
export async function planLayer(layer: Layer, bucket: string | undefined): Promise<string> {
  const zip = await readZip(layer.zipPath);
  return `Would publish layer ${layer.name} from ${zip.shown} ` +
    `(${
      megabytes(zip.bytes.length)
    }, sha256:${zip.sha256}) for ${LAMBDA_RUNTIME} on ${layer.arch}, ` +
    `${describeUpload(layer.name, zip, bucket)}, unless its latest version holds the same sha256`;
}
