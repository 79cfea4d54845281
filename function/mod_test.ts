import assert from "node:assert/strict";
import type { APIGatewayProxyEventV2, Context } from "aws-lambda";
import { httpApiEvent } from "./_event.ts";
import { greet, parseGreetingRequest } from "./greeting.ts";
import { handler } from "./mod.ts";

const context = { awsRequestId: "req-1" } as Context;

async function call(method: string, path: string, body?: string, base64 = false) {
  const res = await handler(httpApiEvent(method, path, body, base64), context);
  return { status: res.statusCode, body: JSON.parse(res.body ?? "null") };
}

Deno.test("POST /greetings greets in the requested language", async () => {
  assert.deepEqual(await call("POST", "/greetings", '{"name":" Ada ","language":"fr"}'), {
    status: 200,
    body: { message: "Bonjour, Ada!", requestId: "req-1" },
  });
});

Deno.test("POST /greetings defaults to English and accepts base64 bodies", async () => {
  const res = await call("POST", "/greetings", btoa('{"name":"Grace"}'), true);
  assert.equal(res.body.message, "Hello, Grace!");
});

Deno.test("bad requests get a 400 that says what is wrong", async () => {
  assert.deepEqual(await call("POST", "/greetings", "not json"), {
    status: 400,
    body: { error: "The body must be JSON" },
  });
  const invalid = await call("POST", "/greetings", '{"name":"","language":"xx"}');
  assert.equal(invalid.status, 400);
  assert.equal(invalid.body.issues.length, 2);
  assert.match(invalid.body.issues[0], /^name: /);
  assert.match(invalid.body.issues[1], /^language: /);
});

Deno.test("events that are not from an HTTP API get a 400", async () => {
  const res = await handler({ name: "Ada" } as unknown as APIGatewayProxyEventV2, context);
  assert.equal(res.statusCode, 400);
  assert.match(res.body!, /Expected an API Gateway HTTP API event/);
});

Deno.test("other routes and methods are refused", async () => {
  assert.equal((await call("GET", "/greetings")).status, 405);
  assert.equal((await call("GET", "/nowhere")).status, 404);
  assert.deepEqual(await call("GET", "/health"), { status: 200, body: { ok: true } });
});

Deno.test("greet and parseGreetingRequest", () => {
  assert.equal(greet({ name: "Linus", language: "de" }), "Hallo, Linus!");
  assert.deepEqual(parseGreetingRequest({ name: "x" }), {
    ok: true,
    request: { name: "x", language: "en" },
  });
  assert.equal(parseGreetingRequest({ name: "x".repeat(101) }).ok, false);
});
