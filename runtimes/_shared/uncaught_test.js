// @ts-check
// watchUncaught installs global error listeners and may exit the process, so
// it runs in child processes; guarded alone is safe to run here.
import assert from "node:assert/strict";
import { guarded } from "./uncaught.js";
import { childSaid, moduleUrl, runChild } from "./testdata/helpers.js";

/**
 * Runs code in a child that watches for uncaught errors and has invoke, and
 * headers for request "req-1", in scope; it prints an invocation's result as
 * a line "RESULT <json>".
 */
function watched(/** @type {string} */ code) {
  return runChild(`
    import { invoke } from "${moduleUrl("invoke.js")}";
    import { watchUncaught } from "${moduleUrl("uncaught.js")}";
    watchUncaught();
    const headers = new Headers({ "lambda-runtime-aws-request-id": "req-1" });
    const report = (result) => console.log("RESULT " + JSON.stringify(result));
    ${code}
  `);
}

/** The fields of the first log record whose message starts with label. */
function logged(/** @type {string} */ stdout, /** @type {string} */ label) {
  const line = stdout.split("\n").find((l) => l.split("\t")[3] === label + " ");
  assert.ok(line, `no "${label}" record in:\n${stdout}`);
  const [, requestId, level, , json] = line.split("\t");
  return { requestId, level, body: JSON.parse(json) };
}

/** The result a child printed. */
function result(/** @type {string} */ stdout) {
  const line = stdout.split("\n").find((l) => l.startsWith("RESULT "));
  assert.ok(line, `no result in:\n${stdout}`);
  return JSON.parse(line.slice("RESULT ".length));
}

Deno.test("an exception thrown outside the handler while it runs fails the invocation, fatally", async () => {
  const out = await watched(`
    report(await invoke(() => {
      setTimeout(() => { throw new TypeError("thrown in a timer"); }, 0);
      return new Promise(() => {});
    }, "{}", headers, {}));
  `);
  assert.equal(out.code, 0, childSaid(out));
  const { body, errorType, fatal } = result(out.stdout);
  assert.equal(errorType, "TypeError");
  assert.equal(fatal, true);
  const error = JSON.parse(body);
  assert.equal(error.errorMessage, "thrown in a timer");
  assert.equal(error.stackTrace[0], "TypeError: thrown in a timer");
  // Logged once, as Node.js's runtime logs it; Deno's own report never appears.
  assert.deepEqual(logged(out.stdout, "Uncaught Exception"), {
    requestId: "req-1",
    level: "ERROR",
    body: error,
  });
  assert.equal(out.stdout.split("Uncaught Exception").length, 2);
  assert.equal(out.stderr, "");
});

Deno.test("a rejection nothing handles while the handler runs fails the invocation, fatally", async () => {
  const out = await watched(`
    report(await invoke(() => {
      Promise.reject(new RangeError("nobody awaited me"));
      return new Promise(() => {});
    }, "{}", headers, {}));
  `);
  assert.equal(out.code, 0, childSaid(out));
  const { body, errorType, fatal } = result(out.stdout);
  assert.equal(errorType, "Runtime.UnhandledPromiseRejection");
  assert.equal(fatal, true);
  const error = JSON.parse(body);
  assert.equal(error.errorMessage, "RangeError: nobody awaited me");
  assert.deepEqual(logged(out.stdout, "Unhandled Promise Rejection").body, error);
  assert.equal(out.stderr, "");
});

// BUG (uncaught.js, guarded): a rejection the handler leaves unhandled in its
// last turn is only reported after the microtasks drain, and by then guarded
// has cleared failInFlight: invoke resolves with the handler's value, and the
// listener, taking it for an error between invocations, calls Deno.exit(128)
// before the caller can send that value. The invocation it happened in is
// neither failed nor answered. Keeping failInFlight until a macrotask after
// the handler settles would attribute it, but Deno 2.9.6 has no cheap one:
// setImmediate (and setTimeout) load on first use, which cost runtime1's cold
// start about 8 ms (docs/benchmarks.md, "What was tried").
Deno.test({
  name: "a rejection the handler leaves behind as it returns fails that invocation",
  ignore: true,
  async fn() {
    const out = await watched(`
      report(await invoke(async () => {
        Promise.reject(new Error("forgotten"));
        return "ok";
      }, "{}", headers, {}));
    `);
    assert.equal(out.code, 0, childSaid(out));
    const { errorType, fatal } = result(out.stdout);
    assert.equal(errorType, "Runtime.UnhandledPromiseRejection");
    assert.equal(fatal, true);
  },
});

Deno.test("a handler's own rejection is not an escaped error", async () => {
  const out = await watched(`
    report(await invoke(() => Promise.reject(new Error("mine")), "{}", headers, {}));
  `);
  assert.equal(out.code, 0, childSaid(out));
  const { errorType, fatal } = result(out.stdout);
  assert.equal(errorType, "Error");
  assert.equal(fatal, undefined);
  assert.doesNotMatch(out.stdout, /Unhandled Promise Rejection/);
});

Deno.test("an exception thrown between invocations exits with code 129", async () => {
  const out = await watched(`
    report(await invoke(() => "done", "{}", headers, {}));
    setTimeout(() => { throw new Error("after the invocation"); }, 0);
  `);
  assert.equal(out.code, 129, childSaid(out));
  assert.deepEqual(result(out.stdout), { body: '"done"' });
  const { requestId, body } = logged(out.stdout, "Uncaught Exception");
  assert.equal(requestId, "req-1");
  assert.equal(body.errorMessage, "after the invocation");
  assert.equal(out.stderr, "");
});

Deno.test("a rejection nothing handles during init exits with code 128", async () => {
  const out = await watched(`Promise.reject(new Error("during init"));`);
  assert.equal(out.code, 128, childSaid(out));
  const { requestId, body } = logged(out.stdout, "Unhandled Promise Rejection");
  assert.equal(requestId, "undefined");
  assert.equal(body.errorType, "Runtime.UnhandledPromiseRejection");
  assert.equal(body.errorMessage, "Error: during init");
  assert.equal(out.stderr, "");
});

Deno.test("guarded resolves with what the handler returns or resolves to", async () => {
  assert.equal(await guarded(() => 7), 7);
  assert.equal(await guarded(() => Promise.resolve("later")), "later");
});

Deno.test("guarded turns a synchronous throw into a rejection", async () => {
  const error = new Error("sync");
  /** @type {Promise<unknown>[]} */
  const promises = [];
  assert.doesNotThrow(() => {
    promises.push(guarded(() => {
      throw error;
    }));
  });
  await assert.rejects(promises[0], (err) => err === error);
});
