// The bench's streaming handlers (deno task bench), as a bundle for the Deno
// contenders and as .mjs for Node's client, which both give them the global
// awslambda. ticks: 10 chunks of 100 KB, 10 ms apart. bulk: 50 MB as fast as
// the stream takes it.
const CHUNK = new Uint8Array(100 * 1000).fill(0x61);
const PIECE = new Uint8Array(64 * 1024).fill(0x62);
const BULK = 50 * 1000 * 1000;

/** Writes chunk, and waits for the stream to drain when it is full. */
function write(stream, chunk) {
  if (stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => stream.once("drain", resolve));
}

function end(stream) {
  return new Promise((resolve) => stream.end(resolve));
}

export const ticks = awslambda.streamifyResponse(async (_event, responseStream) => {
  for (let i = 0; i < 10; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await write(responseStream, CHUNK);
  }
  await end(responseStream);
});

export const bulk = awslambda.streamifyResponse(async (_event, responseStream) => {
  for (let sent = 0; sent < BULK; sent += PIECE.length) {
    await write(responseStream, PIECE.subarray(0, Math.min(PIECE.length, BULK - sent)));
  }
  await end(responseStream);
});
