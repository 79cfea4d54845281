// A strict mock of the Lambda Runtime API, written from AWS's public spec and
// the edge cases of AWS's emulator: wrong request id -> 400, a second result
// -> 403, a response over 6 MiB + 100 B -> 413, /init/error after init -> 403,
// and a result post cut off halfway -> none of it is passed on, and every
// later request is refused with 403 until the runtime exits. Each event
// carries a Lambda-Runtime-Invocation-Id, as Lambda's API has since July 2026:
// a post echoing another id is stale -> 410.

import { TrailerRelay } from "./_trailer_relay.ts";

const PREFIX = "/2018-06-01/runtime";
/** The Runtime API's limit on a buffered response body. */
export const MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100;

/** What a runtime posted for one invocation. */
export interface Outcome {
  kind: "response" | "error";
  /** The status the mock answered the post with. */
  status: number;
  body: string;
  /** Lambda-Runtime-Function-Error-Type, for errors. */
  errorType: string | null;
  contentType: string | null;
  /** The Lambda-Runtime-Invocation-Id the post echoed, if any. */
  invocationId: string | null;
  /** A streamed response (Lambda-Runtime-Function-Response-Mode: streaming). */
  stream?: Streamed;
}

/** What a streamed response post carried, as it arrived. */
export interface Streamed {
  bytes: Uint8Array;
  /** Each piece of the body as the server read it: ms since the post began, and its size. */
  chunks: { at: number; size: number }[];
  /** ms from the event's hand-out to the post's start, and to its first byte of body. */
  postAt: number;
  firstByteAt: number | null;
  /** The post's trailers, names in lower case. */
  trailers: Record<string, string>;
  /** Lambda-Runtime-Function-Error-Body, decoded from base64. */
  errorBody: string | null;
}

/** Options of one invocation. */
export interface InvokeOptions {
  requestId?: string;
  /** Milliseconds until the deadline; default 30 s. */
  timeoutMs?: number;
  traceId?: string;
  clientContext?: string;
  cognitoIdentity?: string;
  tenantId?: string;
  functionArn?: string;
  /**
   * Lambda-Runtime-Deadline-Ms exactly as sent, instead of now + timeoutMs;
   * null leaves the header out.
   */
  deadline?: string | null;
  /** Sends the event's first bytes, then nothing more, its connection left open. */
  stallBody?: boolean;
  /**
   * Lambda-Runtime-Invocation-Id; default a fresh one; null leaves the header
   * out, as older APIs and AWS's emulator do.
   */
  invocationId?: string | null;
  /** Answers every post for it 410, as Lambda does a late answer to an invocation timed out. */
  stale?: boolean;
}

interface Pending {
  handedOutAt?: number;
  id: string;
  invocationId: string | null;
  stale: boolean;
  payload: string;
  headers: Headers;
  stallBody: boolean;
  resolve: (o: Outcome) => void;
  reject: (e: Error) => void;
  done: boolean;
}

let counter = 0;

/** The mock Runtime API, on a free loopback port. */
export class MockRuntimeApi {
  readonly address: string;
  readonly initErrors: { errorType: string | null; body: string; status: number }[] = [];
  #server: Deno.HttpServer<Deno.NetAddr>;
  #queue: Pending[] = [];
  #waiters: ((p: Pending) => boolean)[] = [];
  #invocations = new Map<string, Pending>();
  #initDone = false;
  #initErrorWaiters: (() => void)[] = [];
  #nextWaiters: ((n: number) => void)[] = [];
  nextCalls = 0;
  /** Invocations handed out and not answered yet, and the most there were at once. */
  inFlight = 0;
  mostInFlight = 0;
  /** "id kind" of each result post answered 410, as stale. */
  readonly stalePosts: string[] = [];
  /** "id kind" of each result post whose body ended before its Content-Length. */
  readonly incompletePosts: string[] = [];
  /** Set by a result post cut off halfway: from then on everything is refused. */
  #stuck = false;
  #incompleteWaiters: (() => void)[] = [];
  /** Awaited after each piece of a streamed response is read, with the bytes read so far: a slow reader. */
  streamPace?: (read: number) => Promise<void>;
  /** Runs once a result post's headers have arrived, before its body is read. */
  beforeResultBody?: (id: string, kind: Outcome["kind"]) => Promise<void>;

  #relay?: TrailerRelay;

