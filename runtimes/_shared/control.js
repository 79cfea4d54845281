// @ts-check
// The bootstrap's private channel to runtime.js: one JSON line in on stdin at
// start, one JSON line out on fd 3 when init is over. Neither is visible in the
// process list or the environment.

/**
 * @typedef {{ token: string, bundle: string, export: string, handler: string }} Control
 */

/** Reads the control line from stdin; stdin is at EOF for user code afterwards. @returns {Control} */
export function readControl() {
  const chunks = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = Deno.stdin.readSync(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
    if (buf.subarray(0, n).includes(10)) break;
  }
  const text = new TextDecoder().decode(concat(chunks));
  if (!text.trim()) {
    throw new Error("runtime.js must be started by the bootstrap: no control message on stdin");
  }
  return JSON.parse(text);
}

function concat(/** @type {Uint8Array[]} */ chunks) {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Tells the bootstrap init is over, on fd 3, then closes it. */
export function reportReady(/** @type {unknown} */ message) {
  const file = Deno.openSync("/dev/fd/3", { write: true });
  try {
    const bytes = new TextEncoder().encode(JSON.stringify(message) + "\n");
    let written = 0;
    while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
  } finally {
    file.close();
  }
}
