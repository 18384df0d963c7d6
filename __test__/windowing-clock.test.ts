import { describe, expect, it } from "vitest";
import { WeirError } from "../src/errors.js";
import { Clock, EventClock, SystemClock, SystemClockLogic } from "../src/windowing/clock.js";
import { ReturnFault } from "../src/windowing/faults.js";
import { MAX_MS, MIN_MS, UTC_MAX, UTC_MIN, addMs, subMs } from "../src/windowing/time.js";
import { ManualTime, at } from "./windowing-harness.js";

const T0 = new Date("2024-01-01T00:00:00Z");

function eventClock(wait: number, time = new ManualTime(T0)) {
  return new EventClock<Date>({ tsGetter: (x) => x, waitForSystemDurationMs: wait, nowGetter: time.get }).build(undefined);
}

describe("time arithmetic", () => {
  it("saturates at UTC_MIN and UTC_MAX", () => {
    expect(UTC_MIN.getTime()).toBe(-8.64e15);
    expect(UTC_MAX.getTime()).toBe(8.64e15);
    expect(addMs(MAX_MS - 5, 10)).toBe(MAX_MS);
    expect(subMs(MIN_MS + 5, 10)).toBe(MIN_MS);
    expect(addMs(0, Infinity)).toBe(MAX_MS);
    expect(subMs(0, Infinity)).toBe(MIN_MS);
    expect(subMs(MAX_MS, Infinity)).toBe(MIN_MS);
  });
});

// Ported from Bytewax v0.21.1 pytests/operators/windowing/test_event_clock.py (wait 5 s, now 2024-01-01).
describe("EventClock (Bytewax test_event_clock.py)", () => {
  it("watermark starts at beginning of time", () => {
    expect(eventClock(5000).onNotify()).toEqual(UTC_MIN);
  });

  it("watermark is item timestamp minus wait", () => {
    const logic = eventClock(5000);
    logic.beforeBatch();
    expect(logic.onItem(at(T0, 7000))[1]).toEqual(at(T0, 2000));
  });

  it("watermark forwards by system time", () => {
    const time = new ManualTime(T0);
    const logic = eventClock(5000, time);
    logic.beforeBatch();
    logic.onItem(at(T0, 7000));
    time.advance(2000);
    expect(logic.onNotify()).toEqual(at(T0, 4000));
  });

  it("watermark advances in batch", () => {
    const logic = eventClock(5000);
    logic.beforeBatch();
    logic.onItem(at(T0, 7000));
    expect(logic.onItem(at(T0, 10000))[1]).toEqual(at(T0, 5000));
  });

  it("watermark does not reverse in batch", () => {
    const logic = eventClock(5000);
    logic.beforeBatch();
    logic.onItem(at(T0, 7000));
    expect(logic.onItem(at(T0, 3000))).toEqual([at(T0, 3000), at(T0, 2000)]);
  });

  it("watermark does not reverse and forwards by system time next batch", () => {
    const time = new ManualTime(T0);
    const logic = eventClock(5000, time);
    logic.beforeBatch();
    logic.onItem(at(T0, 7000));
    time.advance(2000);
    logic.beforeBatch();
    expect(logic.onItem(at(T0, 3000))[1]).toEqual(at(T0, 4000));
  });

  it("watermark does not reverse when the advancing item is slower than the system time gap", () => {
    const time = new ManualTime(T0);
    const logic = eventClock(5000, time);
    logic.beforeBatch();
    logic.onItem(at(T0, 7000)); // 7 − 5 = 2
    time.advance(2000); // 2 + 2 = 4
    logic.beforeBatch();
    expect(logic.onItem(at(T0, 8000))[1]).toEqual(at(T0, 4000)); // 8 − 5 = 3 would regress
  });

  it("watermark is end of time on EOF", () => {
    const logic = eventClock(5000);
    logic.onEof();
    expect(logic.onEof()).toEqual(UTC_MAX);
  });

  it("watermark doesn't overflow after EOF", () => {
    const time = new ManualTime(T0);
    const logic = eventClock(5000, time);
    logic.onEof();
    time.advance(2000);
    expect(logic.onEof()).toEqual(UTC_MAX);
  });

  it("allows an infinite wait", () => {
    const logic = eventClock(Infinity);
    logic.beforeBatch();
    expect(logic.onItem(at(T0, 7000))[1]).toEqual(UTC_MIN);
  });

  it("infinite wait: the watermark still moves with system time and does not regress", () => {
    const time = new ManualTime(T0);
    const logic = eventClock(Infinity, time);
    logic.beforeBatch();
    logic.onItem(at(T0, 7000));
    time.advance(2000);
    logic.beforeBatch();
    expect(logic.onItem(at(T0, 10000))[1]).toEqual(new Date(MIN_MS + 2000));
  });
});

