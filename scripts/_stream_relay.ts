// `deno task start`'s bridge for streamed responses. AWS's emulator answers an
// invoke only once the runtime's result is whole, and it does not read a
// streamed post's trailers. So start puts this relay on both of its doors:
//
// - the Invoke endpoint (the port you call): each invoke goes on to the
//   emulator, and is answered with the emulator's answer, unless its handler
//   streams: then the relay answers it itself, with each piece as it comes;
// - the Runtime API, which the bootstrap is pointed at: everything goes on to
//   the emulator, except a streamed response (Lambda-Runtime-Function-Response-
//   Mode: streaming), which goes to its caller; the emulator then gets the
//   invocation's end (an empty response, or the error from the trailers), so
//   that it serves the next event.
//
// An HTTP integration response (HttpResponseStream.from) is answered as a
// function URL answers it: its prelude's status, headers and cookies, then the
// body. An error after the first byte cuts the answer off, as Lambda does.
import http from "node:http";
import { Buffer } from "node:buffer";
import { errorOf, INVOKE_PATH } from "./_rie.ts";

const PREFIX = "/2018-06-01/runtime";
const HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";
const DELIMITER = Buffer.alloc(8);
/**
 * The most of an HTTP response's prelude the relay holds while it waits for
 * its end: beyond what any HTTP client takes as headers, and what keeps a
 * function that never ends it from filling the memory of your machine.
 */
const MAX_PRELUDE = 64 * 1024;
/** Tells `deno task invoke` that the answer is a stream, to print as it comes. */
export const STREAMED_HEADER = "Lambda-Runtime-Function-Response-Mode";

/** An invoke waiting for its answer; its request id once the emulator handed its event out. */
interface Caller {
  res: http.ServerResponse;
  streamed: boolean;
  id?: string;
  /** Its stream came to its end, well or in an error, which the relay said. */
  ended?: boolean;
}

export interface StreamRelay {
  /** The port the bootstrap's Runtime API address must name. */
  runtimeApiPort: number;
  close(): Promise<void>;
}

/** A server on a loopback port: the port, once it listens. */
function listen(server: http.Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
  });
}

/**
 * Sends req on to the emulator at port, and its answer back to res; onAnswer
 * sees the answer first, and onOver runs once the exchange is over.
 */
function forward(
  req: http.IncomingMessage,
  res: http.ServerResponse | null,
  port: number,
  onAnswer: (answer: http.IncomingMessage) => void = () => {},
  onOver: () => void = () => {},
): void {
  const upstream = http.request(
    { host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      answer.on("close", onOver);
      onAnswer(answer);
      if (!res) {
        answer.resume();
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    },
  );
  upstream.on("error", (err) => {
    onOver();
    if (res && !res.headersSent) {
      res.writeHead(502).end(`The emulator did not answer: ${err.message}`);
    } else res?.destroy();
  });
  req.pipe(upstream);
}

/**
 * Reads the emulator's answer to an invoke whose stream was already answered,
 * piece by piece: when the stream stopped before its end (a timeout, Deno's
 * death), the caller saw only the cut, and this says why.
 */
function whyCut(caller: Caller, answer: http.IncomingMessage): void {
  if (caller.ended) return void answer.resume(); // the relay said how it ended
  const pieces: Buffer[] = [];
  answer.on("data", (piece: Buffer) => pieces.push(piece));
  answer.on("end", () => {
    if (caller.ended) return;
    const body = Buffer.concat(pieces).toString();
    const headers = new Headers();
    for (const [name, value] of Object.entries(answer.headers)) {
      if (typeof value === "string") headers.set(name, value);
    }
    const why = errorOf({ status: answer.statusCode ?? 502, headers }, body) ?? "no error";
    console.error(
      `Invoke ${caller.id}: the stream was cut off before its end; the emulator says ${why}: ${body.trim()}`,
    );
  });
}

/** Posts body to the emulator's Runtime API at path; resolves with its status. */
function post(port: number, path: string, headers: http.OutgoingHttpHeaders, body: string) {
  return new Promise<number>((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, method: "POST", path, headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 502);
    });
    req.on("error", () => resolve(502));
    req.end(body);
  });
}

/** Where the emulator listens: its Invoke endpoint and its Runtime API. */
export interface EmulatorPorts {
  invokePort: number;
  runtimeApiPort: number;
}

/**
 * Starts the relay, for callers at invokePort, in front of the emulator at
 * rie, which may be filled in once the relay listens: ports picked free
 * before the relay binds its own could be the one it gets.
 */
