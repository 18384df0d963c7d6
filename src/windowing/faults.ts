//! How failures of user code inside clocks, windowers and window logics reach the step that owns them.
//!
//! Clocks and logics do not know their step id; they throw these, and the window driver turns them into
//! `WeirError`s naming the step and the user's callback (`tsGetter`, `folder`, …), as API.md §10 requires.
import { WeirError, callbackError, invalidReturn } from "../errors.js";
import { isPromiseLike } from "../types.js";
import { show } from "./time.js";

/** A user callback threw (or rejected); `callback` is its user-facing name. */
export class CallbackFault extends Error {
  override name = "CallbackFault";
  constructor(readonly callback: string, cause: unknown) {
    super(`error calling '${callback}'`, { cause });
  }
}

/** A user callback returned the wrong shape. A `TypeError`, so direct callers (tests) can catch it as one. */
export class ReturnFault extends TypeError {
  override name = "ReturnFault";
  constructor(readonly callback: string, readonly what: string) {
    super(`'${callback}' ${what}`);
  }
}

/** The `WeirError` for `err`, thrown while the driver of `stepId` was calling `callback`. */
export function stepError(stepId: string, callback: string, err: unknown): WeirError {
  if (err instanceof WeirError) return err;
  if (err instanceof ReturnFault) return invalidReturn(stepId, err.callback, err.what);
  if (err instanceof CallbackFault) return callbackError(stepId, err.callback, err.cause);
  return callbackError(stepId, callback, err);
}

/** Calls `fn`, tagging what it throws with the callback's name. */
export function callUser<R>(callback: string, fn: () => R): R {
  try {
    return fn();
  } catch (err) {
    throw fault(callback, err);
  }
}

/** What `err`, thrown by user callback `callback`, becomes (faults already tagged pass through). */
export function fault(callback: string, err: unknown): Error {
  return err instanceof CallbackFault || err instanceof ReturnFault ? err : new CallbackFault(callback, err);
}

/** For callbacks that MUST be synchronous (API.md §1): a Promise from them is `INVALID_RETURN`. */
export function rejectPromise<R>(callback: string, result: R): R {
  if (isPromiseLike(result)) throw new ReturnFault(callback, "returned a Promise; it must be synchronous");
  return result;
}

/** Awaits an async callback result, tagging a rejection with the callback's name. */
export function settle<R>(callback: string, pending: PromiseLike<R>): Promise<R> {
  return Promise.resolve(pending).catch((err: unknown) => {
    throw err instanceof CallbackFault || err instanceof ReturnFault || err instanceof WeirError
      ? err
      : new CallbackFault(callback, err);
  });
}

/** `INVALID_RETURN` detail for a value that should have been a valid `Date`. */
export function notADate(x: unknown): string {
  return isPromiseLike(x) ? "returned a Promise; it must be synchronous" : `returned ${show(x)}; expected a valid Date`;
}
