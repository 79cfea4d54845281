// The handler every contender of deno task bench runs: it returns the event,
// so each invocation moves the event's bytes in and out of the runtime.
export function handler(event, context) {
  return { requestId: context.awsRequestId, event };
}