describe("EventClock", () => {
  it("system time never goes back", () => {
    const time = new ManualTime(T0);
    const logic = eventClock(0, time);
    logic.beforeBatch();
    logic.onItem(at(T0, 10_000));
    time.advance(-5000);
    expect(logic.onNotify()).toEqual(at(T0, 10_000));
    time.advance(6000);
    expect(logic.onNotify()).toEqual(at(T0, 11_000));
  });

  it("snapshots plain data and resumes from it", () => {
    const time = new ManualTime(T0);
    const clock = new EventClock<Date>({ tsGetter: (x) => x, waitForSystemDurationMs: 1000, nowGetter: time.get });
    const logic = clock.build(undefined);
    logic.beforeBatch();
    logic.onItem(at(T0, 5000));
    const state = logic.snapshot();
    expect(state).toEqual({ systemTimeOfMaxEvent: T0, watermarkBase: at(T0, 4000) });
    time.advance(3000);
    const resumed = clock.build(structuredClone(state));
    expect(resumed.onNotify()).toEqual(at(T0, 7000));
    expect(resumed.onItem(at(T0, 6000))).toEqual([at(T0, 6000), at(T0, 7000)]);
  });

  it("saturates ts − wait at UTC_MIN and ts at UTC_MAX", () => {
    const logic = eventClock(10);
    logic.beforeBatch();
    expect(logic.onItem(new Date(MIN_MS + 3))).toEqual([new Date(MIN_MS + 3), UTC_MIN]);
    expect(logic.onItem(UTC_MAX)[1]).toEqual(new Date(MAX_MS - 10));
  });

  it("toSystemUtc defaults to identity and may return nullish", () => {
    expect(eventClock(0).toSystemUtc(T0)).toEqual(T0);
    const none = new EventClock<Date>({ tsGetter: (x) => x, waitForSystemDurationMs: 0, toSystemUtc: () => null });
    expect(none.build(undefined).toSystemUtc(T0)).toBeNull();
  });

  it("an invalid Date from tsGetter is a TypeError (INVALID_RETURN once the driver names the step)", () => {
    const clock = new EventClock<unknown>({ tsGetter: () => new Date(Number.NaN), waitForSystemDurationMs: 0 });
    const logic = clock.build(undefined);
    logic.beforeBatch();
    expect(() => logic.onItem(1)).toThrow(TypeError);
    expect(() => logic.onItem(1)).toThrow(ReturnFault);
    const notADate = new EventClock<unknown>({ tsGetter: () => "2024-01-01" as unknown as Date, waitForSystemDurationMs: 0 });
    expect(() => notADate.build(undefined).onItem(1)).toThrow(/'tsGetter' returned '2024-01-01'; expected a valid Date/);
    const async = new EventClock<unknown>({ tsGetter: async () => T0, waitForSystemDurationMs: 0 } as never);
    expect(() => async.build(undefined).onItem(1)).toThrow(/'tsGetter' returned a Promise; it must be synchronous/);
  });

  it("an invalid Date from nowGetter is a TypeError", () => {
    const clock = new EventClock<Date>({ tsGetter: (x) => x, waitForSystemDurationMs: 0, nowGetter: () => new Date("nope") });
    expect(() => clock.build(undefined)).toThrow("'nowGetter' returned Invalid Date; expected a valid Date");
  });

  it.each([
    [{ waitForSystemDurationMs: 0 }, "tsGetter"],
    [{ tsGetter: 5, waitForSystemDurationMs: 0 }, "tsGetter"],
    [{ tsGetter: () => T0 }, "waitForSystemDurationMs"],
    [{ tsGetter: () => T0, waitForSystemDurationMs: -1 }, "waitForSystemDurationMs"],
    [{ tsGetter: () => T0, waitForSystemDurationMs: 1.5 }, "waitForSystemDurationMs"],
    [{ tsGetter: () => T0, waitForSystemDurationMs: Number.NaN }, "waitForSystemDurationMs"],
    [{ tsGetter: () => T0, waitForSystemDurationMs: -Infinity }, "waitForSystemDurationMs"],
    [{ tsGetter: () => T0, waitForSystemDurationMs: 0, nowGetter: "now" }, "nowGetter"],
    [{ tsGetter: () => T0, waitForSystemDurationMs: 0, toSystemUtc: 1 }, "toSystemUtc"],
  ])("rejects bad options %o naming '%s'", (opts, option) => {
    const make = () => new EventClock(opts as never);
    expect(make).toThrow(WeirError);
    expect(make).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining(`'${option}'`) }));
  });

  it("rejects a missing options object", () => {
    expect(() => new EventClock(undefined as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("is a Clock", () => {
    expect(new EventClock({ tsGetter: () => T0, waitForSystemDurationMs: 0 })).toBeInstanceOf(Clock);
    expect(new SystemClock()).toBeInstanceOf(Clock);
  });
});

// Ported from Bytewax v0.21.1 pytests/operators/windowing/test_system_clock.py, plus the rest of §4's rules.
describe("SystemClock", () => {
  it("watermark is end of time on EOF", () => {
    const logic = new SystemClockLogic(new ManualTime(T0).get);
    logic.onEof();
    expect(logic.onEof()).toEqual(UTC_MAX);
  });

  it("stamps items with the batch's system time and is never late", () => {
    const time = new ManualTime(T0);
    const logic = new SystemClockLogic(time.get);
    logic.beforeBatch();
    time.advance(500);
    expect(logic.onItem("x")).toEqual([T0, T0]);
    logic.beforeBatch();
    expect(logic.onItem("y")).toEqual([at(T0, 500), at(T0, 500)]);
    time.advance(500);
    expect(logic.onNotify()).toEqual(at(T0, 1000));
    expect(logic.toSystemUtc(T0)).toEqual(T0);
    expect(logic.snapshot()).toBeUndefined();
  });

  it("builds with the real clock", () => {
    const before = Date.now();
    const logic = new SystemClock().build(undefined);
    logic.beforeBatch();
    const [ts, wm] = logic.onItem(null);
    expect(ts.getTime()).toBeGreaterThanOrEqual(before);
    expect(wm).toEqual(ts);
  });
});
