// @ts-check
// Response streaming, as AWS's Node.js runtime offers it: the global
// awslambda.streamifyResponse marks a handler (event, responseStream, context),
// and awslambda.HttpResponseStream.from gives an HTTP response's status and
// headers before its body. What the handler writes goes to the bootstrap as
// frames (bootstrap/streamed.go): a kind byte, a 4-byte big-endian length, and
// that many bytes ('h' runtime1's head, the content type; 'd' data; 'e' the
// error the stream ended in, 'E' the same when an error escaped and the
// process must go; 'f' the end; then 's', or 'S' after an escaped error, once
// the handler has settled). node:stream is imported at the first streamed
// invocation, never by a function that does not stream.
import { errorBody } from "./errors.js";
import { logRecord } from "./log_patch.js";
import { Escaped } from "./uncaught.js";

/** What awslambda.streamifyResponse marks a streaming handler with, as Node's runtime reads it. */
export const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HIGH_WATER_MARK = Symbol.for("aws.lambda.runtime.handler.streaming.highWaterMark");

/** The content type of a stream whose handler set none, as on Node.js. */
const DEFAULT_CONTENT_TYPE = "application/octet-stream";
const HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";
/**
 * Node.js's default for streams and sockets since Node.js 22, which bounds
 * the response stream of Node's runtime when the handler sets none.
 */
const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

const HEAD = 0x68; // 'h'
const DATA = 0x64; // 'd'
const ERROR = 0x65; // 'e'
const FATAL = 0x45; // 'E'
const END = 0x66; // 'f'
const SETTLED = 0x73; // 's'
const SETTLED_ESCAPED = 0x53; // 'S'
/** The bootstrap's bounds on a data frame and an error frame. */
const MAX_DATA = 1 << 20;
const MAX_ERROR = 256 << 10;

const encoder = new TextEncoder();

/** Whether a handler was marked by awslambda.streamifyResponse. */
export function isStreaming(/** @type {any} */ handler) {
  return handler?.[STREAMING] === "response";
}

/**
 * Installs streamifyResponse and HttpResponseStream on globalThis.awslambda,
 * before the function is imported, keeping what is there, unless
 * AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is 1 or true (as on Node.js).
 */
export function installAwslambda(/** @type {string | undefined} */ noGlobal) {
  if (noGlobal === "1" || noGlobal === "true") return;
  const g = /** @type {{ awslambda?: Record<string, unknown> }} */ (globalThis);
  g.awslambda = { ...g.awslambda, streamifyResponse, HttpResponseStream };
}

/**
 * Marks handler as one that streams its response; options.highWaterMark
 * bounds what its stream buffers before write() returns false.
 */
export function streamifyResponse(
  /** @type {any} */ handler,
  /** @type {{ highWaterMark?: unknown } | undefined} */ options,
) {
  handler[STREAMING] = "response";
  const highWaterMark = options?.highWaterMark;
  if (typeof highWaterMark === "number" && Number.isFinite(highWaterMark) && highWaterMark > 0) {
    handler[HIGH_WATER_MARK] = Math.trunc(highWaterMark);
  }
  return handler;
}

export class HttpResponseStream {
  /**
   * Makes stream an HTTP response (a function URL's, API Gateway's): the
   * prelude (statusCode, headers, cookies) as JSON and 8 NUL bytes go ahead of
   * the body. Unlike on Node.js, an end() with no write before sends it too.
   * @param {any} stream
   * @param {Record<string, unknown>} prelude
   */
  static from(stream, prelude) {
    stream.setContentType(HTTP_INTEGRATION);
    const text = JSON.stringify(prelude);
    stream._onBeforeFirstWrite = (/** @type {(chunk: unknown) => void} */ write) => {
      write(text);
      write(new Uint8Array(8));
    };
    return stream;
  }
}

