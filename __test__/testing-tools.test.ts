import { describe, expect, it, vi } from "vitest";
import { WeirError } from "../src/errors.js";
import { AbortExecution } from "../src/inputs.js";
import { TestingSink, TestingSource, TimeTestingGetter, pollNextBatch } from "../src/testing/sources.js";

async function next<X>(part: { nextBatch(): unknown }): Promise<X[] | null> {
  const batch = (await part.nextBatch()) as Iterable<X> | null;
  return batch === null ? null : Array.from(batch);
}

describe("TestingSource (ported from Bytewax test_testing.py)", () => {
  it("test_testing_source: one item per batch, then EOF", async () => {
    const inp = new TestingSource([0, 1, 2]);
    const part = await inp.buildPart("test", "iterable", undefined);
    expect(await next(part)).toEqual([0]);
    expect(await next(part)).toEqual([1]);
    expect(await next(part)).toEqual([2]);
    expect(await next(part)).toBeNull();
    await part.close();
  });

  it("test_testing_source_resume_state", async () => {
    let part = await new TestingSource([0, 1, 2]).buildPart("test", "iterable", undefined);
    expect(await next(part)).toEqual([0]);
    expect(await next(part)).toEqual([1]);
    const resumeState = await part.snapshot();
    expect(resumeState).toBe(2);
    expect(await next(part)).toEqual([2]);
    await part.close();

    part = await new TestingSource([0, 1, 2]).buildPart("test", "iterable", resumeState);
    expect(await part.snapshot()).toBe(resumeState);
    expect(await next(part)).toEqual([2]);
    expect(await next(part)).toBeNull();
    await part.close();
  });

  it("test_testing_source_batch_size", async () => {
    const part = await new TestingSource([0, 1, 2, 3, 4], 2).buildPart("test", "iterable", undefined);
    expect(await next(part)).toEqual([0, 1]);
    expect(await next(part)).toEqual([2, 3]);
    expect(await next(part)).toEqual([4]);
    await part.close();
  });

  it("test_testing_source_eof: EOF ends the batch, then a continuation resumes after it", async () => {
    const inp = new TestingSource([0, 1, 2, TestingSource.EOF(), 3, 4], 2);
    let part = await inp.buildPart("test", "iterable", undefined);
    expect(await next(part)).toEqual([0, 1]);
    expect(await next(part)).toEqual([2]);
    expect(await next(part)).toBeNull();
    const resumeState = await part.snapshot();
    await part.close();

    part = await inp.buildPart("test", "iterable", resumeState);
    expect(await next(part)).toEqual([3, 4]);
    expect(await next(part)).toBeNull();
    await part.close();
  });

  it("test_testing_source_abort: the next poll aborts; a resume skips the triggered sentinel", async () => {
    const inp = new TestingSource([0, 1, 2, TestingSource.ABORT(), 3, 4], 2);
    let part = await inp.buildPart("test", "iterable", undefined);
    expect(await next(part)).toEqual([0, 1]);
    const resumeState = await part.snapshot();
    expect(await next(part)).toEqual([2]);
    await expect(async () => part.nextBatch()).rejects.toBeInstanceOf(AbortExecution);

    part = await inp.buildPart("test", "iterable", resumeState);
    expect(await next(part)).toEqual([2, 3]);
    expect(await next(part)).toEqual([4]);
    expect(await next(part)).toBeNull();
    await part.close();
  });
});

