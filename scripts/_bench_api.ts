// A lean Runtime API for deno task bench: a queue of events, and timestamps
// taken where Lambda would see them, inside the API, so every contender is
// timed by the same clock and the same code. Unlike tests/_mock_runtime_api.ts
// it checks nothing beyond the request id.

const PREFIX = "/2018-06-01/runtime/invocation";

/** When one invocation was handed out and its result came back, in performance.now() ms. */
export interface Timing {
  handedOut: number;
  received: number;
  /** The result's size in bytes. */
  bytes: number;
  /** When a streamed result's first byte came; for a buffered one, received. */
  firstByte: number;
  kind: "response" | "error";
}

/** What a contender's run needs of a Runtime API: where it is, events, and a fresh start. */
export interface RuntimeApi {
  readonly address: string;
  invoke(payload: Uint8Array<ArrayBuffer>): Promise<Timing>;
  /** Done once it resolves, if it returns a promise. */
  reset(): void | Promise<void>;
}

interface Pending {
  id: string;
  payload: Uint8Array<ArrayBuffer>;
  handedOut: number;
  resolve: (t: Timing) => void;
}

let counter = 0;

/** The bench's Runtime API, on a free loopback port. */
export class BenchApi {
  readonly address: string;
  /** performance.now() of the first GET /next, once it came. */
  firstNext: number | undefined;
  #server: Deno.HttpServer<Deno.NetAddr>;
  #queue: Pending[] = [];
  /** GET /next requests waiting for an event; null ends one unanswered. */
  #polls: ((p: Pending | null) => void)[] = [];
  #open = new Map<string, Pending>();
  #onFirstNext: (() => void)[] = [];

  constructor() {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
    this.address = `127.0.0.1:${this.#server.addr.port}`;
  }

  /** Queues an event; resolves when its result has been received whole. */
  invoke(payload: Uint8Array<ArrayBuffer>): Promise<Timing> {
    return new Promise((resolve) => {
      const pending = { id: `bench-${++counter}`, payload, handedOut: NaN, resolve };
      this.#open.set(pending.id, pending);
      const poll = this.#polls.shift();
      if (poll) poll(pending);
      else this.#queue.push(pending);
    });
  }

  /** Resolves once GET /next has been called. */
  nextCalled(): Promise<void> {
    if (this.firstNext !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.#onFirstNext.push(resolve));
  }

  /**
   * Forgets the first /next and any queued event, for the next cold start.
   * Polls still waiting (from a contender just killed, with up to 64 at once
   * under concurrency) are ended, so that their connections close.
   */
  reset(): void {
    this.firstNext = undefined;
    this.#queue = [];
    for (const poll of this.#polls.splice(0)) poll(null);
    this.#open.clear();
  }

  async close(): Promise<void> {
    this.reset(); // a poll left waiting would keep shutdown waiting for ever
    await this.#server.shutdown();
  }

  async #handle(req: Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === `${PREFIX}/next`) return await this.#next();
    const match = path.match(/^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/);
    if (req.method === "POST" && match) {
      let firstByte: number | undefined;
      let bytes = 0;
      if (req.headers.get("Lambda-Runtime-Function-Response-Mode") === "streaming") {
        for await (const piece of req.body ?? []) {
          firstByte ??= performance.now();
          bytes += piece.length;
        }
      } else {
        bytes = (await req.arrayBuffer()).byteLength;
      }
      const received = performance.now();
      const pending = this.#open.get(decodeURIComponent(match[1]));
      if (!pending) return new Response("unknown request id", { status: 400 });
      this.#open.delete(pending.id);
      pending.resolve({
        handedOut: pending.handedOut,
        received,
        bytes,
        firstByte: firstByte ?? received,
        kind: match[2] as Timing["kind"],
      });
      return new Response('{"status":"OK"}', { status: 202 });
    }
    if (req.method === "POST" && path === "/2018-06-01/runtime/init/error") {
      console.error(`init error: ${await req.text()}`);
      return new Response('{"status":"OK"}', { status: 202 });
    }
    return new Response("not found", { status: 404 });
  }

  async #next(): Promise<Response> {
    if (this.firstNext === undefined) {
      this.firstNext = performance.now();
      for (const resolve of this.#onFirstNext.splice(0)) resolve();
    }
    const pending = this.#queue.shift() ??
      await new Promise<Pending | null>((resolve) => this.#polls.push(resolve));
    if (pending === null) return new Response(null, { status: 410 });
    pending.handedOut = performance.now();
    return new Response(pending.payload, {
      headers: {
        "Lambda-Runtime-Aws-Request-Id": pending.id,
        "Lambda-Runtime-Deadline-Ms": String(Date.now() + 30_000),
        "Lambda-Runtime-Invoked-Function-Arn":
          "arn:aws:lambda:us-east-1:123456789012:function:bench",
        "Content-Type": "application/json",
      },
    });
  }
}
