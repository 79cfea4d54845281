// @ts-check
import assert from "node:assert/strict";
import { Channel, Input, readControl } from "./control.js";
import { withChannel, withListener } from "./testdata/helpers.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A reader that hands out its chunks one read at a time (a chunk larger than
 * the caller's buffer over several reads), then EOF; it counts its reads.
 */
class ChunkReader {
  /** @type {Uint8Array[]} */
  #chunks;
  reads = 0;

  constructor(/** @type {(string | Uint8Array)[]} */ chunks) {
    this.#chunks = chunks.map((c) => typeof c === "string" ? encoder.encode(c) : c);
  }

  /** @returns {Promise<number | null>} */
  read(/** @type {Uint8Array} */ p) {
    this.reads++;
    const chunk = this.#chunks.shift();
    if (chunk === undefined) return Promise.resolve(null);
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#chunks.unshift(chunk.subarray(n));
    return Promise.resolve(n);
  }
}

/** Reads the whole of what remains on a connection, as text. */
async function readAll(/** @type {Deno.Conn} */ conn) {
  const parts = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return parts.join("");
    parts.push(decoder.decode(buf.subarray(0, n), { stream: true }));
  }
}

Deno.test("Input.line returns each line without its newline, across chunks", async () => {
  const input = new Input(new ChunkReader(["he", "llo\nwor", "ld\n\nlast\n"]));
  assert.equal(await input.line(), "hello");
  assert.equal(await input.line(), "world");
  assert.equal(await input.line(), "");
  assert.equal(await input.line(), "last");
});

Deno.test("Input.line decodes a character split between chunks", async () => {
  const bytes = encoder.encode("café ✓\n");
  const input = new Input(
    new ChunkReader([bytes.subarray(0, 4), bytes.subarray(4, 7), bytes.subarray(7)]),
  );
  assert.equal(await input.line(), "café ✓");
});

Deno.test("Input.line reads a line longer than one read's buffer", async () => {
  const long = "x".repeat(200_000);
  const input = new Input(new ChunkReader([long + "\nnext\n"]));
  assert.equal(await input.line(), long);
  assert.equal(await input.line(), "next");
});

Deno.test("Input.line reads no further than the line it returns", async () => {
  const reader = new ChunkReader(["one\ntwo\n", "three\n"]);
  const input = new Input(reader);
  assert.equal(await input.line(), "one");
  assert.equal(await input.line(), "two");
  assert.equal(reader.reads, 1);
});

Deno.test("Input.line at EOF says the input ended", async () => {
  const message = "runtime.js must be started by the bootstrap: its input ended";
  await assert.rejects(new Input(new ChunkReader([])).line(), { message });
  const partial = new Input(new ChunkReader(["no newline"]));
  await assert.rejects(partial.line(), { message });
});

Deno.test("Input.exactly returns n bytes gathered across chunks", async () => {
  const input = new Input(new ChunkReader(["ab", "cdef", "g"]));
  assert.equal(decoder.decode(await input.exactly(5)), "abcde");
  assert.equal(decoder.decode(await input.exactly(2)), "fg");
});

Deno.test("Input.exactly takes buffered bytes first and leaves the rest for the next line", async () => {
  const input = new Input(new ChunkReader(['{"length":4}\nBO', "DYnext\n", "tail"]));
  assert.equal(await input.line(), '{"length":4}');
  assert.equal(decoder.decode(await input.exactly(4)), "BODY");
  assert.equal(await input.line(), "next");
  assert.equal(decoder.decode(await input.exactly(4)), "tail");
});

Deno.test("Input.exactly(0) reads nothing", async () => {
  const reader = new ChunkReader(["x"]);
  const bytes = await new Input(reader).exactly(0);
  assert.equal(bytes.length, 0);
  assert.equal(reader.reads, 0);
});

