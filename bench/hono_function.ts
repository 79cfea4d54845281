// deno task bench's framework function: a Hono app behind hono/aws-lambda, as
// API Gateway would call it. The bench's event is not API Gateway's, so the
// handler hands Hono one of its own; every contender runs the same.
import { Hono } from "hono";
import { handle } from "hono/aws-lambda";
import type { Context } from "aws-lambda";

const app = new Hono();
app.get("/hello/:name", (c) => c.json({ message: `Hello, ${c.req.param("name")}!` }));
app.post("/echo", async (c) => c.json(await c.req.json()));

const serve = handle(app);

const request = {
  version: "2.0",
  routeKey: "$default",
  rawPath: "/hello/bench",
  rawQueryString: "",
  headers: { accept: "application/json", host: "bench.example" },
  requestContext: {
    accountId: "123456789012",
    apiId: "bench",
    domainName: "bench.example",
    domainPrefix: "bench",
    http: {
      method: "GET",
      path: "/hello/bench",
      protocol: "HTTP/1.1",
      sourceIp: "192.0.2.1",
      userAgent: "bench",
    },
    requestId: "bench",
    routeKey: "$default",
    stage: "$default",
    time: "02/Dec/2026:00:00:00 +0000",
    timeEpoch: 1796169600000,
  },
  isBase64Encoded: false,
} as unknown as Parameters<typeof serve>[0]; // API Gateway's payload 2.0, as @types/aws-lambda has it

export function handler(_event: unknown, context: Context) {
  return serve(request, context);
}
