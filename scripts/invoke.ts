// `deno task invoke`: posts one event to the function `deno task start` serves,
// and prints the answer (pretty JSON when it is JSON), whether it is an error,
// and how long the round trip took. Exits 1 when the invocation failed, or
// when it answered an HTTP-style error (a statusCode of 400 or more, as API
// Gateway and function URLs read it).
import { integer, parseFlags, runMain, UsageError } from "./_cli.ts";
import { DEFAULT_PORT, INVOKE_PATH, invokeFunction } from "./_rie.ts";

/** What `deno task invoke` was asked to send, and where. */
export interface InvokeOptions {
  /** The event, as JSON text. */
  payload: string;
  /** Where it came from, for messages: a file name, "--data" or "the default {}". */
  source: string;
  port: number;
}

const USAGE = `Usage: deno task invoke [--event FILE | --data JSON] [--port N]

Posts one event to the function deno task start serves, prints the answer (a streamed one
piece by piece, as it comes), whether it is an error and the round trip. Exits 1 when the
invocation failed, and when the answer is an HTTP-style error: a statusCode of 400 or more,
which API Gateway would send as that status, or a streamed HTTP response's status of 400 or
more.

Flags:
  --event FILE  the event, from a JSON file (samples in events/)
  --data JSON   the event, inline (default: {})
  --port N      loopback port of the Invoke endpoint (default: ${DEFAULT_PORT})
  -h, --help    this help`;

/** Parses the command line and reads the event; throws a UsageError that says what is wrong. */
export async function parseInvokeArgs(args: string[]): Promise<InvokeOptions> {
  const values = parseFlags(args, {
    event: { type: "string" },
    data: { type: "string" },
    port: { type: "string", default: String(DEFAULT_PORT) },
  });
  const port = integer("--port", values.port, 1, 65535);
  if (values.event !== undefined && values.data !== undefined) {
    throw new UsageError("Give the event once: --event file.json or --data '{...}', not both");
  }
  let payload = "{}";
  let source = "the default {}";
  if (values.event !== undefined) {
    source = values.event;
    try {
      payload = await Deno.readTextFile(values.event);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) {
        throw new UsageError(`No event file at ${values.event}: see events/ for samples`);
      }
      throw new UsageError(`Cannot read ${values.event}: ${(err as Error).message}`);
    }
  } else if (values.data !== undefined) {
    source = "--data";
    payload = values.data;
  }
  try {
    JSON.parse(payload);
  } catch (err) {
    throw new UsageError(`The event in ${source} is not valid JSON: ${(err as Error).message}`);
  }
  return { payload, source, port };
}

/** The answer's body, indented when it is JSON. */
export function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/**
 * The statusCode of an HTTP-style answer ({"statusCode": 404, ...}, as API
 * Gateway and function URLs read it) when it is an error (400 or more).
 */
export function httpError(body: string): number | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const status = (parsed as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? errorStatus(status) : null;
}

/** status when it is an HTTP error (400 to 599), else null. */
function errorStatus(status: number): number | null {
  return status >= 400 && status <= 599 ? status : null;
}

async function main(args: string[]): Promise<number> {
  const options = await parseInvokeArgs(args);
  const url = `http://127.0.0.1:${options.port}${INVOKE_PATH}`;
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port: options.port })).close();
  } catch (err) {
    if (!(err instanceof Deno.errors.ConnectionRefused)) throw err;
    console.error(
      `Nothing is listening on 127.0.0.1:${options.port}: run \`deno task start\` first, in another terminal`,
    );
    return 1;
  }
  const stdout = Deno.stdout;
  const result = await invokeFunction(url, options.payload, {}, (piece) => {
    for (let done = 0; done < piece.length;) done += stdout.writeSync(piece.subarray(done));
  });
  if (!result.streamed) console.log(pretty(result.body));
  if (result.streamed) console.error(`\n(streamed: each piece printed as it came)`);
  // A streamed HTTP answer comes as a function URL gives it, with its
  // prelude's status; a buffered one carries its statusCode in the body.
  const status = result.error !== null
    ? null
    : result.streamed
    ? errorStatus(result.status)
    : httpError(result.body);
  const outcome = result.error !== null
    ? `error (${result.error})`
    : status !== null
    ? `success, but the answer is an HTTP ${status} error (its ${
      result.streamed ? "status" : "statusCode"
    })`
    : "success";
  console.error(`\n${summary(outcome, result.status, result.durationMs)}`);
  return result.error === null && status === null ? 0 : 1;
}

/** invoke's last line: the outcome, the HTTP status unless the outcome names it, the round trip. */
export function summary(outcome: string, status: number, durationMs: number): string {
  const named = new RegExp(`\\bHTTP ${status}\\b`).test(outcome);
  return `${outcome}${named ? "" : `, HTTP ${status}`}, ${durationMs.toFixed(1)} ms`;
}

if (import.meta.main) await runMain({ usage: USAGE }, main);