export async function startStreamRelay(
  invokePort: number,
  rie: EmulatorPorts,
): Promise<StreamRelay> {
  const waiting: Caller[] = []; // invokes whose event has not been handed out yet, oldest first
  const byId = new Map<string, Caller>();
  // The emulator serves one invoke at a time (it crashes on a second while
  // the first has not released it, which it does once the runtime asks for
  // its next event), and the caller of a streamed invoke has its answer before
  // then: each invoke goes on once the emulator's answer to the last has ended.
  let turn = Promise.resolve();

  const invokes = http.createServer(async (req, res) => {
    if (req.method !== "POST" || req.url !== INVOKE_PATH) return forward(req, res, rie.invokePort);
    const mine = Promise.withResolvers<void>();
    const before = turn;
    turn = mine.promise;
    await before;
    const caller: Caller = { res, streamed: false };
    waiting.push(caller);
    forward(req, null, rie.invokePort, (answer) => {
      const at = waiting.indexOf(caller);
      if (at >= 0) waiting.splice(at, 1);
      for (const [id, c] of byId) if (c === caller) byId.delete(id);
      if (caller.streamed) return whyCut(caller, answer); // answered already, piece by piece
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    }, mine.resolve);
  });

  const api = http.createServer((req, res) => {
    const path = req.url?.startsWith(PREFIX) ? req.url.slice(PREFIX.length) : "";
    const match = path.match(/^\/invocation\/([^/]+)\/response$/);
    if (
      req.method === "POST" && match && req.headers[STREAMED_HEADER.toLowerCase()] === "streaming"
    ) {
      return streamed(decodeURIComponent(match[1]), req, res);
    }
    forward(req, res, rie.runtimeApiPort, (answer) => {
      const id = answer.headers["lambda-runtime-aws-request-id"];
      if (path === "/invocation/next" && typeof id === "string" && waiting.length > 0) {
        const caller = waiting.shift()!;
        caller.id = id;
        byId.set(id, caller);
      }
    });
  });

  /** Passes a streamed response on to its caller, then ends the invocation at the emulator. */
  function streamed(id: string, req: http.IncomingMessage, res: http.ServerResponse): void {
    const caller = byId.get(id);
    const out = caller?.res;
    if (caller) caller.streamed = true;
    const contentType = String(req.headers["content-type"] ?? "application/octet-stream");
    let prelude: Buffer | null = contentType === HTTP_INTEGRATION ? Buffer.alloc(0) : null;
    const start = (
      head: { statusCode?: number; headers?: Record<string, string>; cookies?: string[] },
    ) => {
      const headers: http.OutgoingHttpHeaders = { [STREAMED_HEADER]: "streaming", ...head.headers };
      if (head.cookies?.length) headers["set-cookie"] = head.cookies;
      out?.writeHead(head.statusCode ?? 200, headers);
    };
    if (prelude === null) start({ headers: { "content-type": contentType } });
    const write = (piece: Buffer) => {
      if (out && !out.write(piece)) {
        req.pause();
        out.once("drain", () => req.resume());
      }
    };
    let refused = false;
    req.on("data", (piece: Buffer) => {
      if (refused) return; // read to its end, so that the emulator hears of it
      if (prelude === null) return write(piece);
      const searched = Math.max(0, prelude.length - DELIMITER.length + 1);
      prelude = Buffer.concat([prelude, piece]);
      const at = prelude.indexOf(DELIMITER, searched);
      if (at < 0 && prelude.length > MAX_PRELUDE) {
        const why = `the HTTP response's prelude passed 64 KiB without its end (8 NUL bytes): ` +
          `write it with awslambda.HttpResponseStream.from(stream, { statusCode, headers, cookies })`;
        console.error(`Invoke ${id}: ${why}; answering 502`);
        out?.writeHead(502, { "content-type": "text/plain" }).end(`${why}\n`);
        prelude = null;
        refused = true;
        return;
      }
      if (at < 0) return;
      let head = {};
      try {
        head = JSON.parse(prelude.subarray(0, at).toString());
      } catch {
        console.error(`Invoke ${id}: the HTTP response's prelude is not JSON; answering 200`);
      }
      start(head);
      const rest = prelude.subarray(at + DELIMITER.length);
      prelude = null;
      if (rest.length > 0) write(rest);
    });
    req.on("end", async () => {
      if (caller) caller.ended = true;
      const errorType = req.trailers["lambda-runtime-function-error-type"];
      const encoded = req.trailers["lambda-runtime-function-error-body"];
      // The emulator hears of the end first: a caller who invokes again as
      // soon as its answer ends must find the emulator ready (it crashes on
      // an invoke while another is under way).
      let status: number;
      if (errorType) {
        const body = encoded ? Buffer.from(encoded, "base64").toString() : "{}";
        console.error(`Invoke ${id}: the stream ended in ${errorType}: ${body}`);
        status = await post(
          rie.runtimeApiPort,
          `${PREFIX}/invocation/${encodeURIComponent(id)}/error`,
          {
            "Content-Type": "application/vnd.aws.lambda.error+json",
            "Lambda-Runtime-Function-Error-Type": errorType,
          },
          body,
        );
        out?.destroy(); // cut off, as Lambda cuts off a stream that fails
      } else {
        status = await post(
          rie.runtimeApiPort,
          `${PREFIX}/invocation/${encodeURIComponent(id)}/response`,
          {
            "Content-Type": "application/json",
          },
          "",
        );
        if (prelude !== null) start({}); // ended before its prelude did
        if (!refused) out?.end();
      }
      res.writeHead(status).end();
    });
    req.on("error", () => out?.destroy());
  }

  await listen(invokes, invokePort);
  const runtimeApiPort = await listen(api, 0);
  const closeServer = (server: http.Server) =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    runtimeApiPort,
    close: async () => {
      await Promise.all([closeServer(invokes), closeServer(api)]);
    },
  };
}
