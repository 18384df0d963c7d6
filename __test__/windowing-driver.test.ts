import * as v8 from "node:v8";
import { describe, expect, it } from "vitest";
import { WeirError } from "../src/errors.js";
import { isPromiseLike } from "../src/types.js";
import { Clock, type ClockLogic, EventClock, SystemClockLogic } from "../src/windowing/clock.js";
import { WindowDriver, type WindowDriverConfig, type WindowLogic, type WindowResult } from "../src/windowing/driver.js";
import { collectLogic, countLogic, foldLogic } from "../src/windowing/logics.js";
import { SessionWindower } from "../src/windowing/session.js";
import { SlidingWindower, TumblingWindower } from "../src/windowing/sliding.js";
import { MAX_MS, MIN_MS, UTC_MAX } from "../src/windowing/time.js";
import { Windower, type WindowerLogic } from "../src/windowing/windower.js";
import { ManualTime, at, oneByOne, port, runWindows } from "./windowing-harness.js";

const T0 = new Date("2024-01-01T00:00:00Z");
const STEP = "flow.win";

interface Ev {
  name: string;
  at: Date;
}
const ev = (name: string, seconds: number): Ev => ({ name, at: at(T0, seconds * 1000) });
const byTs = (wait: number, nowGetter = () => T0) => new EventClock<Ev>({ tsGetter: (e) => e.at, waitForSystemDurationMs: wait, nowGetter });
const names = () => foldLogic(() => [] as string[], (acc: string[], e: Ev) => [...acc, e.name], (a: string[], b: string[]) => [...a, ...b]);

function config<V, W, S>(over: Partial<WindowDriverConfig<V, W, S>> & Pick<WindowDriverConfig<V, W, S>, "clock" | "windower" | "builder">):
  WindowDriverConfig<V, W, S> {
  return { stepId: STEP, ordered: true, ...over };
}

function sync<R>(result: R | PromiseLike<R>): R {
  if (isPromiseLike(result)) throw new Error("expected a synchronous result");
  return result;
}

describe("§4 worked examples", () => {
  it("sliding windows with a late item", async () => {
    const values = [ev("a", 1), ev("b", 4), ev("c", 8), ev("d", 12), ev("e", 13), ev("f", 14), ev("g", 16), ev("h", 1)];
    const out = await runWindows(config({
      clock: byTs(0), windower: new SlidingWindower({ lengthMs: 10_000, offsetMs: 5_000, alignTo: T0 }), builder: names(),
    }), oneByOne(values.map((v): [string, Ev] => ["k", v])), { requireSync: true });
    expect(port(out, "down")).toEqual([
      ["k", [-1, ["a", "b"]]], ["k", [0, ["a", "b", "c"]]], ["k", [1, ["c", "d", "e", "f"]]], ["k", [2, ["d", "e", "f", "g"]]], ["k", [3, ["g"]]],
    ]);
    expect(port(out, "late")).toEqual([["k", [-1, ev("h", 1)]], ["k", [0, ev("h", 1)]]]);
    expect(port(out, "meta")).toEqual([-1, 0, 1, 2, 3].map((id) =>
      ["k", [id, { openTime: at(T0, id * 5000), closeTime: at(T0, id * 5000 + 10_000), mergedIds: new Set() }]]));
    // Each window's down item comes right before its meta item.
    expect(out.map((e) => e.event[0])).toEqual(["down", "meta", "down", "meta", "down", "meta", "late", "late", "down", "meta", "down", "meta"]);
  });

  it("tumbling count: a's window 0 closes on its 12 s item, the rest at EOF in key order", async () => {
    const items: [string, Ev][] = [["a", ev("a", 0)], ["a", ev("a", 4)], ["b", ev("b", 8)], ["a", ev("a", 12)], ["a", ev("a", 13)]];
    const out = await runWindows(config({
      clock: byTs(0), windower: new TumblingWindower({ lengthMs: 10_000, alignTo: T0 }), builder: countLogic<Ev>(), ordered: false,
    }), oneByOne(items), { requireSync: true });
    expect(port(out, "down")).toEqual([["a", [0, 2]], ["a", [1, 2]], ["b", [0, 1]]]);
    expect(out.filter((e) => e.event[0] === "down").map((e) => e.phase)).toEqual(["batch", "eof", "eof"]);
  });
});

