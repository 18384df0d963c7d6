//! The window driver: the per-key StatefulBatchLogic behind every window operator (API.md §4, steps 1–7).
//!
//! It is synchronous when every callback is: only Promises returned by window logics and their builder are
//! awaited (see steps.ts). Its output is tagged for the operator's three ports, see `WindowEvent`.
import { WeirError, invalidReturn } from "../errors.js";
import { type Awaitable, type Nullish, isPromiseLike } from "../types.js";
import type { Clock, ClockLogic } from "./clock.js";
import { notADate, stepError } from "./faults.js";
import type { WindowMetadata } from "./metadata.js";
import { type MsClock, type MsWindower, hasMsLane } from "./ms-lane.js";
import { type QueueState, WindowQueue, tsOf } from "./queue.js";
import { type Steps, runSteps } from "./steps.js";
import { MAX_MS, MIN_MS, UTC_MIN, isValidDate, show } from "./time.js";
import type { Windower, WindowerLogic } from "./windower.js";

/**
 * The logic of one window of one key. `onMerge` merges `original` (which is then dropped) into `this`. Each
 * method returns values to emit on `down`, tagged with the window id; any may return a Promise.
 */
export interface WindowLogic<V, W, S> {
  onValue(value: V): Awaitable<Iterable<W>>;
  onMerge(original: this): Awaitable<Iterable<W>>;
  onClose(): Awaitable<Iterable<W>>;
  snapshot(): Awaitable<S>;
}

/** Builds a window's logic: `undefined` for a new window, else the state its `snapshot()` returned. */
export type WindowLogicBuilder<V, W, S> = (resumeState: S | undefined) => Awaitable<WindowLogic<V, W, S>>;

/**
 * One output of the driver, tagged with its port. The engine emits `[key, event]`; the window operator routes
 * `["down", x]` to `down` as `[key, x]`, and likewise `late` and `meta`.
 */
export type WindowEvent<V, W> =
  | [port: "down", item: [windowId: number, value: W]]
  | [port: "late", item: [windowId: number, value: V]]
  | [port: "meta", item: [windowId: number, meta: WindowMetadata]];

export type WindowResult<V, W> = [emit: WindowEvent<V, W>[], discard: boolean];

export interface WindowDriverConfig<V, W, S> {
  /** Full id of the window operator, named in errors. */
  readonly stepId: string;
  readonly clock: Clock<V, any>;
  readonly windower: Windower<any>;
  readonly builder: WindowLogicBuilder<V, W, S>;
  /** Play values into windows in timestamp order, once the watermark reaches them (else in arrival order). */
  readonly ordered: boolean;
}

/** The driver's snapshot: plain data, `v8.serialize`-able when the values and states are. */
export interface WindowDriverState<V, S> {
  clockState: unknown;
  windowerState: unknown;
  logicStates: [windowId: number, state: S][];
  queue: QueueState<V>;
  /** The watermark so far (never the EOF one, so a continuation starts afresh). */
  watermarkMs: number;
}

const NO_MERGES: readonly [number, number][] = Object.freeze([]);
const NO_CLOSES: readonly [number, WindowMetadata][] = Object.freeze([]);

/** Values of a batch due on arrival: played before the queue's, in arrival order (ms lane). */
interface DirectValues<V> {
  values: V[];
  tsMs: number[];
}

// Watermarks from items and timers stop short of the end of time, which only EOF reaches: otherwise a value
// stamped UTC_MAX could close its own window (saturated to end at UTC_MAX) and a later one reopen it.
const LAST_ITEM_WATERMARK_MS = MAX_MS - 1;

const CLOCK_METHODS = ["beforeBatch", "onItem", "onNotify", "onEof", "toSystemUtc", "snapshot"] as const;
const WINDOWER_METHODS = ["openFor", "lateFor", "merged", "closeFor", "notifyAt", "isEmpty", "snapshot"] as const;
const LOGIC_METHODS = ["onValue", "onMerge", "onClose", "snapshot"] as const;

/**
 * Drives one key's windows: implements the `StatefulBatchLogic` shape (API.md §3.1) over a clock, a windower
 * and one `WindowLogic` per open window. Build it with `WindowDriver.build(config, resumeState)`.
 */
