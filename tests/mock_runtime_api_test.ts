// The mock must be as strict as the real Runtime API, or the bootstrap tests
// would pass against behaviour Lambda does not have.
import assert from "node:assert/strict";
import { MAX_RESPONSE_BYTES, MockRuntimeApi } from "./_mock_runtime_api.ts";

async function withMock(fn: (api: MockRuntimeApi, base: string) => Promise<void>) {
  const api = new MockRuntimeApi();
  try {
    await fn(api, `http://${api.address}/2018-06-01/runtime`);
  } finally {
    await api.close();
  }
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", body, headers });
  return { status: res.status, body: await res.json() };
}

Deno.test("mock hands out events with the Runtime API's headers", async () => {
  await withMock(async (api, base) => {
    const outcome = api.invoke({ a: 1 }, { requestId: "r1", traceId: "Root=1", tenantId: "t" });
    const res = await fetch(`${base}/invocation/next`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { a: 1 });
    assert.equal(res.headers.get("Lambda-Runtime-Aws-Request-Id"), "r1");
    assert.equal(res.headers.get("Lambda-Runtime-Trace-Id"), "Root=1");
    assert.equal(res.headers.get("Lambda-Runtime-Aws-Tenant-Id"), "t");
    assert.match(res.headers.get("Lambda-Runtime-Deadline-Ms")!, /^\d{13}$/);
    assert.match(res.headers.get("Lambda-Runtime-Invoked-Function-Arn")!, /^arn:aws:lambda:/);
    assert.equal(res.headers.get("Lambda-Runtime-Client-Context"), null);
    assert.equal((await post(`${base}/invocation/r1/response`, '"done"')).status, 202);
    assert.equal((await outcome).body, '"done"');
  });
});

Deno.test("mock answers 400 for an unknown id and 403 for a second result", async () => {
  await withMock(async (api, base) => {
    const outcome = api.invoke({}, { requestId: "r2" });
    await (await fetch(`${base}/invocation/next`)).body?.cancel();
    const unknown = await post(`${base}/invocation/nope/response`, "{}");
    assert.deepEqual([unknown.status, unknown.body.errorType], [400, "InvalidRequestID"]);
    assert.equal((await post(`${base}/invocation/r2/response`, "1")).status, 202);
    for (const kind of ["response", "error"]) {
      const again = await post(`${base}/invocation/r2/${kind}`, "2");
      assert.deepEqual([again.status, again.body.errorType], [403, "InvalidStateTransition"]);
    }
    assert.equal((await outcome).body, "1");
  });
});

Deno.test("mock sends an invocation id and answers 410 to a post echoing another", async () => {
  await withMock(async (api, base) => {
    const outcome = api.invoke({}, { requestId: "r4", invocationId: "inv-4" });
    const res = await fetch(`${base}/invocation/next`);
    await res.body?.cancel();
    assert.equal(res.headers.get("Lambda-Runtime-Invocation-Id"), "inv-4");
    const url = `${base}/invocation/r4/response`;
    const stale = await post(url, '"late"', { "Lambda-Runtime-Invocation-Id": "inv-3" });
    assert.equal(stale.status, 410);
    assert.deepEqual(api.stalePosts, ["r4 response"]);
    assert.deepEqual((await outcome).status, 410);
  });
  await withMock(async (api, base) => {
    const outcome = api.invoke({}, { requestId: "r5", invocationId: "inv-5" });
    await (await fetch(`${base}/invocation/next`)).body?.cancel();
    const url = `${base}/invocation/r5/response`;
    assert.equal(
      (await post(url, '"ok"', { "Lambda-Runtime-Invocation-Id": "inv-5" })).status,
      202,
    );
    assert.deepEqual([(await outcome).status, (await outcome).invocationId], [202, "inv-5"]);
  });
});

Deno.test("mock answers 413 above 6 MiB + 100 B and accepts exactly the limit", async () => {
  await withMock(async (api, base) => {
    const over = api.invoke({}, { requestId: "big" });
    const exact = api.invoke({}, { requestId: "exact" });
    for (let i = 0; i < 2; i++) await (await fetch(`${base}/invocation/next`)).body?.cancel();
    const tooBig = await post(
      `${base}/invocation/big/response`,
      "x".repeat(MAX_RESPONSE_BYTES + 1),
    );
    assert.equal(tooBig.status, 413);
    assert.equal((await over).errorType, "Function.ResponseSizeTooLarge");
    const ok = await post(`${base}/invocation/exact/response`, "x".repeat(MAX_RESPONSE_BYTES));
    assert.equal(ok.status, 202);
    assert.equal((await exact).kind, "response");
  });
});

Deno.test("mock refuses /init/error once init is over", async () => {
  await withMock(async (api, base) => {
    const before = await post(`${base}/init/error`, "{}", {
      "Lambda-Runtime-Function-Error-Type": "Runtime.X",
    });
    assert.equal(before.status, 202);
    assert.equal(api.initErrors[0].errorType, "Runtime.X");
    api.invoke({});
    await (await fetch(`${base}/invocation/next`)).body?.cancel();
    assert.equal((await post(`${base}/init/error`, "{}")).status, 403);
  });
});

Deno.test("mock, as AWS's emulator, passes on none of a result cut off halfway and refuses everything after", async () => {
  await withMock(async (api, base) => {
    const outcome = api.invoke({}, { requestId: "r9" });
    outcome.catch(() => {}); // abandoned below
    await (await fetch(`${base}/invocation/next`)).body?.cancel();
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(api.address.split(":")[1]),
    });
    await conn.write(new TextEncoder().encode(
      `POST /2018-06-01/runtime/invocation/r9/response HTTP/1.1\r\nHost: ${api.address}\r\n` +
        'Content-Length: 1000\r\n\r\n"only half',
    ));
    conn.close();
    await api.incompletePost();
    assert.deepEqual(api.incompletePosts, ["r9 response"]);
    const error = await post(`${base}/invocation/r9/error`, '{"errorType":"Runtime.ExitError"}');
    assert.deepEqual([error.status, error.body.errorType], [403, "InvalidStateTransition"]);
    const next = await fetch(`${base}/invocation/next`);
    assert.equal(next.status, 403);
    await next.body?.cancel();
    api.abandon("the runtime exited");
    await assert.rejects(outcome, /got no result/);
  });
});
