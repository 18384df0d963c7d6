import { afterEach, describe, expect, it, vi } from "vitest";
import { RandomMetricSource, type RandomMetricState } from "../src/connectors/demo.js";

type Part = Awaited<ReturnType<RandomMetricSource["buildPart"]>>;

async function next(part: Part): Promise<[string, number][] | null> {
  const batch = await part.nextBatch();
  return batch === null ? null : Array.from(batch);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("RandomMetricSource (ported from Bytewax test_demo.py)", () => {
  it("test_random_metric_source: count values at interval 0, then EOF", async () => {
    const src = new RandomMetricSource("volts", { intervalMs: 0, count: 3, nextRandom: () => 42 });
    const [partName] = await src.listParts();
    const part = await src.buildPart("test_df.inp", partName!, undefined);
    const out: [string, number][] = [];
    for (;;) {
      const batch = await next(part);
      if (batch === null) break;
      out.push(...batch);
    }
    expect(out).toEqual([["volts", 42], ["volts", 42], ["volts", 42]]);
  });
});

describe("RandomMetricSource", () => {
  it("has one partition named after the metric", async () => {
    expect(await new RandomMetricSource("volts").listParts()).toEqual(["volts"]);
  });

  it("emits at once, then once per interval by nextAwake", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2024-01-01T00:00:00Z") });
    const src = new RandomMetricSource("m", { intervalMs: 1000, count: 2, nextRandom: () => 1 });
    const part = await src.buildPart("s", "m", undefined);
    expect(await next(part)).toEqual([["m", 1]]);
    expect(await part.nextAwake()).toEqual(new Date("2024-01-01T00:00:01Z"));
    // Polled early: nothing yet, same schedule.
    vi.setSystemTime(new Date("2024-01-01T00:00:00.500Z"));
    expect(await next(part)).toEqual([]);
    expect(await part.nextAwake()).toEqual(new Date("2024-01-01T00:00:01Z"));
    vi.setSystemTime(new Date("2024-01-01T00:00:01Z"));
    expect(await next(part)).toEqual([["m", 1]]);
    // After the last value, EOF without waiting another interval.
    expect(await part.nextAwake()).toBeUndefined();
    expect(await next(part)).toBeNull();
  });

  it("keeps a drift-free schedule when polled late", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2024-01-01T00:00:00Z") });
    const part = await new RandomMetricSource("m", { intervalMs: 1000, nextRandom: () => 0 }).buildPart("s", "m", undefined);
    await next(part);
    vi.setSystemTime(new Date("2024-01-01T00:00:01.300Z"));
    await next(part);
    expect(await part.nextAwake()).toEqual(new Date("2024-01-01T00:00:02Z"));
  });

  it("snapshots { awakeAt, count } and keeps the schedule and the count across a resume", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2024-01-01T00:00:00Z") });
    const src = new RandomMetricSource("m", { intervalMs: 1000, count: 3, nextRandom: () => 5 });
    const part = await src.buildPart("s", "m", undefined);
    expect(await next(part)).toEqual([["m", 5]]);
    const state = (await part.snapshot()) as RandomMetricState;
    expect(state).toEqual({ awakeAt: new Date("2024-01-01T00:00:01Z"), count: 1 });
    // The snapshot is a copy.
    state.awakeAt.setTime(0);
    expect(await part.snapshot()).toEqual({ awakeAt: new Date("2024-01-01T00:00:01Z"), count: 1 });

    const resumed = await src.buildPart("s", "m", { awakeAt: new Date("2024-01-01T00:00:01Z"), count: 1 });
    // The first poll after a resume still waits for the stored instant.
    expect(await next(resumed)).toEqual([]);
    expect(await resumed.nextAwake()).toEqual(new Date("2024-01-01T00:00:01Z"));
    vi.setSystemTime(new Date("2024-01-01T00:00:01Z"));
    expect(await next(resumed)).toEqual([["m", 5]]);
    vi.setSystemTime(new Date("2024-01-01T00:00:02Z"));
    expect(await next(resumed)).toEqual([["m", 5]]);
    expect(await resumed.snapshot()).toEqual({ awakeAt: new Date("2024-01-01T00:00:03Z"), count: 3 });
    expect(await next(resumed)).toBeNull();
  });

  it("defaults to random integers 0..9 at 700 ms", async () => {
    vi.useFakeTimers({ toFake: ["Date"], now: new Date("2024-01-01T00:00:00Z") });
    const part = await new RandomMetricSource("m").buildPart("s", "m", undefined);
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) {
      const batch = await next(part);
      seen.push(...batch!.map(([, v]) => v));
      vi.setSystemTime((await part.nextAwake()) as Date);
    }
    expect(seen).toHaveLength(200);
    expect(seen.every((v) => Number.isInteger(v) && v >= 0 && v <= 9)).toBe(true);
    expect(await part.nextAwake()).toEqual(new Date(Date.parse("2024-01-01T00:00:00Z") + 200 * 700));
  });

  it("ends at once with count 0", async () => {
    const part = await new RandomMetricSource("m", { count: 0 }).buildPart("s", "m", undefined);
    expect(await next(part)).toBeNull();
  });

  it("fails a Promise from nextRandom with INVALID_RETURN", async () => {
    const nextRandom = (async () => 1) as unknown as () => number;
    const part = await new RandomMetricSource("m", { intervalMs: 0, nextRandom }).buildPart("s", "m", undefined);
    expect(() => part.nextBatch()).toThrow(expect.objectContaining({ code: "INVALID_RETURN", stepId: "s" }));
  });

  it("rejects bad options", () => {
    for (const opts of [{ intervalMs: -1 }, { intervalMs: Infinity }, { intervalMs: NaN }, { count: -1 }, { count: 1.5 }]) {
      expect(() => new RandomMetricSource("m", opts)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });
});
