//! The window operators (API.md §4). Each is one built-in step: a keyed `statefulBatch` running a WindowDriver
//! per key, whose tagged output is split into the `down`, `late` and `meta` ports.
import { Stream, builtin, expectStream } from "../dataflow.js";
import type { KeyedStream } from "../dataflow.js";
import { invalidArgument } from "../errors.js";
import { splitSidesAndOptions } from "../join.js";
import { op } from "../operators.js";
import { checkKeyed } from "../runtime/guard.js";
import type { Awaitable, Comparable } from "../types.js";
import { Clock, EventClock } from "./clock.js";
import {
  WindowDriver, type WindowDriverConfig, type WindowDriverState, type WindowEvent, type WindowLogic, type WindowLogicBuilder,
} from "./driver.js";
import {
  type CollectInto, type JoinEmitMode, type JoinInsertMode, collectLogic, countLogic, foldLogic, joinLogic, maxLogic, minLogic,
  reduceLogic,
} from "./logics.js";
import type { WindowMetadata } from "./metadata.js";
import { show } from "./time.js";
import { Windower } from "./windower.js";

/** The three output streams of a window operator, keyed, each item sub-keyed by window id. */
export interface WindowOut<V, W> {
  /** What the window logic emitted: `[key, [windowId, value]]`. */
  readonly down: KeyedStream<[windowId: number, value: W]>;
  /** Values that arrived after the watermark passed them: `[key, [windowId, value]]`, one per window they missed. */
  readonly late: KeyedStream<[windowId: number, value: V]>;
  /** One `[key, [windowId, WindowMetadata]]` per closed window (never for windows merged into another). */
  readonly meta: KeyedStream<[windowId: number, meta: WindowMetadata]>;
}

type Sides<T extends unknown[]> = { [I in keyof T]: KeyedStream<T[I]> };
type JoinRow<T extends unknown[]> = { [I in keyof T]: T[I] | undefined };

export interface JoinWindowOptions {
  insertMode?: JoinInsertMode;
  emitMode?: JoinEmitMode;
  ordered?: boolean;
}

/**
 * Windows a keyed stream with a custom `WindowLogic` per window. `builder(undefined)` builds a new window's
 * logic, `builder(state)` one resumed from its snapshot. With `ordered` (default), values reach windows in
 * timestamp order once the watermark passes them; otherwise in arrival order, at once.
 *
 * @example
 * const clock = new EventClock({ tsGetter: (e: Ev) => e.at, waitForSystemDurationMs: 0 });
 * const windower = new TumblingWindower({ lengthMs: 60_000, alignTo: new Date(0) });
 * const out = windowOp("sums", keyed, clock, windower, (resume?: number) => {
 *   let sum = resume ?? 0;
 *   return { onValue: (e: Ev) => { sum += e.n; return []; }, onMerge: () => [], onClose: () => [sum], snapshot: () => sum };
 * });
 * // out.down: [key, [windowId, sum]] as each minute closes.
 */
export function windowOp<V, W, S>(stepId: string, up: KeyedStream<V>, clock: Clock<V, any>, windower: Windower<any>,
  builder: (resumeState: S | undefined) => Awaitable<WindowLogic<V, W, S>>, ordered = true): WindowOut<V, W> {
  checkWindowArgs("windowOp", stepId, up, clock, windower);
  checkFunction("windowOp", stepId, "builder", builder);
  checkBoolean("windowOp", stepId, "ordered", ordered);
  return builtin("windowOp", stepId, up, (scopeId) => windowSteps(scopeId, up, clock, windower, builder, ordered));
}

/**
 * Collects each window's values, in flush order, into an `Array` (default), a `Set`, or a `Map` built from
 * `[k, v]` values (anything else is `INVALID_RETURN`).
 *
 * @example
 * const out = collectWindow("per_minute", keyed, clock, new TumblingWindower({ lengthMs: 60_000, alignTo: new Date(0) }));
 * // out.down: [key, [windowId, [v1, v2, …]]]
 */
export function collectWindow<V>(stepId: string, up: KeyedStream<V>, clock: Clock<V, any>, windower: Windower<any>,
  into: CollectInto = Array, ordered = true): WindowOut<V, V[] | Set<V> | Map<any, any>> {
  checkWindowArgs("collectWindow", stepId, up, clock, windower);
  if (into !== Array && into !== Set && into !== Map) {
    throw invalidArgument(`collectWindow '${stepId}': 'into' must be Array, Set or Map, got ${show(into)}; use foldWindow for other containers`);
  }
  checkBoolean("collectWindow", stepId, "ordered", ordered);
  return builtin("collectWindow", stepId, up, (scopeId) => windowSteps(scopeId, up, clock, windower, collectLogic<V>(into), ordered));
}

