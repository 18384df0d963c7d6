//! Runs a generator of steps synchronously until one yields a Promise, then asynchronously.
//!
//! The window driver MUST stay synchronous (no microtask turn) when every user callback is, yet accept async
//! window logics (API.md §1, §4). Its methods are written once, as generators that `yield` only the Promises
//! user callbacks return; `runSteps` returns the plain result when nothing was yielded.
import type { Awaitable } from "../types.js";

/** A computation that yields the Promises it waits on and returns `R`. */
export type Steps<R> = Generator<PromiseLike<unknown>, R, unknown>;

export function runSteps<R>(steps: Steps<R>): Awaitable<R> {
  const first = steps.next();
  return first.done ? first.value : finishAsync(steps, first.value);
}

async function finishAsync<R>(steps: Steps<R>, pending: PromiseLike<unknown>): Promise<R> {
  for (;;) {
    // Only a rejection of `pending` goes back into the generator; an error thrown by the generator itself propagates.
    let outcome: { ok: true; value: unknown } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: await pending };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const step = outcome.ok ? steps.next(outcome.value) : steps.throw(outcome.error);
    if (step.done) return step.value;
    pending = step.value;
  }
}
