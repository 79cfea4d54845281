// The pinned Deno binary for each architecture, from its npm package
// (@deno/linux-x64-glibc, @deno/linux-arm64-glibc), kept in .cache/ between
// builds. npm names the tarball and its integrity from the configured
// registry. The tarball is fetched directly, so its progress can be shown;
// when that fails (a registry that wants npm's credentials, proxy or
// certificates), npm fetches it itself. Either way the file is checked
// against the integrity before anything is unpacked.
import { createHash } from "node:crypto";
import { type Arch, ARCHES, CACHE, DENO_VERSION } from "./_paths.ts";
import { type Progress, step } from "./_progress.ts";
import { tool } from "./_tools.ts";

/** A download that receives nothing for this long has stalled. */
const STALLED_AFTER_MS = 60_000;
/** A scratch directory this old belongs to no download still running. */
const ABANDONED_AFTER_MS = 60 * 60_000;

/** The directory an architecture's Deno is unpacked into. */
export function denoCacheDir(arch: Arch): string {
  return `${CACHE}/deno-${DENO_VERSION}-${arch}`;
}

/** Where the pinned Deno for arch is, once downloaded. */
export function denoBinary(arch: Arch): string {
  return `${denoCacheDir(arch)}/package/deno`;
}

/** The path of the pinned Deno for arch, downloaded first when it is not in the cache. */
export async function fetchDeno(arch: Arch): Promise<string> {
  const dir = denoCacheDir(arch);
  const binary = denoBinary(arch);
  if (await exists(binary)) return binary;
  const spec = `${ARCHES[arch].npm}@${DENO_VERSION}`;
  await Deno.mkdir(dir, { recursive: true });
  await removeAbandoned(dir);
  // Each build its own scratch directory: two first builds at once do not collide.
  const scratch = await Deno.makeTempDir({ dir, prefix: ".fetch-" });
  try {
    const tarball = await step(`Downloading Deno ${DENO_VERSION} (${arch})`, async (progress) => {
      const dist = await npmDist(spec);
      let path = `${scratch}/package.tgz`;
      try {
        await download(dist.tarball, path, progress);
      } catch (err) {
        console.error(`${(err as Error).message}; asking npm to fetch ${spec} instead`);
        path = await npmPack(spec, scratch);
      }
      await checkIntegrity(path, dist.integrity);
      return path;
    }, { silentFor: 2000 });
    await unpack(tarball, scratch);
    if (!await exists(`${scratch}/package/deno`)) throw new Error(`${spec} has no deno binary`);
    // Moved in whole: an interrupted build leaves no half a binary.
    await Deno.rename(`${scratch}/package`, `${dir}/package`).catch(async (err) => {
      if (!await exists(binary)) throw err; // else another build put it there first
    });
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
  return binary;
}

/** Removes the scratch directories of downloads interrupted long ago (Ctrl-C mid-download). */
async function removeAbandoned(dir: string): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.startsWith(".fetch-")) continue;
    const path = `${dir}/${entry.name}`;
    const age = Date.now() - ((await Deno.stat(path).catch(() => null))?.mtime?.getTime() ?? 0);
    if (age > ABANDONED_AFTER_MS) await Deno.remove(path, { recursive: true }).catch(() => {});
  }
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

/** Streams url into path, telling progress the MB received; fails on an HTTP error or a stall. */
export async function download(url: string, path: string, progress: Progress): Promise<void> {
  const abort = new AbortController();
  let stall = setTimeout(() => abort.abort(), STALLED_AFTER_MS);
  try {
    const res = await fetch(url, { signal: abort.signal }).catch((err) => {
      throw new Error(`Cannot download ${url}: ${abort.signal.aborted ? "no answer" : err}`);
    });
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new Error(`Cannot download ${url}: HTTP ${res.status}`);
    }
    const total = Number(res.headers.get("content-length")) || 0;
    const mb = (n: number) => (n / 1e6).toFixed(1);
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    let received = 0;
    try {
      for await (const chunk of res.body) {
        clearTimeout(stall);
        stall = setTimeout(() => abort.abort(), STALLED_AFTER_MS);
        for (let done = 0; done < chunk.length;) done += await file.write(chunk.subarray(done));
        received += chunk.length;
        progress(total ? `${mb(received)} of ${mb(total)} MB` : `${mb(received)} MB`);
      }
    } catch (err) {
      throw new Error(
        `Cannot download ${url}: ${abort.signal.aborted ? "stalled" : err} after ${
          mb(received)
        } MB`,
      );
    } finally {
      file.close();
    }
  } finally {
    clearTimeout(stall);
  }
}

/** Has npm fetch the package's tarball into dir, with its own configuration; returns its path. */
async function npmPack(spec: string, dir: string): Promise<string> {
  const out = await tool("npm", {
    args: ["pack", "--silent", "--pack-destination", dir, spec],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`npm pack ${spec} failed:\n${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return `${dir}/${new TextDecoder().decode(out.stdout).trim().split("\n").pop()}`;
}

/** Fails, removing the file, unless its sha512 is the integrity npm gave. */
export async function checkIntegrity(path: string, integrity: string): Promise<void> {
  const hash = createHash("sha512");
  const file = await Deno.open(path);
  for await (const chunk of file.readable) hash.update(chunk); // closes the file at its end
  const got = `sha512-${hash.digest("base64")}`;
  if (got !== integrity) {
    await Deno.remove(path);
    throw new Error(`${path} does not match its integrity ${integrity} (got ${got})`);
  }
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