/**
 * Counts the items of an unkeyed stream per `key(item)` and window; the clock sees the raw items.
 *
 * @example
 * const out = countWindow("clicks", clicks, clock, windower, (c: Click) => c.userId);
 * // out.down: [userId, [windowId, count]]
 */
export function countWindow<X>(stepId: string, up: Stream<X>, clock: Clock<X, any>, windower: Windower<any>,
  key: (item: X) => Awaitable<string>): WindowOut<X, number> {
  checkWindowArgs("countWindow", stepId, up, clock, windower);
  checkFunction("countWindow", stepId, "key", key);
  return builtin("countWindow", stepId, up, (scopeId) =>
    windowSteps(scopeId, op.keyOn("key", up, key), clock, windower, countLogic<X>(), false));
}

/**
 * Folds each window: `builder()` per window, `folder(acc, value)` per value, `merger(target, original)` when
 * sessions merge; emits the accumulator when the window closes.
 *
 * @example
 * const out = foldWindow("totals", keyed, clock, windower, () => 0, (acc, e: Ev) => acc + e.n, (a, b) => a + b);
 */
export function foldWindow<V, S>(stepId: string, up: KeyedStream<V>, clock: Clock<V, any>, windower: Windower<any>,
  builder: () => Awaitable<S>, folder: (acc: S, value: V) => Awaitable<S>, merger: (a: S, b: S) => Awaitable<S>,
  ordered = true): WindowOut<V, S> {
  checkWindowArgs("foldWindow", stepId, up, clock, windower);
  checkFunction("foldWindow", stepId, "builder", builder);
  checkFunction("foldWindow", stepId, "folder", folder);
  checkFunction("foldWindow", stepId, "merger", merger);
  checkBoolean("foldWindow", stepId, "ordered", ordered);
  return builtin("foldWindow", stepId, up, (scopeId) =>
    windowSteps(scopeId, up, clock, windower, foldLogic(builder, folder, merger), ordered));
}

/**
 * Reduces each window's values in arrival order, the first value seeding the accumulator; `reducer` also merges
 * sessions, so it MUST be associative.
 *
 * @example
 * const out = reduceWindow("sum", keyedNumbers, clock, windower, (a: number, b: number) => a + b);
 */
export function reduceWindow<V>(stepId: string, up: KeyedStream<V>, clock: Clock<V, any>, windower: Windower<any>,
  reducer: (acc: V, value: V) => Awaitable<V>): WindowOut<V, V> {
  checkWindowArgs("reduceWindow", stepId, up, clock, windower);
  checkFunction("reduceWindow", stepId, "reducer", reducer);
  return builtin("reduceWindow", stepId, up, (scopeId) => windowSteps(scopeId, up, clock, windower, reduceLogic(reducer), false));
}

/**
 * The largest value per window by `by` (default identity; MUST be synchronous); ties keep the earliest.
 *
 * @example
 * const out = maxWindow("hottest", readings, clock, windower, (r: Reading) => r.celsius);
 */
export function maxWindow<V>(stepId: string, up: KeyedStream<V>, clock: Clock<V, any>, windower: Windower<any>,
  by?: (value: V) => Comparable): WindowOut<V, V> {
  checkWindowArgs("maxWindow", stepId, up, clock, windower);
  if (by !== undefined) checkFunction("maxWindow", stepId, "by", by);
  return builtin("maxWindow", stepId, up, (scopeId) => windowSteps(scopeId, up, clock, windower, maxLogic(by), false));
}

/**
 * The smallest value per window by `by` (default identity; MUST be synchronous); ties keep the earliest.
 *
 * @example
 * const out = minWindow("coldest", readings, clock, windower, (r: Reading) => r.celsius);
 */
export function minWindow<V>(stepId: string, up: KeyedStream<V>, clock: Clock<V, any>, windower: Windower<any>,
  by?: (value: V) => Comparable): WindowOut<V, V> {
  checkWindowArgs("minWindow", stepId, up, clock, windower);
  if (by !== undefined) checkFunction("minWindow", stepId, "by", by);
  return builtin("minWindow", stepId, up, (scopeId) => windowSteps(scopeId, up, clock, windower, minLogic(by), false));
}

/**
 * Joins keyed sides per window (API.md §3.2 per window): `insertMode` `"last"` (default), `"first"` or
 * `"product"`; `emitMode` `"final"` (default: rows when the window closes), `"complete"` (rows once every side
 * has a value, then cleared; the window stays open) or `"running"` (rows after every value). An `EventClock`'s
 * `tsGetter` gets each side's value; a custom clock gets `[sideIndex, value]`.
 *
 * @example
 * const out = joinWindow("match", clock, new SessionWindower({ gapMs: 10_000 }), clicks, views, { insertMode: "product" });
 * // out.down: [key, [windowId, [click, view]]]
 */
export function joinWindow<T extends unknown[]>(stepId: string, clock: Clock<any, any>, windower: Windower<any>,
  ...sides: Sides<T>): WindowOut<unknown, JoinRow<T>>;
