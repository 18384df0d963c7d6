import { describe, expect, it } from "vitest";
import { WeirError } from "../src/errors.js";
import { SlidingWindower, SlidingWindowerLogic, TumblingWindower } from "../src/windowing/sliding.js";
import { MAX_MS, MIN_MS, UTC_MAX, UTC_MIN } from "../src/windowing/time.js";
import { Windower } from "../src/windowing/windower.js";
import { at } from "./windowing-harness.js";

const NINE = new Date("2023-03-16T09:00:00Z");

function sliding(lengthMs: number, offsetMs: number, alignTo = NINE) {
  return new SlidingWindower({ lengthMs, offsetMs, alignTo }).build(undefined) as SlidingWindowerLogic;
}

// Ported from Bytewax v0.21.1 pytests/operators/windowing/test_sliding_windower.py: [name, length, offset,
// ms from 09:00:00, ids].
const INTERSECTS: [string, number, number, number, number[]][] = [
  ["overlap_offset_divisible_by_length_bulk_positive", 10000, 5000, 13000, [1, 2]],
  ["overlap_offset_divisible_by_length_bulk_negative", 10000, 5000, -3000, [-2, -1]],
  ["overlap_offset_divisible_by_length_bulk_zero_negative", 10000, 5000, 3000, [-1, 0]],
  ["overlap_offset_divisible_by_length_bulk_zero_positive", 10000, 5000, 7000, [0, 1]],
  ["overlap_offset_divisible_by_length_edge_positive", 10000, 5000, 15000, [2, 3]],
  ["overlap_offset_divisible_by_length_edge_negative", 10000, 5000, -5000, [-2, -1]],
  ["overlap_offset_divisible_by_length_edge_start_zero", 10000, 5000, 0, [-1, 0]],
  ["overlap_offset_divisible_by_length_edge_end_zero", 10000, 5000, 10000, [1, 2]],
  ["overlap_offset_indivisible_by_length_bulk_positive", 10000, 3000, 11000, [1, 2, 3]],
  ["overlap_offset_indivisible_by_length_bulk_positive_remainder", 10000, 3000, 11500, [1, 2, 3]],
  ["overlap_offset_indivisible_by_length_bulk_negative", 10000, 3000, -1000, [-3, -2, -1]],
  ["overlap_offset_indivisible_by_length_bulk_negative_remainder", 10000, 3000, -1500, [-3, -2, -1]],
  ["overlap_offset_indivisible_by_length_bulk_zero", 10000, 3000, 5000, [-1, 0, 1]],
  ["overlap_offset_indivisible_by_length_edge_start_positive", 10000, 7000, 14000, [1, 2]],
  ["overlap_offset_indivisible_by_length_edge_start_negative", 10000, 7000, -7000, [-2, -1]],
  ["overlap_offset_indivisible_by_length_edge_start_zero", 10000, 7000, 0, [-1, 0]],
  ["overlap_offset_indivisible_by_length_edge_end_positive", 10000, 7000, 17000, [2]],
  ["overlap_offset_indivisible_by_length_edge_end_negative", 10000, 7000, -4000, [-1]],
  ["overlap_offset_indivisible_by_length_edge_end_zero", 10000, 7000, 10000, [1]],
  ["tumble_bulk_positive", 10000, 10000, 15000, [1]],
  ["tumble_bulk_negative", 10000, 10000, -5000, [-1]],
  ["tumble_bulk_zero", 10000, 10000, 5000, [0]],
  ["tumble_edge_positive", 10000, 10000, 20000, [2]],
  ["tumble_edge_negative", 10000, 10000, -10000, [-1]],
  ["tumble_edge_zero_start", 10000, 10000, 0, [0]],
  ["tumble_edge_zero_end", 10000, 10000, 10000, [1]],
];

describe("SlidingWindower ids (Bytewax test_sliding_windower.py)", () => {
  it.each(INTERSECTS)("intersect %s", (_name, lengthMs, offsetMs, fromNineMs, ids) => {
    const ts = at(NINE, fromNineMs);
    expect(sliding(lengthMs, offsetMs).lateFor(ts)).toEqual(ids);
    expect(sliding(lengthMs, offsetMs).openFor(ts)).toEqual(ids);
  });
});

