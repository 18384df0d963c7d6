// Wraps user callbacks so that a throw or a rejection becomes a WeirError naming the step and callback.
import { callbackError, WeirError, type WeirErrorCode } from "../errors.js";
import { isPromiseLike, type Awaitable } from "../types.js";

/** `guard` for one-argument callbacks, without rest-argument allocation on the per-item path. */
export function guard1<X, R>(stepId: string, callback: string, f: (x: X) => Awaitable<R>, code: WeirErrorCode = "CALLBACK_ERROR"): (x: X) => Awaitable<R> {
  if (typeof f !== "function") {
    throw new WeirError("INVALID_ARGUMENT", `step '${stepId}': '${callback}' must be a function, got ${typeof f}`, { stepId });
  }
  const wrap = (e: unknown): never => {
    throw callbackError(stepId, callback, e, code);
  };
  return (x: X) => {
    let r: Awaitable<R>;
    try {
      r = f(x);
    } catch (e) {
      return wrap(e);
    }
    return isPromiseLike(r) ? Promise.resolve(r).catch(wrap) : r;
  };
}

export function guard<A extends unknown[], R>(
  stepId: string, callback: string, f: (...args: A) => Awaitable<R>, code: WeirErrorCode = "CALLBACK_ERROR",
): (...args: A) => Awaitable<R> {
  if (typeof f !== "function") {
    throw new WeirError("INVALID_ARGUMENT", `step '${stepId}': '${callback}' must be a function, got ${typeof f}`, { stepId });
  }
  return (...args: A) => {
    let r: Awaitable<R>;
    try {
      r = f(...args);
    } catch (e) {
      throw callbackError(stepId, callback, e, code);
    }
    if (isPromiseLike(r)) {
      return Promise.resolve(r).catch((e: unknown) => {
        throw callbackError(stepId, callback, e, code);
      });
    }
    return r;
  };
}

/** A synchronous-only callback: a Promise from it is INVALID_RETURN. */
export function guardSync<A extends unknown[], R>(stepId: string, callback: string, f: (...args: A) => R): (...args: A) => R {
  const g = guard(stepId, callback, f);
  return (...args: A) => {
    const r = g(...args);
    if (isPromiseLike(r)) {
      const cause = new TypeError(`'${callback}' in step '${stepId}' must be synchronous but returned a Promise`);
      throw new WeirError("INVALID_RETURN", cause.message, { cause, stepId });
    }
    return r as R;
  };
}

/** Checks that `item` is a `[string, value]` pair (INVALID_KEY otherwise). */
export function checkKeyed(stepId: string, item: unknown): [string, unknown] {
  if (!Array.isArray(item) || item.length !== 2 || typeof item[0] !== "string") {
    const what = Array.isArray(item)
      ? (item.length !== 2 ? `an array of length ${item.length}` : `a pair whose key is ${typeOf(item[0])}`)
      : typeOf(item);
    const cause = new TypeError(`step '${stepId}' expects [string key, value] pairs, got ${what}`);
    throw new WeirError("INVALID_KEY", cause.message, { cause, stepId });
  }
  return item as [string, unknown];
}

export function typeOf(x: unknown): string {
  if (x === null) return "null";
  if (Array.isArray(x)) return "an array";
  if (typeof x === "object") return `an object (${(x as object).constructor?.name ?? "Object"})`;
  return `a ${typeof x}`;
}
