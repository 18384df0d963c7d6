// Stateful logic (API.md §3.1) and the stateful operators composed on `statefulBatch`.
import { addPrimitive, builtin, expectStream, scopeFor, type KeyedStream } from "./dataflow.js";
import { invalidArgument, invalidReturn } from "./errors.js";
import { andThen, forEachInOrder } from "./runtime/awaitable.js";
import { guard, typeOf } from "./runtime/guard.js";
import { isPromiseLike, type Awaitable, type Comparable, type Nullish } from "./types.js";

export type LogicResult<W> = [emit: Iterable<W>, discard: boolean];

export abstract class StatefulBatchLogic<V, W, S> {
  static readonly RETAIN = false;
  static readonly DISCARD = true;
  abstract onBatch(values: V[]): Awaitable<LogicResult<W>>;
  onNotify(): Awaitable<LogicResult<W>> {
    return [[], false];
  }
  onEof(): Awaitable<LogicResult<W>> {
    return [[], false];
  }
  notifyAt(): Awaitable<Date | Nullish> {
    return undefined;
  }
  abstract snapshot(): Awaitable<S>;
}

export abstract class StatefulLogic<V, W, S> {
  static readonly RETAIN = false;
  static readonly DISCARD = true;
  abstract onItem(value: V): Awaitable<LogicResult<W>>;
  onNotify(): Awaitable<LogicResult<W>> {
    return [[], false];
  }
  onEof(): Awaitable<LogicResult<W>> {
    return [[], false];
  }
  notifyAt(): Awaitable<Date | Nullish> {
    return undefined;
  }
  abstract snapshot(): Awaitable<S>;
}

type Builder<L> = (resume: any) => Awaitable<L>;

/** The keyed stateful primitive: one logic per key, on the worker the key routes to. */
export function statefulBatch<V, W, S>(
  stepId: string, up: KeyedStream<V>, builder: (resume: S | undefined) => Awaitable<StatefulBatchLogic<V, W, S>>,
): KeyedStream<W> {
  const s = expectStream(up, stepId, "statefulBatch");
  const scope = scopeFor([s], stepId, "statefulBatch");
  if (typeof builder !== "function") throw invalidArgument(`step '${scope.id}.${stepId}' (statefulBatch): 'builder' must be a function`);
  return addPrimitive(scope, stepId, "statefulBatch", { kind: "stateful", builder: builder as (r: unknown) => unknown }, [s], ["down"],
    [{ portName: "up", streams: [s] }])[0] as KeyedStream<W>;
}

/** A built-in on `statefulBatch`: the internal step is hidden and errors name `stepId`. */
function keyedBuiltin<V, W>(
  opType: string, stepId: string, up: KeyedStream<V>, makeBuilder: (fullId: string) => Builder<StatefulBatchLogic<V, W, unknown>>,
): KeyedStream<W> {
  const s = expectStream(up, stepId, opType);
  return builtin(opType, stepId, s, (id) => statefulBatch("stateful_batch", s as KeyedStream<V>, makeBuilder(id)) as KeyedStream<W>);
}

/** Per-item logic adapted to batches; a discard rebuilds the logic for the key's next item. */
class ItemLogicAdapter<V, W, S> extends StatefulBatchLogic<V, W, S | undefined> {
  constructor(private inner: StatefulLogic<V, W, S> | undefined, private readonly build: (r: S | undefined) => Awaitable<StatefulLogic<V, W, S>>,
    private readonly stepId: string) {
    super();
  }

  onBatch(values: V[]): Awaitable<LogicResult<W>> {
    const out: W[] = [];
    return andThen(forEachInOrder(values, (v) =>
      andThen(this.inner ?? this.build(undefined), (logic) => {
        this.inner = logic;
        return andThen(logic.onItem(v), (r) => {
          if (collectResult(this.stepId, "onItem", r, out)) this.inner = undefined;
        });
      })), () => [out, this.inner === undefined] as LogicResult<W>);
  }

  private delegate(method: "onNotify" | "onEof"): Awaitable<LogicResult<W>> {
    if (!this.inner) return [[], true];
    return andThen(this.inner[method](), (r) => {
      const out: W[] = [];
      const discard = collectResult(this.stepId, method, r, out);
      if (discard) this.inner = undefined;
      return [out, discard] as LogicResult<W>;
    });
  }

  override onNotify() { return this.delegate("onNotify"); }
  override onEof() { return this.delegate("onEof"); }
  override notifyAt() { return this.inner?.notifyAt(); }
  snapshot() { return this.inner?.snapshot(); }
}

