// @ts-check
// The handler's context object, as the managed Node.js runtime builds it.

/**
 * What never changes in an execution environment, read once at init.
 * concurrent: invocations run at once (Lambda Managed Instances set
 * AWS_LAMBDA_MAX_CONCURRENCY; empty counts as unset, as the bootstrap reads it).
 * @typedef {{ functionName?: string, functionVersion?: string,
 *   memoryLimitInMB?: string, logGroupName?: string, logStreamName?: string,
 *   concurrent?: boolean }} StaticContext
 */

/** @returns {StaticContext} */
export function staticContext(/** @type {(key: string) => string | undefined} */ getenv) {
  return {
    concurrent: Boolean(getenv("AWS_LAMBDA_MAX_CONCURRENCY")),
    functionName: getenv("AWS_LAMBDA_FUNCTION_NAME"),
    functionVersion: getenv("AWS_LAMBDA_FUNCTION_VERSION"),
    memoryLimitInMB: getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
    logGroupName: getenv("AWS_LAMBDA_LOG_GROUP_NAME"),
    logStreamName: getenv("AWS_LAMBDA_LOG_STREAM_NAME"),
  };
}

function parseJson(/** @type {string | null} */ text) {
  if (text === null || text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Builds one invocation's context from the Runtime API's headers. */
export function createContext(
  /** @type {Headers} */ headers,
  /** @type {StaticContext} */ env,
) {
  const deadline = Number(headers.get("lambda-runtime-deadline-ms"));
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.functionName,
    functionVersion: env.functionVersion,
    invokedFunctionArn: headers.get("lambda-runtime-invoked-function-arn") ?? undefined,
    memoryLimitInMB: env.memoryLimitInMB,
    awsRequestId: headers.get("lambda-runtime-aws-request-id") ?? "",
    logGroupName: env.logGroupName,
    logStreamName: env.logStreamName,
    identity: parseJson(headers.get("lambda-runtime-cognito-identity")),
    clientContext: parseJson(headers.get("lambda-runtime-client-context")),
    tenantId: headers.get("lambda-runtime-aws-tenant-id") ?? undefined,
    /** Milliseconds left before Lambda stops this invocation. */
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
}
