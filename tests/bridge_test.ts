// runtime1's bridge serves on a Unix socket in a directory only its user may
// enter, opens no TCP port, and serves nobody without the token the bootstrap
// handed Deno privately.
import assert from "node:assert/strict";
import { denoProcessesOf, withBootstrap } from "./_harness.ts";

/** The inodes of the sockets pid holds open. */
async function socketInodes(pid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
    const target = await Deno.readLink(`/proc/${pid}/fd/${fd.name}`).catch(() => "");
    const m = target.match(/^socket:\[(\d+)\]$/);
    if (m) inodes.add(m[1]);
  }
  return inodes;
}

/** What pid listens on, from /proc: TCP addresses and Unix socket paths. */
async function listeners(pid: number): Promise<{ tcp: string[]; unix: string[] }> {
  const inodes = await socketInodes(pid);
  const tcp: string[] = [];
  for (const table of ["tcp", "tcp6"]) {
    const text = await Deno.readTextFile(`/proc/${pid}/net/${table}`);
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length >= 10 && cols[3] === "0A" && inodes.has(cols[9])) tcp.push(cols[1]);
    }
  }
  const unix: string[] = [];
  const text = await Deno.readTextFile(`/proc/${pid}/net/unix`);
  for (const line of text.split("\n").slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path; flag 0x10000 marks a listener.
    const cols = line.trim().split(/\s+/);
    if (cols.length >= 8 && inodes.has(cols[6]) && (parseInt(cols[3], 16) & 0x10000)) {
      unix.push(cols[7]);
    }
  }
  return { tcp, unix };
}

/** One raw HTTP/1.1 request on a Unix socket; returns the status line. */
async function post(path: string, headers: Record<string, string>, body: string): Promise<string> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    const head = Object.entries({ Host: "localhost", ...headers, "Content-Length": body.length })
      .map(([k, v]) => `${k}: ${v}\r\n`).join("");
    await conn.write(new TextEncoder().encode(`POST /invoke HTTP/1.1\r\n${head}\r\n${body}`));
    const buf = new Uint8Array(4096);
    const n = await conn.read(buf);
    return new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
  } finally {
    conn.close();
  }
}

Deno.test("runtime1: the bridge is a private Unix socket, no TCP port, and refuses requests without the token", async () => {
  await withBootstrap({ runtime: "runtime1", handler: "handlers.lifecycle" }, async (b) => {
    const { pid } = JSON.parse((await b.api.invoke({})).body);
    assert.deepEqual(await denoProcessesOf(b.tmpDir), [pid]);
    const { tcp, unix } = await listeners(pid);
    assert.deepEqual(tcp, [], "Deno listens on no TCP port");
    assert.equal(unix.length, 1, JSON.stringify(unix));
    const [socket] = unix;
    const dir = socket.slice(0, socket.lastIndexOf("/"));
    assert.equal(dir, `${b.tmpDir}/.deno-lambda`);
    assert.equal((await Deno.stat(dir)).mode! & 0o777, 0o700);

    for (const headers of [{}, { "X-Bridge-Token": "guess" }] as Record<string, string>[]) {
      const status = await post(
        socket,
        { ...headers, "Lambda-Runtime-Aws-Request-Id": "intruder" },
        '{"exit":9}',
      );
      assert.equal(status, "HTTP/1.1 403 Forbidden");
    }
    // The handler never ran for the intruder: the same process still serves.
    const after = JSON.parse((await b.api.invoke({})).body);
    assert.equal(after.pid, pid);
    assert.equal(after.invocations, 2);
  });
});
