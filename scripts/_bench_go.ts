// The bench's Go programs (bench/*.go), started with go run: each prints its
// address on its first line, and exits when its stdin closes.
import { ROOT } from "./_paths.ts";

/** A started Go program: its process, its first line, and its later lines. */
export interface GoProgram {
  child: Deno.ChildProcess;
  address: string;
  lines: ReadableStreamDefaultReader<string>;
}

/** Starts bench/<name>.go and waits for its address; fails, saying why, when Go cannot run it. */
export async function startGoProgram(name: string): Promise<GoProgram> {
  const child = new Deno.Command("go", {
    args: ["run", `${ROOT}/bench/${name}.go`],
    cwd: `${ROOT}/bootstrap`, // its go.mod: no module download, the toolchain it pins
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).pipeThrough(lineSplitter())
    .getReader();
  const first = await lines.read();
  if (first.done) {
    await child.status;
    throw new Error(`bench/${name}.go exited before printing its address: is Go installed?`);
  }
  return { child, address: first.value.trim(), lines };
}

function lineSplitter(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(text, out) {
      const parts = (rest + text).split("\n");
      rest = parts.pop()!;
      for (const line of parts) if (line) out.enqueue(line);
    },
  });
}
