// The handlers of deno task bench's concurrency cases (Lambda Managed
// Instances): two wait on I/O, one keeps a CPU busy.
//
// node:http is imported by the handler that calls it, at its first call: at
// the top it would slow every runtime2 process's start, whichever handler it
// serves.

/** @type {Promise<{ http: typeof import("node:http"), agent: import("node:http").Agent }> | undefined} */
let client;

/** Awaits a 20 ms timer, as a call to another service would. */
export async function io(event, context) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return { requestId: context.awsRequestId, event };
}

/**
 * Calls a service on loopback (event.url) that answers after 20 ms, with
 * node:http and a keep-alive agent, as the AWS SDK calls AWS.
 */
export async function net(event, context) {
  client ??= import("node:http").then((http) => ({
    http,
    agent: new http.Agent({ keepAlive: true }),
  }));
  const { http, agent } = await client;
  const service = await new Promise((resolve, reject) => {
    http.get(event.url, { agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk) => text += chunk);
      res.on("end", () => resolve(JSON.parse(text)));
      res.on("error", reject);
    }).on("error", reject);
  });
  return { requestId: context.awsRequestId, service };
}

/** A few milliseconds of work, with nothing to await: two million multiply-xor steps. */
export function cpu(event, context) {
  let h = 2166136261;
  for (let round = 0; round < 500; round++) {
    for (let i = 0; i < 4096; i++) h = Math.imul(h ^ (i + round), 16777619);
  }
  return { requestId: context.awsRequestId, event, h };
}