export function joinWindow<T extends unknown[]>(stepId: string, clock: Clock<any, any>, windower: Windower<any>,
  ...sidesThenOpts: [...Sides<T>, JoinWindowOptions]): WindowOut<unknown, JoinRow<T>>;
export function joinWindow(stepId: string, clock: Clock<any, any>, windower: Windower<any>,
  ...sidesThenOpts: unknown[]): WindowOut<unknown, unknown[]> {
  checkWindowArgs("joinWindow", stepId, undefined, clock, windower);
  const { sides, opts } = splitSidesAndOptions<JoinWindowOptions>("joinWindow", stepId, sidesThenOpts, ["insertMode", "emitMode", "ordered"]);
  const { insertMode = "last", emitMode = "final", ordered = true } = opts;
  if (!["first", "last", "product"].includes(insertMode)) {
    throw invalidArgument(`joinWindow '${stepId}': unknown 'insertMode' ${show(insertMode)}; expected "first", "last" or "product"`);
  }
  if (!["complete", "final", "running"].includes(emitMode)) {
    throw invalidArgument(`joinWindow '${stepId}': unknown 'emitMode' ${show(emitMode)}; expected "complete", "final" or "running"`);
  }
  checkBoolean("joinWindow", stepId, "ordered", ordered);
  const sideClock: Clock<[number, unknown], any> = clock instanceof EventClock ? perSideEventClock(clock) : clock;
  return builtin("joinWindow", stepId, sides, (scopeId) => {
    // The key check names the joinWindow step (INVALID_KEY), as at every keyed step.
    const labelled = sides.map((side, i) =>
      op.map(`label_${i}`, side, (item: unknown): [string, [number, unknown]] => {
        const [key, value] = checkKeyed(scopeId, item);
        return [key, [i, value]];
      }));
    const merged = op.merge("merge", ...labelled);
    return windowSteps(scopeId, merged, sideClock, windower, joinLogic(sides.length, insertMode, emitMode), ordered);
  }, [{ portName: "sides", streams: sides }]) as WindowOut<unknown, unknown[]>;
}

// The steps inside every window operator: the driver per key, then one port per tag.
function windowSteps<V, W, S>(scopeId: string, up: KeyedStream<V>, clock: Clock<V, any>, windower: Windower<any>,
  builder: WindowLogicBuilder<V, W, S>, ordered: boolean): WindowOut<V, W> {
  const config: WindowDriverConfig<V, W, S> = { stepId: scopeId, clock, windower, builder, ordered };
  const events: KeyedStream<WindowEvent<V, W>> = op.statefulBatch("window", up,
    (resume: WindowDriverState<V, S> | undefined) => WindowDriver.build(config, resume));
  const downs = op.branch("split_down", events, ([, [port]]) => port === "down");
  const lates = op.branch("split_late", downs.falses, ([, [port]]) => port === "late");
  return Object.freeze({
    down: op.map("down", downs.trues, ([key, [, item]]) => [key, item] as [string, [number, W]]),
    late: op.map("late", lates.trues, ([key, [, item]]) => [key, item] as [string, [number, V]]),
    meta: op.map("meta", lates.falses, ([key, [, item]]) => [key, item] as [string, [number, WindowMetadata]]),
  });
}

function perSideEventClock(clock: EventClock<any>): EventClock<[number, unknown]> {
  const { tsGetter, waitForSystemDurationMs, nowGetter, toSystemUtc } = clock;
  return new EventClock<[number, unknown]>({ tsGetter: ([, value]) => tsGetter(value), waitForSystemDurationMs, nowGetter, toSystemUtc });
}

// `up` undefined: joinWindow, whose sides splitSidesAndOptions checks.
function checkWindowArgs(opType: string, stepId: string, up: unknown, clock: unknown, windower: unknown): void {
  if (up !== undefined) expectStream(up, stepId, opType);
  if (!(clock instanceof Clock)) {
    throw invalidArgument(`${opType} '${stepId}': 'clock' must be a Clock (EventClock, SystemClock or a subclass of Clock), got ${show(clock)}`);
  }
  if (!(windower instanceof Windower)) {
    throw invalidArgument(`${opType} '${stepId}': 'windower' must be a Windower (SlidingWindower, TumblingWindower, ` +
      `SessionWindower or a subclass of Windower), got ${show(windower)}`);
  }
}

function checkFunction(opType: string, stepId: string, name: string, x: unknown): void {
  if (typeof x !== "function") throw invalidArgument(`${opType} '${stepId}': '${name}' must be a function, got ${show(x)}`);
}

function checkBoolean(opType: string, stepId: string, name: string, x: unknown): void {
  if (typeof x !== "boolean") throw invalidArgument(`${opType} '${stepId}': '${name}' must be a boolean, got ${show(x)}`);
}
