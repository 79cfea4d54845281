// @ts-check
// The per-invocation store AWS's Node.js runtime keeps at
// globalThis.awslambda.InvokeStore (the interface of @aws/lambda-invoke-store),
// where the AWS SDK, through its own copy of that package, reads the X-Ray
// trace id it passes on. A function's copy finds this one there, and reads
// the runtime's keys, which are registered symbols. Hand-written, as all of
// runtime.js is: the package cannot be imported here without a bundler.
//
// One invocation at a time, as in the package's single-context mode: run()
// makes its context the current one, until the next.

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

/** The store: the interface of the package's instances, one invocation's context at a time. */
export class InvokeStore {
  static PROTECTED_KEYS = PROTECTED_KEYS;
  /** @type {Context | undefined} */
  #context;

  getContext() {
    return this.#context;
  }

  hasContext() {
    return this.#context !== undefined;
  }

  /** @param {string | symbol} key */
  get(key) {
    return this.#context?.[key];
  }

  /** A key of the function's own; the runtime's keys cannot be changed. */
  set(/** @type {string | symbol} */ key, /** @type {unknown} */ value) {
    if (protectedKeys.has(/** @type {symbol} */ (key))) {
      throw new Error(`Cannot modify protected Lambda context field: ${String(key)}`);
    }
    this.#context ??= {};
    this.#context[key] = value;
  }

  /**
   * Makes context the current invocation's, and runs fn.
   * @template T
   * @param {Context | undefined} context
   * @param {() => T} fn
   * @returns {T}
   */
  run(context, fn) {
    this.#context = context;
    return fn();
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

/** The runtime's store; undefined when AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA turns the global off. */
let store = /** @type {InvokeStore | undefined} */ (undefined);

/**
 * Puts the store at globalThis.awslambda.InvokeStore, before the function is
 * imported, unless AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA is 1 or true (as on
 * Node.js, where the function's copy then keeps a store of its own, empty).
 */
export function installInvokeStore(/** @type {string | undefined} */ noGlobal) {
  if (noGlobal === "1" || noGlobal === "true") return;
  const g = /** @type {{ awslambda?: { InvokeStore?: InvokeStore } }} */ (globalThis);
  g.awslambda ??= {};
  store = g.awslambda.InvokeStore ??= new InvokeStore();
}

/** Runs fn as the invocation of those ids, in the store when there is one. */
export function withInvocation(
  /** @type {{ requestId: string, traceId: string | null, tenantId: string | undefined }} */ ids,
  /** @type {() => Promise<unknown>} */ fn,
) {
  if (!store) return fn();
  return store.run({
    [PROTECTED_KEYS.REQUEST_ID]: ids.requestId,
    [PROTECTED_KEYS.X_RAY_TRACE_ID]: ids.traceId ?? undefined,
    [PROTECTED_KEYS.TENANT_ID]: ids.tenantId,
  }, fn);
}

/** Leaves the store with no invocation, as before the first. */
export function clearInvocation() {
  store?.run(undefined, () => {});
}
