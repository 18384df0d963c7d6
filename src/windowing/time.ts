//! Instants as ms numbers, saturating at the ends of the `Date` range instead of overflowing (API.md §4, §13).
import { inspect, types } from "node:util";

/** The smallest instant a `Date` can hold, in ms since the epoch. */
export const MIN_MS = -8.64e15;
/** The largest instant a `Date` can hold, in ms since the epoch. */
export const MAX_MS = 8.64e15;

/** The beginning of time: `new Date(-8.64e15)`. Watermarks start here. */
export const UTC_MIN: Date = new Date(MIN_MS);
/** The end of time: `new Date(8.64e15)`. Clocks return it at EOF, which closes every window. */
export const UTC_MAX: Date = new Date(MAX_MS);

/** Clamps ms to the `Date` range; ±Infinity saturates. */
export function clampMs(ms: number): number {
  return ms < MIN_MS ? MIN_MS : ms > MAX_MS ? MAX_MS : ms;
}

/** `atMs + deltaMs`, saturating (`deltaMs` may be ±Infinity). */
export function addMs(atMs: number, deltaMs: number): number {
  return clampMs(atMs + deltaMs);
}

/** `atMs − deltaMs`, saturating (`deltaMs` may be ±Infinity). */
export function subMs(atMs: number, deltaMs: number): number {
  return clampMs(atMs - deltaMs);
}

/** `at + deltaMs` as a new `Date`, saturating at `UTC_MIN`/`UTC_MAX`. */
export function addToDate(at: Date, deltaMs: number): Date {
  return new Date(addMs(at.getTime(), deltaMs));
}

/** `at − deltaMs` as a new `Date`, saturating at `UTC_MIN`/`UTC_MAX`. */
export function subFromDate(at: Date, deltaMs: number): Date {
  return new Date(subMs(at.getTime(), deltaMs));
}

const { isDate } = types;

/** A `Date` (from any realm) holding an instant, i.e. not `Invalid Date`. */
export function isValidDate(x: unknown): x is Date {
  // instanceof first: util.types.isDate is a native call, and this runs per value
  return (x instanceof Date || isDate(x)) && !Number.isNaN((x as Date).getTime());
}

/** A duration option: a non-negative whole number of ms, or `Infinity` when `allowInfinity`. */
export function isDurationMs(x: unknown, allowInfinity: boolean): x is number {
  return typeof x === "number" && x >= 0 && (Number.isSafeInteger(x) || (allowInfinity && x === Infinity));
}

/** Short rendering of a value for error messages. */
export function show(x: unknown): string {
  if (isValidDate(x)) return x.toISOString();
  return inspect(x, { depth: 1, breakLength: Infinity, maxArrayLength: 5, maxStringLength: 60 });
}
