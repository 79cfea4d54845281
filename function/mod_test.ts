import assert from "node:assert/strict";
import type { Context } from "aws-lambda";
import { handler } from "./mod.ts";

const context = { awsRequestId: "req-1" } as Context;

Deno.test("handler greets the event's name", async () => {
  assert.deepEqual(await handler({ name: "Ada" }, context, () => {}), {
    message: "Hello, Ada!",
    requestId: "req-1",
  });
});

Deno.test("handler greets the world when the event names nobody", async () => {
  for (const event of [{}, { name: "" }, null as unknown as { name?: string }]) {
    const out = await handler(event, context, () => {});
    assert.equal(out?.message, "Hello, world!");
  }
});
