/**
 * The example function: greets whoever the event names.
 * @module
 */
import type { Context, Handler } from "aws-lambda";

/** The event this function expects. */
export interface GreetEvent {
  name?: string;
}

/** The function's answer. */
export interface Greeting {
  message: string;
  requestId: string;
}

/** Greets the event's name, or the world. */
export const handler: Handler<GreetEvent, Greeting> = (
  event: GreetEvent,
  context: Context,
): Promise<Greeting> => {
  const name = typeof event?.name === "string" && event.name !== "" ? event.name : "world";
  console.log(`Greeting ${name}`);
  return Promise.resolve({ message: `Hello, ${name}!`, requestId: context.awsRequestId });
};
