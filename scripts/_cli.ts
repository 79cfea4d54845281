// What the tasks' entry points share: one command-line parser, so that every
// task answers -h/--help and a bad flag alike, and one way to end: an exit
// code, or one message instead of a stack trace.
//
//   --help, -h          the usage on stdout, exit 0
//   a bad command line  what is wrong and the usage on stderr, exit 2
//   any other error     one message on stderr, exit 1
import { parseArgs, type ParseArgsConfig, type ParseArgsOptionsConfig } from "node:util";

/** A command line the task cannot run: runMain prints it with the usage on stderr, and exits 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** -h or --help was given: runMain prints the usage on stdout, and exits 0. */
export class HelpRequested extends Error {
  override name = "HelpRequested";
  constructor() {
    super("Help requested");
  }
}

type Parsed<O extends ParseArgsOptionsConfig, P extends boolean> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: P }>
>;

/** -h and --help, which every task takes without declaring them. */
const HELP = { help: { type: "boolean", short: "h" } } as const satisfies ParseArgsOptionsConfig;

/**
 * Parses flags only (no positionals, no unknown flags). Throws HelpRequested
 * for -h or --help, and a UsageError in our words for a bad command line.
 */
export function parseFlags<const O extends ParseArgsOptionsConfig>(
  args: string[],
  options: O,
): Parsed<O, false>["values"] {
  return parse({ args, options, strict: true, allowPositionals: false }).values;
}

/** Like parseFlags, for a task that also takes positional arguments. */
export function parseFlagsAndPositionals<const O extends ParseArgsOptionsConfig>(
  args: string[],
  options: O,
): Parsed<O, true> {
  return parse({ args, options, strict: true, allowPositionals: true });
}

function parse<
  const C extends ParseArgsConfig & { args: string[]; options: ParseArgsOptionsConfig },
>(
  config: C,
): ReturnType<typeof parseArgs<C>> {
  if (asksForHelp(config.args, config.options)) throw new HelpRequested();
  try {
    return parseArgs(config);
  } catch (err) {
    throw flagError(err, Object.keys(config.options));
  }
}

/**
 * Whether the command line asks for help, read as the parser reads it: in
 * `--data --help`, "--help" is the value of --data. Help wins over any other
 * problem, so `--help` after a typo still answers.
 */
function asksForHelp(args: string[], options: ParseArgsOptionsConfig): boolean {
  const { values } = parseArgs({
    args,
    options: { ...options, ...HELP },
    strict: false,
    allowPositionals: true,
  });
  return values.help === true;
}

/**
 * node:util's parse errors, reworded: sentence case, the first sentence, no
 * trailing period, and the flag meant when one is a typo away.
 */
function flagError(err: unknown, flags: string[]): Error {
  const e = err as { code?: string; message?: string };
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = e.message?.match(/'([^']+)'/)?.[1] ?? "";
    const name = flag.replace(/^--?/, "");
    const meant = name.length > 2 ? flags.find((f) => distance(f, name) <= 2) : undefined;
    return new UsageError(`Unknown flag ${flag}${meant ? `: did you mean --${meant}?` : ""}`);
  }
  if (e.code?.startsWith("ERR_PARSE_ARGS_")) {
    return new UsageError((e.message ?? "Bad flags").split(/\.(?:\s|$)/)[0]);
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** The edit distance between two short strings (insertions, deletions, substitutions, swaps). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/** A flag's value as a whole number from min to max, or a UsageError saying so. */
export function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(`Bad ${flag} "${text}": expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/** How an entry point reports itself. */
export interface Task {
  /** The usage: on stdout for --help, on stderr after a bad command line. */
  usage: string;
  /** The one message an unexpected error is printed as; default its message. */
  failure?: (err: unknown) => string;
}

/** Runs main on the command line (Deno.args) and exits with the code it returns or its error's. */
export async function runMain(
  task: Task,
  main: (args: string[]) => Promise<number>,
): Promise<never> {
  Deno.exit(await exitCode(task, main, Deno.args));
}

/** What main's run comes to: its code, or the usage's or the error's, printed. */
async function exitCode(
  task: Task,
  main: (args: string[]) => Promise<number>,
  args: string[],
): Promise<number> {
  try {
    return await main(args);
  } catch (err) {
    if (err instanceof HelpRequested) {
      console.log(task.usage);
      return 0;
    }
    if (err instanceof UsageError) {
      console.error(`${err.message}\n${task.usage}`);
      return 2;
    }
    if (!(err instanceof AlreadySaid)) {
      console.error(task.failure ? task.failure(err) : errorMessage(err));
    }
    return 1;
  }
}

/** A failure whose message is already on the screen (a child process printed it): exit 1 quietly. */
export class AlreadySaid extends Error {
  override name = "AlreadySaid";
}

/** An error's message, or the thrown value as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
