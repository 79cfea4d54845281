// For the tests of deno task start: start.ts run as a user runs it, as a
// process whose output is read as it comes, and stopped with Ctrl-C (SIGINT).
import { ROOT } from "./_paths.ts";

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
    seen: (re: RegExp) =>
      new Promise<RegExpMatchArray>((resolve) => {
        watchers.push({ re, resolve });
        check();
      }),
  };
}

/** A running `deno task start`, its output read as it comes. */
export interface Started {
  child: Deno.ChildProcess;
  out: ReturnType<typeof reader>;
  err: ReturnType<typeof reader>;
}

/** Runs start.ts with args until fn is done; shows its output if fn failed; always stops it. */
export async function withStart(
  args: string[],
  fn: (s: Started) => Promise<void>,
  root: string = ROOT,
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
    if (!await within(10_000, child.status)) child.kill("SIGKILL");
    await child.status;
    await within(5_000, Promise.all([started.out.done, started.err.done]));
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
