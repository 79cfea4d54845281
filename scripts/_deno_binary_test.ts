import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { checkIntegrity, download } from "./_deno_binary.ts";

/** Serves body at /ok, a 401 at /private and a body that stops halfway at /cut, on loopback. */
async function withServer(
  body: Uint8Array<ArrayBuffer>,
  fn: (base: string) => Promise<void>,
): Promise<void> {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/ok") return new Response(body);
    if (path === "/cut") {
      const half = new ReadableStream({
        start(c) {
          c.enqueue(body.subarray(0, body.length / 2));
          c.error(new Error("connection lost"));
        },
      });
      return new Response(half, { headers: { "content-length": String(body.length) } });
    }
    return new Response("no", { status: 401 });
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

const BODY = new Uint8Array(randomBytes(300_000));
const INTEGRITY = `sha512-${createHash("sha512").update(BODY).digest("base64")}`;

Deno.test("download writes the body and tells the MB received; the integrity holds", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withServer(BODY, async (base) => {
      const seen: string[] = [];
      await download(`${base}/ok`, `${dir}/p.tgz`, (text) => seen.push(text));
      assert.deepEqual(await Deno.readFile(`${dir}/p.tgz`), BODY);
      assert.equal(seen.at(-1), "0.3 of 0.3 MB");
      await checkIntegrity(`${dir}/p.tgz`, INTEGRITY);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("download fails on an HTTP error and on a body cut off", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await withServer(BODY, async (base) => {
      await assert.rejects(
        download(`${base}/private`, `${dir}/p.tgz`, () => {}),
        new Error(`Cannot download ${base}/private: HTTP 401`),
      );
      await assert.rejects(
        download(`${base}/cut`, `${dir}/p.tgz`, () => {}),
        /^Error: Cannot download .*\/cut: .* after 0\.\d MB$/,
      );
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a file that is not what npm said is refused and removed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeFile(`${dir}/p.tgz`, BODY.subarray(1));
    await assert.rejects(
      checkIntegrity(`${dir}/p.tgz`, INTEGRITY),
      /p\.tgz does not match its integrity sha512-/,
    );
    await assert.rejects(Deno.stat(`${dir}/p.tgz`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