/**
 * Where a streamed response goes: the frames, in order, as each is taken.
 * end or fail ends the response; settled, after it, the invocation.
 * @typedef {{
 *   write(bytes: Uint8Array, length?: number): Promise<void>,
 *   end(): Promise<void>,
 *   fail(body: import("./errors.js").ErrorBody, fatal: boolean): Promise<boolean>,
 *   settled(escaped: boolean): Promise<void>,
 * }} Sink
 */

/**
 * runtime1's head frame, which opens its stream: the invocation's nonce, which
 * ties the stream to it, then the content type, or nothing (the bootstrap's
 * default) for one no header can carry.
 */
export function streamHead(/** @type {string} */ nonce, /** @type {string} */ contentType) {
  const type = /^[\x20-\x7e\t]{0,1024}$/.test(contentType) ? contentType : "";
  const body = encoder.encode(nonce + type);
  return frame(HEAD, body.length, body);
}

/** A frame's head for length bytes, followed by body when given (else sent after it). */
function frame(
  /** @type {number} */ kind,
  /** @type {number} */ length,
  /** @type {Uint8Array | null} */ body,
) {
  const f = new Uint8Array(body ? 5 + length : 5);
  f[0] = kind;
  new DataView(f.buffer).setUint32(1, length);
  if (body) f.set(body, 5);
  return f;
}

/**
 * A piece this large goes after its frame's head as the handler gave it,
 * uncopied; a smaller one is copied into its frame, so that it leaves in one
 * write.
 */
const COPY_BELOW = 16 * 1024;

/**
 * A sink over push, which sends bytes and resolves once they are written out
 * (the handler may then reuse its buffer, as on Node.js once a write's
 * callback came), failing if they are no longer length bytes (a handler's
 * buffer detached or shrunk meanwhile), and close, called after the last
 * frame. settling is called just before the last frame is queued, when the
 * handler has settled and every frame before went whole.
 * @returns {Sink}
 */
export function frameSink(
  /** @type {(bytes: Uint8Array, length?: number) => Promise<void>} */ push,
  /** @type {() => void} */ close,
  /** @type {(escaped: boolean) => void} */ settling = () => {},
) {
  let tail = Promise.resolve();
  let ended = false;
  // length is the piece's as it was written: a handler may detach or shrink
  // its buffer before the piece's turn comes, and its bytes are then gone.
  const send = (
    /** @type {number} */ kind,
    /** @type {Uint8Array} */ bytes,
    length = bytes.length,
  ) => {
    return (tail = tail.then(async () => {
      if (bytes.length !== length) throw changedSize();
      if (kind === DATA && length === 0) return;
      const large = length >= COPY_BELOW;
      await push(frame(kind, length, large ? null : bytes));
      if (large) await push(bytes, length);
    }));
  };
  return {
    async write(bytes, length = bytes.length) {
      if (bytes.length !== length) throw changedSize();
      // Every piece queued at once: nothing comes between them.
      const sent = [];
      for (let i = 0; i < bytes.length; i += MAX_DATA) {
        sent.push(send(DATA, bytes.subarray(i, i + MAX_DATA)));
      }
      await Promise.all(sent);
    },
    async end() {
      if (ended) return;
      ended = true;
      await send(END, new Uint8Array(0));
    },
    async settled(escaped) {
      // Only a stream whose every frame went whole may be kept.
      if (await tail.then(() => true, () => false)) settling(escaped);
      await send(escaped ? SETTLED_ESCAPED : SETTLED, new Uint8Array(0)).catch(() => {}).finally(
        close,
      );
    },
    async fail(body, fatal) {
      if (ended) return false;
      ended = true;
      let bytes = encoder.encode(JSON.stringify(body));
      if (bytes.length > MAX_ERROR) {
        const { errorType, errorMessage } = body;
        bytes = encoder.encode(JSON.stringify({
          errorType,
          errorMessage: String(errorMessage).slice(0, 16 << 10),
          trace: [],
        }));
      }
      await send(fatal ? FATAL : ERROR, bytes).catch(() => {});
      return true;
    },
  };
}

