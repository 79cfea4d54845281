import assert from "node:assert/strict";
import { runScript } from "./_run_script.ts";
import { httpError, parseInvokeArgs, pretty, summary } from "./invoke.ts";
import { errorOf, freePort } from "./_rie.ts";

const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("invoke: reads the event from --event or --data, {} by default", async () => {
  const fromFile = await parseInvokeArgs(["--event", `${ROOT}events/sqs.json`, "--port", "9100"]);
  assert.equal(JSON.parse(fromFile.payload).Records.length, 2);
  assert.equal(fromFile.port, 9100);
  assert.equal((await parseInvokeArgs(["--data", '{"name":"Deno"}'])).payload, '{"name":"Deno"}');
  assert.deepEqual(await parseInvokeArgs([]), {
    payload: "{}",
    source: "the default {}",
    port: 9000,
  });
});

Deno.test("invoke: every sample event is valid JSON", async () => {
  for await (const e of Deno.readDir(`${ROOT}events`)) {
    await parseInvokeArgs(["--event", `${ROOT}events/${e.name}`]);
  }
});

Deno.test("invoke: bad input gets a clear message", async () => {
  const cases: [string[], RegExp][] = [
    [["--event", "nowhere.json"], /^No event file at nowhere\.json: see events\/ for samples$/],
    [["--data", "{name:1}"], /^The event in --data is not valid JSON: /],
    [["--data", "{}", "--event", "x.json"], /^Give the event once: /],
    [["--port", "http"], /^Bad --port "http": expected a whole number from 1 to 65535$/],
    [["--evnt", "x.json"], /^Unknown flag --evnt: did you mean --event\?$/],
    [["--data"], /^Option '--data <value>' argument missing$/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(parseInvokeArgs(args), (err: Error) => {
      assert.match(err.message, message, args.join(" "));
      return true;
    });
  }
});

Deno.test("invoke: an HTTP-style answer of 400 or more is an error to flag", () => {
  assert.equal(httpError('{"statusCode":400,"body":"{}"}'), 400);
  assert.equal(httpError('{"statusCode":503}'), 503);
  for (const body of ['{"statusCode":200}', '{"statusCode":302}', '{"statusCode":"404"}', "[]"]) {
    assert.equal(httpError(body), null, body);
  }
  assert.equal(httpError("null"), null);
  assert.equal(httpError("not json"), null);
  assert.equal(httpError('{"Records":[]}'), null);
});

Deno.test("invoke: pretty-prints JSON answers and leaves other text alone", () => {
  assert.equal(pretty('{"a":[1]}'), '{\n  "a": [\n    1\n  ]\n}');
  assert.equal(pretty("Task timed out after 3.00 seconds"), "Task timed out after 3.00 seconds");
});

Deno.test("invoke: an error is told by Lambda's header, or the emulator's status and body", () => {
  const res = (status: number, headers: Record<string, string> = {}) => ({
    status,
    headers: new Headers(headers),
  });
  assert.equal(errorOf(res(200), '{"message":"hi"}'), null);
  assert.equal(errorOf(res(200), '"just a string"'), null);
  assert.equal(
    errorOf(res(200, { "X-Amz-Function-Error": "Unhandled" }), '{"errorMessage":"x"}'),
    "function error",
  );
  assert.equal(
    errorOf(res(200), '{"errorType":"TypeError","errorMessage":"bad","stackTrace":[]}'),
    "function error: TypeError",
  );
  // As the runtime sends it, the stack under both names; and as AWS's Node.js runtime does.
  assert.equal(
    errorOf(res(200), '{"errorType":"E","errorMessage":"bad","stackTrace":[],"trace":[]}'),
    "function error: E",
  );
  assert.equal(
    errorOf(res(200), '{"errorType":"E","errorMessage":"bad","trace":[]}'),
    "function error: E",
  );
  assert.equal(errorOf(res(200), "Task timed out after 3.00 seconds"), "timeout");
  assert.equal(
    errorOf(res(502), '{"errorType":"Runtime.ImportModuleError"}'),
    "HTTP 502 (Runtime.ImportModuleError)",
  );
  assert.equal(errorOf(res(502), "Bad Gateway"), "HTTP 502");
});

Deno.test("invoke: with nothing listening, says to run deno task start", async () => {
  const out = await runScript("invoke.ts", ["--port", String(freePort())]);
  assert.equal(out.code, 1);
  assert.match(
    out.stderr,
    /^Nothing is listening on 127\.0\.0\.1:\d+: run `deno task start` first, in another terminal\n$/,
  );
});

Deno.test("invoke: the last line names the HTTP status once", () => {
  assert.equal(
    summary("error (HTTP 502 (Runtime.ImportModuleError))", 502, 12.34),
    "error (HTTP 502 (Runtime.ImportModuleError)), 12.3 ms",
  );
  assert.equal(summary("success", 200, 1), "success, HTTP 200, 1.0 ms");
  assert.equal(
    summary("success, but the answer is an HTTP 400 error (its statusCode)", 200, 2),
    "success, but the answer is an HTTP 400 error (its statusCode), HTTP 200, 2.0 ms",
  );
});
