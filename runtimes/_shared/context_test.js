// @ts-check
import assert from "node:assert/strict";
import { createContext, staticContext } from "./context.js";

const ENV = {
  AWS_LAMBDA_FUNCTION_NAME: "orders",
  AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512",
  AWS_LAMBDA_LOG_GROUP_NAME: "/aws/lambda/orders",
  AWS_LAMBDA_LOG_STREAM_NAME: "2026/01/01/[$LATEST]abc",
};

/** A getenv over a fixed table, as init passes Deno.env.get. */
function getenvOf(/** @type {Record<string, string>} */ table) {
  return (/** @type {string} */ key) => table[key];
}

const STATIC = staticContext(getenvOf(ENV));

Deno.test("staticContext reads the five Lambda variables", () => {
  assert.deepEqual(STATIC, {
    concurrent: false,
    functionName: "orders",
    functionVersion: "$LATEST",
    memoryLimitInMB: "512",
    logGroupName: "/aws/lambda/orders",
    logStreamName: "2026/01/01/[$LATEST]abc",
  });
});

Deno.test("staticContext leaves a variable that is not set undefined", () => {
  assert.deepEqual(staticContext(getenvOf({ AWS_LAMBDA_FUNCTION_NAME: "f" })), {
    concurrent: false,
    functionName: "f",
    functionVersion: undefined,
    memoryLimitInMB: undefined,
    logGroupName: undefined,
    logStreamName: undefined,
  });
});

Deno.test("staticContext tells concurrent invocations by AWS_LAMBDA_MAX_CONCURRENCY, as the bootstrap does", () => {
  assert.equal(staticContext(getenvOf({ AWS_LAMBDA_MAX_CONCURRENCY: "1" })).concurrent, true);
  // Empty is unset for the bootstrap, which then serves one at a time.
  assert.equal(staticContext(getenvOf({ AWS_LAMBDA_MAX_CONCURRENCY: "" })).concurrent, false);
});

Deno.test("createContext takes each field from its Runtime API header", () => {
  const identity = { cognitoIdentityId: "id-1", cognitoIdentityPoolId: "pool-1" };
  const clientContext = { client: { installation_id: "i-1" }, env: { locale: "fr" } };
  const context = createContext(
    new Headers({
      "Lambda-Runtime-Aws-Request-Id": "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
      "Lambda-Runtime-Invoked-Function-Arn":
        "arn:aws:lambda:eu-west-1:123456789012:function:orders",
      "Lambda-Runtime-Deadline-Ms": String(Date.now() + 3000),
      "Lambda-Runtime-Cognito-Identity": JSON.stringify(identity),
      "Lambda-Runtime-Client-Context": JSON.stringify(clientContext),
      "Lambda-Runtime-Aws-Tenant-Id": "tenant-7",
    }),
    STATIC,
  );
  const { getRemainingTimeInMillis, ...fields } = context;
  assert.equal(typeof getRemainingTimeInMillis, "function");
  assert.deepEqual(fields, {
    callbackWaitsForEmptyEventLoop: true,
    functionName: "orders",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:eu-west-1:123456789012:function:orders",
    memoryLimitInMB: "512",
    awsRequestId: "8476a536-e9f4-11e8-9739-2dfe598c3fcd",
    logGroupName: "/aws/lambda/orders",
    logStreamName: "2026/01/01/[$LATEST]abc",
    identity,
    clientContext,
    tenantId: "tenant-7",
  });
});

Deno.test("createContext leaves absent headers undefined and the request id empty", () => {
  const context = createContext(new Headers(), STATIC);
  assert.equal(context.awsRequestId, "");
  assert.equal(context.invokedFunctionArn, undefined);
  assert.equal(context.identity, undefined);
  assert.equal(context.clientContext, undefined);
  assert.equal(context.tenantId, undefined);
});

Deno.test("createContext parses identity and clientContext as JSON, and drops what is not", () => {
  /** @type {[string, unknown][]} */
  const cases = [
    ['{"cognitoIdentityId":"x"}', { cognitoIdentityId: "x" }],
    ["[1,2]", [1, 2]],
    ["null", null],
    ["", undefined],
    ["not json", undefined],
    ['{"cut": ', undefined],
  ];
  for (const [text, want] of cases) {
    const context = createContext(
      new Headers({
        "lambda-runtime-cognito-identity": text,
        "lambda-runtime-client-context": text,
      }),
      STATIC,
    );
    assert.deepEqual(context.identity, want, `identity from ${JSON.stringify(text)}`);
    assert.deepEqual(context.clientContext, want, `clientContext from ${JSON.stringify(text)}`);
  }
});

Deno.test("getRemainingTimeInMillis counts down to the deadline header", () => {
  const deadline = Date.now() + 60_000;
  const context = createContext(
    new Headers({ "lambda-runtime-deadline-ms": String(deadline) }),
    STATIC,
  );
  const before = Date.now();
  const remaining = context.getRemainingTimeInMillis();
  const after = Date.now();
  assert.ok(
    remaining <= deadline - before && remaining >= deadline - after,
    `got ${remaining}, want between ${deadline - after} and ${deadline - before}`,
  );
});

Deno.test("getRemainingTimeInMillis goes negative once the deadline has passed", () => {
  const context = createContext(
    new Headers({ "lambda-runtime-deadline-ms": String(Date.now() - 1000) }),
    STATIC,
  );
  assert.ok(context.getRemainingTimeInMillis() <= -1000);
});
