//! Windowers: which windows a timestamp falls in, and when windows close (API.md §4).
import type { Nullish } from "../types.js";
import type { WindowMetadata } from "./metadata.js";

/**
 * The per-key logic of a windower. Window ids are integers. Every method MUST be synchronous.
 */
export interface WindowerLogic<S> {
  /** Opens (or reuses) the windows `ts` falls in and returns their ids. Called for values that are not late. */
  openFor(ts: Date): Iterable<number>;
  /** The ids a late value would have been in; keeps no state. */
  lateFor(ts: Date): Iterable<number>;
  /** Merges since the last call, as `[originalId, targetId]`; each original is reported once and never closes. */
  merged(): Iterable<[originalId: number, targetId: number]>;
  /** Closes and returns the windows the watermark has passed. Watermarks passed here never decrease. */
  closeFor(watermark: Date): Iterable<[number, WindowMetadata]>;
  /** The earliest event time at which a window might close; nullish: none open. */
  notifyAt(): Date | Nullish;
  /** No state worth keeping: the driver may drop the key. */
  isEmpty(): boolean;
  snapshot(): S;
}

/** A kind of window. Custom windowers MUST extend this class; `build` makes one logic per key. */
export abstract class Windower<S> {
  abstract build(resumeState: S | undefined): WindowerLogic<S>;
}
