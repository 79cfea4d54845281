// Progress for the deploy's long steps (uploading, publishing, waiting): on a
// terminal, one line whose elapsed seconds tick; elsewhere, a line when the
// step starts and one when it ends.
const encoder = new TextEncoder();

function write(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/** Runs `work`, showing `label` and the time it takes on stderr. */
export async function step<T>(label: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const seconds = () => ((performance.now() - start) / 1000).toFixed(1);
  const live = Deno.stderr.isTerminal();
  let ticker: ReturnType<typeof setInterval> | undefined;
  if (live) {
    write(`${label}...`);
    ticker = setInterval(() => write(`\r\x1b[K${label}... ${seconds()} s`), 500);
  } else {
    write(`${label}...\n`);
  }
  try {
    const result = await work();
    write(`${live ? "\r\x1b[K" : ""}${label}: done in ${seconds()} s\n`);
    return result;
  } catch (err) {
    write(`${live ? "\r\x1b[K" : ""}${label}: failed after ${seconds()} s\n`);
    throw err;
  } finally {
    clearInterval(ticker);
  }
}
