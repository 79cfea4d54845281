// Progress for long steps (downloading, building, uploading, publishing): on a
// terminal, one line whose elapsed seconds tick; elsewhere, a line when the
// step starts and one when it ends. A step may stay silent until it has taken
// a while, so a fast one prints nothing at all.
const encoder = new TextEncoder();

function write(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

/** How a step shows itself. */
export interface StepOptions {
  /** Milliseconds to stay silent; a step done sooner prints nothing (default: 0). */
  silentFor?: number;
}

/** Sets the step's progress text ("12.3 of 41.3 MB"), shown beside its elapsed time on a terminal. */
export type Progress = (text: string) => void;

/** Runs `work`, showing `label` and the time it takes on stderr. */
export async function step<T>(
  label: string,
  work: (progress: Progress) => Promise<T>,
  options: StepOptions = {},
): Promise<T> {
  const started = performance.now();
  const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
  const live = Deno.stderr.isTerminal();
  let detail = "";
  let shown = false;
  let ticker: ReturnType<typeof setInterval> | undefined;
  const show = () => {
    shown = true;
    if (live) {
      write(`${label}...`);
      ticker = setInterval(() => write(`\r\x1b[K${label}... ${detail}${seconds()} s`), 500);
    } else {
      write(`${label}...\n`);
    }
  };
  const silence = options.silentFor ? setTimeout(show, options.silentFor) : (show(), undefined);
  const end = (outcome: string) => {
    clearTimeout(silence);
    clearInterval(ticker);
    if (shown) write(`${live ? "\r\x1b[K" : ""}${label}: ${outcome} ${seconds()} s\n`);
  };
  try {
    const result = await work((text) => detail = text ? `${text}, ` : "");
    end("done in");
    return result;
  } catch (err) {
    end("failed after");
    throw err;
  }
}
