//! The window logics of the built-in window operators (API.md §4): fold (and count, collect), reduce, max/min, join.
//!
//! User callbacks are tagged with their names (`folder`, `merger`, …) so errors name them, not the logic method.
import type { Awaitable, Comparable } from "../types.js";
import { isPromiseLike } from "../types.js";
import type { WindowLogic, WindowLogicBuilder } from "./driver.js";
import { ReturnFault, callUser, fault, rejectPromise, settle } from "./faults.js";
import { show } from "./time.js";

export type JoinInsertMode = "first" | "last" | "product";
export type JoinEmitMode = "complete" | "final" | "running";

const NONE: readonly never[] = Object.freeze([]);

// ---------------------------------------------------------------------------------------------------------
// fold

interface FoldCallbacks<V, S> {
  readonly folder: (acc: S, value: V) => Awaitable<S>;
  readonly merger: (target: S, original: S) => Awaitable<S>;
}

/** A fold window's snapshot (wrapped, so an `undefined` accumulator survives a resume). */
export interface FoldState<S> {
  acc: S;
}

class FoldWindowLogic<V, S> implements WindowLogic<V, S, FoldState<S>> {
  readonly #callbacks: FoldCallbacks<V, S>;
  #acc: S;

  constructor(callbacks: FoldCallbacks<V, S>, acc: S) {
    this.#callbacks = callbacks;
    this.#acc = acc;
  }

  onValue(value: V): Awaitable<Iterable<S>> {
    let next: Awaitable<S>;
    try {
      next = this.#callbacks.folder(this.#acc, value); // the hot path: no closure per value
    } catch (err) {
      throw fault("folder", err);
    }
    return this.#update("folder", next);
  }

  onMerge(original: this): Awaitable<Iterable<S>> {
    return this.#update("merger", callUser("merger", () => this.#callbacks.merger(this.#acc, original.#acc)));
  }

  onClose(): Iterable<S> {
    return [this.#acc];
  }

  snapshot(): FoldState<S> {
    return { acc: this.#acc };
  }

  #update(callback: string, next: Awaitable<S>): Awaitable<Iterable<S>> {
    if (!isPromiseLike(next)) {
      this.#acc = next;
      return NONE;
    }
    return settle(callback, next).then((acc) => {
      this.#acc = acc;
      return NONE;
    });
  }
}

/** `builder()` per window, `folder` per value, `merger(target, original)` on merges; emits the accumulator on close. */
export function foldLogic<V, S>(builder: () => Awaitable<S>, folder: (acc: S, value: V) => Awaitable<S>,
  merger: (target: S, original: S) => Awaitable<S>): WindowLogicBuilder<V, S, FoldState<S>> {
  const callbacks: FoldCallbacks<V, S> = { folder, merger };
  return (resume) => {
    if (resume !== undefined) return new FoldWindowLogic(callbacks, resume.acc);
    const initial = callUser("builder", builder);
    return isPromiseLike(initial)
      ? settle("builder", initial).then((acc) => new FoldWindowLogic(callbacks, acc))
      : new FoldWindowLogic(callbacks, initial);
  };
}

/** Counts values per window. */
export function countLogic<V>(): WindowLogicBuilder<V, number, FoldState<number>> {
  return foldLogic<V, number>(() => 0, (count) => count + 1, (target, original) => target + original);
}

// ---------------------------------------------------------------------------------------------------------
// collect

export type CollectInto = ArrayConstructor | SetConstructor | MapConstructor;

export type Collected<V> = V[] | Set<V> | Map<unknown, unknown>;

/** Collects values in flush order into an `Array`, a `Set`, or a `Map` of `[k, v]` values; merges append the original. */
export function collectLogic<V>(into: CollectInto): WindowLogicBuilder<V, Collected<V>, FoldState<Collected<V>>> {
  return collectFold<V>(into) as unknown as WindowLogicBuilder<V, Collected<V>, FoldState<Collected<V>>>;
}

function collectFold<V>(into: CollectInto): unknown {
  if (into === Array) {
    return foldLogic<V, V[]>(() => [], (items, value) => {
      items.push(value);
      return items;
    }, (target, original) => {
      for (const value of original) target.push(value);
      return target;
    });
  }
  if (into === Set) {
    return foldLogic<V, Set<V>>(() => new Set(), (items, value) => items.add(value), (target, original) => {
      for (const value of original) target.add(value);
      return target;
    });
  }
  if (into === Map) {
    return foldLogic<V, Map<unknown, unknown>>(() => new Map(), (entries, value) => {
      if (!Array.isArray(value) || value.length !== 2) {
        throw new ReturnFault("collectWindow", `received ${show(value)}; collecting into a Map needs [key, value] pairs`);
      }
      return entries.set(value[0], value[1]);
    }, (target, original) => {
      for (const [k, v] of original) target.set(k, v);
      return target;
    });
  }
  throw new TypeError(`collectLogic: unsupported 'into' ${show(into)}`);
}

// ---------------------------------------------------------------------------------------------------------
// reduce

/** A reduce window's snapshot. */
export interface ReduceState<V> {
  has: boolean;
  acc: V | undefined;
}

class ReduceWindowLogic<V> implements WindowLogic<V, V, ReduceState<V>> {
  readonly #reducer: (acc: V, value: V) => Awaitable<V>;
  #has: boolean;
  #acc: V | undefined;

