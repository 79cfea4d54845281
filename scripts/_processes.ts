// Child processes: finding the ones a run left behind, by a marker in their
// environment (the bootstrap, Deno and the emulator all inherit TMPDIR, and Deno
// DENO_DIR), and reading their output.

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

/**
 * Waits up to ms for the processes with prefix in their environment to be gone,
 * and returns those still alive then. A killed process has no way to say it
 * is gone to anyone but its parent, so this looks, every 20 ms.
 */
export async function processesGone(prefix: string, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = await processesWithEnv(prefix);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    left = await processesWithEnv(prefix);
  }
  return left;
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

/** Reads a child's output stream as text into sink, calling onChunk after each piece. */
export async function collect(
  stream: ReadableStream<Uint8Array>,
  sink: string[],
  onChunk: () => void = () => {},
): Promise<void> {
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    sink.push(chunk);
    onChunk();
  }
}
