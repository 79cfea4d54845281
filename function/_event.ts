// Builds API Gateway HTTP API (payload 2.0) events for the function's tests.
import type { APIGatewayProxyEventV2 } from "aws-lambda";

/** An HTTP API event for method and path, with an optional body. */
export function httpApiEvent(
  method: string,
  path: string,
  body?: string,
  isBase64Encoded = false,
): APIGatewayProxyEventV2 {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: path,
    rawQueryString: "",
    headers: { "content-type": "application/json", host: "api.example.test" },
    requestContext: {
      accountId: "123456789012",
      apiId: "api1234",
      domainName: "api.example.test",
      domainPrefix: "api",
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "192.0.2.1", userAgent: "test" },
      requestId: "apigw-request",
      routeKey: "$default",
      stage: "$default",
      time: "25/Nov/2026:10:00:00 +0000",
      timeEpoch: 1795600800000,
    },
    body,
    isBase64Encoded,
  };
}