  constructor(reducer: (acc: V, value: V) => Awaitable<V>, state: ReduceState<V>) {
    this.#reducer = reducer;
    this.#has = state.has;
    this.#acc = state.acc;
  }

  onValue(value: V): Awaitable<Iterable<V>> {
    return this.#combine(value);
  }

  onMerge(original: this): Awaitable<Iterable<V>> {
    return original.#has ? this.#combine(original.#acc as V) : NONE;
  }

  onClose(): Iterable<V> {
    return this.#has ? [this.#acc as V] : NONE;
  }

  snapshot(): ReduceState<V> {
    return { has: this.#has, acc: this.#acc };
  }

  #combine(value: V): Awaitable<Iterable<V>> {
    if (!this.#has) {
      this.#has = true;
      this.#acc = value;
      return NONE;
    }
    const next = callUser("reducer", () => this.#reducer(this.#acc as V, value));
    if (!isPromiseLike(next)) {
      this.#acc = next;
      return NONE;
    }
    return settle("reducer", next).then((acc) => {
      this.#acc = acc;
      return NONE;
    });
  }
}

/** The first value of a window seeds the accumulator; `reducer` folds the rest and merges windows. */
export function reduceLogic<V>(reducer: (acc: V, value: V) => Awaitable<V>): WindowLogicBuilder<V, V, ReduceState<V>> {
  return (resume) => new ReduceWindowLogic(reducer, resume ?? { has: false, acc: undefined });
}

// ---------------------------------------------------------------------------------------------------------
// max / min

class ExtremeWindowLogic<V> implements WindowLogic<V, V, ReduceState<V>> {
  readonly #by: (value: V) => Comparable;
  readonly #beats: (challenger: Comparable, incumbent: Comparable) => boolean;
  #has = false;
  #best: V | undefined;
  #bestKey: Comparable | undefined;

  constructor(by: (value: V) => Comparable, beats: (challenger: Comparable, incumbent: Comparable) => boolean, resume: ReduceState<V> | undefined) {
    this.#by = by;
    this.#beats = beats;
    if (resume?.has) this.#offer(resume.acc as V, this.#key(resume.acc as V));
  }

  onValue(value: V): Iterable<V> {
    this.#offer(value, this.#key(value));
    return NONE;
  }