  /**
   * relay: put a TCP relay in front of the server, which reads the trailers
   * of streamed responses (Deno.serve does not show them).
   */
  constructor(options: { relay?: boolean } = {}) {
    this.#server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (req) => this.#handle(req),
    );
    if (options.relay) this.#relay = new TrailerRelay(this.#server.addr.port);
    this.address = `127.0.0.1:${this.#relay?.port ?? this.#server.addr.port}`;
  }

  /** Queues an event and resolves with what the runtime posts for it. */
  invoke(event: unknown, options: InvokeOptions = {}): Promise<Outcome> {
    return this.invokeRaw(JSON.stringify(event), options);
  }

  /** Queues a raw payload (not re-serialised) and resolves with the outcome. */
  invokeRaw(payload: string, options: InvokeOptions = {}): Promise<Outcome> {
    const id = options.requestId ?? `req-${++counter}-${crypto.randomUUID()}`;
    const headers = new Headers({
      "Lambda-Runtime-Aws-Request-Id": id,
      "Lambda-Runtime-Invoked-Function-Arn": options.functionArn ??
        "arn:aws:lambda:us-east-1:123456789012:function:test-function",
      "Content-Type": "application/json",
    });
    const deadline = options.deadline === undefined
      ? String(Date.now() + (options.timeoutMs ?? 30_000))
      : options.deadline;
    if (deadline !== null) headers.set("Lambda-Runtime-Deadline-Ms", deadline);
    if (options.traceId) headers.set("Lambda-Runtime-Trace-Id", options.traceId);
    if (options.clientContext) headers.set("Lambda-Runtime-Client-Context", options.clientContext);
    if (options.cognitoIdentity) {
      headers.set("Lambda-Runtime-Cognito-Identity", options.cognitoIdentity);
    }
    if (options.tenantId) headers.set("Lambda-Runtime-Aws-Tenant-Id", options.tenantId);
    const invocationId = options.invocationId === undefined
      ? crypto.randomUUID()
      : options.invocationId;
    if (invocationId !== null) headers.set("Lambda-Runtime-Invocation-Id", invocationId);
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        id,
        invocationId,
        stale: options.stale ?? false,
        payload,
        headers,
        stallBody: options.stallBody ?? false,
        resolve,
        reject,
        done: false,
      };
      this.#invocations.set(id, pending);
      this.#dispatch(pending);
    });
  }

  /** Resolves once the runtime has posted to /init/error. */
  initError(): Promise<void> {
    if (this.initErrors.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.#initErrorWaiters.push(resolve));
  }

  /** Resolves once a result post has ended before its Content-Length. */
  incompletePost(): Promise<void> {
    if (this.incompletePosts.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.#incompleteWaiters.push(resolve));
  }

  /** Resolves once GET /next has been called n times in all. */
  nextCalled(n = 1): Promise<void> {
    if (this.nextCalls >= n) return Promise.resolve();
    return new Promise((resolve) =>
      this.#nextWaiters.push((calls) => {
        if (calls < n) return;
        resolve();
      })
    );
  }

  /** Fails every invocation still waiting for a result, for example because the runtime died. */
  abandon(reason: string): void {
    for (const pending of this.#invocations.values()) {
      if (!pending.done) {
        pending.done = true;
        pending.reject(new Error(`Invocation ${pending.id} got no result: ${reason}`));
      }
    }
  }

  async close(): Promise<void> {
    this.#relay?.close();
    await this.#server.shutdown();
  }

  /** Settles an invocation with its first outcome. */
  #settle(pending: Pending, outcome: Outcome): void {
    pending.done = true;
    this.inFlight--;
    pending.resolve(outcome);
  }

  #dispatch(pending: Pending): void {
    while (this.#waiters.length > 0) {
      if (this.#waiters.shift()!(pending)) return;
    }
    this.#queue.push(pending);
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const path = url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : "";
    if (req.method === "GET" && path === "/invocation/next") return await this.#next(req);
    if (req.method === "POST" && path === "/init/error") return await this.#initError(req);
    const match = path.match(/^\/invocation\/([^/]+)\/(response|error)$/);
    if (req.method === "POST" && match) {
      return await this.#result(req, decodeURIComponent(match[1]), match[2] as Outcome["kind"]);
    }
    return json(404, { errorType: "NotFound", errorMessage: `No route ${req.method} ${path}` });
  }

  /** Reads a streamed response as it arrives; throws if it is cut off. */
  async #readStream(req: Request, id: string): Promise<Streamed> {
    const start = performance.now();
    const handedOut = this.#invocations.get(id)?.handedOutAt ?? start;
    const chunks: Streamed["chunks"] = [];
    const pieces: Uint8Array<ArrayBuffer>[] = [];
    let firstByteAt: number | null = null;
    let read = 0;
    if (!this.#relay) {
      throw new Error("a streamed response needs new MockRuntimeApi({ relay: true })");
    }
    for await (const piece of req.body ?? []) {
      const now = performance.now();
      firstByteAt ??= now - handedOut;
      chunks.push({ at: now - start, size: piece.length });
      pieces.push(piece);
      read += piece.length;
      await this.streamPace?.(read);
    }
    const trailers = this.#relay.trailers.get(new URL(req.url).pathname) ?? {};
    const encoded = trailers["lambda-runtime-function-error-body"];
    return {
      bytes: new Uint8Array(await new Blob(pieces).arrayBuffer()),
      chunks,
      postAt: start - handedOut,
      firstByteAt,
      trailers,
      errorBody: encoded === undefined ? null : new TextDecoder().decode(
        Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)),
      ),
    };
  }

  async #next(req: Request): Promise<Response> {
    if (this.#stuck) return stuckAnswer();
    this.#initDone = true;
    this.nextCalls++;
    for (const w of this.#nextWaiters) w(this.nextCalls);
    const pending = this.#queue.shift() ?? await new Promise<Pending | null>((resolve) => {
      const waiter = (p: Pending) => {
        if (req.signal.aborted) return false;
        resolve(p);
        return true;
      };
      this.#waiters.push(waiter);
      req.signal.addEventListener("abort", () => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(null);
      });
    });
    if (pending === null) return new Response(null, { status: 499 });
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    pending.handedOutAt = performance.now();
    if (pending.stallBody) {
      // Content-Length promises the whole event; the stream sends a third.
      const bytes = new TextEncoder().encode(pending.payload);
      const headers = new Headers(pending.headers);
      headers.set("Content-Length", String(bytes.length));
      const body = new ReadableStream({
        start: (c) => c.enqueue(bytes.subarray(0, Math.floor(bytes.length / 3))),
      });
      return new Response(body, { status: 200, headers });
    }
    return new Response(pending.payload, { status: 200, headers: pending.headers });
  }

  async #initError(req: Request): Promise<Response> {
    const body = await req.text();
    if (this.#initDone) {
      return json(403, { errorType: "InvalidStateTransition", errorMessage: "Init is over" });
    }
    this.initErrors.push({
      errorType: req.headers.get("Lambda-Runtime-Function-Error-Type"),
      body,
      status: 202,
    });
    for (const w of this.#initErrorWaiters.splice(0)) w();
    return json(202, { status: "OK" });
  }

  /** Each invocation's result post being read: a later one waits for it. */
  #posts = new Map<string, Promise<unknown>>();

  /**
   * Takes result posts for one invocation one at a time, as the Runtime API
   * does: an /error posted once a /response was cut off must find the API
   * already refusing, however fast the runtime posts it.
   */
  #result(req: Request, id: string, kind: Outcome["kind"]): Promise<Response> {
    const before = this.#posts.get(id) ?? Promise.resolve();
    const taken = before.then(() => this.#takeResult(req, id, kind));
    this.#posts.set(id, taken.catch(() => {}));
    return taken;
  }

  async #takeResult(req: Request, id: string, kind: Outcome["kind"]): Promise<Response> {
    if (this.#stuck) return stuckAnswer();
    await this.beforeResultBody?.(id, kind);
    const streaming = kind === "response" &&
      req.headers.get("Lambda-Runtime-Function-Response-Mode") === "streaming";
    let body: string;
    let stream: Streamed | undefined;
    try {
      if (streaming) {
        stream = await this.#readStream(req, id);
        body = new TextDecoder().decode(stream.bytes);
      } else {
        body = await req.text();
      }
    } catch {
      // The runtime hung up before the body's end. AWS's emulator takes that
      // as the answer, passes none of it on, and refuses everything after.
      this.incompletePosts.push(`${id} ${kind}`);
      this.#stuck = true;
      for (const w of this.#incompleteWaiters.splice(0)) w();
      return json(500, { errorType: "IncompleteRequest", errorMessage: "The body ended early" });
    }
    const pending = this.#invocations.get(id);
    if (!pending) {
      return json(400, { errorType: "InvalidRequestID", errorMessage: `Unknown request id ${id}` });
    }
    const echoed = req.headers.get("Lambda-Runtime-Invocation-Id");
    const streamError = stream?.trailers["lambda-runtime-function-error-type"];
    const outcome: Outcome = {
      kind: streamError ? "error" : kind,
      status: 202,
      body,
      errorType: streamError ?? req.headers.get("Lambda-Runtime-Function-Error-Type"),
      contentType: req.headers.get("Content-Type"),
      invocationId: echoed,
      stream,
    };
    if (pending.stale || (echoed !== null && echoed !== pending.invocationId)) {
      this.stalePosts.push(`${id} ${kind}`);
      if (!pending.done) this.#settle(pending, { ...outcome, status: 410 });
      return json(410, {
        errorType: "InvocationGone",
        errorMessage: `Invocation ${echoed ?? id} is over: the answer came too late`,
      });
    }
    if (pending.done) {
      return json(403, {
        errorType: "InvalidStateTransition",
        errorMessage: "The invocation already has a result",
      });
    }
    if (
      !stream && kind === "response" && new TextEncoder().encode(body).length > MAX_RESPONSE_BYTES
    ) {
      this.#settle(pending, {
        ...outcome,
        kind: "error",
        status: 413,
        body: "",
        errorType: "Function.ResponseSizeTooLarge",
      });
      return json(413, {
        errorType: "RequestEntityTooLarge",
        errorMessage:
          `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE_BYTES} bytes).`,
      });
    }
    this.#settle(pending, outcome);
    return json(202, { status: "OK" });
  }
}

function stuckAnswer(): Response {
  return json(403, {
    errorType: "InvalidStateTransition",
    errorMessage: "State transition from InvocationResponse failed: the last result was cut off",
  });
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}