/** Appends a logic result's emits to `out`; returns its discard flag (checked to be a boolean). */
export function collectResult<W>(stepId: string, method: string, r: unknown, out: W[]): boolean {
  if (!Array.isArray(r) || r.length !== 2) throw invalidReturn(stepId, method, `must return [emit, discard], got ${typeOf(r)}`);
  const [emit, discard] = r as [Iterable<W>, unknown];
  if (typeof discard !== "boolean") throw invalidReturn(stepId, method, `must return a boolean discard flag, got ${typeOf(discard)}`);
  if (emit === null || emit === undefined || typeof (emit as Iterable<W>)[Symbol.iterator] !== "function") {
    throw invalidReturn(stepId, method, `must return an iterable of items to emit, got ${typeOf(emit)}`);
  }
  for (const w of emit) out.push(w);
  return discard;
}

export function stateful<V, W, S>(
  stepId: string, up: KeyedStream<V>, builder: (resume: S | undefined) => Awaitable<StatefulLogic<V, W, S>>,
): KeyedStream<W> {
  return keyedBuiltin("stateful", stepId, up, (id) => {
    const build = guard(id, "builder", builder);
    return (resume: S | undefined) =>
      resume === undefined
        ? new ItemLogicAdapter<V, W, S>(undefined, build, id)
        : andThen(build(resume), (l) => new ItemLogicAdapter<V, W, S>(l, build, id));
  });
}

function pairOrThrow(stepId: string, r: unknown): [unknown, unknown] {
  if (!Array.isArray(r) || r.length !== 2) throw invalidReturn(stepId, "mapper", `must return [newState, value], got ${typeOf(r)}`);
  return r as [unknown, unknown];
}

class MapperLogic<V, W, S> extends StatefulBatchLogic<V, W, S | undefined> {
  constructor(private state: S | undefined, private readonly mapper: (s: S | undefined, v: V) => Awaitable<[S | Nullish, unknown]>,
    private readonly flat: boolean, private readonly stepId: string) {
    super();
  }

  onBatch(values: V[]): Awaitable<LogicResult<W>> {
    const out: W[] = [];
    return andThen(forEachInOrder(values, (v) =>
      andThen(this.mapper(this.state, v), (r) => {
        const [s, w] = pairOrThrow(this.stepId, r);
        this.state = s === null || s === undefined ? undefined : (s as S);
        if (!this.flat) out.push(w as W);
        else {
          if (w === null || w === undefined || typeof (w as Iterable<W>)[Symbol.iterator] !== "function") {
            throw invalidReturn(this.stepId, "mapper", `must return [newState, iterable], got an emit of ${typeOf(w)}`);
          }
          for (const x of w as Iterable<W>) out.push(x);
        }
      })), () => [out, this.state === undefined] as LogicResult<W>);
  }

  snapshot() { return this.state; }
}

export function statefulMap<V, W, S>(
  stepId: string, up: KeyedStream<V>, mapper: (state: S | undefined, value: V) => Awaitable<[S | Nullish, W]>,
): KeyedStream<W> {
  return keyedBuiltin("statefulMap", stepId, up, (id) => {
    const f = guard(id, "mapper", mapper);
    return (resume: S | undefined) => new MapperLogic<V, W, S>(resume, f, false, id);
  });
}

export function statefulFlatMap<V, W, S>(
  stepId: string, up: KeyedStream<V>, mapper: (state: S | undefined, value: V) => Awaitable<[S | Nullish, Iterable<W>]>,
): KeyedStream<W> {
  return keyedBuiltin("statefulFlatMap", stepId, up, (id) => {
    const f = guard(id, "mapper", mapper);
    return (resume: S | undefined) => new MapperLogic<V, W, S>(resume, f, true, id);
  });
}

/** Per-key arrays emitted at `maxSize`, `timeoutMs` after the key's latest item, or at EOF. */
class CollectLogic<V> extends StatefulBatchLogic<V, V[], { acc: V[]; timeoutAt: number }> {
  constructor(private acc: V[], private timeoutAt: number, private readonly timeoutMs: number, private readonly maxSize: number) {
    super();
  }

  onBatch(values: V[]): LogicResult<V[]> {
    const out: V[][] = [];
    for (const v of values) {
      this.acc.push(v);
      if (this.acc.length >= this.maxSize) {
        out.push(this.acc);
        this.acc = [];
      }
    }
    this.timeoutAt = Date.now() + this.timeoutMs;
    return [out, this.acc.length === 0];
  }

  override onNotify(): LogicResult<V[]> {
    return [this.acc.length > 0 ? [this.acc] : [], true];
  }

  override onEof(): LogicResult<V[]> {
    return this.onNotify();
  }

  override notifyAt(): Date | undefined {
    return this.acc.length > 0 ? new Date(this.timeoutAt) : undefined;
  }

  snapshot() { return { acc: this.acc, timeoutAt: this.timeoutAt }; }
}