  onMerge(original: this): Iterable<V> {
    // The target opened first: on a tie it keeps its own, the earlier value.
    if (original.#has) this.#offer(original.#best as V, original.#bestKey as Comparable);
    return NONE;
  }

  onClose(): Iterable<V> {
    return this.#has ? [this.#best as V] : NONE;
  }

  snapshot(): ReduceState<V> {
    return { has: this.#has, acc: this.#best };
  }

  #offer(value: V, key: Comparable): void {
    if (!this.#has || this.#beats(key, this.#bestKey as Comparable)) {
      this.#has = true;
      this.#best = value;
      this.#bestKey = key;
    }
  }

  #key(value: V): Comparable {
    return rejectPromise("by", callUser("by", () => this.#by(value)));
  }
}

function identity<V>(value: V): Comparable {
  return value as Comparable;
}

/** The largest value per window by `by` (default identity, which MUST be synchronous); ties keep the earliest. */
export function maxLogic<V>(by: (value: V) => Comparable = identity): WindowLogicBuilder<V, V, ReduceState<V>> {
  return (resume) => new ExtremeWindowLogic(by, (challenger, incumbent) => challenger > incumbent, resume);
}

/** The smallest value per window by `by`; ties keep the earliest. */
export function minLogic<V>(by: (value: V) => Comparable = identity): WindowLogicBuilder<V, V, ReduceState<V>> {
  return (resume) => new ExtremeWindowLogic(by, (challenger, incumbent) => challenger < incumbent, resume);
}

// ---------------------------------------------------------------------------------------------------------
// join

/** A join window's snapshot: the values kept per side. */
export interface JoinState {
  seen: unknown[][];
}

class JoinWindowLogic implements WindowLogic<[number, unknown], unknown[], JoinState> {
  readonly #insertMode: JoinInsertMode;
  readonly #emitMode: JoinEmitMode;
  #seen: unknown[][];

  constructor(insertMode: JoinInsertMode, emitMode: JoinEmitMode, seen: unknown[][]) {
    this.#insertMode = insertMode;
    this.#emitMode = emitMode;
    this.#seen = seen;
  }

  onValue([side, value]: [number, unknown]): Iterable<unknown[]> {
    const values = this.#seen[side] as unknown[];
    if (this.#insertMode === "product") values.push(value);
    else if (this.#insertMode === "last") this.#seen[side] = [value];
    else if (values.length === 0) values.push(value);
    return this.#emitChanged();
  }

  onMerge(original: this): Iterable<unknown[]> {
    const theirs = original.#seen;
    this.#seen = this.#seen.map((ours, side) => {
      const other = theirs[side] ?? [];
      if (this.#insertMode === "product") return [...ours, ...other];
      if (this.#insertMode === "first") return ours.length > 0 ? ours : other;
      return other.length > 0 ? other : ours;
    });
    return this.#emitChanged();
  }

  onClose(): Iterable<unknown[]> {
    return this.#emitMode === "final" ? joinRows(this.#seen) : NONE;
  }

  snapshot(): JoinState {
    return { seen: this.#seen.map((values) => [...values]) };
  }

  #emitChanged(): Iterable<unknown[]> {
    if (this.#emitMode === "running") return joinRows(this.#seen);
    if (this.#emitMode === "complete" && this.#seen.every((values) => values.length > 0)) {
      const rows = joinRows(this.#seen);
      this.#seen = this.#seen.map(() => []);
      return rows;
    }
    return NONE;
  }
}

/** The cartesian product over sides in order, earlier values first; an empty side contributes one `undefined`. */
export function joinRows(seen: readonly (readonly unknown[])[]): unknown[][] {
  let rows: unknown[][] = [[]];
  for (const values of seen) {
    const choices = values.length > 0 ? values : [undefined];
    const next: unknown[][] = [];
    for (const row of rows) for (const value of choices) next.push([...row, value]);
    rows = next;
  }
  return rows;
}

/** API.md §3.2 per window over values `[sideIndex, value]`. */
export function joinLogic(sideCount: number, insertMode: JoinInsertMode, emitMode: JoinEmitMode):
  WindowLogicBuilder<[number, unknown], unknown[], JoinState> {
  return (resume) => new JoinWindowLogic(insertMode, emitMode,
    resume === undefined ? Array.from({ length: sideCount }, () => []) : resume.seen.map((values) => [...values]));
}
