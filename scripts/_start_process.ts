// For the tests of deno task start: start.ts run as a user runs it, as a
// process whose output is read as it comes, and stopped with Ctrl-C (SIGINT).
import { ROOT } from "./_paths.ts";
import { processesWithEnv } from "./_processes.ts";

/** How long a test waits for output it expects before it fails, instead of hanging CI. */
const SEEN_WITHIN_MS = 120_000;

/** Reads a stream into a growing string, resolving `seen` once it matches. */
export function reader(stream: ReadableStream<Uint8Array>) {
  let text = "";
  let watchers: { re: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const check = () => {
    watchers = watchers.filter((w) => {
      const m = text.match(w.re);
      if (m) w.resolve(m);
      return !m;
    });
  };
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      check();
    }
  })();
  return {
    text: () => text,
    done,
    /** The first match of re in the output, once there; fails after a while (or at the end). */
    seen: async (re: RegExp) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const found = new Promise<RegExpMatchArray>((resolve) => {
        watchers.push({ re, resolve });
        check();
      });
      const missing = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Never seen in the output: ${re}`)),
          SEEN_WITHIN_MS,
        );
        done.then(() => {
          if (!text.match(re)) reject(new Error(`The output ended without ${re}`));
        });
      });
      try {
        return await Promise.race([found, missing]);
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** A running `deno task start`, its output read as it comes. */
export interface Started {
  child: Deno.ChildProcess;
  out: ReturnType<typeof reader>;
  err: ReturnType<typeof reader>;
}

/**
 * Runs start.ts with args until fn is done; shows its output if fn failed;
 * always stops it. With a temporary entry, removeBuilds removes what start
 * built for it, which no later run would use.
 */
export async function withStart(
  args: string[],
  fn: (s: Started) => Promise<void>,
  root: string = ROOT,
  options: { removeBuilds?: boolean } = {},
): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${root}/scripts/start.ts`, ...args],
    cwd: root,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const started = { child, out: reader(child.stdout), err: reader(child.stderr) };
  try {
    await fn(started);
  } catch (e) {
    console.error(
      `--- start stdout ---\n${started.out.text()}\n--- start stderr ---\n${started.err.text()}`,
    );
    throw e;
  } finally {
    // Ctrl-C stops start's emulator and Deno too; SIGKILL would leave them holding its output.
    try {
      child.kill("SIGINT");
    } catch { /* already gone */ }
    if (!await within(10_000, child.status)) {
      child.kill("SIGKILL");
      // A killed start cannot stop its emulator: what has its TMPDIR goes too.
      const tmpDir = started.out.text().match(/^ {2}\/tmp {7}(\S+)$/m)?.[1];
      for (const pid of tmpDir ? await processesWithEnv(`TMPDIR=${tmpDir}`) : []) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch { /* gone meanwhile */ }
      }
    }
    await child.status;
    await within(5_000, Promise.all([started.out.done, started.err.done]));
    if (options.removeBuilds) {
      for (
        const [, dir] of started.out.text().matchAll(
          /^Built in (dist\/local\/functions\/\w+)\/:$/gm,
        )
      ) {
        await Deno.remove(`${root}/${dir}`, { recursive: true }).catch(() => {});
      }
    }
  }
}

/** Whether promise settles within ms. */
export async function within(ms: number, promise: Promise<unknown>): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<boolean>((resolve) => timer = setTimeout(() => resolve(false), ms));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ctrl-C, then the exit status once all output is read. */
export async function interrupt({ child, out, err }: Started): Promise<Deno.CommandStatus> {
  child.kill("SIGINT");
  const status = await child.status;
  await Promise.all([out.done, err.done]);
  return status;
}
