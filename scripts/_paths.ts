// Where the build reads and writes, and the pinned Deno version.
import denoJson from "../deno.json" with { type: "json" };

/** The repository root, as a path. */
export const ROOT: string = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
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
