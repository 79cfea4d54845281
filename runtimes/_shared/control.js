// @ts-check
// The bootstrap's private channel to runtime.js. One control line comes in on
// stdin, which then ends (a function reading stdin gets nothing of the
// runtime's). It names a loopback port where the bootstrap listens and a
// secret token for this process alone. runtime.js dials that port and sends
// the token first: the connection is then this process's channel, for JSON
// lines (and the bytes that follow them) both ways. No file names it, so no
// other process can open it, and console output never reaches it; a function
// in another process can dial the port too, but without this token the
// bootstrap hangs up.

/**
 * The line on stdin: where to dial, the token, what to import, and the
 * permission flags the function runs with (for advice when one is missing).
 * @typedef {{ port: number, token: string, bundle: string, export: string,
 *   handler: string, permissions: string[], denoDir: string, runtimeApi: string }} Control
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Buffered reads of stdin or a connection: lines, and exact byte counts. */
export class Input {
  /** @type {Uint8Array} */
  #buf = new Uint8Array(0);

  /** @type {{ read(p: Uint8Array): Promise<number | null> }} */
  #reader;

  /**
   * Reads from reader: stdin for the control line, the channel for runtime2's event.
   * @param {{ read(p: Uint8Array): Promise<number | null> }} reader
   */
  constructor(reader = Deno.stdin) {
    this.#reader = reader;
  }

  /**
   * Where input is read into: one buffer for the process, not one per read,
   * made at the first read (runtime1's stream connections read nothing).
   * @type {Uint8Array | null}
   */
  #chunk = null;

  /** Reads more into the buffer; false at EOF. */
  async #fill() {
    this.#chunk ??= new Uint8Array(65536);
    const n = await this.#reader.read(this.#chunk);
    if (n === null) return false;
    const data = this.#chunk.slice(0, n);
    if (this.#buf.length === 0) {
      this.#buf = data;
    } else {
      const joined = new Uint8Array(this.#buf.length + n);
      joined.set(this.#buf);
      joined.set(data, this.#buf.length);
      this.#buf = joined;
    }
    return true;
  }

  /** The next line, without its newline; throws at EOF. */
  async line() {
    for (;;) {
      const at = this.#buf.indexOf(10);
      if (at >= 0) {
        const line = decoder.decode(this.#buf.subarray(0, at));
        this.#buf = this.#buf.subarray(at + 1);
        return line;
      }
      if (!await this.#fill()) {
        throw new Error("runtime.js must be started by the bootstrap: its input ended");
      }
    }
  }

  /** Exactly n bytes; throws at EOF. */
  async exactly(/** @type {number} */ n) {
    const out = new Uint8Array(n);
    let filled = Math.min(n, this.#buf.length);
    out.set(this.#buf.subarray(0, filled));
    this.#buf = this.#buf.subarray(filled);
    while (filled < n) {
      const read = await this.#reader.read(out.subarray(filled));
      if (read === null) throw new Error(`Input ended after ${filled} of ${n} bytes`);
      filled += read;
    }
    return out;
  }
}

/** Reads the control line. @returns {Promise<Control>} */
export async function readControl(/** @type {Input} */ input) {
  return JSON.parse(await input.line());
}

/** This process's channel to the bootstrap. */
export class Channel {
  #conn;
  /** What the bootstrap sends: runtime2's event. */
  input;

  /** @param {Deno.Conn} conn */
  constructor(conn) {
    this.#conn = conn;
    this.input = new Input(conn);
  }

  /**
   * Dials the bootstrap and proves which process this is, or, with an
   * invocation's stream token (runtime1), which invocation's stream.
   */
  static async open(/** @type {{ port: number, token: string }} */ control) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: control.port });
    conn.setNoDelay(true);
    const channel = new Channel(conn);
    await channel.#write(encoder.encode(control.token + "\n"));
    return channel;
  }

  /** One JSON line, then optional raw bytes. */
  async send(/** @type {unknown} */ message, /** @type {Uint8Array} */ bytes = new Uint8Array(0)) {
    await this.#write(encoder.encode(JSON.stringify(message) + "\n"));
    await this.#write(bytes);
  }

  /**
   * Raw bytes: stream frames. length is what the frame's head announced: a
   * handler's buffer (a large piece goes uncopied) may be detached or shrunk
   * before or while it is written, and the frames would then lie.
   */
  write(/** @type {Uint8Array} */ bytes, length = bytes.length) {
    return this.#write(bytes, length);
  }

  async #write(/** @type {Uint8Array} */ bytes, length = bytes.length) {
    let written = 0;
    while (written < length) {
      if (bytes.length !== length) {
        throw new Error("the response stream's buffer changed size while it was being written");
      }
      written += await this.#conn.write(bytes.subarray(written));
    }
  }

  /** Resolves when the bootstrap ends the connection (or it fails). */
  async ended() {
    await this.#conn.read(new Uint8Array(1)).catch(() => null);
  }

  close() {
    try {
      this.#conn.close();
    } catch {
      // closed already
    }
  }
}