describe("SlidingWindower", () => {
  it("opens windows with their bounds and closes those the watermark reached, in opening order", () => {
    const logic = sliding(10_000, 5_000);
    expect(logic.isEmpty()).toBe(true);
    expect(logic.notifyAt()).toBeUndefined();
    logic.openFor(at(NINE, 12_000)); // 1, 2
    logic.openFor(at(NINE, 3_000)); // -1, 0
    expect(logic.isEmpty()).toBe(false);
    expect(logic.notifyAt()).toEqual(at(NINE, 5_000));
    expect(logic.merged()).toEqual([]);
    expect(logic.closeFor(at(NINE, 4_999))).toEqual([]);
    expect(logic.closeFor(at(NINE, 15_000))).toEqual([
      [1, { openTime: at(NINE, 5_000), closeTime: at(NINE, 15_000), mergedIds: new Set() }],
      [-1, { openTime: at(NINE, -5_000), closeTime: at(NINE, 5_000), mergedIds: new Set() }],
      [0, { openTime: at(NINE, 0), closeTime: at(NINE, 10_000), mergedIds: new Set() }],
    ]);
    expect(logic.notifyAt()).toEqual(at(NINE, 20_000));
    expect(logic.closeFor(UTC_MAX).map(([id]) => id)).toEqual([2]);
    expect(logic.isEmpty()).toBe(true);
  });

  it("lateFor keeps no state", () => {
    const logic = sliding(10_000, 5_000);
    logic.lateFor(NINE);
    expect(logic.isEmpty()).toBe(true);
  });

  it("reopening an open window keeps its place in the opening order", () => {
    const logic = sliding(10_000, 10_000);
    logic.openFor(at(NINE, 15_000));
    logic.openFor(at(NINE, 5_000));
    logic.openFor(at(NINE, 16_000));
    expect(logic.snapshot()).toEqual({ opened: [1, 0] });
    expect(logic.closeFor(UTC_MAX).map(([id]) => id)).toEqual([1, 0]);
  });

  it("snapshots plain data and resumes from it", () => {
    const windower = new SlidingWindower({ lengthMs: 10_000, offsetMs: 5_000, alignTo: NINE });
    const logic = windower.build(undefined);
    logic.openFor(at(NINE, 12_000));
    logic.openFor(at(NINE, -1_000));
    const state = structuredClone(logic.snapshot());
    expect(state).toEqual({ opened: [1, 2, -2, -1] });
    const resumed = windower.build(state);
    expect(resumed.notifyAt()).toEqual(at(NINE, 0));
    expect([...resumed.closeFor(UTC_MAX)].map(([id]) => id)).toEqual([1, 2, -2, -1]);
  });

  it("rejects a malformed resume state", () => {
    expect(() => new SlidingWindower({ lengthMs: 10, offsetMs: 5, alignTo: NINE }).build({ opened: ["x"] })).toThrow(TypeError);
  });

  it("saturates window bounds at the ends of time", () => {
    const logic = sliding(10_000, 5_000, UTC_MIN);
    expect(logic.openFor(UTC_MIN)).toEqual([-1, 0]);
    expect(logic.closeFor(new Date(MIN_MS + 5_000))).toEqual([
      [-1, { openTime: UTC_MIN, closeTime: new Date(MIN_MS + 5_000), mergedIds: new Set() }],
    ]);
    const nearEnd = sliding(10_000, 10_000, new Date(MAX_MS - 5_000));
    expect(nearEnd.openFor(UTC_MAX)).toEqual([0]);
    expect(nearEnd.notifyAt()).toEqual(UTC_MAX);
    expect(nearEnd.closeFor(new Date(MAX_MS - 1))).toEqual([]);
    expect(nearEnd.closeFor(UTC_MAX)).toEqual([[0, { openTime: new Date(MAX_MS - 5_000), closeTime: UTC_MAX, mergedIds: new Set() }]]);
  });

  it("computes ids exactly across the whole Date range", () => {
    // ts − alignTo = 1.728e16 ms, beyond 2^53: doubles would round; ids must still be exact.
    const logic = sliding(10, 7, UTC_MIN);
    const span = BigInt(MAX_MS) - BigInt(MIN_MS);
    const last = span / 7n;
    const first = (span - 10n) / 7n + 1n;
    expect(logic.lateFor(UTC_MAX)).toEqual(Array.from({ length: Number(last - first) + 1 }, (_, i) => Number(first) + i));
    const ids = logic.openFor(new Date(MAX_MS - 3));
    const closed = logic.closeFor(UTC_MAX);
    expect(closed.map(([id]) => id)).toEqual(ids);
    for (const [id, meta] of closed) expect(BigInt(meta.openTime.getTime())).toBe(BigInt(MIN_MS) + BigInt(id) * 7n);
  });

  it("is a Windower", () => {
    expect(new SlidingWindower({ lengthMs: 2, offsetMs: 1, alignTo: NINE })).toBeInstanceOf(Windower);
    expect(new TumblingWindower({ lengthMs: 2, alignTo: NINE })).toBeInstanceOf(Windower);
  });

  it.each([
    [{ lengthMs: 0, offsetMs: 1, alignTo: NINE }, "lengthMs"],
    [{ lengthMs: -10, offsetMs: 1, alignTo: NINE }, "lengthMs"],
    [{ lengthMs: 1.5, offsetMs: 1, alignTo: NINE }, "lengthMs"],
    [{ lengthMs: Infinity, offsetMs: 1, alignTo: NINE }, "lengthMs"],
    [{ lengthMs: Number.NaN, offsetMs: 1, alignTo: NINE }, "lengthMs"],
    [{ lengthMs: "10", offsetMs: 1, alignTo: NINE }, "lengthMs"],
    [{ offsetMs: 1, alignTo: NINE }, "lengthMs"],
    [{ lengthMs: 10, offsetMs: 0, alignTo: NINE }, "offsetMs"],
    [{ lengthMs: 10, offsetMs: -5, alignTo: NINE }, "offsetMs"],
    [{ lengthMs: 10, offsetMs: 11, alignTo: NINE }, "offsetMs"],
    [{ lengthMs: 10, alignTo: NINE }, "offsetMs"],
    [{ lengthMs: 10, offsetMs: 5, alignTo: new Date("nope") }, "alignTo"],
    [{ lengthMs: 10, offsetMs: 5, alignTo: NINE.getTime() }, "alignTo"],
    [{ lengthMs: 10, offsetMs: 5 }, "alignTo"],
  ])("SlidingWindower rejects %o naming '%s'", (opts, option) => {
    const make = () => new SlidingWindower(opts as never);
    expect(make).toThrow(WeirError);
    expect(make).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining(`'${option}'`) }));
  });

  it("allows offsetMs = lengthMs", () => {
    expect(() => new SlidingWindower({ lengthMs: 10, offsetMs: 10, alignTo: NINE })).not.toThrow();
  });
});

describe("TumblingWindower", () => {
  it("is a sliding windower with offset = length", () => {
    const logic = new TumblingWindower({ lengthMs: 10_000, alignTo: NINE }).build(undefined);
    expect(logic.openFor(at(NINE, -1))).toEqual([-1]);
    expect(logic.openFor(at(NINE, 10_000))).toEqual([1]);
    expect(logic.closeFor(at(NINE, 20_000))).toEqual([
      [-1, { openTime: at(NINE, -10_000), closeTime: NINE, mergedIds: new Set() }],
      [1, { openTime: at(NINE, 10_000), closeTime: at(NINE, 20_000), mergedIds: new Set() }],
    ]);
  });

  it.each([
    [{ lengthMs: 0, alignTo: NINE }, "lengthMs"],
    [{ lengthMs: 2 ** 60, alignTo: NINE }, "lengthMs"],
    [{ lengthMs: 10, alignTo: "2024-01-01" }, "alignTo"],
  ])("rejects %o naming '%s'", (opts, option) => {
    expect(() => new TumblingWindower(opts as never)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining(`'${option}'`) }));
  });

  it("rejects a missing options object", () => {
    expect(() => new TumblingWindower(null as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});
