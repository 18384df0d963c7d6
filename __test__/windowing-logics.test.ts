// The built-in window logics, driven through WindowDriver the way the window operators use them. The
// "Bytewax" cases port pytests/operators/windowing/test_*_window.py of Bytewax v0.21.1 (one item per batch, as
// their TestingSource delivers them).
import * as v8 from "node:v8";
import { describe, expect, it } from "vitest";
import { EventClock } from "../src/windowing/clock.js";
import { WindowDriver, type WindowDriverConfig, type WindowLogic, type WindowLogicBuilder } from "../src/windowing/driver.js";
import {
  type JoinEmitMode, type JoinInsertMode, collectLogic, countLogic, foldLogic, joinLogic, joinRows, maxLogic, minLogic, reduceLogic,
} from "../src/windowing/logics.js";
import { SessionWindower } from "../src/windowing/session.js";
import { TumblingWindower } from "../src/windowing/sliding.js";
import type { Windower } from "../src/windowing/windower.js";
import { at, oneByOne, port, runWindows } from "./windowing-harness.js";

const ALIGN = new Date("2022-01-01T00:00:00Z");
const TEN_S = new TumblingWindower({ lengthMs: 10_000, alignTo: ALIGN });

interface Event<T> {
  time: Date;
  value: T;
}
const e = <T>(seconds: number, value: T): Event<T> => ({ time: at(ALIGN, seconds * 1000), value });

function clock<T>(wait: number) {
  return new EventClock<Event<T>>({ tsGetter: (x) => x.time, waitForSystemDurationMs: wait, nowGetter: () => ALIGN });
}

function run<V, W, S>(builder: WindowLogicBuilder<V, W, S>, items: [string, V][], opts: {
  clock: EventClock<V>; windower?: Windower<unknown>; ordered?: boolean; restore?: boolean;
}) {
  const config: WindowDriverConfig<V, W, S> = {
    stepId: "test_df.win", clock: opts.clock, windower: opts.windower ?? TEN_S, builder, ordered: opts.ordered ?? true,
  };
  return runWindows(config, oneByOne(items), { requireSync: true, ...(opts.restore ? { restoreAfter: () => true } : {}) });
}

const values = <T>(out: [string, [number, Event<T>[]]][]) => out.map(([k, [id, evs]]) => [k, [id, evs.map((x) => x.value)]]);

