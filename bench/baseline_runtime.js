// @ts-check
// deno task bench's floor for a Deno-based runtime: Deno itself polls the
// Runtime API in-process, the design of the archived deno-lambda runtime. No
// bootstrap, no bridge, no log format, only what every invocation needs.
//
// deno run -A bench/baseline_runtime.js, with AWS_LAMBDA_RUNTIME_API,
// LAMBDA_TASK_ROOT and _HANDLER (<module>.<export>, loading <module>.bundle.js).

const api = `http://${Deno.env.get("AWS_LAMBDA_RUNTIME_API")}/2018-06-01/runtime`;
const [module, exportName] = (Deno.env.get("_HANDLER") ?? "function.handler").split(".");
const bundle = `${Deno.env.get("LAMBDA_TASK_ROOT")}/${module}.bundle.js`;
const handler = (await import("file://" + bundle))[exportName];

for (;;) {
  const next = await fetch(`${api}/invocation/next`);
  const id = next.headers.get("lambda-runtime-aws-request-id");
  const deadline = Number(next.headers.get("lambda-runtime-deadline-ms"));
  const event = await next.json();
  const context = {
    awsRequestId: id,
    invokedFunctionArn: next.headers.get("lambda-runtime-invoked-function-arn"),
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  let kind = "response";
  let body;
  try {
    body = JSON.stringify(await handler(event, context));
  } catch (err) {
    kind = "error";
    body = JSON.stringify({ errorType: "Error", errorMessage: String(err) });
  }
  const posted = await fetch(`${api}/invocation/${id}/${kind}`, { method: "POST", body });
  await posted.body?.cancel();
}