Deno.test("Input.exactly at EOF says how many bytes came", async () => {
  const input = new Input(new ChunkReader(["hdr\nab", "c"]));
  await input.line();
  await assert.rejects(input.exactly(5), { message: "Input ended after 3 of 5 bytes" });
  await assert.rejects(new Input(new ChunkReader([])).exactly(1), {
    message: "Input ended after 0 of 1 bytes",
  });
});

Deno.test("readControl parses the control line", async () => {
  const control = {
    port: 4711,
    token: "secret",
    bundle: "/var/task/function.bundle.js",
    export: "api.handler",
    handler: "function.api.handler",
    permissions: ["--allow-net"],
    denoDir: "/tmp/deno-dir",
  };
  const input = new Input(new ChunkReader([JSON.stringify(control) + "\n"]));
  assert.deepEqual(await readControl(input), control);
});

Deno.test("Channel.open dials the port and sends the token line first", async () => {
  await withChannel((_channel, bootstrap) => {
    assert.equal(bootstrap.firstLine, bootstrap.control.token);
    return Promise.resolve();
  });
});

Deno.test("Channel.send writes one JSON line, then the bytes", async () => {
  await withChannel(async (channel, bootstrap) => {
    await channel.send({ length: 5, errorType: "Error" }, encoder.encode("hello"));
    await channel.send({ port: 8080 });
    await channel.send("text", encoder.encode("\n{}"));
    assert.equal(await bootstrap.input.line(), '{"length":5,"errorType":"Error"}');
    assert.equal(decoder.decode(await bootstrap.input.exactly(5)), "hello");
    assert.equal(await bootstrap.input.line(), '{"port":8080}');
    assert.equal(await bootstrap.input.line(), '"text"');
    assert.equal(decoder.decode(await bootstrap.input.exactly(3)), "\n{}");
  });
});

Deno.test("Channel.send writes a body larger than the socket takes at once", async () => {
  const body = new Uint8Array(4 * 1024 * 1024).map((_, i) => i % 251);
  await withChannel(async (channel, bootstrap) => {
    const [, got] = await Promise.all([
      channel.send({ length: body.length }, body),
      bootstrap.input.line().then(() => bootstrap.input.exactly(body.length)),
    ]);
    assert.deepEqual(got, body);
  });
});

Deno.test("Channel.close ends the connection", async () => {
  await withListener(async (listener) => {
    const control = {
      port: listener.addr.port,
      token: "t",
      bundle: "",
      export: "",
      handler: "",
      permissions: [],
      denoDir: "",
      runtimeApi: "",
    };
    const [channel, conn] = await Promise.all([Channel.open(control), listener.accept()]);
    try {
      await channel.send({ last: true });
      channel.close();
      assert.equal(await readAll(conn), 't\n{"last":true}\n');
    } finally {
      conn.close();
    }
  });
});

Deno.test("Channel.input reads what the bootstrap sends", async () => {
  await withChannel(async (channel, bootstrap) => {
    await bootstrap.conn.write(encoder.encode('{"headers":{},"length":2}\n{}'));
    assert.equal(await channel.input.line(), '{"headers":{},"length":2}');
    assert.equal(decoder.decode(await channel.input.exactly(2)), "{}");
  });
});

Deno.test("Channel.write refuses bytes that are no longer as long as their frame announced", async () => {
  /** @type {number[]} */
  const writes = [];
  const buffer = new ArrayBuffer(8, { maxByteLength: 8 });
  const bytes = new Uint8Array(buffer);
  const conn = /** @type {Deno.Conn} */ (/** @type {unknown} */ ({
    write(/** @type {Uint8Array} */ b) {
      writes.push(b.length);
      buffer.resize(2); // the handler shrinks its buffer while the first half goes
      return Promise.resolve(4);
    },
  }));
  const channel = new Channel(conn);
  await assert.rejects(channel.write(bytes, 8), /changed size/);
  assert.deepEqual(writes, [8]);
  await assert.rejects(channel.write(new Uint8Array(3), 8), /changed size/);
  assert.deepEqual(writes, [8], "nothing of bytes already short goes");
});
