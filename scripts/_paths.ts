// Where the build reads and writes, and the pinned Deno version.
import { fileURLToPath } from "node:url";
import denoJson from "../deno.json" with { type: "json" };

/** The repository root, as a path. */
export const ROOT: string = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
/** Build outputs: the zips, and what goes into them under dist/build. */
export const DIST = `${ROOT}/dist`;
/** Downloads kept between builds (the Deno binaries). */
export const CACHE = `${ROOT}/.cache`;
/** The one place the Deno version is pinned. */
export const DENO_VERSION: string = denoJson.denoVersion;
/** Lambda's names for the two architectures, and Go's and npm's for each. */
export const ARCHES = {
  x86_64: { goarch: "amd64", npm: "@deno/linux-x64-glibc" },
  arm64: { goarch: "arm64", npm: "@deno/linux-arm64-glibc" },
} as const;
export type Arch = keyof typeof ARCHES;
/** The runtimes this repository builds layers for. */
export const RUNTIMES = ["runtime1", "runtime2"] as const;
export type Runtime = typeof RUNTIMES[number];
/** The zips deno task build writes for an architecture, without .zip: the Deno layer, each runtime's. */
export function layerZips(arch: Arch): string[] {
  return [`deno-layer-${arch}`, ...RUNTIMES.map((r) => `${r}-${arch}`)];
}
/** Every zip deno task build writes, without .zip: both architectures' layers, then the function. */
export function distZips(): string[] {
  return [...(Object.keys(ARCHES) as Arch[]).flatMap(layerZips), "function"];
}
/** The architecture this machine runs natively, in Lambda's naming. */
export const HOST_ARCH: Arch = Deno.build.arch === "aarch64" ? "arm64" : "x86_64";
/** AWS's Runtime Interface Emulator: its Go module and command. */
export const RIE_PACKAGE =
  "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie";
/**
 * The one place the emulator's version is pinned. Its tags are not semver, so
 * this is a Go pseudo-version (a commit of 2026-10-30).
 */
export const RIE_VERSION = "v0.0.0-20261030222936-bef5c4ba774d";