/** A TypeError with a Node.js error code, as Node.js throws them. */
function nodeTypeError(/** @type {string} */ code, /** @type {string} */ message) {
  return Object.assign(new TypeError(message), { code });
}

/** A piece whose buffer the handler detached or shrank before it was written. */
function changedSize() {
  return new Error("the response stream's buffer changed size before it was written");
}

/** @type {Promise<any> | undefined} */
let responseStreamClass;

/**
 * Makes ready at init what a streaming handler's first invocation needs
 * (node:stream), so that its first byte does not wait for it: in runtime2
 * every invocation is a first one.
 */
export async function prepareStreaming(/** @type {unknown} */ handler) {
  if (isStreaming(handler)) await ResponseStreamClass();
}

/** The response stream's class, made at the first streamed invocation. */
function ResponseStreamClass() {
  return responseStreamClass ??= import("node:stream").then(({ Writable }) => {
    class ResponseStream extends Writable {
      #contentType = DEFAULT_CONTENT_TYPE;
      #written = false;
      /** @type {{ body: import("./errors.js").ErrorBody, fatal: boolean } | null} */
      #failure = null;
      /** @type {Sink | null} */
      #sink = null;
      #open;
      /** @type {((write: (chunk: unknown) => void) => void) | undefined} */
      _onBeforeFirstWrite = undefined;

      /**
       * @param {(contentType: string) => Sink} open
       * @param {number} highWaterMark
       */
      constructor(open, highWaterMark) {
        super({ highWaterMark });
        this.#open = open;
      }

      /**
       * The response's content type; only before the first write, and only
       * one a header may carry, which Node.js checks as it sets the header.
       */
      setContentType(/** @type {string} */ contentType) {
        if (this.#written) {
          const err = new Error("Cannot set content-type, too late.");
          err.name = "Runtime.InvalidStreamingOperation";
          throw err;
        }
        if (contentType === undefined) {
          throw nodeTypeError(
            "ERR_HTTP_INVALID_HEADER_VALUE",
            'Invalid value "undefined" for header "Content-Type"',
          );
        }
        const type = String(contentType);
        if (/[^\t\x20-\x7e\x80-\xff]/.test(type)) {
          throw nodeTypeError(
            "ERR_INVALID_CHAR",
            'Invalid character in header content ["Content-Type"]',
          );
        }
        this.#contentType = type;
      }

      /**
       * @override
       * @param {any} chunk
       * @param {any} [encoding]
       * @param {any} [done]
       */
      write(chunk, encoding, done) {
        // As Node's runtime writes a value that is neither a string nor bytes;
        // null and undefined throw there too.
        const data = typeof chunk === "string" || chunk instanceof Uint8Array || chunk == null
          ? chunk
          : JSON.stringify(chunk);
        const ok = super.write(data, encoding, done);
        this.#written = true;
        return ok;
      }

      /**
       * @override
       * @param {any} [chunk]
       * @param {any} [encoding]
       * @param {any} [done]
       */
      end(chunk, encoding, done) {
        this.#written = true;
        return super.end(chunk, encoding, done);
      }

      get opened() {
        return this.#sink !== null;
      }

      /**
       * Ends the response in an error, after what the handler wrote before
       * it: false when the response ended well, or had ended (end() was
       * called) and then finished well, as on Node.js.
       * @param {import("./errors.js").ErrorBody} body
       * @param {boolean} fatal
       */
      async failWith(body, fatal) {
        if (!this.writableEnded && !this.destroyed) {
          this.#failure = { body, fatal }; // _final sends it, after the writes before it
          const over = this.#over();
          this.end();
          await over;
          return true;
        }
        // end() was called. On Node.js it sends the last chunk at once, so
        // the response stands once what was written before it is out.
        if (!this.writableFinished && !this.destroyed) await this.#over();
        if (this.writableFinished) return false;
        return await (await this.sink()).fail(body, fatal);
      }

      /** Resolves once the stream has finished, failed or closed. */
      #over() {
        return new Promise((resolve) => {
          for (const event of ["finish", "error", "close"]) this.once(event, resolve);
        });
      }

      /** The sink, opened with the content type at the first byte or the end. */
      async sink() {
        if (this.#sink) return this.#sink;
        const sink = this.#sink = this.#open(this.#contentType);
        const hook = this._onBeforeFirstWrite;
        if (typeof hook === "function") {
          /** @type {Uint8Array[]} */
          const pieces = [];
          hook((chunk) => pieces.push(toBytes(chunk)));
          for (const piece of pieces) await sink.write(piece);
        }
        return sink;
      }

      /**
       * @override
       * @param {Uint8Array} chunk
       * @param {string} _encoding
       * @param {(err?: Error | null) => void} done
       */
      _write(chunk, _encoding, done) {
        // Its length as written: the handler may detach or shrink its buffer
        // before the sink is open.
        const length = chunk.length;
        this.sink().then((sink) => length ? sink.write(chunk, length) : undefined).then(
          () => done(),
          done,
        );
      }

      /** @override */
      _final(/** @type {(err?: Error | null) => void} */ done) {
        const failure = this.#failure;
        this.sink().then((sink) =>
          failure ? sink.fail(failure.body, failure.fatal).then(() => {}) : sink.end()
        ).then(() => done(), done);
      }
    }
    return ResponseStream;
  });
}

