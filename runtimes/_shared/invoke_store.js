// @ts-check
// The per-invocation store AWS's Node.js runtime keeps at
// globalThis.awslambda.InvokeStore (the interface of @aws/lambda-invoke-store),
// where the AWS SDK, through its own copy of that package, reads the X-Ray
// trace id it passes on. A function's copy finds this one there, and reads
// the runtime's keys, which are registered symbols. Hand-written, as all of
// runtime.js is: the package cannot be imported here without a bundler.
//
// On demand, one invocation at a time, as in the package's single-context
// mode: run() makes its context the current one, until the next. Under
// Lambda Managed Instances (AWS_LAMBDA_MAX_CONCURRENCY set), invocations run
// at once, and each sees its own context through AsyncLocalStorage, as in the
// package's multi-context mode, across awaits and timers.

/** The keys the runtime sets, as the package names them. */
export const PROTECTED_KEYS = Object.freeze({
  REQUEST_ID: Symbol.for("_AWS_LAMBDA_REQUEST_ID"),
  X_RAY_TRACE_ID: Symbol.for("_AWS_LAMBDA_X_RAY_TRACE_ID"),
  TENANT_ID: Symbol.for("_AWS_LAMBDA_TENANT_ID"),
  TRACEPARENT: Symbol.for("_AWS_LAMBDA_TRACEPARENT"),
  TRACESTATE: Symbol.for("_AWS_LAMBDA_TRACESTATE"),
  BAGGAGE: Symbol.for("_AWS_LAMBDA_BAGGAGE"),
});

const protectedKeys = new Set(Object.values(PROTECTED_KEYS));

/** @typedef {Record<string | symbol, unknown>} Context */

/**
 * Where contexts are kept: one current context, or AsyncLocalStorage's.
 * @typedef {{ getStore(): Context | undefined,
 *   run<T>(context: Context | undefined, fn: () => T): T }} Contexts
 */

/** One context at a time: the current one is the last run()'s. */
class OneAtATime {
  /** @type {Context | undefined} */
  #context;

  getStore() {
    return this.#context;
  }

  /**
   * @template T
   * @param {Context | undefined} context
   * @param {() => T} fn
   * @returns {T}
   */
  run(context, fn) {
    this.#context = context;
    return fn();
  }
}

/** The store: the interface of the package's instances. */
export class InvokeStore {
  static PROTECTED_KEYS = PROTECTED_KEYS;
  /** @type {Contexts} */
  #contexts;

  /** @param {Contexts} contexts */
  constructor(contexts = new OneAtATime()) {
    this.#contexts = contexts;
  }

  getContext() {
    return this.#contexts.getStore();
  }

  hasContext() {
    return this.#contexts.getStore() !== undefined;
  }

  /** @param {string | symbol} key */
  get(key) {
    return this.#contexts.getStore()?.[key];
  }

  /** A key of the function's own; the runtime's keys cannot be changed. */
  set(/** @type {string | symbol} */ key, /** @type {unknown} */ value) {
    if (protectedKeys.has(/** @type {symbol} */ (key))) {
      throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    }
    let context = this.#contexts.getStore();
    if (context === undefined) {
      if (!(this.#contexts instanceof OneAtATime)) throw new Error("No context available");
      context = {};
      this.#contexts.run(context, () => {});
    }
    context[key] = value;
  }

  /**
   * Makes context the current invocation's, and runs fn.
   * @template T
   * @param {Context | undefined} context
   * @param {() => T} fn
   * @returns {T}
   */
  run(context, fn) {
    return this.#contexts.run(context, fn);
  }

  getRequestId() {
    return /** @type {string | undefined} */ (this.get(PROTECTED_KEYS.REQUEST_ID)) ?? "-";
  }

  getXRayTraceId() {
    return /** @type {string | undefined} */ (this.get(PROTECTED_KEYS.X_RAY_TRACE_ID));
  }

  getTenantId() {
    return /** @type {string | undefined} */ (this.get(PROTECTED_KEYS.TENANT_ID));
  }

  getTraceparent() {
    return /** @type {string | undefined} */ (this.get(PROTECTED_KEYS.TRACEPARENT));
  }

  getTracestate() {
    return /** @type {string | undefined} */ (this.get(PROTECTED_KEYS.TRACESTATE));
  }

  getBaggage() {
    return /** @type {string | undefined} */ (this.get(PROTECTED_KEYS.BAGGAGE));
  }
}

/** The runtime's store, published as globalThis.awslambda.InvokeStore unless told not to. */
let store = new InvokeStore();

/**
 * Readies the store before the function is imported: one kept through
 * AsyncLocalStorage when invocations run concurrently. It goes at
 * globalThis.awslambda.InvokeStore unless AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA
 * is 1 or true (as on Node.js, where the function's copy then keeps a store of
 * its own, empty); the runtime keeps using it for its log records either way.
 */
export async function installInvokeStore(
  /** @type {string | undefined} */ noGlobal,
  /** @type {boolean} */ concurrent,
) {
  if (concurrent) {
    const { AsyncLocalStorage } = await import("node:async_hooks");
    store = new InvokeStore(/** @type {Contexts} */ (new AsyncLocalStorage()));
  }
  if (noGlobal === "1" || noGlobal === "true") return;
  const g = /** @type {{ awslambda?: { InvokeStore?: InvokeStore } }} */ (globalThis);
  g.awslambda ??= {};
  g.awslambda.InvokeStore = store;
}

/** The request id of the invocation running now; undefined outside one. */
export function currentRequestId() {
  return /** @type {string | undefined} */ (store.get(PROTECTED_KEYS.REQUEST_ID));
}

/** The tenant id of the invocation running now; undefined outside one, or without one. */
export function currentTenantId() {
  return /** @type {string | undefined} */ (store.get(PROTECTED_KEYS.TENANT_ID));
}

/**
 * Runs fn as the invocation of those ids, in the store when there is one.
 * @template T
 * @param {{ requestId: string, traceId: string | null, tenantId: string | undefined }} ids
 * @param {() => T} fn
 * @returns {T}
 */
export function withInvocation(ids, fn) {
  return store.run({
    [PROTECTED_KEYS.REQUEST_ID]: ids.requestId,
    [PROTECTED_KEYS.X_RAY_TRACE_ID]: ids.traceId ?? undefined,
    [PROTECTED_KEYS.TENANT_ID]: ids.tenantId,
  }, fn);
}

/** Leaves the store with no invocation, as before the first. */
export function clearInvocation() {
  store.run(undefined, () => {});
}
