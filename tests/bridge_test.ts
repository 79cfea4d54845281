// runtime1's bridge listens on loopback only and serves nobody without the
// token the bootstrap handed Deno privately.
import assert from "node:assert/strict";
import { denoProcessesOf, withBootstrap } from "./_harness.ts";

/** The TCP sockets pid listens on, as [address, port], from /proc. */
async function listeningSockets(pid: number): Promise<[string, number][]> {
  const inodes = new Set<string>();
  for await (const fd of Deno.readDir(`/proc/${pid}/fd`)) {
    const target = await Deno.readLink(`/proc/${pid}/fd/${fd.name}`).catch(() => "");
    const m = target.match(/^socket:\[(\d+)\]$/);
    if (m) inodes.add(m[1]);
  }
  const found: [string, number][] = [];
  for (const table of ["tcp", "tcp6"]) {
    const text = await Deno.readTextFile(`/proc/${pid}/net/${table}`);
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== "0A" || !inodes.has(cols[9])) continue;
      const [addr, port] = cols[1].split(":");
      const ip = addr.length === 8
        ? addr.match(/../g)!.reverse().map((h) => parseInt(h, 16)).join(".")
        : addr;
      found.push([ip, parseInt(port, 16)]);
    }
  }
  return found;
}

Deno.test("runtime1: the bridge listens on 127.0.0.1 only and refuses requests without the token", async () => {
  await withBootstrap({ runtime: "runtime1", handler: "handlers.lifecycle" }, async (b) => {
    const { pid } = JSON.parse((await b.api.invoke({})).body);
    assert.deepEqual(await denoProcessesOf(b.tmpDir), [pid]);
    const sockets = await listeningSockets(pid);
    assert.equal(sockets.length, 1, JSON.stringify(sockets));
    const [[address, port]] = sockets;
    assert.equal(address, "127.0.0.1");

    for (const headers of [{}, { "X-Bridge-Token": "guess" }] as Record<string, string>[]) {
      const res = await fetch(`http://127.0.0.1:${port}/invoke`, {
        method: "POST",
        headers: { ...headers, "Lambda-Runtime-Aws-Request-Id": "intruder" },
        body: JSON.stringify({ exit: 9 }),
      });
      assert.equal(res.status, 403);
      await res.body?.cancel();
    }
    // The handler never ran for the intruder: the same process still serves.
    const after = JSON.parse((await b.api.invoke({})).body);
    assert.equal(after.pid, pid);
    assert.equal(after.invocations, 2);
  });
});
