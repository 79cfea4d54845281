// @ts-check
// Errors nothing catches: an exception thrown where no handler can catch it (a
// timer, an event listener), and a promise rejection nothing handles. As on
// Node.js's runtime, each is logged once, as "Uncaught Exception" or
// "Unhandled Promise Rejection" with the error's JSON, and fails the
// invocation it happened in (under Managed Instances, where it cannot be told
// which one that was, every invocation in flight in the process); the process
// is then done for. Deno's own report
// (many lines, coloured for a terminal) is never printed.
import { errorBody, rejectionBody } from "./errors.js";
import { logRecord } from "./log_patch.js";

/** An error that escaped the handler while it ran. */
export class Escaped extends Error {
  /** @param {import("./errors.js").ErrorBody} body */
  constructor(body) {
    super(body.errorMessage);
    this.body = body;
  }
}

/** What fails each invocation in flight; empty between invocations. */
const inFlight = new Set(/** @type {((e: Escaped) => void)[]} */ ([]));

/**
 * Reports what nothing catches from now on. Between invocations (and during
 * init) there is nothing to fail, so the process exits, with Node.js's codes.
 */
export function watchUncaught() {
  const report = (
    /** @type {string} */ label,
    /** @type {import("./errors.js").ErrorBody} */ body,
    /** @type {number} */ exitCode,
  ) => {
    logRecord("ERROR", [label, "\t" + JSON.stringify(body)]);
    if (inFlight.size === 0) Deno.exit(exitCode);
    for (const fail of inFlight) fail(new Escaped(body));
  };
  addEventListener("error", (e) => {
    e.preventDefault();
    report("Uncaught Exception", errorBody(e.error), 129);
  });
  addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    report("Unhandled Promise Rejection", rejectionBody(e.reason), 128);
  });
}

/**
 * Runs the handler; rejects with an Escaped if an error escapes while it
 * runs, whatever the handler's own promise does.
 * @template T
 * @param {() => T} run
 * @returns {Promise<Awaited<T>>}
 */
export function guarded(run) {
  let fail = /** @type {(e: Escaped) => void} */ (() => {});
  return new Promise((resolve, reject) => {
    fail = reject;
    inFlight.add(fail);
    Promise.resolve().then(run).then(resolve, reject);
  }).finally(() => {
    inFlight.delete(fail);
  });
}
