// The streaming cases' Runtime API: bench/stream_api.go, started with go run,
// with the same surface as the bench's own (_bench_api.ts) for what those cases
// use. Go reads the streamed bodies, as Lambda's Runtime API does, because
// Deno reading them cost more CPU than the contenders sending them.
import type { Timing } from "./_bench_api.ts";
import { startGoProgram } from "./_bench_go.ts";

let counter = 0;

interface Waiter {
  resolve: (t: Timing) => void;
  reject: (e: Error) => void;
}

/**
 * bench/stream_api.go, driven over its stdin and stdout: events go in as
 * commands, and each result comes back as a line with its timings. If the
 * program exits, every wait on it fails instead of hanging the bench.
 */
export class StreamApi implements AsyncDisposable {
  readonly address: string;
  #child: Deno.ChildProcess;
  #commands: WritableStreamDefaultWriter<Uint8Array>;
  #open = new Map<string, Waiter>();
  #resets: (() => void)[] = [];
  #gone: Error | null = null;
  #reading: Promise<void>;

  private constructor(
    child: Deno.ChildProcess,
    address: string,
    lines: ReadableStreamDefaultReader<string>,
  ) {
    this.#child = child;
    this.address = address;
    this.#commands = child.stdin.getWriter();
    this.#reading = this.#read(lines);
  }

  /** Starts bench/stream_api.go; fails, saying why, when Go cannot run it. */
  static async start(): Promise<StreamApi> {
    const { child, address, lines } = await startGoProgram("stream_api");
    return new StreamApi(child, address, lines);
  }

  /** Queues an event; resolves when its result has been received whole. */
  invoke(payload: Uint8Array<ArrayBuffer>): Promise<Timing> {
    const id = `bench-stream-${++counter}`;
    const result = new Promise<Timing>((resolve, reject) => {
      if (this.#gone) return reject(this.#gone);
      this.#open.set(id, { resolve, reject });
      this.#send(`invoke ${id} ${payload.toBase64()}`);
    });
    // A wait a case gave up on (its contender exited first) fails quietly.
    result.catch(() => {});
    return result;
  }

  /**
   * Drops queued events and ends the polls of a contender just killed;
   * resolves once the program has done so, before the next contender starts.
   */
  reset(): Promise<void> {
    this.#open.clear();
    return new Promise((resolve, reject) => {
      if (this.#gone) return reject(this.#gone);
      this.#resets.push(resolve);
      this.#send("reset");
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#commands.close().catch(() => {});
    await this.#child.status;
    await this.#reading;
  }

  #send(line: string) {
    // Written in order: each write waits on the one before it. A write that
    // fails means the program is gone, which #read reports.
    this.#commands.write(new TextEncoder().encode(`${line}\n`)).catch(() => {});
  }

  async #read(lines: ReadableStreamDefaultReader<string>) {
    try {
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        const r = JSON.parse(value);
        if (r.reset) {
          this.#resets.shift()?.();
          continue;
        }
        const waiter = this.#open.get(r.id);
        this.#open.delete(r.id);
        waiter?.resolve({
          handedOut: r.handedOut,
          firstByte: r.firstByte,
          received: r.received,
          bytes: r.bytes,
          kind: r.kind,
        });
      }
    } finally {
      this.#gone = new Error("bench/stream_api.go exited");
      for (const waiter of this.#open.values()) waiter.reject(this.#gone);
      this.#open.clear();
      for (const resolve of this.#resets.splice(0)) resolve();
    }
  }
}