export class WindowDriver<V, W, S> {
  readonly #stepId: string;
  readonly #builder: WindowLogicBuilder<V, W, S>;
  readonly #clock: ClockLogic<V, unknown>;
  readonly #windower: WindowerLogic<unknown>;
  readonly #logics = new Map<number, WindowLogic<V, W, S>>();
  readonly #queue: WindowQueue<V>;
  // Both set when the clock and windower logics are built-ins: then values take the ms lane (ms-lane.ts).
  readonly #msClock: MsClock<V> | undefined;
  readonly #msWindower: MsWindower | undefined;
  #watermarkMs: number;
  // Set by #timestamp: the watermark after the value just stamped.
  #itemWatermark: Date = UTC_MIN; // only read (getTime), so the shared constant will do

  /** A driver for a new key (`resume` undefined) or one restored from `snapshot()`. */
  static build<V, W, S>(config: WindowDriverConfig<V, W, S>, resume?: WindowDriverState<V, S>): Awaitable<WindowDriver<V, W, S>> {
    const { stepId } = config;
    if (resume !== undefined && !isDriverState(resume)) {
      throw new WeirError("INTERNAL", `step '${stepId}': invalid window resume state ${show(resume)}`, { stepId });
    }
    const clock = buildPart(stepId, "clock.build", CLOCK_METHODS, () => config.clock.build(resume?.clockState));
    const windower = buildPart(stepId, "windower.build", WINDOWER_METHODS, () => config.windower.build(resume?.windowerState));
    const driver = new WindowDriver<V, W, S>(config, clock as ClockLogic<V, unknown>, windower as WindowerLogic<unknown>, resume);
    if (resume === undefined || resume.logicStates.length === 0) return driver;
    return runSteps(driver.#restoreLogics(resume.logicStates));
  }

  private constructor(config: WindowDriverConfig<V, W, S>, clock: ClockLogic<V, unknown>, windower: WindowerLogic<unknown>,
    resume: WindowDriverState<V, S> | undefined) {
    this.#stepId = config.stepId;
    this.#builder = config.builder;
    this.#clock = clock;
    this.#windower = windower;
    const lane = hasMsLane(clock) && hasMsLane(windower);
    this.#msClock = lane ? clock as unknown as MsClock<V> : undefined;
    this.#msWindower = lane ? windower as unknown as MsWindower : undefined;
    this.#queue = new WindowQueue<V>(config.ordered, resume?.queue);
    this.#watermarkMs = resume?.watermarkMs ?? MIN_MS;
  }

  /** Steps 1–4 for a batch of this key's values, in arrival order. */
  onBatch(values: V[]): Awaitable<WindowResult<V, W>> {
    // Stamping never waits; only the flush (window logics) may. One generator per call, for the flush.
    const events: WindowEvent<V, W>[] = [];
    const direct: DirectValues<V> = { values: [], tsMs: [] };
    const watermarkMs = this.#stampBatch(values, events, direct);
    return runSteps(this.#flush(events, watermarkMs, direct));
  }

  /** Step 5, on a timer: flush with the clock's current watermark. */
  onNotify(): Awaitable<WindowResult<V, W>> {
    const watermark = this.#watermark("onNotify");
    return runSteps(this.#flush([], this.#advance(watermark)));
  }

  /** Step 5 at EOF: flush with the clock's EOF watermark (`UTC_MAX` for built-in clocks closes everything). */
  onEof(): Awaitable<WindowResult<V, W>> {
    const watermark = this.#watermark("onEof");
    // Not recorded: a continuation must not inherit the end of time.
    return runSteps(this.#flush([], Math.max(this.#watermarkMs, watermark.getTime())));
  }

  /** Step 6: when to wake, in system time; `undefined`: only items or EOF advance the windows. */
  notifyAt(): Date | undefined {
    let atMs: number | undefined;
    if (this.#msWindower !== undefined) {
      atMs = this.#msWindower.notifyAtMs();
    } else {
      const at = this.#windowerCall("notifyAt") as Date | Nullish;
      if (at !== null && at !== undefined && !isValidDate(at)) throw invalidReturn(this.#stepId, "windower.notifyAt", notADate(at));
      atMs = at?.getTime();
    }
    const oldest = this.#queue.oldest();
    if (oldest !== undefined && (atMs === undefined || oldest.tsMs < atMs)) atMs = oldest.tsMs;
    if (atMs === undefined) return undefined;
    let systemTime: Date | Nullish;
    if (this.#msClock !== undefined) {
      // A built-in clock: synchronous by construction (it checks the user callback inside), called directly.
      try {
        systemTime = this.#clock.toSystemUtc(new Date(atMs));
      } catch (err) {
        throw stepError(this.#stepId, "clock.toSystemUtc", err);
      }
    } else {
      systemTime = this.#clockCall("toSystemUtc", new Date(atMs));
    }
    if (systemTime === null || systemTime === undefined) return undefined;
    if (!isValidDate(systemTime)) throw invalidReturn(this.#stepId, "clock.toSystemUtc", notADate(systemTime));
    return systemTime;
  }

  /** Clock state, windower state, each window logic's state and the queue. */
  snapshot(): Awaitable<WindowDriverState<V, S>> {
    return runSteps(this.#snapshotSteps());
  }

  /** Step 1 for a batch: stamps each value; late ones become `late` events, due ones (ms lane) go to `direct`, the rest queue. */
  #stampBatch(values: V[], events: WindowEvent<V, W>[], direct: DirectValues<V>): number {
    if (this.#msClock === undefined) {
      this.#clockCall("beforeBatch");
    } else {
      try {
        this.#clock.beforeBatch(); // a built-in clock, called directly (see notifyAt)
      } catch (err) {
        throw stepError(this.#stepId, "clock.beforeBatch", err);
      }
    }
    let watermarkMs = this.#watermarkMs;
    const clock = this.#msClock;
    const windower = this.#msWindower;
    if (clock !== undefined && windower !== undefined) {
      let callback = "clock.onItem";
      try {
        for (const value of values) {
          callback = "clock.onItem";
          const tsMs = clock.stampMs(value);
          watermarkMs = this.#advanceMs(clock.lastWatermarkMs);
          if (tsMs < watermarkMs) {
            callback = "windower.lateFor";
            windower.lateRangeMs(tsMs);
            for (let id = windower.firstId; id <= windower.lastId; id++) events.push(["late", [id, value]]);
          } else if (tsMs <= watermarkMs && this.#queue.size === 0) {
            direct.values.push(value);
            direct.tsMs.push(tsMs);
          } else {
            this.#queue.pushMs(value, tsMs);
          }
        }
      } catch (err) {
        throw stepError(this.#stepId, callback, err);
      }
    } else {
      for (const value of values) {
        const ts = this.#timestamp(value);
        watermarkMs = this.#advance(this.#itemWatermark);
        if (ts.getTime() < watermarkMs) {
          for (const id of this.#ids("windower.lateFor", this.#windowerCall("lateFor", ts))) {
            events.push(["late", [id, value]]);
          }
        } else {
          this.#queue.push(value, ts);
        }
      }
    }
    return watermarkMs;
  }

  // Steps 2–4: play due values into their windows, then merges, then closes.
  *#flush(events: WindowEvent<V, W>[], watermarkMs: number, direct?: DirectValues<V>): Steps<WindowResult<V, W>> {
    const lane = this.#msWindower;
    const queued = this.#queue.takeDue(watermarkMs);
    // Values due on arrival while nothing waited (ms lane) come first: they arrived first and are not later.
    const nDirect = direct === undefined ? 0 : direct.values.length;

    for (let q = 0; q < nDirect + queued.length; q++) {
      const entry = q < nDirect ? undefined : queued[q - nDirect]!;
      const value = entry === undefined ? direct!.values[q]! : entry.value;
      // The window ids: the range first…last (ms lane), or the windower's list.
      let ids: number[] | undefined;
      let first = 0;
      let last: number;
      if (lane !== undefined) {
        try {
          lane.openRangeMs(entry === undefined ? direct!.tsMs[q]! : entry.tsMs);
        } catch (err) {
          throw stepError(this.#stepId, "windower.openFor", err);
        }
        first = lane.firstId;
        last = lane.lastId;
      } else {
        ids = this.#ids("windower.openFor", this.#windowerCall("openFor", tsOf(entry!)));
        last = ids.length - 1;
      }
      for (let k = first; k <= last; k++) {
        const id = ids === undefined ? k : ids[k]!;
        let logic = this.#logics.get(id);
        if (logic === undefined) {
          logic = yield* this.#buildLogic(undefined);
          this.#logics.set(id, logic);
        }
        let out: unknown;
        try {
          out = logic.onValue(value);
        } catch (err) {
          throw stepError(this.#stepId, "onValue", err);
        }
        if (isPromiseLike(out)) out = yield this.#settle("onValue", out);
        this.#emitDown(events, id, out, "onValue");
      }
    }

    // (the built-in sliding and tumbling windowers never merge)
    for (const [originalId, targetId] of lane !== undefined ? NO_MERGES : this.#merges()) {
      const original = this.#logics.get(originalId);
      if (originalId === targetId || original === undefined) continue;
      this.#logics.delete(originalId);
      const target = this.#logics.get(targetId);
      if (target === undefined) {
        this.#logics.set(targetId, original);
        continue;
      }
      let out: unknown = this.#callLogic("onMerge", () => target.onMerge(original));
      if (isPromiseLike(out)) out = yield this.#settle("onMerge", out);
      this.#emitDown(events, targetId, out, "onMerge");
    }

    const closing = lane !== undefined ? lane.closeForMs(watermarkMs) : this.#windowerCall("closeFor", new Date(watermarkMs));
    for (const [id, meta] of Array.isArray(closing) && closing.length === 0 ? NO_CLOSES : this.#closes(closing)) {
      const logic = this.#logics.get(id);
      if (logic !== undefined) {
        this.#logics.delete(id);
        let out: unknown = this.#callLogic("onClose", () => logic.onClose());
        if (isPromiseLike(out)) out = yield this.#settle("onClose", out);
        this.#emitDown(events, id, out, "onClose");
      }
      events.push(["meta", [id, meta]]);
    }
    return [events, this.#isEmpty()];
  }

  *#snapshotSteps(): Steps<WindowDriverState<V, S>> {
    const clockState = this.#clockCall("snapshot");
    const windowerState = this.#windowerCall("snapshot");
    const logicStates: [number, S][] = [];
    for (const [id, logic] of this.#logics) {
      let state: unknown = this.#callLogic("snapshot", () => logic.snapshot());
      if (isPromiseLike(state)) state = yield this.#settle("snapshot", state);
      logicStates.push([id, state as S]);
    }
    return { clockState, windowerState, logicStates, queue: this.#queue.toState(), watermarkMs: this.#watermarkMs };
  }

  *#restoreLogics(states: [number, S][]): Steps<WindowDriver<V, W, S>> {
    for (const [id, state] of states) this.#logics.set(id, yield* this.#buildLogic(state));
    return this;
  }

  *#buildLogic(resumeState: S | undefined): Steps<WindowLogic<V, W, S>> {
    let built: unknown = this.#callLogic("builder", () => this.#builder(resumeState));
    if (isPromiseLike(built)) built = yield this.#settle("builder", built);
    const missing = LOGIC_METHODS.find((m) => typeof (built as Record<string, unknown> | Nullish)?.[m] !== "function");
    if (missing !== undefined) {
      throw invalidReturn(this.#stepId, "builder", `returned ${show(built)}, which has no '${missing}' method; expected a WindowLogic`);
    }
    return built as WindowLogic<V, W, S>;
  }

  #timestamp(value: V): Date {
    const stamped = this.#clockCall("onItem", value);
    if (!Array.isArray(stamped) || stamped.length !== 2 || !isValidDate(stamped[0]) || !isValidDate(stamped[1])) {
      throw invalidReturn(this.#stepId, "clock.onItem", `returned ${show(stamped)}; expected [timestamp: Date, watermark: Date]`);
    }
    this.#itemWatermark = stamped[1];
    return stamped[0];
  }

  #watermark(method: "onNotify" | "onEof"): Date {
    const watermark = this.#clockCall(method);
    if (!isValidDate(watermark)) throw invalidReturn(this.#stepId, `clock.${method}`, notADate(watermark));
    return watermark;
  }

  // Watermarks never go back (a system clock stepping back, a resumed clock), so closed windows stay closed.
  #advance(watermark: Date): number {
    return this.#advanceMs(watermark.getTime());
  }

  #advanceMs(watermarkMs: number): number {
    const ms = Math.min(watermarkMs, LAST_ITEM_WATERMARK_MS);
    if (ms > this.#watermarkMs) this.#watermarkMs = ms;
    return this.#watermarkMs;
  }

  // Step 7.
  #isEmpty(): boolean {
    if (this.#logics.size > 0 || this.#queue.size > 0) return false;
    const empty = this.#windowerCall("isEmpty");
    if (typeof empty !== "boolean") throw invalidReturn(this.#stepId, "windower.isEmpty", `returned ${show(empty)}; expected a boolean`);
    return empty;
  }

  #merges(): [number, number][] {
    const merged = this.#windowerCall("merged");
    if (Array.isArray(merged) && merged.length === 0) return merged as [];
    const merges = this.#iterable("windower.merged", merged);
    return merges.map((pair) => {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "number" || typeof pair[1] !== "number") {
        throw invalidReturn(this.#stepId, "windower.merged", `yielded ${show(pair)}; expected [originalId: number, targetId: number]`);
      }
      return pair as [number, number];
    });
  }

  #closes(result: unknown): [number, WindowMetadata][] {
    return this.#iterable("windower.closeFor", result).map((entry) => {
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "number" || typeof entry[1] !== "object" || entry[1] === null) {
        throw invalidReturn(this.#stepId, "windower.closeFor", `yielded ${show(entry)}; expected [windowId: number, WindowMetadata]`);
      }
      return entry as [number, WindowMetadata];
    });
  }

  #ids(callback: string, result: unknown): number[] {
    const ids = this.#iterable(callback, result);
    for (const id of ids) {
      if (typeof id !== "number") throw invalidReturn(this.#stepId, callback, `yielded window id ${show(id)}; expected a number`);
    }
    return ids as number[];
  }

  // Materialises an iterable from a clock or windower method; the built-ins return arrays.
  #iterable(callback: string, result: unknown): unknown[] {
    if (Array.isArray(result)) return result;
    if (!isIterable(result)) throw invalidReturn(this.#stepId, callback, `returned ${show(result)}; expected an iterable`);
    try {
      return Array.from(result);
    } catch (err) {
      throw stepError(this.#stepId, callback, err);
    }
  }

  #emitDown(events: WindowEvent<V, W>[], id: number, out: unknown, callback: string): void {
    if (Array.isArray(out) && out.length === 0) return;
    if (!isIterable(out)) {
      throw invalidReturn(this.#stepId, callback, `returned ${show(out)}; expected an iterable of values to emit`);
    }
    try {
      for (const w of out as Iterable<W>) events.push(["down", [id, w]]);
    } catch (err) {
      throw stepError(this.#stepId, callback, err);
    }
  }

  // Clock and windower methods MUST be synchronous (API.md §1). Called by name, so the hot path allocates no closures.
  #clockCall<M extends keyof ClockLogic<V, unknown>>(method: M, arg?: unknown): ReturnType<ClockLogic<V, unknown>[M]> {
    return this.#syncCall(this.#clock, "clock.", method, arg) as ReturnType<ClockLogic<V, unknown>[M]>;
  }

  #windowerCall<M extends keyof WindowerLogic<unknown>>(method: M, arg?: Date): ReturnType<WindowerLogic<unknown>[M]> {
    return this.#syncCall(this.#windower, "windower.", method, arg) as ReturnType<WindowerLogic<unknown>[M]>;
  }

  #syncCall(target: object, owner: string, method: string, arg: unknown): unknown {
    let result: unknown;
    try {
      result = (target as Record<string, (arg: unknown) => unknown>)[method](arg);
    } catch (err) {
      throw stepError(this.#stepId, owner + method, err);
    }
    if (isPromiseLike(result)) throw invalidReturn(this.#stepId, owner + method, "returned a Promise; it must be synchronous");
    return result;
  }

  #callLogic<R>(callback: string, fn: () => R): R {
    try {
      return fn();
    } catch (err) {
      throw stepError(this.#stepId, callback, err);
    }
  }

  #settle(callback: string, pending: PromiseLike<unknown>): Promise<unknown> {
    return Promise.resolve(pending).catch((err: unknown) => {
      throw stepError(this.#stepId, callback, err);
    });
  }
}

function buildPart<P>(stepId: string, callback: string, methods: readonly string[], build: () => P): P {
  let part: P;
  try {
    part = build();
  } catch (err) {
    throw stepError(stepId, callback, err);
  }
  const missing = methods.find((m) => typeof (part as Record<string, unknown> | Nullish)?.[m] !== "function");
  if (missing !== undefined) {
    const what = isPromiseLike(part) ? "returned a Promise; it must be synchronous" : `returned ${show(part)}, which has no '${missing}' method`;
    throw invalidReturn(stepId, callback, what);
  }
  return part;
}

function isIterable(x: unknown): x is Iterable<unknown> {
  return x !== null && x !== undefined && typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] === "function";
}

function isDriverState(x: unknown): x is WindowDriverState<unknown, unknown> {
  const state = x as Partial<WindowDriverState<unknown, unknown>> | null;
  return typeof state === "object" && state !== null && Array.isArray(state.logicStates) && Array.isArray(state.queue) &&
    typeof state.watermarkMs === "number";
}