describe("WindowDriver", () => {
  const tumbling = new TumblingWindower({ lengthMs: 10_000, alignTo: T0 });

  it("is synchronous (no Promise, no microtask) when every callback is", () => {
    const driver = sync(WindowDriver.build(config({ clock: byTs(0), windower: tumbling, builder: names() })));
    const result = driver.onBatch([ev("a", 1), ev("b", 11)]);
    expect(Array.isArray(result)).toBe(true);
    expect(sync(result)).toEqual([[["down", [0, ["a"]]], ["meta", [0, { openTime: T0, closeTime: at(T0, 10_000), mergedIds: new Set() }]]], false]);
    expect(sync(driver.onNotify())).toEqual([[], false]);
    expect(sync(driver.snapshot())).toMatchObject({ logicStates: [[1, { acc: ["b"] }]] });
    expect(sync(driver.onEof())[1]).toBe(true);
  });

  it("awaits async window logics and their builder, with the same output", async () => {
    let calls = 0;
    const asyncNames = (resume: { acc: string[] } | undefined): Promise<WindowLogic<Ev, string[], { acc: string[] }>> => {
      let acc = resume?.acc ?? [];
      const later = <R>(r: R) => new Promise<R>((resolve) => setTimeout(() => resolve(r), 0));
      calls++;
      return later({
        onValue: (e: Ev) => later((acc = [...acc, e.name], [])),
        onMerge: async (o: WindowLogic<Ev, string[], { acc: string[] }>) => ((acc = [...acc, ...(await o.snapshot()).acc]), []),
        onClose: () => later([acc]),
        snapshot: () => later({ acc }),
      });
    };
    const values = [ev("a", 1), ev("b", 4), ev("c", 8), ev("d", 12), ev("e", 13), ev("f", 14), ev("g", 16), ev("h", 1)];
    const windower = new SlidingWindower({ lengthMs: 10_000, offsetMs: 5_000, alignTo: T0 });
    const items = oneByOne(values.map((v): [string, Ev] => ["k", v]));
    const expected = await runWindows(config({ clock: byTs(0), windower, builder: names() }), items);
    const driver = WindowDriver.build(config({ clock: byTs(0), windower, builder: asyncNames }));
    expect(isPromiseLike(driver)).toBe(false);
    expect(isPromiseLike((driver as WindowDriver<Ev, string[], unknown>).onBatch([values[0] as Ev]))).toBe(true);
    const got = await runWindows(config({ clock: byTs(0), windower, builder: asyncNames }), items, { restoreAfter: (i) => i % 3 === 1 });
    expect(got).toEqual(expected);
    expect(calls).toBeGreaterThan(5);
  });

  it("ordered: holds values until the watermark reaches them, then plays them in timestamp order", () => {
    const driver = sync(WindowDriver.build(config({ clock: byTs(10_000), windower: tumbling, builder: names() })));
    expect(sync(driver.onBatch([ev("c", 8), ev("a", 2), ev("b", 2)]))).toEqual([[], false]); // wm −2 s
    expect(driver.notifyAt()).toEqual(at(T0, 2000)); // the oldest queued timestamp, not the first to arrive
    expect(sync(driver.onBatch([ev("d", 15)]))).toEqual([[], false]); // wm 5 s: a, b played into window 0
    expect(driver.notifyAt()).toEqual(at(T0, 8000)); // c, before window 0 closes at 10 s
    expect(sync(driver.onBatch([ev("e", 21)]))[0]).toEqual([ // wm 11 s: c played, window 0 closes
      ["down", [0, ["a", "b", "c"]]], ["meta", [0, { openTime: T0, closeTime: at(T0, 10_000), mergedIds: new Set() }]],
    ]);
    expect(driver.notifyAt()).toEqual(at(T0, 15_000));
  });

  it("unordered: plays values at once in arrival order", () => {
    const driver = sync(WindowDriver.build(config({ clock: byTs(10_000), windower: tumbling, builder: names(), ordered: false })));
    sync(driver.onBatch([ev("c", 8), ev("a", 2), ev("b", 2)]));
    expect(driver.notifyAt()).toEqual(at(T0, 10_000));
    expect(sync(driver.onEof())[0]).toEqual([
      ["down", [0, ["c", "a", "b"]]], ["meta", [0, { openTime: T0, closeTime: at(T0, 10_000), mergedIds: new Set() }]],
    ]);
  });

  it("notifyAt passes through toSystemUtc; nullish means no timer", () => {
    const shifted = new EventClock<Ev>({ tsGetter: (e) => e.at, waitForSystemDurationMs: 0, nowGetter: () => T0, toSystemUtc: (ts) => at(ts, 1) });
    const driver = sync(WindowDriver.build(config({ clock: shifted, windower: tumbling, builder: names() })));
    expect(driver.notifyAt()).toBeUndefined();
    sync(driver.onBatch([ev("a", 1)]));
    expect(driver.notifyAt()).toEqual(at(T0, 10_001));
    const never = new EventClock<Ev>({ tsGetter: (e) => e.at, waitForSystemDurationMs: 0, nowGetter: () => T0, toSystemUtc: () => undefined });
    const quiet = sync(WindowDriver.build(config({ clock: never, windower: tumbling, builder: names() })));
    sync(quiet.onBatch([ev("a", 1)]));
    expect(quiet.notifyAt()).toBeUndefined();
  });

  it("a timer closes windows as system time moves the watermark", () => {
    const time = new ManualTime(T0);
    const driver = sync(WindowDriver.build(config({ clock: byTs(2000, time.get), windower: tumbling, builder: names() })));
    sync(driver.onBatch([ev("a", 1)])); // wm = −1 s: queued until it reaches 1 s
    expect(driver.notifyAt()).toEqual(at(T0, 1000));
    time.advance(2500); // wm = 1.5 s
    expect(sync(driver.onNotify())).toEqual([[], false]);
    expect(driver.notifyAt()).toEqual(at(T0, 10_000));
    time.advance(9000); // wm = 10.5 s
    const [events, discard] = sync(driver.onNotify());
    expect(events.map((e) => e[0])).toEqual(["down", "meta"]);
    expect(discard).toBe(true); // no windows, empty queue, windower empty: the key's state is dropped
  });

  it("late values go to 'late' once per window they missed (sessions: LATE_SESSION_ID)", () => {
    const driver = sync(WindowDriver.build(config({ clock: byTs(0), windower: new SessionWindower({ gapMs: 1000 }), builder: names() })));
    const [events] = sync(driver.onBatch([ev("a", 10), ev("b", 5)]));
    expect(events).toEqual([["late", [-1, ev("b", 5)]]]);
    expect(sync(driver.onEof())[1]).toBe(false); // sessions are never dropped
  });

  it("merges: target.onMerge(original), output under the target; the original never gets meta", () => {
    const log: string[] = [];
    const tracing = (): WindowLogic<Ev, string, null> => {
      const mine: string[] = [];
      return {
        onValue: (e) => (mine.push(e.name), [`+${e.name}`]),
        onMerge(original) {
          log.push(`merge ${original.snapshot()} into ${mine}`);
          return ["merged"];
        },
        onClose: () => [mine.join("")],
        snapshot: () => mine.join("") as unknown as null,
      };
    };
    const driver = sync(WindowDriver.build(config({
      clock: byTs(Infinity), windower: new SessionWindower({ gapMs: 10_000 }), builder: tracing, ordered: false,
    })));
    const [events] = sync(driver.onBatch([ev("a", 0), ev("c", 20), ev("b", 10)]));
    expect(events).toEqual([["down", [0, "+a"]], ["down", [1, "+c"]], ["down", [0, "+b"]], ["down", [0, "merged"]]]);
    expect(log).toEqual(["merge c into a,b"]);
    expect(sync(driver.onEof())[0]).toEqual([
      ["down", [0, "ab"]], ["meta", [0, { openTime: T0, closeTime: at(T0, 20_000), mergedIds: new Set([1]) }]],
    ]);
  });

  it("snapshots plain data (v8-serialisable) and resumes identically, queue included", async () => {
    const values = [ev("a", 2), ev("c", 8), ev("d", 14), ev("b", 3), ev("e", 27), ev("f", 21), ev("g", 40)];
    const cfg = config({ clock: byTs(5000), windower: tumbling, builder: collectLogic<Ev>(Array) });
    const driver = sync(WindowDriver.build(cfg));
    sync(driver.onBatch(values.slice(0, 3)));
    const state = sync(driver.snapshot());
    expect(state).toEqual({
      clockState: { systemTimeOfMaxEvent: T0, watermarkBase: at(T0, 9000) },
      windowerState: { opened: [0] },
      logicStates: [[0, { acc: [ev("a", 2), ev("c", 8)] }]],
      queue: [[ev("d", 14), at(T0, 14_000).getTime()]],
      watermarkMs: at(T0, 9000).getTime(),
    });
    const items = oneByOne(values.map((v): [string, Ev] => ["k", v]));
    const plain = await runWindows(cfg, items);
    const restored = await runWindows(cfg, items, { restoreAfter: () => true, requireSync: true });
    expect(restored).toEqual(plain);
  });

  it("the EOF watermark is not kept, so a continuation starts afresh", () => {
    const cfg = config({ clock: byTs(0), windower: new SessionWindower({ gapMs: 1000 }), builder: names() });
    const driver = sync(WindowDriver.build(cfg));
    sync(driver.onBatch([ev("a", 5)]));
    expect(sync(driver.onEof())[0].map((e) => e[0])).toEqual(["down", "meta"]);
    const state = v8.deserialize(v8.serialize(sync(driver.snapshot())));
    expect(state.watermarkMs).toBe(at(T0, 5000).getTime());
    const resumed = sync(WindowDriver.build(cfg, state));
    expect(sync(resumed.onBatch([ev("b", 6)]))[0]).toEqual([]);
    expect(sync(resumed.onEof())[0][0]).toEqual(["down", [1, ["b"]]]); // ids continue after a resume
  });

  it("the watermark never goes back: a system clock stepping back cannot reopen a closed window", async () => {
    const time = new ManualTime(at(T0, 15_000));
    class ManualSystemClock extends Clock<unknown, undefined> {
      build(): ClockLogic<unknown, undefined> {
        return new SystemClockLogic(time.get);
      }
    }
    const driver = sync(WindowDriver.build(config({ clock: new ManualSystemClock(), windower: tumbling, builder: collectLogic(Array) })));
    sync(driver.onBatch(["x"]));
    time.advance(10_000); // 25 s: window 1 closes
    expect(sync(driver.onNotify())[0].map((e) => e[0])).toEqual(["down", "meta"]);
    time.advance(-12_000); // 13 s, back in window 1
    expect(sync(driver.onBatch(["y"]))[0]).toEqual([["late", [1, "y"]]]);
  });

  it("only EOF reaches the end of time: values stamped UTC_MAX share one window", async () => {
    const clock = new EventClock<number>({ tsGetter: () => UTC_MAX, waitForSystemDurationMs: 0, nowGetter: () => T0 });
    const out = await runWindows(config({ clock, windower: tumbling, builder: collectLogic<number>(Array) }), [[["k", 1]], [["k", 2]]]);
    expect(port(out, "late")).toEqual([]);
    expect(port(out, "down")).toEqual([["k", [Math.floor((MAX_MS - T0.getTime()) / 10_000), [1, 2]]]]);
    expect(out.filter((e) => e.event[0] === "meta").map((e) => e.phase)).toEqual(["eof"]);
  });

  it("waitForSystemDurationMs: Infinity closes windows only at EOF", async () => {
    const items: [string, Ev][] = [["k", ev("a", 0)], ["k", ev("b", 100)], ["k", ev("c", 1)]];
    const out = await runWindows(config({ clock: byTs(Infinity), windower: tumbling, builder: names() }), oneByOne(items));
    expect(out.map((e) => [e.phase, e.event])).toEqual([
      ["eof", ["down", [0, ["a", "c"]]]], ["eof", ["meta", [0, expect.anything()]]],
      ["eof", ["down", [10, ["b"]]]], ["eof", ["meta", [10, expect.anything()]]],
    ]);
  });

  it("negative window ids before alignTo", async () => {
    const out = await runWindows(config({ clock: byTs(0), windower: tumbling, builder: names() }), [[["k", ev("a", -25)], ["k", ev("b", -1)]]]);
    expect(port(out, "down")).toEqual([["k", [-3, ["a"]]], ["k", [-1, ["b"]]]]);
    expect(port(out, "meta")[1]).toEqual(["k", [-1, { openTime: at(T0, -10_000), closeTime: T0, mergedIds: new Set() }]]);
  });
});

