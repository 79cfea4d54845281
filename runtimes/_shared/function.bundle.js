// The runtime layer's stand-in function: it answers when no function is
// deployed, so the layer can be tried on its own.
export function handler(event, context) {
  return {
    message: "No function deployed: add a function.bundle.js to the function's zip",
    requestId: context.awsRequestId,
    event,
  };
}