/** A chunk as bytes: strings as UTF-8, other values as JSON, as Node's runtime writes a prelude. */
function toBytes(/** @type {unknown} */ chunk) {
  if (chunk instanceof Uint8Array) return chunk;
  return encoder.encode(typeof chunk === "string" ? chunk : JSON.stringify(chunk));
}

/**
 * Runs a streaming handler until its stream ends or fails, after the handler's
 * promise settled. An error before the first byte is the invocation's error as
 * ever; after it, it ends the stream. run wraps the call (the invocation store,
 * the escaped-error guard); within, a log line of the invocation's.
 * @returns {Promise<{ streamed: true } | { error: unknown }>}
 */
export async function invokeStreaming(
  /** @type {any} */ handler,
  /** @type {unknown} */ event,
  /** @type {unknown} */ context,
  /** @type {(contentType: string) => Sink} */ open,
  /** @type {(call: () => Promise<void>) => Promise<unknown>} */ run,
  /** @type {(log: () => void) => void} */ within = (log) => log(),
) {
  const ResponseStream = await ResponseStreamClass();
  const stream = new ResponseStream(open, handler[HIGH_WATER_MARK] ?? DEFAULT_HIGH_WATER_MARK);
  const finished = new Promise((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
    stream.on("close", () => {
      if (!stream.writableFinished) reject(new Error("Response stream is not finished."));
    });
  });
  finished.catch(() => {}); // awaited below, once the handler settled
  let escaped = false;
  try {
    await run(async () => {
      const result = handler(event, stream, context);
      if (typeof result?.then !== "function") {
        throw new Error("Streaming does not support non-async handlers.");
      }
      if ((await result) !== undefined) console.warn("Streaming handlers ignore return values.");
      await finished;
    });
  } catch (err) {
    if (!stream.opened && !stream.writableEnded) {
      stream.destroy();
      return { error: err };
    }
    escaped = err instanceof Escaped;
    const body = err instanceof Escaped ? err.body : errorBody(err);
    if (!(await stream.failWith(body, escaped))) {
      within(() => logRecord("ERROR", ["Invoke Error", "\t" + JSON.stringify(body)]));
    }
    stream.destroy();
  }
  await (await stream.sink()).settled(escaped);
  return { streamed: true };
}
