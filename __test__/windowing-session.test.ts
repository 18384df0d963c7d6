import { describe, expect, it } from "vitest";
import { WeirError } from "../src/errors.js";
import { SystemClock } from "../src/windowing/clock.js";
import { LATE_SESSION_ID, type Session, SessionWindower, SessionWindowerLogic, findMerges } from "../src/windowing/session.js";
import { foldLogic } from "../src/windowing/logics.js";
import { MAX_MS, UTC_MAX } from "../src/windowing/time.js";
import { at, oneByOne, port, runWindows } from "./windowing-harness.js";

const NINE = new Date("2024-01-01T09:00:00Z");
const s = (ms: number) => at(NINE, ms * 1000);

function sessions(gapMs = 10_000, resume?: unknown) {
  return new SessionWindower({ gapMs }).build(resume) as SessionWindowerLogic;
}

function bounds(logic: SessionWindowerLogic) {
  return logic.sessions.map((x) => [x.id, new Date(x.openMs), new Date(x.closeMs), x.mergedIds]);
}

function session(id: number, openS: number, closeS = openS): Session {
  return { id, openMs: s(openS).getTime(), closeMs: s(closeS).getTime(), mergedIds: [] };
}

// Ported from Bytewax v0.21.1 pytests/operators/windowing/test_session_windower.py (gap 10 s).
describe("SessionWindower (Bytewax test_session_windower.py)", () => {
  it("initial session", () => {
    const logic = sessions();
    expect(logic.openFor(s(0))).toEqual([0]);
    expect(bounds(logic)).toEqual([[0, s(0), s(0), []]]);
  });

  it.each([
    ["extend forward within gap", 5, s(0), s(5)],
    ["extend forward exact gap", 10, s(0), s(10)],
    ["extend backward within gap", -5, s(-5), s(0)],
    ["extend backward exact gap", -10, s(-10), s(0)],
  ])("%s", (_name, second, open, close) => {
    const logic = sessions();
    logic.openFor(s(0));
    expect(logic.openFor(s(second))).toEqual([0]);
    expect(bounds(logic)).toEqual([[0, open, close, []]]);
  });

  it("extend merge", () => {
    const logic = sessions();
    logic.openFor(s(0));
    logic.openFor(s(20));
    expect(logic.openFor(s(10))).toEqual([0]);
    expect(logic.merged()).toEqual([[1, 0]]);
    expect(bounds(logic)).toEqual([[0, s(0), s(20), [1]]]);
  });

  it("within existing", () => {
    const logic = sessions(10_000, { nextId: 1, sessions: [[0, s(0).getTime(), s(10).getTime(), []]], merges: [] });
    expect(logic.openFor(s(5))).toEqual([0]);
    expect(bounds(logic)).toEqual([[0, s(0), s(10), []]]);
  });

  it("late", () => {
    expect(sessions().lateFor(new Date("2023-12-01T09:00:00Z"))).toEqual([LATE_SESSION_ID]);
  });

  it("find merges: none", () => {
    const live = [session(0, 0), session(1, 20)];
    expect(findMerges(live, 10_000)).toEqual([]);
    expect(live).toEqual([session(0, 0), session(1, 20)]);
  });

  it("find merges: within gap", () => {
    const live = [session(0, 0), session(1, 5)];
    expect(findMerges(live, 10_000)).toEqual([[1, 0]]);
    expect(live).toEqual([{ ...session(0, 0, 5), mergedIds: [1] }]);
  });

  it("find merges: exact gap", () => {
    const live = [session(0, 0), session(1, 10)];
    expect(findMerges(live, 10_000)).toEqual([[1, 0]]);
    expect(live).toEqual([{ ...session(0, 0, 10), mergedIds: [1] }]);
  });

  it("find merges: multi", () => {
    const live = [session(0, 0), session(1, 5), session(2, 10)];
    expect(findMerges(live, 10_000)).toEqual([[1, 0], [2, 0]]);
    expect(live).toEqual([{ ...session(0, 0, 10), mergedIds: [1, 2] }]);
  });

  it("find merges: no, yes, no", () => {
    const live = [session(0, 0), session(1, 20), session(2, 25), session(3, 40)];
    expect(findMerges(live, 10_000)).toEqual([[2, 1]]);
    expect(live).toEqual([session(0, 0), { ...session(1, 20, 25), mergedIds: [2] }, session(3, 40)]);
  });

  it("session with system clock", async () => {
    const config = {
      stepId: "test_df.collect_records", clock: new SystemClock(), windower: new SessionWindower({ gapMs: 10_000 }),
      builder: foldLogic(() => [] as number[], (acc: number[], v: number) => [...acc, v], (a: number[], b: number[]) => [...a, ...b]),
      ordered: true,
    };
    const out = await runWindows(config, oneByOne(Array.from({ length: 10 }, (_, i): [string, number] => ["ALL", i])));
    expect(port(out, "down")).toEqual([["ALL", [0, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]]]);
  });
});

