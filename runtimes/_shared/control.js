// @ts-check
// The bootstrap's private channel to runtime.js: one control line in on stdin
// (which then ends, so a function reading stdin can take nothing), JSON lines
// (and result bytes) out on a FIFO, and for runtime2 event frames (and bytes)
// in on a second FIFO; this process unlinks each FIFO as soon as it has opened
// it. None is visible in the process list or the environment, and console
// output never reaches them.

/**
 * The line on stdin: the FIFO to write to, runtime2's FIFO of events, what to
 * import, and runtime1's bridge token.
 * @typedef {{ channel: string, events?: string, token?: string, bundle: string,
 *   export: string, handler: string }} Control
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Buffered reads of stdin or a FIFO: lines, and exact byte counts. */
export class Input {
  /** @type {Uint8Array} */
  #buf = new Uint8Array(0);

  /** @type {{ read(p: Uint8Array): Promise<number | null> }} */
  #reader;

  /** Reads from reader: stdin for the control line, a FIFO for runtime2's events. */
  constructor(reader = Deno.stdin) {
    this.#reader = reader;
  }

  /** Where stdin is read into: one buffer for the process, not one per read. */
  #chunk = new Uint8Array(65536);

  /** Reads more of stdin into the buffer; false at EOF. */
  async #fill() {
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

/** Opens runtime2's events FIFO, then unlinks it so no other process can open it. */
export function openEvents(/** @type {string} */ path) {
  const file = Deno.openSync(path, { read: true });
  Deno.removeSync(path);
  return new Input(file);
}

/** Writes to the bootstrap's FIFO, synchronously and whole. */
export class Output {
  #file;

  /** Opens the FIFO, then unlinks it so no other process can open it. */
  constructor(/** @type {string} */ path) {
    this.#file = Deno.openSync(path, { write: true });
    Deno.removeSync(path);
  }

  /** One JSON line, then optional raw bytes. */
  send(/** @type {unknown} */ message, /** @type {Uint8Array} */ bytes = new Uint8Array(0)) {
    this.#write(encoder.encode(JSON.stringify(message) + "\n"));
    this.#write(bytes);
  }

  #write(/** @type {Uint8Array} */ bytes) {
    let written = 0;
    while (written < bytes.length) written += this.#file.writeSync(bytes.subarray(written));
  }

  close() {
    this.#file.close();
  }
}
