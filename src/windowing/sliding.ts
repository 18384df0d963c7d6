//! Sliding and tumbling windows: fixed-length windows starting every `offsetMs` from `alignTo` (API.md §4).
import { invalidArgument } from "../errors.js";
import { MinHeap } from "./heap.js";
import { type WindowMetadata, windowMetadata } from "./metadata.js";
import { MAX_MS, MIN_MS, clampMs, isValidDate, show } from "./time.js";
import { Windower, type WindowerLogic } from "./windower.js";
import { MS_LANE, type MsWindower } from "./ms-lane.js";

/**
 * Windows of `lengthMs` starting every `offsetMs`: window `i` (any integer, negative before `alignTo`) is
 * `[alignTo + i·offsetMs, alignTo + i·offsetMs + lengthMs)`. With `offsetMs < lengthMs` windows overlap and a
 * value can fall in several. Requires `0 < offsetMs ≤ lengthMs`, whole ms, and a valid `alignTo`.
 *
 * @example
 * // 10 s windows every 5 s, aligned to midnight UTC.
 * new SlidingWindower({ lengthMs: 10_000, offsetMs: 5_000, alignTo: new Date("2024-01-01T00:00:00Z") });
 */
export class SlidingWindower extends Windower<unknown> {
  readonly lengthMs: number;
  readonly offsetMs: number;
  readonly alignTo: Date;

  constructor(opts: { lengthMs: number; offsetMs: number; alignTo: Date }) {
    super();
    const { lengthMs, offsetMs, alignTo } = options("SlidingWindower", opts, "{ lengthMs, offsetMs, alignTo }");
    checkPositiveMs("SlidingWindower", "lengthMs", lengthMs);
    checkPositiveMs("SlidingWindower", "offsetMs", offsetMs);
    if (offsetMs > lengthMs) {
      throw invalidArgument(`SlidingWindower: option 'offsetMs' (${offsetMs}) must not exceed 'lengthMs' (${lengthMs}); ` +
        "windows would leave gaps and lose values");
    }
    checkAlignTo("SlidingWindower", alignTo);
    this.lengthMs = lengthMs;
    this.offsetMs = offsetMs;
    this.alignTo = new Date(alignTo.getTime());
  }

  build(resumeState: unknown): WindowerLogic<SlidingWindowerState> {
    return new SlidingWindowerLogic(this.lengthMs, this.offsetMs, this.alignTo.getTime(), resumeState);
  }
}

/**
 * Back-to-back windows of `lengthMs` (a `SlidingWindower` with `offsetMs = lengthMs`): each value falls in
 * exactly one.
 *
 * @example
 * new TumblingWindower({ lengthMs: 60_000, alignTo: new Date("2024-01-01T00:00:00Z") });
 */
export class TumblingWindower extends Windower<unknown> {
  readonly lengthMs: number;
  readonly alignTo: Date;

  constructor(opts: { lengthMs: number; alignTo: Date }) {
    super();
    const { lengthMs, alignTo } = options("TumblingWindower", opts, "{ lengthMs, alignTo }");
    checkPositiveMs("TumblingWindower", "lengthMs", lengthMs);
    checkAlignTo("TumblingWindower", alignTo);
    this.lengthMs = lengthMs;
    this.alignTo = new Date(alignTo.getTime());
  }

  build(resumeState: unknown): WindowerLogic<SlidingWindowerState> {
    return new SlidingWindowerLogic(this.lengthMs, this.lengthMs, this.alignTo.getTime(), resumeState);
  }
}

function options<O>(owner: string, opts: O, shape: string): O {
  if (typeof opts !== "object" || opts === null) throw invalidArgument(`${owner}: expected an options object ${shape}, got ${show(opts)}`);
  return opts;
}

function checkPositiveMs(owner: string, name: string, x: unknown): void {
  if (typeof x !== "number" || !Number.isSafeInteger(x) || x <= 0) {
    throw invalidArgument(`${owner}: option '${name}' must be a positive whole number of ms, got ${show(x)}`);
  }
}

function checkAlignTo(owner: string, x: unknown): void {
  if (!isValidDate(x)) throw invalidArgument(`${owner}: option 'alignTo' must be a valid Date, got ${show(x)}`);
}

/** Snapshot: the open window ids in the order they were opened (their bounds follow from the parameters). */
export interface SlidingWindowerState {
  opened: number[];
}

interface OpenWindow {
  readonly id: number;
  readonly seq: number;
  readonly openMs: number;
  readonly closeMs: number;
}

// Shared by every key's heap (a closure per windower would cost each key one).
function idBefore(a: OpenWindow, b: OpenWindow): boolean {
  return a.id < b.id;
}

// Returned (never modified) when no window closes, the common case.
const NOTHING_CLOSES: readonly [number, WindowMetadata][] = Object.freeze([]);

// Above this magnitude a difference of two Date instants may not be exact as a double; use BigInt.
const EXACT_LIMIT = 2 ** 52;

/** The logic of sliding and tumbling windowers; exported (not from the package) for tests. */
export class SlidingWindowerLogic implements WindowerLogic<SlidingWindowerState>, MsWindower {
  readonly [MS_LANE] = true as const;
  firstId = 0;
  lastId = -1;
  readonly #lengthMs: number;
  readonly #offsetMs: number;
  readonly #alignMs: number;
  // Open windows in opening order, and the same by id: close times grow with the id, so the heap's top closes first.
  readonly #open = new Map<number, OpenWindow>();
  readonly #byClose = new MinHeap<OpenWindow>(idBefore);
  #seq = 0;
  // The ids the last openRangeMs opened (or found open), while none of them has closed: consecutive values of a key
  // usually fall in the same windows, and then skip the per-id lookups. Empty (NaN) until set.
  #knownOpenFirst = NaN;
  #knownOpenLast = NaN;

