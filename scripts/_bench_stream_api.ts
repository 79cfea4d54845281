// The streaming cases' Runtime API: bench/stream_api.go, started with go run,
// with the same surface as the bench's own (_bench_api.ts) for what those cases
// use. Go reads the streamed bodies, as Lambda's Runtime API does, because
// Deno reading them cost more CPU than the contenders sending them.
import type { Timing } from "./_bench_api.ts";
import { startGoProgram } from "./_bench_go.ts";

let counter = 0;

export class StreamApi implements AsyncDisposable {
  readonly address: string;
  #child: Deno.ChildProcess;
  #commands: WritableStreamDefaultWriter<Uint8Array>;
  #open = new Map<string, (t: Timing) => void>();
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
    return new Promise((resolve) => {
      this.#open.set(id, resolve);
      this.#send(`invoke ${id} ${btoa(String.fromCharCode(...payload))}`);
    });
  }

  /** Drops queued events and ends the polls of a contender just killed. */
  reset(): void {
    this.#open.clear();
    this.#send("reset");
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#commands.close();
    await this.#child.status;
    await this.#reading;
  }

  #send(line: string) {
    // Written in order: each write waits on the one before it.
    this.#commands.write(new TextEncoder().encode(`${line}\n`)).catch(() => {});
  }

  async #read(lines: ReadableStreamDefaultReader<string>) {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) return;
      const r = JSON.parse(value);
      const resolve = this.#open.get(r.id);
      this.#open.delete(r.id);
      resolve?.({
        handedOut: r.handedOut,
        firstByte: r.firstByte,
        received: r.received,
        bytes: r.bytes,
        kind: r.kind,
      });
    }
  }
}