describe("WindowDriver errors name the step and the callback", () => {
  const tumbling = new TumblingWindower({ lengthMs: 10_000, alignTo: T0 });
  const build = <V, W, S>(over: Partial<WindowDriverConfig<V, W, S>>) =>
    WindowDriver.build(config({ clock: byTs(0), windower: tumbling, builder: names(), ...over } as WindowDriverConfig<V, W, S>)) as WindowDriver<V, W, S>;

  function expectError(fn: () => unknown, code: string, message: string | RegExp): WeirError {
    let caught: unknown;
    try {
      fn();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(WeirError);
    const err = caught as WeirError;
    expect(err.code).toBe(code);
    expect(err.stepId).toBe(STEP);
    expect(err.message).toMatch(message);
    return err;
  }

  it("an invalid Date from tsGetter is INVALID_RETURN", () => {
    const clock = new EventClock<number>({ tsGetter: () => new Date(Number.NaN), waitForSystemDurationMs: 0 });
    const err = expectError(() => build<number, unknown, unknown>({ clock }).onBatch([1]), "INVALID_RETURN",
      "'tsGetter' in step 'flow.win' returned Invalid Date; expected a valid Date");
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it("a Promise from tsGetter is INVALID_RETURN", () => {
    const clock = new EventClock<number>({ tsGetter: (async () => T0) as never, waitForSystemDurationMs: 0 });
    expectError(() => build<number, unknown, unknown>({ clock }).onBatch([1]), "INVALID_RETURN", /'tsGetter'.*must be synchronous/);
  });

  it("a throwing tsGetter is CALLBACK_ERROR with the thrown value as cause", () => {
    const boom = new Error("boom");
    const clock = new EventClock<number>({ tsGetter: () => { throw boom; }, waitForSystemDurationMs: 0 });
    const err = expectError(() => build<number, unknown, unknown>({ clock }).onBatch([1]), "CALLBACK_ERROR",
      "error calling 'tsGetter' in step 'flow.win': Error: boom");
    expect(err.cause).toBe(boom);
  });

  it("a throwing nowGetter fails the build", () => {
    const clock = new EventClock<Ev>({ tsGetter: (e) => e.at, waitForSystemDurationMs: 0, nowGetter: () => { throw new Error("no time"); } });
    expectError(() => build({ clock }), "CALLBACK_ERROR", /'nowGetter'/);
  });

  it("a throwing folder names 'folder'; onValue of a custom logic names 'onValue'", () => {
    const builder = foldLogic(() => 0, () => { throw new Error("bad fold"); }, (a: number) => a);
    expectError(() => build<Ev, number, unknown>({ builder: builder as never }).onBatch([ev("a", 1)]), "CALLBACK_ERROR", /'folder'.*bad fold/);
    const custom = () => ({ onValue: () => { throw new Error("bad value"); }, onMerge: () => [], onClose: () => [], snapshot: () => null });
    expectError(() => build<Ev, never, null>({ builder: custom }).onBatch([ev("a", 1)]), "CALLBACK_ERROR", /'onValue'.*bad value/);
  });

  it("async failures reject with the same errors", async () => {
    const rejecting = () => ({
      onValue: () => [], onMerge: () => [], onClose: () => Promise.reject(new Error("late close")), snapshot: () => null,
    });
    const driver = build<Ev, never, null>({ builder: rejecting });
    sync(driver.onBatch([ev("a", 1)]));
    await expect(driver.onEof()).rejects.toMatchObject({ code: "CALLBACK_ERROR", stepId: STEP, message: expect.stringMatching(/'onClose'.*late close/) });
    const asyncFolder = foldLogic(() => 0, async () => { throw new Error("async fold"); }, (a: number) => a);
    await expect(build<Ev, number, unknown>({ builder: asyncFolder as never }).onBatch([ev("a", 1)]))
      .rejects.toMatchObject({ code: "CALLBACK_ERROR", message: expect.stringMatching(/'folder'.*async fold/) });
    const asyncBuilder = foldLogic(() => Promise.reject(new Error("no acc")), (a: number) => a, (a: number) => a);
    await expect(build<Ev, number, unknown>({ builder: asyncBuilder as never }).onBatch([ev("a", 1)]))
      .rejects.toMatchObject({ code: "CALLBACK_ERROR", message: expect.stringMatching(/'builder'.*no acc/) });
  });

  it("wrong shapes from window logics are INVALID_RETURN", () => {
    expectError(() => build<Ev, never, null>({ builder: () => ({}) as never }).onBatch([ev("a", 1)]), "INVALID_RETURN", /'builder'.*no 'onValue' method/);
    const nonIterable = () => ({ onValue: () => 5, onMerge: () => [], onClose: () => [], snapshot: () => null });
    expectError(() => build<Ev, never, null>({ builder: nonIterable as never }).onBatch([ev("a", 1)]), "INVALID_RETURN",
      /'onValue' in step 'flow.win' returned 5; expected an iterable/);
  });

  it("custom clocks and windowers MUST be synchronous and well-formed", () => {
    class PromiseClock extends Clock<Ev, null> {
      build(): ClockLogic<Ev, null> {
        const inner = byTs(0).build(undefined);
        return {
          beforeBatch: () => inner.beforeBatch(), onItem: async () => [T0, T0], onNotify: () => inner.onNotify(), onEof: () => inner.onEof(),
          toSystemUtc: (ts: Date) => ts, snapshot: () => null,
        } as unknown as ClockLogic<Ev, null>;
      }
    }
    expectError(() => build({ clock: new PromiseClock() }).onBatch([ev("a", 1)]), "INVALID_RETURN", /'clock.onItem'.*must be synchronous/);

    class OddWindower extends Windower<null> {
      build(): WindowerLogic<null> {
        const inner = tumbling.build(undefined);
        return {
          openFor: () => 3, lateFor: (ts: Date) => inner.lateFor(ts), merged: () => inner.merged(), closeFor: (wm: Date) => inner.closeFor(wm),
          notifyAt: () => inner.notifyAt(), isEmpty: () => inner.isEmpty(), snapshot: () => null,
        } as unknown as WindowerLogic<null>;
      }
    }
    expectError(() => build({ windower: new OddWindower() }).onBatch([ev("a", 1)]), "INVALID_RETURN", /'windower.openFor'.*expected an iterable/);

    class Throwing extends Windower<null> {
      build(): WindowerLogic<null> {
        throw new Error("cannot build");
      }
    }
    expectError(() => build({ windower: new Throwing() }), "CALLBACK_ERROR", /'windower.build'.*cannot build/);
  });

  it("a corrupt resume state is INTERNAL", () => {
    expect(() => WindowDriver.build(config({ clock: byTs(0), windower: tumbling, builder: names() }), { nope: 1 } as never))
      .toThrow(expect.objectContaining({ code: "INTERNAL" }));
  });

  it("result tuples satisfy §3.1: [events, boolean]", () => {
    const result: WindowResult<Ev, string[]> = sync(build<Ev, string[], unknown>({}).onBatch([ev("a", 1)]));
    expect(result).toHaveLength(2);
    expect(typeof result[1]).toBe("boolean");
    expect(MIN_MS).toBeLessThan(0);
  });
});
