/**
 * The function's domain: what a greeting request is, and the greeting.
 * @module
 */
import * as v from "valibot";

/** The languages the function greets in. */
export const LANGUAGES = ["en", "fr", "de", "es"] as const;

/** A greeting request, as the API accepts it. */
export const GreetingRequest = v.object({
  name: v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(100)),
  language: v.optional(v.picklist(LANGUAGES), "en"),
});

/** A valid greeting request. */
export type GreetingRequest = v.InferOutput<typeof GreetingRequest>;

const HELLO: Record<GreetingRequest["language"], string> = {
  en: "Hello",
  fr: "Bonjour",
  de: "Hallo",
  es: "Hola",
};

/** The greeting for a valid request. */
export function greet(request: GreetingRequest): string {
  return `${HELLO[request.language]}, ${request.name}!`;
}

/** Checks a request body, giving either the request or what is wrong with it. */
export function parseGreetingRequest(
  body: unknown,
): { ok: true; request: GreetingRequest } | { ok: false; issues: string[] } {
  const result = v.safeParse(GreetingRequest, body);
  if (result.success) return { ok: true, request: result.output };
  return {
    ok: false,
    issues: result.issues.map((issue) => `${v.getDotPath(issue) ?? "body"}: ${issue.message}`),
  };
}