export function collect<V>(stepId: string, up: KeyedStream<V>, timeoutMs: number, maxSize: number): KeyedStream<V[]> {
  if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) throw invalidArgument(`step '${stepId}' (collect): 'timeoutMs' must be a number ≥ 0, got ${String(timeoutMs)}`);
  if (!Number.isInteger(maxSize) || maxSize < 1) throw invalidArgument(`step '${stepId}' (collect): 'maxSize' must be an integer ≥ 1, got ${String(maxSize)}`);
  return keyedBuiltin("collect", stepId, up, () => (resume?: { acc: V[]; timeoutAt: number }) =>
    new CollectLogic<V>(resume?.acc ?? [], resume?.timeoutAt ?? 0, timeoutMs, maxSize));
}

/** Folds every value of a key and emits the accumulator once, at EOF. */
export class FoldLogic<V, S> extends StatefulBatchLogic<V, S, { acc: S } | undefined> {
  constructor(private state: { acc: S } | undefined, private readonly builder: () => Awaitable<S>,
    private readonly folder: (acc: S, v: V) => Awaitable<S>) {
    super();
  }

  onBatch(values: V[]): Awaitable<LogicResult<S>> {
    // Synchronous folders run in a plain loop; the first Promise switches to awaiting each step.
    for (let i = 0; i < values.length; i++) {
      const acc = this.state ? this.state.acc : this.builder();
      if (isPromiseLike(acc)) return this.foldAsync(values, i, acc);
      const next = this.folder(acc, values[i]!);
      if (isPromiseLike(next)) return this.foldAsync(values, i + 1, undefined, next);
      this.state = { acc: next };
    }
    return [[], false];
  }

  private foldAsync(values: V[], from: number, acc?: PromiseLike<S>, next?: PromiseLike<S>): Promise<LogicResult<S>> {
    const rest = values.slice(from);
    const settle = next ? Promise.resolve(next).then((n) => { this.state = { acc: n }; })
      : Promise.resolve(acc).then((a) => andThen(this.folder(a as S, values[from]!), (n) => { this.state = { acc: n }; rest.shift(); }));
    return settle.then(() => andThen(forEachInOrder(rest, (v) =>
      andThen(this.state ? this.state.acc : this.builder(), (a) =>
        andThen(this.folder(a, v), (n) => { this.state = { acc: n }; }))), () => [[], false] as LogicResult<S>));
  }

  override onEof(): LogicResult<S> {
    return [this.state ? [this.state.acc] : [], true];
  }

  snapshot() { return this.state; }
}

export function foldFinal<V, S>(
  stepId: string, up: KeyedStream<V>, builder: () => Awaitable<S>, folder: (acc: S, value: V) => Awaitable<S>,
): KeyedStream<S> {
  return keyedBuiltin("foldFinal", stepId, up, (id) => {
    const b = guard(id, "builder", builder);
    const f = guard(id, "folder", folder);
    return (resume?: { acc: S }) => new FoldLogic<V, S>(resume, b, f);
  });
}

/** `foldFinal` seeded with the first value. */
class ReduceLogic<V> extends StatefulBatchLogic<V, V, { acc: V } | undefined> {
  constructor(private state: { acc: V } | undefined, private readonly reducer: (acc: V, v: V) => Awaitable<V>) {
    super();
  }

  onBatch(values: V[]): Awaitable<LogicResult<V>> {
    return andThen(forEachInOrder(values, (v) => {
      if (!this.state) {
        this.state = { acc: v };
        return undefined;
      }
      return andThen(this.reducer(this.state.acc, v), (acc) => { this.state = { acc }; });
    }), () => [[], false] as LogicResult<V>);
  }

  override onEof(): LogicResult<V> {
    return [this.state ? [this.state.acc] : [], true];
  }

  snapshot() { return this.state; }
}

export function reduceFinal<V>(stepId: string, up: KeyedStream<V>, reducer: (acc: V, value: V) => Awaitable<V>): KeyedStream<V> {
  return keyedBuiltin("reduceFinal", stepId, up, (id) => {
    const r = guard(id, "reducer", reducer);
    return (resume?: { acc: V }) => new ReduceLogic<V>(resume, r);
  });
}

function extremeFinal<V>(opType: string, stepId: string, up: KeyedStream<V>, by: ((v: V) => Comparable) | undefined, better: (a: Comparable, b: Comparable) => boolean): KeyedStream<V> {
  return keyedBuiltin(opType, stepId, up, (id) => {
    const key = by ? guard(id, "by", by) as (v: V) => Comparable : (v: V) => v as unknown as Comparable;
    // Ties keep the earliest: replace only when strictly better.
    return (resume?: { acc: V }) => new ReduceLogic<V>(resume, (acc, v) => (better(key(v), key(acc)) ? v : acc));
  });
}

export function maxFinal<V>(stepId: string, up: KeyedStream<V>, by?: (value: V) => Comparable): KeyedStream<V> {
  return extremeFinal("maxFinal", stepId, up, by, (a, b) => a > b);
}

export function minFinal<V>(stepId: string, up: KeyedStream<V>, by?: (value: V) => Comparable): KeyedStream<V> {
  return extremeFinal("minFinal", stepId, up, by, (a, b) => a < b);
}
