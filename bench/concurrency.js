// The handlers of deno task bench's concurrency cases (Lambda Managed
// Instances): one waits on I/O, one keeps a CPU busy.

/** Awaits a 20 ms timer, as a call to another service would. */
export async function io(event, context) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { requestId: context.awsRequestId, event };
}

/** A few milliseconds of work, with nothing to await: two million multiply-xor steps. */
export function cpu(event, context) {
  let h = 2166136261;
  for (let round = 0; round < 500; round++) {
    for (let i = 0; i < 4096; i++) h = Math.imul(h ^ (i + round), 16777619);
  }
  return { requestId: context.awsRequestId, event, h };
}
