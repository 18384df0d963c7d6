// The operators of API.md §3 (`op`). Stateless ones are batch transforms the runtime fuses;
// stateful ones are composed from `statefulBatch` (see stateful.ts, join.ts).
import util from "node:util";
import { addPrimitive, builtin, Dataflow, errorStepId, expectStream, scopeFor, Stream, type BatchFn, type KeyedStream, type StepKind, type Combiner } from "./dataflow.js";
import { kernelLoop, type KernelShape, type KernelSpec } from "./runtime/kernels.js";
import { invalidArgument, invalidReturn, WeirError } from "./errors.js";
import { Source } from "./inputs.js";
import { Sink } from "./outputs.js";
import { mapAll, andThen } from "./runtime/awaitable.js";
import { checkKeyed, guard, guard1, typeOf } from "./runtime/guard.js";
import { isPromiseLike } from "./types.js";
import type { Awaitable, Nullish } from "./types.js";
import { FoldLogic, statefulBatch } from "./stateful.js";

export interface BranchOut<T, F> { readonly trues: Stream<T>; readonly falses: Stream<F> }

/** util.inspect for one-line output of any item. */
export const fmt = (x: unknown): string => util.inspect(x, { depth: null, breakLength: Infinity });

function transform<Y>(
  stepId: string, opType: string, up: unknown, fn: BatchFn, ports: string[] = ["down"],
): Stream<Y>[] {
  const s = expectStream(up, stepId, opType);
  const scope = scopeFor([s], stepId, opType);
  return addPrimitive(scope, stepId, opType, { kind: "transform", outputs: ports.length, fn }, [s], ports,
    [{ portName: "up", streams: [s] }]) as Stream<Y>[];
}

function kernelStep<Y>(stepId: string, opType: string, up: unknown, spec: KernelSpec): Stream<Y> {
  const s = expectStream(up, stepId, opType);
  const scope = scopeFor([s], stepId, opType);
  const def: StepKind = { kind: "kernel", kernel: kernelLoop(spec), spec };
  return addPrimitive(scope, stepId, opType, def, [s], ["down"], [{ portName: "up", streams: [s] }])[0] as Stream<Y>;
}

function combineStep<Y>(stepId: string, opType: string, up: unknown, create: () => Combiner): Stream<Y> {
  const s = expectStream(up, stepId, opType);
  const scope = scopeFor([s], stepId, opType);
  return addPrimitive(scope, stepId, opType, { kind: "combine", create }, [s], ["down"], [{ portName: "up", streams: [s] }])[0] as Stream<Y>;
}

/** A combiner with this many distinct keys passes them on before its epoch closes. */
const COMBINER_MAX_KEYS = 65_536;

/** A fusable per-item step (runtime/kernels.ts). */
function spec<X, R>(shape: KernelShape, stepId: string, callback: string, fn: (x: X) => Awaitable<R>, take: (x: X, r: R, out: unknown[]) => void): KernelSpec {
  return { shape, stepId, callback, fn: fn as (x: unknown) => unknown, take: take as (x: unknown, r: unknown, out: unknown[]) => void };
}

function perItem<X>(stepId: string, opType: string, up: Stream<X>, each: (x: X, emit: (item: unknown) => void) => Awaitable<void>): Stream<any> {
  return transform(stepId, opType, up, (items, _ctx, emit) => {
    const out = (item: unknown) => emit(0, item);
    return mapAll(items as X[], (x) => each(x, out));
  })[0]!;
}

/**
 * Calls `f` per item and hands each result to `then` in input order. Stays synchronous while `f`
 * is; from the first Promise on, the remaining calls are made at once and awaited together.
 */
function applyOrdered<X, R>(xs: X[], f: (x: X) => Awaitable<R>, then: (x: X, r: R) => void): Awaitable<void> {
  const n = xs.length;
  for (let i = 0; i < n; i++) {
    const r = f(xs[i]!);
    if (isPromiseLike(r)) {
      const pending: Awaitable<R>[] = [r];
      for (let j = i + 1; j < n; j++) pending.push(f(xs[j]!));
      return Promise.all(pending).then((rs) => {
        for (let k = 0; k < rs.length; k++) then(xs[i + k]!, rs[k]!);
      });
    }
    then(xs[i]!, r);
  }
  return undefined;
}

function ordered<X, R>(
  stepId: string, opType: string, up: Stream<X>, f: (x: X) => Awaitable<R>, then: (x: X, r: R, emit: (item: unknown) => void) => void,
): Stream<any> {
  return transform(stepId, opType, up, (items, _ctx, emit) => {
    const out = (item: unknown) => emit(0, item);
    return applyOrdered(items as X[], f, (x, r) => then(x, r, out));
  })[0]!;
}

