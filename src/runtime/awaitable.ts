// Sequencing that stays synchronous while user code is, and turns async only when it returns a Promise.
import { isPromiseLike, type Awaitable } from "../types.js";

/** `f(x)`, now if `x` is a plain value, after it settles if it is a Promise. */
export function andThen<T, R>(x: Awaitable<T>, f: (v: T) => Awaitable<R>): Awaitable<R> {
  return isPromiseLike(x) ? Promise.resolve(x).then(f) : f(x);
}

/**
 * Calls `f` on every item in order. Results that are Promises are awaited together (calls may
 * overlap, as API.md §12 allows); the returned array keeps input order.
 */
export function mapAll<T, R>(items: readonly T[], f: (x: T) => Awaitable<R>): Awaitable<R[]> {
  const out = new Array<Awaitable<R>>(items.length);
  let async = false;
  for (let i = 0; i < items.length; i++) {
    const r = f(items[i]!);
    if (!async && isPromiseLike(r)) async = true;
    out[i] = r;
  }
  return async ? Promise.all(out) : (out as R[]);
}

/** Runs `f` on each item one after another, waiting for each Promise before the next call. */
export function forEachInOrder<T>(items: readonly T[], f: (x: T) => Awaitable<void>): Awaitable<void> {
  for (let i = 0; i < items.length; i++) {
    const r = f(items[i]!);
    if (isPromiseLike(r)) {
      return Promise.resolve(r).then(() => forEachInOrder(items.slice(i + 1), f));
    }
  }
  return undefined;
}
