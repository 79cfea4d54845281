/**
 * The example function: a greeting API behind an API Gateway HTTP API (payload
 * format 2.0). `POST /greetings` with `{"name": "Ada", "language": "fr"}`
 * answers `{"message": "Bonjour, Ada!"}`; bad input gets a 400 that says why.
 * @module
 */
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import { greet, parseGreetingRequest } from "./greeting.ts";

/** Answers API Gateway HTTP API events. */
export function handler(
  event: APIGatewayProxyEventV2,
  context: Context,
): Promise<APIGatewayProxyStructuredResultV2> {
  return Promise.resolve(route(event, context));
}

function route(event: APIGatewayProxyEventV2, context: Context): APIGatewayProxyStructuredResultV2 {
  const http = event?.requestContext?.http;
  if (!http) return json(400, { error: "Expected an API Gateway HTTP API event (payload 2.0)" });
  const { method, path } = http;
  if (path === "/health" && method === "GET") return json(200, { ok: true });
  if (path !== "/greetings") return json(404, { error: `No route for ${path}` });
  if (method !== "POST") return json(405, { error: `Use POST on ${path}, not ${method}` });

  let body: unknown;
  try {
    const text = event.isBase64Encoded ? atob(event.body ?? "") : event.body ?? "";
    body = JSON.parse(text);
  } catch {
    return json(400, { error: "The body must be JSON" });
  }
  const parsed = parseGreetingRequest(body);
  if (!parsed.ok) return json(400, { error: "Invalid greeting request", issues: parsed.issues });

  const message = greet(parsed.request);
  console.log(`Greeted ${parsed.request.name} in ${parsed.request.language}`);
  return json(200, { message, requestId: context.awsRequestId });
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}