describe("TestingSource", () => {
  it("has one partition named 'iterable'", async () => {
    expect(await new TestingSource([1]).listParts()).toEqual(["iterable"]);
  });

  it("counts sentinels in its index", async () => {
    const part = await new TestingSource(["a", TestingSource.PAUSE(0), "b", TestingSource.EOF(), "c"]).buildPart("s", "iterable", undefined);
    expect(await next(part)).toEqual(["a"]);
    expect(await part.snapshot()).toBe(1);
    expect(await next(part)).toEqual([]);
    expect(await part.snapshot()).toBe(2);
    expect(await next(part)).toEqual(["b"]);
    expect(await part.snapshot()).toBe(3);
    // The batch of "b" was full, so the EOF ends the next (empty) batch.
    expect(await next(part)).toEqual([]);
    expect(await part.snapshot()).toBe(4);
    expect(await next(part)).toBeNull();
  });

  it("leaves the index at an untriggered ABORT, and skips it (counting it) once triggered", async () => {
    const items = [0, TestingSource.ABORT(), 1];
    let part = await new TestingSource(items).buildPart("s", "iterable", undefined);
    expect(await next(part)).toEqual([0]);
    expect(await next(part)).toEqual([]);
    expect(await part.snapshot()).toBe(1);
    expect(() => part.nextBatch()).toThrow(AbortExecution);
    expect(() => part.nextBatch()).toThrow(AbortExecution);

    // A rerun from the start in the same process passes the triggered sentinel.
    part = await new TestingSource(items).buildPart("s", "iterable", undefined);
    expect(await next(part)).toEqual([0]);
    expect(await next(part)).toEqual([1]);
    expect(await part.snapshot()).toBe(3);
    expect(await next(part)).toBeNull();
  });

  it("makes a fresh ABORT sentinel per call", () => {
    const a = TestingSource.ABORT();
    const b = TestingSource.ABORT();
    expect(a).not.toBe(b);
    expect(a.kind).toBe("ABORT");
    expect(TestingSource.EOF().kind).toBe("EOF");
    expect(TestingSource.PAUSE(5).kind).toBe("PAUSE");
  });

  it("PAUSE ends the batch and sets nextAwake to now + ms; the next poll clears it", async () => {
    const part = await new TestingSource([1, 2, TestingSource.PAUSE(60_000), 3], 5).buildPart("s", "iterable", undefined);
    expect(await part.nextAwake()).toBeUndefined();
    const before = Date.now();
    expect(await next(part)).toEqual([1, 2]);
    const awake = (await part.nextAwake()) as Date;
    expect(awake.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(awake.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(await next(part)).toEqual([3]);
    expect(await part.nextAwake()).toBeUndefined();
    expect(await next(part)).toBeNull();
  });

  it("returns an empty batch for a leading EOF, then null", async () => {
    const part = await new TestingSource([TestingSource.EOF(), 1]).buildPart("s", "iterable", undefined);
    expect(await next(part)).toEqual([]);
    expect(await next(part)).toBeNull();
    expect(await part.snapshot()).toBe(1);
  });

  it("is at EOF at once for an empty iterable", async () => {
    const part = await new TestingSource([]).buildPart("s", "iterable", undefined);
    expect(await next(part)).toBeNull();
    expect(await next(part)).toBeNull();
  });

  it("does not rewind a half-consumed generator on resume", async () => {
    function* gen(): Generator<number> {
      for (let i = 0; i < 6; i++) yield i;
    }
    const src = new TestingSource(gen());
    const part = await src.buildPart("s", "iterable", undefined);
    expect(await next(part)).toEqual([0]);
    expect(await next(part)).toEqual([1]);
    // Resuming at index 1 skips one more element of the same generator.
    const resumed = await src.buildPart("s", "iterable", 1);
    expect(await next(resumed)).toEqual([3]);
  });

  it("accepts any iterable and resumes arrays exactly", async () => {
    const part = await new TestingSource(new Set(["x", "y", "z"]), 2).buildPart("s", "iterable", 1);
    expect(await next(part)).toEqual(["y", "z"]);
    expect(await next(part)).toBeNull();
  });

  it("rejects a bad batch size or a non-iterable", () => {
    for (const bad of [0, -1, 1.5, NaN]) {
      expect(() => new TestingSource([1], bad)).toThrow(expect.objectContaining({ name: "WeirError", code: "INVALID_ARGUMENT" }));
    }
    expect(() => new TestingSource(42 as unknown as number[])).toThrow(WeirError);
    expect(() => TestingSource.PAUSE(-1)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("TestingSink", () => {
  it("pushes every written item onto its array, from every partition, and never clears it", async () => {
    const out: number[] = [7];
    const sink = new TestingSink(out);
    expect(sink.out).toBe(out);
    const p0 = await sink.build("s", 0, 2);
    const p1 = await sink.build("s", 1, 2);
    await p0.writeBatch([1, 2]);
    await p1.writeBatch([3]);
    await p0.writeBatch([]);
    await p0.close();
    await p1.close();
    expect(out).toEqual([7, 1, 2, 3]);
  });

  it("handles batches larger than the argument limit", async () => {
    const out: number[] = [];
    const part = await new TestingSink(out).build("s", 0, 1);
    const big = Array.from({ length: 200_000 }, (_, i) => i);
    await part.writeBatch(big);
    expect(out.length).toBe(200_000);
    expect(out[199_999]).toBe(199_999);
  });

  it("rejects a non-array", () => {
    expect(() => new TestingSink("nope" as unknown as string[])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("TimeTestingGetter", () => {
  it("has a bound getter and advances by ms", () => {
    const clock = new TimeTestingGetter(new Date("2024-01-01T00:00:00Z"));
    const { get } = clock;
    expect(get()).toEqual(new Date("2024-01-01T00:00:00Z"));
    clock.advance(90_000);
    expect(get()).toEqual(new Date("2024-01-01T00:01:30Z"));
    expect(clock.now).toEqual(new Date("2024-01-01T00:01:30Z"));
    clock.now = new Date("2030-01-01T00:00:00Z");
    expect(get()).toEqual(new Date("2030-01-01T00:00:00Z"));
  });

  it("does not mutate the Date it was given", () => {
    const start = new Date("2024-01-01T00:00:00Z");
    const clock = new TimeTestingGetter(start);
    clock.advance(1000);
    expect(start.toISOString()).toBe("2024-01-01T00:00:00.000Z");
  });
});

describe("pollNextBatch", () => {
  it("polls past empty batches to the next items", async () => {
    const batches: (number[] | null)[] = [[], [], [1, 2], [3]];
    const part = { nextBatch: vi.fn(() => batches.shift() ?? null) };
    expect(await pollNextBatch(part)).toEqual([1, 2]);
    expect(part.nextBatch).toHaveBeenCalledTimes(3);
    expect(await pollNextBatch(part)).toEqual([3]);
    expect(await pollNextBatch(part)).toBeNull();
  });

  it("awaits async partitions and accepts any iterable", async () => {
    const part = { nextBatch: async () => new Set(["a"]) };
    expect(await pollNextBatch(part)).toEqual(["a"]);
  });

  it("rejects with a TimeoutError when batches stay empty", async () => {
    const part = { nextBatch: () => [] as number[] };
    const err = await pollNextBatch(part, 30).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).name).toBe("TimeoutError");
  });

  it("rejects with a TimeoutError when a poll never settles", async () => {
    const part = { nextBatch: () => new Promise<number[]>(() => {}) };
    await expect(pollNextBatch(part, 30)).rejects.toMatchObject({ name: "TimeoutError" });
  });

  it("polls a TestingSource through a PAUSE", async () => {
    const part = await new TestingSource([1, TestingSource.PAUSE(10), 2]).buildPart("s", "iterable", undefined);
    expect(await pollNextBatch(part)).toEqual([1]);
    expect(await pollNextBatch(part)).toEqual([2]);
    expect(await pollNextBatch(part)).toBeNull();
  });
});

describe("TestingSource in a run (API.md §7)", () => {
  async function runItems<X>(items: (X | ReturnType<typeof TestingSource.EOF>)[], opts: { batchSize?: number; epochIntervalMs?: number; workers?: number } = {}) {
    const { Dataflow, op, run } = await import("../src/index.js");
    const seen: [X, number, number][] = [];
    const out: X[] = [];
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource<X>(items, opts.batchSize ?? 1));
    op.output("out", op.inspectDebug("dbg", s, (_id, x: X, epoch, worker) => void seen.push([x, epoch, worker])), new TestingSink(out));
    const result = await run(flow, { epochIntervalMs: opts.epochIntervalMs ?? 0, workers: opts.workers ?? 1 });
    return { out, seen, result };
  }

  it("EOF() ends the run without recovery; what follows it is not read", async () => {
    const { out, result } = await runItems([0, 1, 2, TestingSource.EOF(), 3, 4], { batchSize: 2 });
    expect(out).toEqual([0, 1, 2]);
    expect(result.aborted).toBe(false);
  });

  it("batchSize items per poll: with interval 0 each batch is one epoch", async () => {
    const { seen } = await runItems(["a", "b", "c", "d", "e"], { batchSize: 2 });
    expect(seen.map(([x, epoch]) => [x, epoch])).toEqual([["a", 1], ["b", 1], ["c", 2], ["d", 2], ["e", 3]]);
  });

  it("PAUSE(ms) holds the next poll back for ms", async () => {
    const stamps: number[] = [];
    const { Dataflow, op, run } = await import("../src/index.js");
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(["before", TestingSource.PAUSE(200), "after"]));
    op.output("out", op.inspect("t", s, () => void stamps.push(Date.now())), new TestingSink([]));
    await run(flow);
    expect(stamps).toHaveLength(2);
    expect(stamps[1]! - stamps[0]!).toBeGreaterThanOrEqual(200);
  });

  it("ABORT() stops the run (aborted: true) after what came before it; a rerun of the same flow goes on after it", async () => {
    const { Dataflow, op, run } = await import("../src/index.js");
    const out: number[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new TestingSource([0, 1, TestingSource.ABORT(), 2])), new TestingSink(out));
    await expect(run(flow)).resolves.toMatchObject({ aborted: true });
    expect(out).toEqual([0, 1]);
    // Without recovery the rerun starts from the beginning; the sentinel, now triggered, is skipped.
    out.length = 0;
    await expect(run(flow)).resolves.toMatchObject({ aborted: false });
    expect(out).toEqual([0, 1, 2]);
  });

  it("its one partition is read on one worker of several, in order", async () => {
    const { seen } = await runItems([1, 2, 3, 4], { workers: 3 });
    expect(seen.map(([x]) => x)).toEqual([1, 2, 3, 4]);
    expect(new Set(seen.map(([, , w]) => w)).size).toBe(1);
  });
});

describe("TimeTestingGetter as an EventClock's nowGetter (API.md §4 Test clocks)", () => {
  it("moves the watermark only when advanced", async () => {
    const { EventClock } = await import("../src/windowing/index.js");
    const t = new TimeTestingGetter(new Date("2024-01-01T00:00:00Z"));
    const logic = new EventClock<Date>({ tsGetter: (d) => d, waitForSystemDurationMs: 0, nowGetter: t.get }).build(undefined);
    logic.beforeBatch();
    const [, wm] = logic.onItem(new Date("2024-01-01T00:00:10Z"));
    expect(wm).toEqual(new Date("2024-01-01T00:00:10Z"));
    expect(logic.onNotify()).toEqual(new Date("2024-01-01T00:00:10Z"));
    t.advance(5_000);
    expect(logic.onNotify()).toEqual(new Date("2024-01-01T00:00:15Z"));
  });
});
