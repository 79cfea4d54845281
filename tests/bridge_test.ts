// runtime1's bridge is a pair of private pipes: its Deno listens on no socket
// that another process could reach, and one process serves every event.
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

Deno.test("runtime1: Deno listens on no socket, and one process serves every event", async () => {
  await withBootstrap({ runtime: "runtime1", handler: "handlers.lifecycle" }, async (b) => {
    const { pid } = JSON.parse((await b.api.invoke({})).body);
    assert.deepEqual(await denoProcessesOf(b.tmpDir), [pid]);
    assert.deepEqual(await listeningSockets(pid), []);
    const after = JSON.parse((await b.api.invoke({})).body);
    assert.equal(after.pid, pid);
    assert.equal(after.invocations, 2);
  });
});
