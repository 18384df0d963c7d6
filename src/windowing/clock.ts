//! Clocks: a sense of time per key, giving each value a timestamp and the stream a watermark (API.md §4).
import { invalidArgument } from "../errors.js";
import type { Nullish } from "../types.js";
import { ReturnFault, callUser, fault, notADate, rejectPromise } from "./faults.js";
import { MAX_MS, MIN_MS, addMs, isDurationMs, isValidDate, show, subMs } from "./time.js";
import { MS_LANE, type MsClock } from "./ms-lane.js";

/**
 * The per-key logic of a clock. The window driver calls `beforeBatch` once per batch, then `onItem` per value;
 * `onNotify` on timers and `onEof` at the end of input. Every method MUST be synchronous.
 */
export interface ClockLogic<V, S> {
  beforeBatch(): void;
  /** The value's timestamp and the watermark after it. A value is late when its timestamp is before the watermark. */
  onItem(value: V): [timestamp: Date, watermark: Date];
  /** The watermark when there is no item. */
  onNotify(): Date;
  /** The watermark at EOF; `UTC_MAX` closes every window. */
  onEof(): Date;
  /** The system time at which event time `ts` is reached; nullish: no timer. */
  toSystemUtc(ts: Date): Date | Nullish;
  snapshot(): S;
}

/** A kind of clock. Custom clocks MUST extend this class; `build` makes one logic per key. */
export abstract class Clock<V, S> {
  abstract build(resumeState: S | undefined): ClockLogic<V, S>;
}

function systemNow(): Date {
  return new Date();
}

function sampleNow(nowGetter: () => Date): number {
  if (nowGetter === systemNow) return Date.now(); // the default: no Date to make and check
  const now = rejectPromise("nowGetter", callUser("nowGetter", nowGetter));
  if (!isValidDate(now)) throw new ReturnFault("nowGetter", notADate(now));
  return now.getTime();
}

/** `SystemClock`'s logic; exported (not from the package) so tests can drive it with a manual `nowGetter`. */
export class SystemClockLogic implements ClockLogic<unknown, undefined>, MsClock<unknown> {
  readonly [MS_LANE] = true as const;
  readonly #nowGetter: () => Date;
  #nowMs: number;
  // The batch's time as a Date, made only when a Date is asked for (the ms lane never asks).
  #now: Date | undefined = undefined;
  lastWatermarkMs = MIN_MS;

  constructor(nowGetter: () => Date = systemNow) {
    this.#nowGetter = nowGetter;
    this.#nowMs = sampleNow(nowGetter);
  }

  beforeBatch(): void {
    this.#nowMs = sampleNow(this.#nowGetter);
    this.#now = undefined;
  }

  onItem(_value: unknown): [Date, Date] {
    const now = this.#nowDate();
    return [now, now];
  }

  stampMs(_value: unknown): number {
    this.lastWatermarkMs = this.#nowMs;
    return this.#nowMs;
  }

  onNotify(): Date {
    this.beforeBatch();
    return this.#nowDate();
  }

  #nowDate(): Date {
    return (this.#now ??= new Date(this.#nowMs));
  }

  onEof(): Date {
    return new Date(MAX_MS);
  }

  toSystemUtc(ts: Date): Date {
    return ts;
  }

  snapshot(): undefined {
    return undefined;
  }
}

/**
 * Stamps each value with the system time when its batch arrives; the watermark is that time, so nothing is
 * late. Windows are not reproducible across resumes.
 *
 * @example
 * const clock = new SystemClock();
 * win.collectWindow("per_minute", keyed, clock, new TumblingWindower({ lengthMs: 60_000, alignTo: new Date(0) }));
 */
export class SystemClock extends Clock<unknown, undefined> {
  constructor() {
    super();
  }

  build(_resumeState: undefined): ClockLogic<unknown, undefined> {
    return new SystemClockLogic();
  }
}

/** `EventClock`'s snapshot. */
export interface EventClockState {
  systemTimeOfMaxEvent: Date;
  watermarkBase: Date;
}

export interface EventClockOptions<V> {
  /** The value's event time. MUST be synchronous and return a valid `Date` (else `INVALID_RETURN`). */
  tsGetter: (value: V) => Date;
  /** How much system time to wait after seeing a timestamp before the watermark reaches it; `Infinity`: until EOF. */
  waitForSystemDurationMs: number;
  /** The current system time (a test hook); default `() => new Date()`. */
  nowGetter?: () => Date;
  /** The system time at which an event time is due, for timers; default identity; nullish: no timer. */
  toSystemUtc?: (ts: Date) => Date | Nullish;
}

/**
 * Uses a timestamp carried by each value. The watermark is the largest timestamp seen minus
 * `waitForSystemDurationMs`, plus the system time elapsed since that timestamp was seen; values older than the
 * watermark are late.
 *
 * @example
 * const clock = new EventClock({ tsGetter: (e: { at: Date }) => e.at, waitForSystemDurationMs: 5_000 });
 */
export class EventClock<V> extends Clock<V, EventClockState> {
  readonly tsGetter: (value: V) => Date;
  readonly waitForSystemDurationMs: number;
  readonly nowGetter: () => Date;
  readonly toSystemUtc: (ts: Date) => Date | Nullish;

