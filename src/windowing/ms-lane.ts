//! The built-in clocks' and windowers' fast lane: the same logic on ms numbers instead of `Date`s.
//!
//! The window driver takes it when both the clock logic and the windower logic of a key are built-ins
//! (they carry `MS_LANE`); custom ones keep the `Date` interfaces of API.md §4. Results are identical:
//! the lane only skips allocating and validating `Date`s and arrays per value.
import type { WindowMetadata } from "./metadata.js";

export const MS_LANE: unique symbol = Symbol("weir.windowing.msLane");

export interface MsClock<V> {
  readonly [MS_LANE]: true;
  /** `onItem` in ms: returns the value's timestamp and leaves the watermark after it in `lastWatermarkMs`. */
  stampMs(value: V): number;
  readonly lastWatermarkMs: number;
}

export interface MsWindower {
  readonly [MS_LANE]: true;
  /** `openFor` in ms: opens the windows of `tsMs` and leaves their ids as the range `firstId…lastId`. */
  openRangeMs(tsMs: number): void;
  /** `lateFor` in ms: leaves the ids as the range `firstId…lastId`. */
  lateRangeMs(tsMs: number): void;
  readonly firstId: number;
  readonly lastId: number;
  /** `closeFor` in ms. */
  closeForMs(watermarkMs: number): [number, WindowMetadata][];
  /** `notifyAt` in ms; `undefined`: no window open. */
  notifyAtMs(): number | undefined;
}

export function hasMsLane(x: object): boolean {
  return (x as { [MS_LANE]?: unknown })[MS_LANE] === true;
}