function iterableOrThrow(stepId: string, callback: string, r: unknown): Iterable<unknown> {
  if (r === null || r === undefined || typeof (r as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw invalidReturn(stepId, callback, `must return an iterable, got ${typeOf(r)}`);
  }
  return r as Iterable<unknown>;
}

function booleanOrThrow(stepId: string, callback: string, r: unknown): boolean {
  if (typeof r !== "boolean") throw invalidReturn(stepId, callback, `must return a boolean, got ${typeOf(r)}`);
  return r;
}

/** A `key` callback's result: a string, else INVALID_KEY naming the step. */
function keyOrThrow(stepId: string, k: unknown): string {
  if (typeof k !== "string") {
    const cause = new TypeError(`'key' in step '${stepId}' must return a string, got ${typeOf(k)}`);
    throw new WeirError("INVALID_KEY", cause.message, { cause, stepId });
  }
  return k;
}

function checkFn(stepId: string, name: string, f: unknown): void {
  if (typeof f !== "function") throw invalidArgument(`step '${stepId}': '${name}' must be a function, got ${typeOf(f)}`, stepId);
}

function fullId(up: Stream<unknown> | Dataflow, stepId: string): string {
  return errorStepId(up, stepId);
}

export function input<X>(stepId: string, flow: Dataflow, source: Source<X>): Stream<X> {
  if (!(flow instanceof Dataflow)) throw invalidArgument(`step '${stepId}' (input): 'flow' must be a Dataflow, got ${typeOf(flow)}`);
  if (!(source instanceof Source)) {
    throw invalidArgument(`step '${fullId(flow, stepId)}' (input): 'source' must extend FixedPartitionedSource or DynamicSource, got ${typeOf(source)}`);
  }
  const scope = scopeFor([flow], stepId, "input");
  return addPrimitive(scope, stepId, "input", { kind: "input", source }, [], ["down"], [])[0] as Stream<X>;
}

export function output<X>(stepId: string, up: Stream<X>, sink: Sink<X>): void {
  const s = expectStream(up, stepId, "output");
  if (!(sink instanceof Sink)) {
    throw invalidArgument(`step '${fullId(s, stepId)}' (output): 'sink' must extend FixedPartitionedSink or DynamicSink, got ${typeOf(sink)}`);
  }
  const scope = scopeFor([s], stepId, "output");
  addPrimitive(scope, stepId, "output", { kind: "output", sink: sink as Sink<unknown> }, [s], [], [{ portName: "up", streams: [s] }]);
}

export function inspect<X>(stepId: string, up: Stream<X>, inspector?: (stepId: string, item: X) => Awaitable<void>): Stream<X> {
  const id = fullId(expectStream(up, stepId, "inspect"), stepId);
  const f = guard(id, "inspector", inspector ?? ((sid: string, item: X) => void process.stdout.write(`${sid}: ${fmt(item)}\n`)));
  return ordered(stepId, "inspect", up, (x) => f(id, x), (x, _r, emit) => emit(x));
}

export function inspectDebug<X>(
  stepId: string, up: Stream<X>, inspector?: (stepId: string, item: X, epoch: number, workerIndex: number) => Awaitable<void>,
): Stream<X> {
  const id = fullId(expectStream(up, stepId, "inspectDebug"), stepId);
  const f = guard(id, "inspector", inspector ??
    ((sid: string, item: X, epoch: number, w: number) => void process.stdout.write(`${sid} W${w} @${epoch}: ${fmt(item)}\n`)));
  return transform<X>(stepId, "inspectDebug", up, (items, ctx, emit) =>
    andThen(mapAll(items as X[], (x) => f(id, x, ctx.epoch, ctx.workerIndex)), () => {
      for (const x of items) emit(0, x);
    }))[0]!;
}

export function map<X, Y>(stepId: string, up: Stream<X>, mapper: (item: X) => Awaitable<Y>): Stream<Y> {
  const id = fullId(expectStream(up, stepId, "map"), stepId);
  checkFn(id, "mapper", mapper);
  return kernelStep(stepId, "map", up, spec("map", id, "mapper", mapper, (_x, y, out) => { out.push(y); }));
}

export function mapValue<V, W>(stepId: string, up: KeyedStream<V>, mapper: (value: V) => Awaitable<W>): KeyedStream<W> {
  const id = fullId(expectStream(up, stepId, "mapValue"), stepId);
  const f = guard1(id, "mapper", mapper);
  return ordered(stepId, "mapValue", up, (kv) => f(checkKeyed(id, kv)[1] as V), (kv, w, emit) => emit([kv[0], w]));
}

export function filter<X>(stepId: string, up: Stream<X>, predicate: (item: X) => Awaitable<boolean>): Stream<X> {
  const id = fullId(expectStream(up, stepId, "filter"), stepId);
  checkFn(id, "predicate", predicate);
  return kernelStep(stepId, "filter", up, spec("filter", id, "predicate", predicate, (x, keep, out) => {
    if (keep === true) out.push(x);
    else if (keep !== false) booleanOrThrow(id, "predicate", keep);
  }));
}

export function filterValue<V>(stepId: string, up: KeyedStream<V>, predicate: (value: V) => Awaitable<boolean>): KeyedStream<V> {
  const id = fullId(expectStream(up, stepId, "filterValue"), stepId);
  const f = guard1(id, "predicate", predicate);
  return ordered(stepId, "filterValue", up, (kv) => f(checkKeyed(id, kv)[1] as V), (kv, keep, emit) => {
    if (booleanOrThrow(id, "predicate", keep)) emit(kv);
  });
}

export function filterMap<X, Y>(stepId: string, up: Stream<X>, mapper: (item: X) => Awaitable<Y | Nullish>): Stream<Y> {
  const id = fullId(expectStream(up, stepId, "filterMap"), stepId);
  checkFn(id, "mapper", mapper);
  return kernelStep(stepId, "filterMap", up, spec("filterMap", id, "mapper", mapper, (_x, y, out) => {
    if (y !== null && y !== undefined) out.push(y);
  }));
}

export function filterMapValue<V, W>(stepId: string, up: KeyedStream<V>, mapper: (value: V) => Awaitable<W | Nullish>): KeyedStream<W> {
  const id = fullId(expectStream(up, stepId, "filterMapValue"), stepId);
  const f = guard1(id, "mapper", mapper);
  return ordered(stepId, "filterMapValue", up, (kv) => f(checkKeyed(id, kv)[1] as V), (kv, w, emit) => {
    if (w !== null && w !== undefined) emit([kv[0], w]);
  });
}

export function flatMap<X, Y>(stepId: string, up: Stream<X>, mapper: (item: X) => Awaitable<Iterable<Y>>): Stream<Y> {
  const id = fullId(expectStream(up, stepId, "flatMap"), stepId);
  checkFn(id, "mapper", mapper);
  return kernelStep(stepId, "flatMap", up, spec("flatMap", id, "mapper", mapper, (_x, ys, out) => {
    if (Array.isArray(ys)) for (let i = 0; i < ys.length; i++) out.push(ys[i]);
    else for (const y of iterableOrThrow(id, "mapper", ys)) out.push(y);
  }));
}

export function flatMapValue<V, W>(stepId: string, up: KeyedStream<V>, mapper: (value: V) => Awaitable<Iterable<W>>): KeyedStream<W> {
  const id = fullId(expectStream(up, stepId, "flatMapValue"), stepId);
  const f = guard1(id, "mapper", mapper);
  return ordered(stepId, "flatMapValue", up, (kv) => f(checkKeyed(id, kv)[1] as V), (kv, ws, emit) => {
    for (const w of iterableOrThrow(id, "mapper", ws)) emit([kv[0], w]);
  });
}

export function flatMapBatch<X, Y>(stepId: string, up: Stream<X>, mapper: (items: X[]) => Awaitable<Iterable<Y>>): Stream<Y> {
  const id = fullId(expectStream(up, stepId, "flatMapBatch"), stepId);
  const f = guard1(id, "mapper", mapper);
  return transform<Y>(stepId, "flatMapBatch", up, (items, _ctx, emit) =>
    andThen(f(items as X[]), (ys) => {
      for (const y of iterableOrThrow(id, "mapper", ys)) emit(0, y);
    }))[0]!;
}

export function flatten<X>(stepId: string, up: Stream<Iterable<X>>): Stream<X> {
  const id = fullId(expectStream(up, stepId, "flatten"), stepId);
  return perItem(stepId, "flatten", up, (xs, emit) => {
    for (const x of iterableOrThrow(id, "flatten", xs)) emit(x);
  });
}

export function keyOn<X>(stepId: string, up: Stream<X>, key: (item: X) => Awaitable<string>): KeyedStream<X> {
  const id = fullId(expectStream(up, stepId, "keyOn"), stepId);
  checkFn(id, "key", key);
  return kernelStep(stepId, "keyOn", up, spec("keyOn", id, "key", key, (x, k, out) => {
    out.push([keyOrThrow(id, k), x]);
  }));
}

export function keyRm<X>(stepId: string, up: KeyedStream<X>): Stream<X> {
  const id = fullId(expectStream(up, stepId, "keyRm"), stepId);
  return perItem(stepId, "keyRm", up, (kv, emit) => emit(checkKeyed(id, kv)[1]));
}

export function branch<X, T extends X>(stepId: string, up: Stream<X>, predicate: (item: X) => item is T): BranchOut<T, Exclude<X, T>>;
export function branch<X>(stepId: string, up: Stream<X>, predicate: (item: X) => Awaitable<boolean>): BranchOut<X, X>;
export function branch<X>(stepId: string, up: Stream<X>, predicate: (item: X) => Awaitable<boolean>): BranchOut<X, X> {
  const id = fullId(expectStream(up, stepId, "branch"), stepId);
  const f = guard1(id, "predicate", predicate);
  const [trues, falses] = transform<X>(stepId, "branch", up, (items, _ctx, emit) => {
    const xs = items as X[];
    return andThen(mapAll(xs, f), (rs) => {
      for (let i = 0; i < xs.length; i++) emit(booleanOrThrow(id, "predicate", rs[i]) ? 0 : 1, xs[i]);
    });
  }, ["trues", "falses"]);
  return { trues: trues!, falses: falses! };
}

export function merge<X>(stepId: string, ...ups: Stream<X>[]): Stream<X> {
  if (ups.length === 0) throw invalidArgument(`step '${stepId}' (merge) needs at least one stream`);
  const streams = ups.map((u, i) => expectStream(u, stepId, "merge", `ups[${i}]`));
  const scope = scopeFor(streams, stepId, "merge");
  return addPrimitive(scope, stepId, "merge", { kind: "merge" }, streams, ["down"], [{ portName: "ups", streams }])[0] as Stream<X>;
}

export function redistribute<X>(stepId: string, up: Stream<X>): Stream<X> {
  const s = expectStream(up, stepId, "redistribute");
  const scope = scopeFor([s], stepId, "redistribute");
  return addPrimitive(scope, stepId, "redistribute", { kind: "redistribute" }, [s], ["down"], [{ portName: "up", streams: [s] }])[0] as Stream<X>;
}

export function raises(stepId: string, up: Stream<unknown>): void {
  const id = fullId(expectStream(up, stepId, "raises"), stepId);
  transform(stepId, "raises", up, (items) => {
    if (items.length > 0) {
      const cause = new Error(`step '${id}' received an item: ${fmt(items[0])}`);
      throw new WeirError("RAISED_ITEM", cause.message, { cause, stepId: id });
    }
  }, []);
}

export {
  statefulBatch, stateful, statefulMap, statefulFlatMap, collect, foldFinal, reduceFinal, maxFinal, minFinal,
} from "./stateful.js";

export function countFinal<X>(stepId: string, up: Stream<X>, key: (item: X) => Awaitable<string>): KeyedStream<number> {
  const s = expectStream(up, stepId, "countFinal");
  return builtin("countFinal", stepId, s, (id) => {
    checkFn(id, "key", key);
    // Counted on each worker before routing (a combiner, flushed at every epoch close): one [key, n]
    // pair per distinct key and epoch leaves the worker.
    const partial = combineStep<[string, number]>("pre_count", "countFinal", s, () => {
      let counts = new Map<string, number>();
      const countKeys = kernelLoop(spec<X, string>("map", id, "key", key, (_x, k) => {
        const w = keyOrThrow(id, k);
        counts.set(w, (counts.get(w) ?? 0) + 1);
      }));
      return {
        add: (items, ctx) => andThen(countKeys(items, ctx), () => undefined),
        get full() { return counts.size >= COMBINER_MAX_KEYS; },
        take: () => {
          const out = [...counts];
          counts = new Map();
          return out;
        },
      };
    });
    return statefulBatch<number, number, { acc: number } | undefined>("count", partial, (resume) =>
      new FoldLogic<number, number>(resume, () => 0, (acc, n) => acc + n));
  });
}

export { join } from "./join.js";
export type { JoinInsertMode, JoinEmitMode, Sides, JoinRow } from "./join.js";
/** This module as a namespace, for `import { op } from "weir/operators"`-style use inside weir. */
export * as op from "./operators.js";
export { enrichCached } from "./ttlcache.js";

