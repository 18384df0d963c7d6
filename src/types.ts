/** A value or a Promise of it: most user callbacks may be async (API.md §1). */
export type Awaitable<T> = T | PromiseLike<T>;
export type Nullish = null | undefined;
/** Values ordered by JavaScript `<` and `>`. */
export type Comparable = number | string | bigint | Date;

export function isPromiseLike(x: unknown): x is PromiseLike<unknown> {
  return x !== null && (typeof x === "object" || typeof x === "function") && typeof (x as { then?: unknown }).then === "function";
}
