// The pinned Deno binary for each architecture, from its npm package
// (@deno/linux-x64-glibc, @deno/linux-arm64-glibc), kept in .cache/ between
// builds. npm names the tarball and its integrity from the configured
// registry; the download itself streams, so its progress can be shown, and is
// checked against that integrity before anything is unpacked.
import { createHash } from "node:crypto";
import { type Arch, ARCHES, CACHE, DENO_VERSION } from "./_paths.ts";
import { step } from "./_progress.ts";
import { tool } from "./_tools.ts";

/** The directory an architecture's Deno is unpacked into. */
export function denoCacheDir(arch: Arch): string {
  return `${CACHE}/deno-${DENO_VERSION}-${arch}`;
}

/** The path of the pinned Deno for arch, downloaded first when it is not in the cache. */
export async function fetchDeno(arch: Arch): Promise<string> {
  const dir = denoCacheDir(arch);
  const binary = `${dir}/package/deno`;
  if (await exists(binary)) return binary;
  const spec = `${ARCHES[arch].npm}@${DENO_VERSION}`;
  await Deno.mkdir(dir, { recursive: true });
  const tarball = `${dir}/package.tgz`;
  await step(`Downloading Deno ${DENO_VERSION} for ${arch} (${spec})`, async (progress) => {
    const dist = await npmDist(spec);
    await download(dist.tarball, tarball, dist.integrity, progress);
  }, { silentFor: 2000 });
  // Unpacked aside and moved in whole: an interrupted build leaves no half a binary.
  const aside = await Deno.makeTempDir({ dir, prefix: ".unpack-" });
  try {
    await unpack(tarball, aside);
    if (!await exists(`${aside}/package/deno`)) throw new Error(`${spec} has no deno binary`);
    await Deno.rename(`${aside}/package`, `${dir}/package`);
  } finally {
    await Deno.remove(aside, { recursive: true });
    await Deno.remove(tarball);
  }
  return binary;
}

/** Where the configured registry serves a package's tarball, and its integrity. */
async function npmDist(spec: string): Promise<{ tarball: string; integrity: string }> {
  const out = await tool("npm", {
    args: ["view", "--json", spec, "dist"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success || !text) {
    const why = new TextDecoder().decode(out.stderr).trim() || text;
    throw new Error(`npm view ${spec} failed; is the npm registry reachable?\n${why}`);
  }
  const dist = JSON.parse(text);
  if (typeof dist?.tarball !== "string" || !/^sha512-/.test(dist?.integrity ?? "")) {
    throw new Error(`npm view ${spec} gave no tarball with a sha512 integrity`);
  }
  return dist;
}

/** Streams url into path, showing MB received, and checks it against a sha512 integrity. */
async function download(
  url: string,
  path: string,
  integrity: string,
  progress: (text: string) => void,
): Promise<void> {
  const res = await fetch(url);
  if (!res.ok || !res.body) {
    await res.body?.cancel();
    throw new Error(`Cannot download ${url}: HTTP ${res.status}`);
  }
  const total = Number(res.headers.get("content-length")) || 0;
  const hash = createHash("sha512");
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  let received = 0;
  try {
    for await (const chunk of res.body) {
      hash.update(chunk);
      await writeAll(file, chunk);
      received += chunk.length;
      const mb = (n: number) => (n / 1e6).toFixed(1);
      progress(total ? `${mb(received)} of ${mb(total)} MB` : `${mb(received)} MB`);
    }
  } finally {
    file.close();
  }
  const got = `sha512-${hash.digest("base64")}`;
  if (got !== integrity) {
    await Deno.remove(path);
    throw new Error(`${url} does not match its integrity ${integrity} (got ${got})`);
  }
}

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let done = 0; done < data.length;) done += await file.write(data.subarray(done));
}

async function unpack(tarball: string, dir: string): Promise<void> {
  const out = await tool("tar", {
    args: ["-xzf", tarball, "-C", dir],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`tar -xzf ${tarball} failed:\n${new TextDecoder().decode(out.stderr).trim()}`);
  }
}

/** Whether path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}
