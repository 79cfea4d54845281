// A loopback TCP relay in front of the mock Runtime API's server, for what
// Deno.serve does not show: the trailers of a chunked request, where a
// streamed response carries its error. It passes every byte on unchanged, and
// reads the requests as they go by; a request's trailers are parsed before its
// last bytes reach the server, so the server finds them once its body ends.

const decoder = new TextDecoder("latin1");

/** Reads HTTP/1.1 requests from the bytes of one connection, as they come. */
class RequestReader {
  #state: "head" | "body" | "size" | "data" | "trailers" = "head";
  #partial = "";
  #lines: string[] = [];
  #left = 0;
  #path = "";

  constructor(private onTrailers: (path: string, fields: Record<string, string>) => void) {}

  feed(b: Uint8Array): void {
    let i = 0;
    while (i < b.length) {
      if (this.#state === "body" || this.#state === "data") {
        const n = Math.min(this.#left, b.length - i);
        i += n;
        this.#left -= n;
        // A chunk's data is followed by CRLF, which the size state skips.
        if (this.#left === 0) this.#state = this.#state === "body" ? "head" : "size";
        continue;
      }
      const nl = b.indexOf(10, i);
      const end = nl < 0 ? b.length : nl + 1;
      this.#partial += decoder.decode(b.subarray(i, end));
      i = end;
      if (nl < 0) break;
      const line = this.#partial.replace(/\r?\n$/, "");
      this.#partial = "";
      this.#line(line);
    }
  }

  #line(line: string): void {
    switch (this.#state) {
      case "head": {
        if (line !== "") {
          this.#lines.push(line);
          return;
        }
        if (this.#lines.length === 0) return;
        const [request, ...fields] = this.#lines;
        this.#lines = [];
        this.#path = request.split(" ")[1] ?? "";
        const headers = parseFields(fields);
        if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
          this.#state = "size";
        } else {
          this.#left = Number(headers["content-length"] ?? 0);
          this.#state = this.#left > 0 ? "body" : "head";
        }
        return;
      }
      case "size": {
        if (line === "") return;
        const size = parseInt(line.split(";")[0], 16);
        if (size === 0) this.#state = "trailers";
        else [this.#left, this.#state] = [size, "data"];
        return;
      }
      case "trailers":
        if (line !== "") {
          this.#lines.push(line);
          return;
        }
        this.onTrailers(this.#path, parseFields(this.#lines));
        this.#lines = [];
        this.#state = "head";
    }
  }
}

function parseFields(lines: string[]): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) fields[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return fields;
}

export class TrailerRelay {
  readonly port: number;
  /** The trailers of the last chunked request to each path. */
  readonly trailers = new Map<string, Record<string, string>>();
  #listener: Deno.TcpListener;
  #conns = new Set<Deno.Conn>();

  constructor(private target: number) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = this.#listener.addr.port;
    this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for await (const client of this.#listener) this.#relay(client);
    } catch {
      // closed
    }
  }

  async #relay(client: Deno.Conn): Promise<void> {
    const server = await Deno.connect({ hostname: "127.0.0.1", port: this.target });
    this.#conns.add(client).add(server);
    const reader = new RequestReader((path, fields) => this.trailers.set(path, fields));
    const end = () => {
      for (const c of [client, server]) {
        this.#conns.delete(c);
        try {
          c.close();
        } catch {
          // already closed
        }
      }
    };
    const up = async () => {
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await client.read(buf).catch(() => null);
        if (n === null) return;
        const bytes = buf.subarray(0, n);
        reader.feed(bytes);
        for (let w = 0; w < n;) w += await server.write(bytes.subarray(w));
      }
    };
    const down = async () => {
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await server.read(buf).catch(() => null);
        if (n === null) return;
        for (let w = 0; w < n;) w += await client.write(buf.subarray(w, n));
      }
    };
    // Either side's end (or failure) ends the pair, as a cut connection
    // would: a request cut off reaches the server cut off.
    await Promise.race([up().catch(() => {}), down().catch(() => {})]);
    end();
  }

  close(): void {
    this.#listener.close();
    for (const c of this.#conns) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
    this.#conns.clear();
  }
}
