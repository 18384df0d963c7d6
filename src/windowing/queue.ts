//! The window driver's queue of on-time values waiting to be played into their windows (API.md §4, step 2).
import { MinHeap } from "./heap.js";
import { show } from "./time.js";

export interface QueuedValue<V> {
  readonly value: V;
  /** The clock's `Date`, or `undefined` when the value came through the ms lane (see `tsOf`). */
  readonly ts: Date | undefined;
  readonly tsMs: number;
  /** Arrival order, to keep equal timestamps stable. */
  readonly seq: number;
}

/** Snapshot form: `[value, timestampMs]`, in the order values leave the queue. */
export type QueueState<V> = [value: V, tsMs: number][];

/**
 * Ordered: values leave once the watermark reaches their timestamp, in stable timestamp order (a heap, so each
 * flush costs O(k log n), not a scan of everything waiting). Unordered: every value leaves at the next flush,
 * in arrival order.
 */
export class WindowQueue<V> {
  // Per key: only the mode's own container (the heap's comparator is shared by all queues).
  readonly #heap: MinHeap<QueuedValue<V>> | undefined;
  #arrivals: QueuedValue<V>[] = [];
  #seq = 0;

  constructor(ordered: boolean, state?: QueueState<V>) {
    this.#heap = ordered ? new MinHeap<QueuedValue<V>>(queuedBefore) : undefined;
    if (state !== undefined) {
      if (!Array.isArray(state)) throw new TypeError(`window queue: invalid resume state ${show(state)}`);
      for (const [value, tsMs] of state) this.pushMs(value, tsMs);
    }
  }

  get size(): number {
    return this.#heap !== undefined ? this.#heap.size : this.#arrivals.length;
  }

  push(value: V, ts: Date): void {
    this.#add({ value, ts, tsMs: ts.getTime(), seq: this.#seq++ });
  }

  pushMs(value: V, tsMs: number): void {
    this.#add({ value, ts: undefined, tsMs, seq: this.#seq++ });
  }

  #add(entry: QueuedValue<V>): void {
    if (this.#heap !== undefined) this.#heap.push(entry);
    else this.#arrivals.push(entry);
  }

  /** The values due at `watermarkMs`, removed from the queue in the order they are to be played. */
  takeDue(watermarkMs: number): QueuedValue<V>[] {
    const heap = this.#heap;
    if (heap === undefined) {
      if (this.#arrivals.length === 0) return NOTHING_DUE as QueuedValue<V>[];
      const due = this.#arrivals;
      this.#arrivals = [];
      return due;
    }
    const first = heap.peek();
    if (first === undefined || first.tsMs > watermarkMs) return NOTHING_DUE as QueuedValue<V>[];
    const due: QueuedValue<V>[] = [];
    for (let top = heap.peek(); top !== undefined && top.tsMs <= watermarkMs; top = heap.peek()) {
      due.push(top);
      heap.pop();
    }
    return due;
  }

  /** In ordered mode, the waiting value with the earliest timestamp. */
  oldest(): QueuedValue<V> | undefined {
    return this.#heap?.peek();
  }

  toState(): QueueState<V> {
    const entries = this.#heap !== undefined ? this.#heap.sorted() : this.#arrivals;
    return entries.map((e) => [e.value, e.tsMs]);
  }
}

// Returned (never modified) when nothing is due: most activations of a key find nothing queued.
const NOTHING_DUE: readonly QueuedValue<unknown>[] = Object.freeze([]);

/** A queued value's timestamp as a `Date`. */
export function tsOf<V>(entry: QueuedValue<V>): Date {
  return entry.ts ?? new Date(entry.tsMs);
}

function queuedBefore<V>(a: QueuedValue<V>, b: QueuedValue<V>): boolean {
  return a.tsMs < b.tsMs || (a.tsMs === b.tsMs && a.seq < b.seq);
}
