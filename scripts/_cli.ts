// What the command-line scripts share: parseArgs's errors in our words, and
// one way to end with a message instead of a stack trace.
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** Parses flags only (no positionals, no unknown flags), errors in our words. */
export function parseFlags<const O extends ParseArgsOptionsConfig>(args: string[], options: O) {
  return withFlagErrors(() => parseArgs({ args, options, strict: true, allowPositionals: false }))
    .values;
}

/** Calls node:util parseArgs, rewording its errors: sentence case, no trailing period. */
export function withFlagErrors<T>(parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw flagError(err);
  }
}

function flagError(err: unknown): Error {
  const e = err as { code?: string; message?: string };
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = e.message?.match(/'([^']+)'/)?.[1] ?? "";
    return new Error(`Unknown flag ${flag}`);
  }
  if (e.code?.startsWith("ERR_PARSE_ARGS_")) {
    return new Error((e.message ?? "Bad flags").split(". ")[0].replace(/\.$/, ""));
  }
  return err instanceof Error ? err : new Error(String(err));
}

/** A flag's value as a whole number from min to max, or an error saying so. */
export function integer(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new Error(`Bad ${flag} "${text}": expected a whole number from ${min} to ${max}`);
  }
  return n;
}

/** Runs main and exits with its code; an unexpected error is printed as one message. */
export async function runMain(main: () => Promise<number>): Promise<never> {
  try {
    Deno.exit(await main());
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    Deno.exit(1);
  }
}