  constructor(lengthMs: number, offsetMs: number, alignMs: number, resume: unknown) {
    this.#lengthMs = lengthMs;
    this.#offsetMs = offsetMs;
    this.#alignMs = alignMs;
    if (resume !== undefined) {
      const opened = (resume as Partial<SlidingWindowerState> | null)?.opened;
      if (!Array.isArray(opened) || !opened.every((id) => Number.isSafeInteger(id))) {
        throw new TypeError(`SlidingWindower: invalid resume state ${show(resume)}`);
      }
      for (const id of opened as number[]) this.#openWindow(id);
    }
  }

  /** The ids of the windows containing `tsMs`, ascending. */
  intersects(tsMs: number): number[] {
    this.lateRangeMs(tsMs);
    const ids: number[] = [];
    for (let id = this.firstId; id <= this.lastId; id++) ids.push(id);
    return ids;
  }

  openFor(ts: Date): number[] {
    const ids = this.intersects(ts.getTime());
    for (const id of ids) if (!this.#open.has(id)) this.#openWindow(id);
    return ids;
  }

  lateFor(ts: Date): number[] {
    return this.intersects(ts.getTime());
  }

  openRangeMs(tsMs: number): void {
    this.lateRangeMs(tsMs);
    if (this.firstId === this.#knownOpenFirst && this.lastId === this.#knownOpenLast) return;
    for (let id = this.firstId; id <= this.lastId; id++) if (!this.#open.has(id)) this.#openWindow(id);
    this.#knownOpenFirst = this.firstId;
    this.#knownOpenLast = this.lastId;
  }

  // Ids ⌊(ts − alignTo − length)/offset⌋ + 1 … ⌊(ts − alignTo)/offset⌋, computed exactly, into firstId…lastId
  // (fields rather than a returned pair: this runs once per value).
  lateRangeMs(tsMs: number): void {
    const sinceAlign = tsMs - this.#alignMs;
    if (Math.abs(sinceAlign) <= EXACT_LIMIT && this.#lengthMs <= EXACT_LIMIT) {
      this.firstId = Math.floor((sinceAlign - this.#lengthMs) / this.#offsetMs) + 1;
      this.lastId = Math.floor(sinceAlign / this.#offsetMs);
      return;
    }
    const exactSince = BigInt(tsMs) - BigInt(this.#alignMs);
    const offset = BigInt(this.#offsetMs);
    const first = Number(floorDiv(exactSince - BigInt(this.#lengthMs), offset) + 1n);
    const last = Number(floorDiv(exactSince, offset));
    if (!Number.isSafeInteger(first) || !Number.isSafeInteger(last)) {
      // Only with offsetMs 1 and a timestamp ~285,000 years from alignTo.
      throw new RangeError(`SlidingWindower: window ids for ${new Date(tsMs).toISOString()} exceed Number.MAX_SAFE_INTEGER`);
    }
    this.firstId = first;
    this.lastId = last;
  }

  merged(): [number, number][] {
    return [];
  }

  closeFor(watermark: Date): [number, WindowMetadata][] {
    return this.closeForMs(watermark.getTime());
  }

  closeForMs(watermarkMs: number): [number, WindowMetadata][] {
    const top = this.#byClose.peek();
    if (top === undefined || top.closeMs > watermarkMs) return NOTHING_CLOSES as [number, WindowMetadata][];
    const closing: OpenWindow[] = [];
    for (let top = this.#byClose.peek(); top !== undefined && top.closeMs <= watermarkMs; top = this.#byClose.peek()) {
      this.#byClose.pop();
      this.#open.delete(top.id);
      if (top.id >= this.#knownOpenFirst && top.id <= this.#knownOpenLast) this.#knownOpenFirst = this.#knownOpenLast = NaN;
      closing.push(top);
    }
    closing.sort((a, b) => a.seq - b.seq);
    return closing.map((w) => [w.id, windowMetadata(w.openMs, w.closeMs)]);
  }

  notifyAt(): Date | undefined {
    const at = this.notifyAtMs();
    return at === undefined ? undefined : new Date(at);
  }

  notifyAtMs(): number | undefined {
    return this.#byClose.peek()?.closeMs;
  }

  isEmpty(): boolean {
    return this.#open.size === 0;
  }

  snapshot(): SlidingWindowerState {
    return { opened: [...this.#open.keys()] };
  }

  #openWindow(id: number): void {
    const [openMs, closeMs] = this.#bounds(id);
    const window: OpenWindow = { id, seq: this.#seq++, openMs, closeMs };
    this.#open.set(id, window);
    this.#byClose.push(window);
  }

  // [alignTo + id·offset, … + length), saturated to the Date range.
  #bounds(id: number): [number, number] {
    const fromAlign = id * this.#offsetMs;
    const openMs = this.#alignMs + fromAlign;
    const closeMs = openMs + this.#lengthMs;
    // A double sum of exact integers is exact when the result is below 2^53 in magnitude.
    if (Number.isSafeInteger(fromAlign) && Number.isSafeInteger(openMs) && Number.isSafeInteger(closeMs)) {
      return [clampMs(openMs), clampMs(closeMs)];
    }
    const exactOpen = BigInt(this.#alignMs) + BigInt(id) * BigInt(this.#offsetMs);
    return [clampBig(exactOpen), clampBig(exactOpen + BigInt(this.#lengthMs))];
  }
}

function clampBig(ms: bigint): number {
  return ms < BigInt(MIN_MS) ? MIN_MS : ms > BigInt(MAX_MS) ? MAX_MS : Number(ms);
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}