describe("Bytewax window operator cases", () => {
  it.each([false, true])("collect_window (restore after every batch: %s)", async (restore) => {
    const inp = [e(0, 1), e(8, 3), e(4, 2), e(13, 5), e(12, 4)];
    const out = await run(collectLogic<Event<number>>(Array), inp.map((x): [string, Event<number>] => ["ALL", x]), { clock: clock(Infinity), restore });
    expect(values(port(out, "down") as [string, [number, Event<number>[]]][])).toEqual([["ALL", [0, [1, 2, 3]]], ["ALL", [1, [4, 5]]]]);
  });

  it("count_window", async () => {
    const inp: [string, Event<string>][] = [["a", e(0, "a")], ["a", e(4, "a")], ["b", e(8, "b")], ["a", e(12, "a")], ["a", e(13, "a")]];
    const out = await run(countLogic<Event<string>>(), inp, { clock: clock(0), ordered: false });
    expect(port(out, "down")).toEqual([["a", [0, 2]], ["a", [1, 2]], ["b", [0, 1]]]);
  });

  it("fold_window tumbling", async () => {
    const inp = [e(0, "login"), e(4, "post"), e(8, "post"), e(16, "post")];
    const count = foldLogic(() => ({}) as Record<string, number>,
      (counts: Record<string, number>, x: Event<string>) => ({ ...counts, [x.value]: (counts[x.value] ?? 0) + 1 }),
      (a: Record<string, number>, b: Record<string, number>) => ({ ...a, ...b }));
    const out = await run(count, inp.map((x): [string, Event<string>] => ["ALL", x]), { clock: clock(0) });
    expect(port(out, "down")).toEqual([["ALL", [0, { login: 1, post: 2 }]], ["ALL", [1, { post: 1 }]]]);
  });

  it("fold_window session (a late value is ignored)", async () => {
    const inp = [e(1, "a"), e(5, "b"), e(11, "c"), e(12, "d"), e(13, "e"), e(14, "f"), e(20, "g"), e(1, "h")];
    const out = await run(collectLogic<Event<string>>(Array), inp.map((x): [string, Event<string>] => ["ALL", x]),
      { clock: clock(0), windower: new SessionWindower({ gapMs: 5000 }) });
    expect(values(port(out, "down") as [string, [number, Event<string>[]]][])).toEqual([
      ["ALL", [0, ["a", "b"]]], ["ALL", [1, ["c", "d", "e", "f"]]], ["ALL", [2, ["g"]]],
    ]);
    expect(port(out, "late")).toEqual([["ALL", [-1, e(1, "h")]]]);
  });

  // fold_window sliding is the first worked example of API.md §4, in windowing-driver.test.ts.

  it("max_window and min_window", async () => {
    const inp = [e(0, 1), e(4, 9), e(8, 3), e(12, 10), e(13, 4)].map((x): [string, Event<number>] => ["a", x]);
    const by = (x: Event<number>) => x.value;
    expect(port(await run(maxLogic(by), inp, { clock: clock(0), ordered: false }), "down")).toEqual([["a", [0, e(4, 9)]], ["a", [1, e(12, 10)]]]);
    expect(port(await run(minLogic(by), inp, { clock: clock(0), ordered: false }), "down")).toEqual([["a", [0, e(0, 1)]], ["a", [1, e(13, 4)]]]);
  });

  it("reduce_window", async () => {
    const inp = [e(0, 1), e(4, 1), e(8, 1), e(12, 1), e(13, 1)].map((x): [string, Event<number>] => ["a", x]);
    const add = reduceLogic((acc: Event<number>, x: Event<number>) => ({ ...acc, value: acc.value + x.value }));
    const out = await run(add, inp, { clock: clock(0), ordered: false });
    expect(port(out, "down").map(([k, [id, x]]) => [k, [id, x.value]])).toEqual([["a", [0, 3]], ["a", [1, 2]]]);
  });

  // join_window: two sides, session windows (gap 10 s), wait Infinity; rows as [left.value, right.value].
  const joinCase = async (left: Event<number>[], right: Event<number>[], insertMode: JoinInsertMode, emitMode: JoinEmitMode) => {
    const sideClock = new EventClock<[number, Event<number>]>({ tsGetter: ([, x]) => x.time, waitForSystemDurationMs: Infinity, nowGetter: () => ALIGN });
    const items = [...left.map((x): [string, [number, Event<number>]] => ["ALL", [0, x]]), ...right.map((x): [string, [number, Event<number>]] => ["ALL", [1, x]])];
    const out = await run(joinLogic(2, insertMode, emitMode), items, { clock: sideClock, windower: new SessionWindower({ gapMs: 10_000 }) });
    return port(out, "down").map(([, [, row]]) => (row as (Event<number> | undefined)[]).map((x) => x?.value));
  };

  it.each([
    ["first", "complete", [e(0, 1)], [e(2, 3), e(1, 2)], [[1, 2]]],
    ["last", "complete", [e(0, 1)], [e(1, 2)], [[1, 2]]],
    ["last", "final", [e(0, 1)], [e(1, 2), e(2, 3)], [[1, 3]]],
    ["last", "running", [e(0, 1)], [e(1, 2), e(2, 3)], [[1, undefined], [1, 2], [1, 3]]],
    ["product", "final", [e(0, 1), e(1, 2)], [e(1, 3), e(2, 4)], [[1, 3], [1, 4], [2, 3], [2, 4]]],
  ] as const)("join_window %s/%s", async (insertMode, emitMode, left, right, rows) => {
    expect(await joinCase([...left], [...right], insertMode, emitMode)).toEqual(rows);
  });
});