describe("SessionWindower", () => {
  it("closes sessions once the watermark passes closeTime + gap, in creation order", () => {
    const logic = sessions(10_000);
    logic.openFor(s(30));
    logic.openFor(s(0));
    logic.openFor(s(15)); // a third session: 15 − 0 > 10 and 30 − 15 > 10
    expect(logic.notifyAt()).toEqual(s(10));
    expect(logic.closeFor(s(10))).toEqual([]); // closeTime < wm − gap is strict
    expect(logic.closeFor(s(26))).toEqual([
      [1, { openTime: s(0), closeTime: s(0), mergedIds: new Set() }],
      [2, { openTime: s(15), closeTime: s(15), mergedIds: new Set() }],
    ]);
    expect(logic.closeFor(s(41))).toEqual([[0, { openTime: s(30), closeTime: s(30), mergedIds: new Set() }]]);
    expect(logic.notifyAt()).toBeUndefined();
    expect(logic.isEmpty()).toBe(false); // never dropped: ids must not restart at 0
    expect(logic.openFor(s(100))).toEqual([3]);
  });

  it("scans sessions in creation order: the first session within the gap takes the value", () => {
    const logic = sessions(10_000);
    logic.openFor(s(20)); // 0
    logic.openFor(s(0)); // 1
    expect(logic.openFor(s(10))).toEqual([0]); // within the gap of both; 0 was created first
    expect(logic.merged()).toEqual([[0, 1]]); // merged into the earlier-opening one
    expect(logic.merged()).toEqual([]);
    expect(bounds(logic)).toEqual([[1, s(0), s(20), [0]]]);
  });

  it("mergedIds are transitive", () => {
    const logic = sessions(10_000);
    logic.openFor(s(0)); // 0
    logic.openFor(s(25)); // 1
    logic.openFor(s(45)); // 2
    logic.openFor(s(35)); // extends 1 to 35 and merges 2 into 1
    logic.openFor(s(10)); // extends 0 to 10
    logic.openFor(s(18)); // extends 0 to 18, merging 1 (with 2) into 0
    expect(logic.merged()).toEqual([[2, 1], [1, 0]]);
    expect(logic.closeFor(UTC_MAX)).toEqual([[0, { openTime: s(0), closeTime: s(45), mergedIds: new Set([1, 2]) }]]);
  });

  it("gap 0 joins equal timestamps only", () => {
    const logic = sessions(0);
    expect(logic.openFor(s(0))).toEqual([0]);
    expect(logic.openFor(s(0))).toEqual([0]);
    expect(logic.openFor(at(NINE, 1))).toEqual([1]);
    expect(logic.closeFor(at(NINE, 1))).toEqual([[0, { openTime: s(0), closeTime: s(0), mergedIds: new Set() }]]);
  });

  it("an infinite gap never closes before the end of time", () => {
    const logic = sessions(Infinity);
    logic.openFor(s(0));
    expect(logic.openFor(new Date(MAX_MS))).toEqual([0]);
    expect(logic.notifyAt()).toEqual(UTC_MAX);
    expect(logic.closeFor(new Date(MAX_MS - 1))).toEqual([]);
    expect(logic.closeFor(UTC_MAX)).toEqual([[0, { openTime: s(0), closeTime: UTC_MAX, mergedIds: new Set() }]]);
  });

  it("the end of time closes sessions within the gap of it", () => {
    const logic = sessions(10_000);
    logic.openFor(new Date(MAX_MS - 5));
    expect(logic.notifyAt()).toEqual(UTC_MAX);
    expect(logic.closeFor(UTC_MAX).map(([id]) => id)).toEqual([0]);
  });

  it("snapshots plain data, pending merges included, and resumes from it", () => {
    const windower = new SessionWindower({ gapMs: 10_000 });
    const logic = windower.build(undefined);
    logic.openFor(s(0));
    logic.openFor(s(20));
    logic.openFor(s(10));
    const state = structuredClone(logic.snapshot());
    expect(state).toEqual({ nextId: 2, sessions: [[0, s(0).getTime(), s(20).getTime(), [1]]], merges: [[1, 0]] });
    const resumed = windower.build(state);
    expect(resumed.merged()).toEqual([[1, 0]]);
    expect(resumed.openFor(s(100))).toEqual([2]);
    expect(() => windower.build({ sessions: [] })).toThrow(TypeError);
  });

  it.each([
    [{ gapMs: -1 }],
    [{ gapMs: 1.5 }],
    [{ gapMs: Number.NaN }],
    [{ gapMs: "10" }],
    [{}],
  ])("rejects %o naming 'gapMs'", (opts) => {
    const make = () => new SessionWindower(opts as never);
    expect(make).toThrow(WeirError);
    expect(make).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining("'gapMs'") }));
  });

  it("rejects a missing options object", () => {
    expect(() => new SessionWindower(undefined as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
