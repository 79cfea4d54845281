// Finding the processes a run left behind, by a marker in their environment:
// the bootstrap, Deno and the emulator all inherit TMPDIR, and Deno DENO_DIR.

/** Pids of live processes whose environment has an entry starting with prefix. */
export async function processesWithEnv(prefix: string): Promise<number[]> {
  const marker = new TextEncoder().encode(prefix);
  const pids: number[] = [];
  for await (const entry of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    let environ: Uint8Array;
    try {
      environ = await Deno.readFile(`/proc/${entry.name}/environ`);
    } catch {
      continue; // gone, or not ours to read
    }
    if (startsAnEntry(environ, marker)) pids.push(Number(entry.name));
  }
  return pids;
}

/** Whether one NUL-separated entry of environ starts with marker. */
function startsAnEntry(environ: Uint8Array, marker: Uint8Array): boolean {
  outer: for (let i = 0; i <= environ.length - marker.length; i++) {
    if (i > 0 && environ[i - 1] !== 0) continue;
    for (let j = 0; j < marker.length; j++) {
      if (environ[i + j] !== marker[j]) continue outer;
    }
    return true;
  }
  return false;
}