describe("window logics", () => {
  const session = new SessionWindower({ gapMs: 10_000 });
  // Two sessions (0 at 0 s, 1 at 20 s) bridged by a value at 10 s: 1 merges into 0. Unordered, so the bridge
  // arrives last.
  const bridged = <T>(a: T, b: T, c: T): [string, Event<T>][] => [["k", e(0, a)], ["k", e(20, b)], ["k", e(10, c)]];

  it("collect into Array, Set and Map; merges append the original's values", async () => {
    const opts = { clock: clock<unknown>(Infinity), windower: session, ordered: false };
    const downs = async (into: ArrayConstructor | SetConstructor | MapConstructor, items: [string, Event<unknown>][]) =>
      port(await run(collectLogic<Event<unknown>>(into), items, opts), "down").map(([, [id, c]]) => [id, c]);
    const array = await downs(Array, bridged(1, 2, 3));
    expect((array[0] as [number, Event<number>[]])[1].map((x) => x.value)).toEqual([1, 3, 2]);
    const set = await downs(Set, bridged(1, 2, 3));
    expect([...((set[0] as [number, Set<Event<number>>])[1])].map((x) => x.value)).toEqual([1, 3, 2]);
    const mapOut = port(await run(collectLogic<[string, number]>(Map), [["k", ["x", 1]], ["k", ["y", 2]], ["k", ["x", 3]]],
      { clock: new EventClock<[string, number]>({ tsGetter: () => ALIGN, waitForSystemDurationMs: 0, nowGetter: () => ALIGN }) }), "down");
    expect(mapOut).toEqual([["k", [0, new Map([["x", 3], ["y", 2]])]]]);
  });

  it("collect into a Map needs [k, v] values (INVALID_RETURN)", async () => {
    const config: WindowDriverConfig<number, unknown, unknown> = {
      stepId: "f.c", clock: new EventClock<number>({ tsGetter: () => ALIGN, waitForSystemDurationMs: 0, nowGetter: () => ALIGN }), windower: TEN_S,
      builder: collectLogic<number>(Map) as WindowLogicBuilder<number, unknown, unknown>, ordered: true,
    };
    const driver = WindowDriver.build(config) as WindowDriver<number, unknown, unknown>;
    expect(() => driver.onBatch([5])).toThrow(expect.objectContaining({
      code: "INVALID_RETURN", stepId: "f.c", message: expect.stringContaining("collecting into a Map needs [key, value] pairs"),
    }));
    expect(() => collectLogic(Object as never)).toThrow(TypeError);
  });

  it("fold: builder per window, merger(target, original) on merges", async () => {
    let built = 0;
    const fold = foldLogic(() => (built++, ""), (acc: string, x: Event<string>) => acc + x.value, (t: string, o: string) => `${t}|${o}`);
    const out = await run(fold, bridged("a", "b", "c"), { clock: clock(Infinity), windower: session, ordered: false });
    expect(port(out, "down")).toEqual([["k", [0, "ac|b"]]]);
    expect(port(out, "meta")).toEqual([["k", [0, { openTime: ALIGN, closeTime: at(ALIGN, 20_000), mergedIds: new Set([1]) }]]]);
    expect(built).toBe(2);
  });

  it("fold: an undefined accumulator survives a resume without rebuilding", async () => {
    let built = 0;
    const fold = foldLogic<Event<number>, undefined>(() => (built++, undefined), () => undefined, () => undefined);
    const out = await run(fold, [["k", e(1, 1)], ["k", e(2, 2)]], { clock: clock(0), restore: true });
    expect(port(out, "down")).toEqual([["k", [0, undefined]]]);
    expect(built).toBe(1);
  });

  it("reduce: the reducer merges sessions", async () => {
    const out = await run(reduceLogic((a: Event<number>, b: Event<number>) => ({ ...a, value: a.value * 10 + b.value })),
      bridged(1, 2, 3), { clock: clock(Infinity), windower: session, ordered: false, restore: true });
    expect(port(out, "down").map(([, [id, x]]) => [id, x.value])).toEqual([[0, 132]]);
  });

  it("max/min: ties keep the earliest, on merges too", async () => {
    const items = [["k", e(0, 5)], ["k", e(1, 5)], ["k", e(20, 5)], ["k", e(10, 1)]] as [string, Event<number>][];
    const by = (x: Event<number>) => x.value;
    const opts = { clock: clock<number>(Infinity), windower: session, ordered: false, restore: true };
    expect(port(await run(maxLogic(by), items, opts), "down")).toEqual([["k", [0, e(0, 5)]]]);
    expect(port(await run(minLogic(by), items, opts), "down")).toEqual([["k", [0, e(10, 1)]]]);
    const dates = [["k", at(ALIGN, 5)], ["k", at(ALIGN, 9)], ["k", at(ALIGN, 1)]] as [string, Date][];
    const dateClock = new EventClock<Date>({ tsGetter: () => ALIGN, waitForSystemDurationMs: 0, nowGetter: () => ALIGN });
    expect(port(await run(maxLogic<Date>(), dates, { clock: dateClock }), "down")).toEqual([["k", [0, at(ALIGN, 9)]]]);
  });

  it("max/min: 'by' MUST be synchronous", () => {
    const config: WindowDriverConfig<number, number, unknown> = {
      stepId: "f.max", clock: new EventClock<number>({ tsGetter: () => ALIGN, waitForSystemDurationMs: 0, nowGetter: () => ALIGN }), windower: TEN_S,
      builder: maxLogic<number>((async (x: number) => x) as never) as WindowLogicBuilder<number, number, unknown>, ordered: true,
    };
    const driver = WindowDriver.build(config) as WindowDriver<number, number, unknown>;
    expect(() => driver.onBatch([1])).toThrow(expect.objectContaining({ code: "INVALID_RETURN", message: expect.stringMatching(/'by'.*synchronous/) }));
  });

  describe("join merges", () => {
    // Left 1 at 0 s in session 0; right 2 and left 3 at 20 s in session 1; the bridge (right 4 at 10 s) lands in
    // session 0 (created first), then session 1 merges into it.
    const mergeCase = async (insertMode: JoinInsertMode, emitMode: JoinEmitMode) => {
      const sideClock = new EventClock<[number, Event<number>]>({ tsGetter: ([, x]) => x.time, waitForSystemDurationMs: Infinity, nowGetter: () => ALIGN });
      const items: [string, [number, Event<number>]][] = [["k", [0, e(0, 1)]], ["k", [1, e(20, 2)]], ["k", [0, e(20, 3)]], ["k", [1, e(10, 4)]]];
      const out = await run(joinLogic(2, insertMode, emitMode), items, { clock: sideClock, windower: session, ordered: false, restore: true });
      return port(out, "down").map(([, [id, row]]) => [id, (row as (Event<number> | undefined)[]).map((x) => x?.value)]);
    };

    it("first keeps the target's values where set", async () => {
      expect(await mergeCase("first", "final")).toEqual([[0, [1, 4]]]);
    });

    it("last prefers the original's values", async () => {
      expect(await mergeCase("last", "final")).toEqual([[0, [3, 2]]]);
    });

    it("product concatenates target then original", async () => {
      expect(await mergeCase("product", "final")).toEqual([[0, [1, 4]], [0, [1, 2]], [0, [3, 4]], [0, [3, 2]]]);
    });

    it("running emits after every value and after the merge", async () => {
      expect(await mergeCase("last", "running")).toEqual([
        [0, [1, undefined]], [1, [undefined, 2]], [1, [3, 2]], [0, [1, 4]], [0, [3, 2]],
      ]);
    });

    it("complete emits and clears once every side is set; the window stays open", async () => {
      expect(await mergeCase("last", "complete")).toEqual([[1, [3, 2]], [0, [1, 4]]]);
    });
  });

  it("joinRows is the cartesian product, an empty side giving one undefined", () => {
    expect(joinRows([[1, 2], [], [3]])).toEqual([[1, undefined, 3], [2, undefined, 3]]);
    expect(joinRows([])).toEqual([[]]);
  });

  it("every logic's snapshot is v8-serialisable plain data", async () => {
    const builders: WindowLogicBuilder<any, any, any>[] = [
      collectLogic(Array), collectLogic(Set), countLogic(), reduceLogic((a: number, b: number) => a + b), maxLogic(), minLogic(),
      foldLogic(() => 0, (a: number, b: number) => a + b, (a: number, b: number) => a + b),
    ];
    for (const builder of builders) {
      const logic = builder(undefined) as { onValue(v: number): unknown; snapshot(): unknown };
      logic.onValue(3);
      const state = v8.deserialize(v8.serialize(logic.snapshot()));
      const resumed = builder(state) as { onClose(): Iterable<unknown> };
      expect([...resumed.onClose()]).toEqual([...(builder(state) as { onClose(): Iterable<unknown> }).onClose()]);
    }
    const join = joinLogic(2, "product", "final")(undefined) as WindowLogic<[number, unknown], unknown[], unknown>;
    join.onValue([1, "x"]);
    expect(v8.deserialize(v8.serialize(join.snapshot()))).toEqual({ seen: [[], ["x"]] });
  });
});