  constructor(opts: EventClockOptions<V>) {
    super();
    if (typeof opts !== "object" || opts === null) {
      throw invalidArgument(`EventClock: expected an options object { tsGetter, waitForSystemDurationMs }, got ${show(opts)}`);
    }
    const { tsGetter, waitForSystemDurationMs, nowGetter = systemNow, toSystemUtc = identity } = opts;
    if (typeof tsGetter !== "function") {
      throw invalidArgument(`EventClock: option 'tsGetter' must be a function, got ${show(tsGetter)}`);
    }
    if (!isDurationMs(waitForSystemDurationMs, true)) {
      throw invalidArgument("EventClock: option 'waitForSystemDurationMs' must be a non-negative whole number of ms " +
        `or Infinity, got ${show(waitForSystemDurationMs)}`);
    }
    if (typeof nowGetter !== "function") {
      throw invalidArgument(`EventClock: option 'nowGetter' must be a function, got ${show(nowGetter)}`);
    }
    if (typeof toSystemUtc !== "function") {
      throw invalidArgument(`EventClock: option 'toSystemUtc' must be a function, got ${show(toSystemUtc)}`);
    }
    this.tsGetter = tsGetter;
    this.waitForSystemDurationMs = waitForSystemDurationMs;
    this.nowGetter = nowGetter;
    this.toSystemUtc = toSystemUtc;
  }

  build(resumeState: EventClockState | undefined): ClockLogic<V, EventClockState> {
    return new EventClockLogic(this, resumeState);
  }
}

function identity(ts: Date): Date {
  return ts;
}

class EventClockLogic<V> implements ClockLogic<V, EventClockState>, MsClock<V> {
  readonly [MS_LANE] = true as const;
  lastWatermarkMs = MIN_MS;
  readonly #config: EventClock<V>;
  #systemNowMs: number;
  #systemTimeOfMaxEventMs: number;
  #watermarkBaseMs: number;
  // The last watermark handed out, reused while it does not move (saves a Date per item).
  #watermark: Date | undefined = undefined;

  constructor(config: EventClock<V>, resume: EventClockState | undefined) {
    this.#config = config;
    this.#systemNowMs = sampleNow(config.nowGetter);
    if (resume === undefined) {
      this.#systemTimeOfMaxEventMs = this.#systemNowMs;
      this.#watermarkBaseMs = MIN_MS;
    } else {
      if (!isValidDate(resume?.systemTimeOfMaxEvent) || !isValidDate(resume.watermarkBase)) {
        throw new TypeError(`EventClock: invalid resume state ${show(resume)}`);
      }
      this.#systemTimeOfMaxEventMs = resume.systemTimeOfMaxEvent.getTime();
      this.#watermarkBaseMs = resume.watermarkBase.getTime();
    }
  }

  beforeBatch(): void {
    // System time never goes back here (NTP steps, VM pauses): the watermark holds until the clock catches up.
    const now = sampleNow(this.#config.nowGetter);
    if (now > this.#systemNowMs) this.#systemNowMs = now;
  }

  onItem(value: V): [Date, Date] {
    const ts = this.#timestampOf(value);
    this.#observe(ts.getTime());
    return [ts, this.#watermarkDate(this.lastWatermarkMs)];
  }

  stampMs(value: V): number {
    const tsMs = this.#timestampOf(value).getTime();
    this.#observe(tsMs);
    return tsMs;
  }

  /** The user's timestamp for `value`, checked. */
  #timestampOf(value: V): Date {
    let ts: unknown;
    try {
      ts = this.#config.tsGetter(value);
    } catch (err) {
      throw fault("tsGetter", err);
    }
    if (!isValidDate(ts)) throw new ReturnFault("tsGetter", notADate(ts));
    return ts;
  }

  /** Moves the watermark for a value stamped `tsMs`; the watermark after it is left in `lastWatermarkMs`. */
  #observe(tsMs: number): void {
    const watermarkMs = this.#watermarkMs();
    const candidateMs = subMs(tsMs, this.#config.waitForSystemDurationMs);
    if (candidateMs > watermarkMs) {
      this.#watermarkBaseMs = candidateMs;
      this.#systemTimeOfMaxEventMs = this.#systemNowMs;
      this.lastWatermarkMs = candidateMs;
    } else {
      this.lastWatermarkMs = watermarkMs;
    }
  }

  onNotify(): Date {
    this.beforeBatch();
    return new Date(this.#watermarkMs());
  }

  onEof(): Date {
    return new Date(MAX_MS);
  }

  toSystemUtc(ts: Date): Date | Nullish {
    const at = rejectPromise("toSystemUtc", callUser("toSystemUtc", () => this.#config.toSystemUtc(ts)));
    if (at !== null && at !== undefined && !isValidDate(at)) throw new ReturnFault("toSystemUtc", notADate(at));
    return at;
  }

  snapshot(): EventClockState {
    return {
      systemTimeOfMaxEvent: new Date(this.#systemTimeOfMaxEventMs),
      watermarkBase: new Date(this.#watermarkBaseMs),
    };
  }

  #watermarkMs(): number {
    return addMs(this.#watermarkBaseMs, this.#systemNowMs - this.#systemTimeOfMaxEventMs);
  }

  #watermarkDate(ms: number): Date {
    if (this.#watermark === undefined || this.#watermark.getTime() !== ms) this.#watermark = new Date(ms);
    return this.#watermark;
  }
}
