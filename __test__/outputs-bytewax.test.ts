// Sinks through the engine (API.md §5): Bytewax 0.21.1's pytests/test_outputs.py, then weir's cases for dynamic and
// fixed-partitioned sinks (who builds what, routing by partFn, key stripping, epoch order, close, errors) and adler32.
import { describe, expect, it } from "vitest";
import {
  adler32, Dataflow, DynamicSink, FixedPartitionedSink, op, run, runMain, StatefulSinkPartition, StatelessSinkPartition, TestingSink,
  TestingSource, WeirError,
} from "../src/index.js";

describe("pytests/test_outputs.py", () => {
  it("test_flow_requires_output: a flow whose only step is an input is INVALID_FLOW", async () => {
    const flow = new Dataflow("test_df");
    op.input("inp", flow, new TestingSource([0, 1, 2]));
    const err = await runMain(flow).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: "INVALID_FLOW" });
    expect((err as Error).message).toMatch(/output/);
  });
});

/** Records every build, write and close of a dynamic sink. */
class RecordingDynamicSink<X> extends DynamicSink<X> {
  readonly log: string[] = [];
  readonly written = new Map<number, X[][]>();

  build(stepId: string, workerIndex: number, workerCount: number): StatelessSinkPartition<X> {
    this.log.push(`build ${stepId} ${workerIndex}/${workerCount}`);
    const batches: X[][] = [];
    this.written.set(workerIndex, batches);
    const log = this.log;
    return new (class extends StatelessSinkPartition<X> {
      writeBatch(items: X[]) {
        batches.push([...items]);
      }

      override close() {
        log.push(`close ${workerIndex}`);
      }
    })();
  }
}

/** A fixed-partitioned sink of named partitions; records builds, closes and each partition's values. */
class RecordingFixedSink<V> extends FixedPartitionedSink<V, number> {
  readonly log: string[] = [];
  readonly values = new Map<string, V[]>();
  constructor(private readonly parts: string[] | (() => string[]), private readonly fn?: (key: string) => number) {
    super();
  }

  listParts(): string[] {
    return typeof this.parts === "function" ? this.parts() : this.parts;
  }

  override partFn(key: string): number {
    return this.fn ? this.fn(key) : super.partFn(key);
  }

  buildPart(stepId: string, forPart: string, resume: number | undefined): StatefulSinkPartition<V, number> {
    this.log.push(`build ${stepId} ${forPart} ${String(resume)}`);
    const vs: V[] = [];
    this.values.set(forPart, vs);
    const log = this.log;
    return new (class extends StatefulSinkPartition<V, number> {
      writeBatch(items: V[]) {
        vs.push(...items);
      }

      snapshot() {
        return vs.length;
      }

      override close() {
        log.push(`close ${forPart}`);
      }
    })();
  }
}

describe("dynamic sinks", () => {
  it("build runs on every worker, even one that receives nothing, and close() once per partition", async () => {
    const sink = new RecordingDynamicSink<number>();
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new TestingSource([1, 2, 3])), sink);
    await run(flow, { workers: 3 });
    expect(sink.log.filter((l) => l.startsWith("build")).sort()).toEqual([
      "build test_df.out 0/3", "build test_df.out 1/3", "build test_df.out 2/3",
    ]);
    expect(sink.log.filter((l) => l.startsWith("close")).sort()).toEqual(["close 0", "close 1", "close 2"]);
    // No routing: the one TestingSource partition's items stay on the worker that read them, in order.
    const nonEmpty = [...sink.written.values()].filter((b) => b.length > 0);
    expect(nonEmpty).toHaveLength(1);
    expect(nonEmpty[0]!.flat()).toEqual([1, 2, 3]);
  });

  it("writes items as they are (keyed pairs are not stripped)", async () => {
    const sink = new RecordingDynamicSink<[string, number]>();
    const flow = new Dataflow("test_df");
    op.output("out", op.keyOn("k", op.input("inp", flow, new TestingSource([1, 2])), (x: number) => `k${x}`), sink);
    await runMain(flow);
    expect(sink.written.get(0)!.flat()).toEqual([["k1", 1], ["k2", 2]]);
  });

  it("a throwing writeBatch is SINK_ERROR naming the step, with the thrown value as cause", async () => {
    const boom = new Error("disk full");
    class Broken extends DynamicSink<number> {
      build() {
        return new (class extends StatelessSinkPartition<number> {
          writeBatch(): void {
            throw boom;
          }
        })();
      }
    }
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new TestingSource([1])), new Broken());
    await expect(runMain(flow)).rejects.toMatchObject({ code: "SINK_ERROR", stepId: "test_df.out", cause: boom });
  });

  it("an async writeBatch is awaited before the run resolves, in order", async () => {
    const out: number[] = [];
    class Slow extends DynamicSink<number> {
      build() {
        return new (class extends StatelessSinkPartition<number> {
          async writeBatch(items: number[]) {
            await new Promise((r) => setTimeout(r, 5));
            out.push(...items);
          }
        })();
      }
    }
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new TestingSource([1, 2, 3, 4])), new Slow());
    await runMain(flow, { epochIntervalMs: 0 });
    expect(out).toEqual([1, 2, 3, 4]);
  });
});

describe("fixed-partitioned sinks", () => {
  it("sends [k, v] to sortedParts[mod(partFn(k), N)], strips the key, and builds partitions on first write", async () => {
    // Partitions listed out of order; sorted they are a, b, c, d. partFn = the key as a number (negative wraps with mod).
    const sink = new RecordingFixedSink<string>(["c", "a", "d", "b"], (k) => Number(k));
    const items: [string, string][] = [["0", "zero"], ["2", "two"], ["5", "five"], ["-1", "minus one"], ["4", "four"]];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new TestingSource(items)), sink);
    await runMain(flow);
    expect(Object.fromEntries(sink.values)).toEqual({ a: ["zero", "four"], b: ["five"], c: ["two"], d: ["minus one"] });
    expect(sink.log.filter((l) => l.startsWith("build")).sort()).toEqual([
      "build test_df.out a undefined", "build test_df.out b undefined", "build test_df.out c undefined", "build test_df.out d undefined",
    ]);
  });

  it("a partition nothing is written to is never built; built ones close at the end", async () => {
    const sink = new RecordingFixedSink<number>(["p0", "p1", "p2"], () => 1);
    const flow = new Dataflow("test_df");
    op.output("out", op.keyOn("k", op.input("inp", flow, new TestingSource([1, 2, 3])), String), sink);
    await runMain(flow);
    expect(sink.log).toEqual(["build test_df.out p1 undefined", "close p1"]);
    expect(sink.values.get("p1")).toEqual([1, 2, 3]);
  });

  it("routes the same key to the same partition from every worker, with the default partFn adler32", async () => {
    const sink = new RecordingFixedSink<string>(["x", "y", "z"]);
    const keys = ["apple", "banana", "cherry", "date", "elder", "fig", "grape"];
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(keys.flatMap((k) => [k, k])));
    op.output("out", op.redistribute("spread", op.keyOn("k", s, (x: string) => x)), sink);
    await run(flow, { workers: 3 });
    const sorted = ["x", "y", "z"];
    for (const k of keys) {
      const part = sorted[adler32(k) % 3]!;
      expect(sink.values.get(part)?.filter((v) => v === k)).toEqual([k, k]);
    }
  });

  it("every partition listed anywhere counts, and each is built on one worker that listed it", async () => {
    // Worker 0 lists a and b, worker 1 lists b and c (listParts is called once per worker, in worker order).
    const listings = [["a", "b"], ["b", "c"]];
    let call = 0;
    const sink = new RecordingFixedSink<string>(() => listings[call++ % 2]!, (k) => "abc".indexOf(k));
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(["a", "b", "c"]));
    op.output("out", op.keyOn("k", s, (x: string) => x), sink);
    await run(flow, { workers: 2 });
    expect(Object.fromEntries(sink.values)).toEqual({ a: ["a"], b: ["b"], c: ["c"] });
    expect(sink.log.filter((l) => l.startsWith("build"))).toHaveLength(3);
  });

  it("a partition receives its values in epoch order", async () => {
    const sink = new RecordingFixedSink<number>(["only"]);
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource([1, 2, 3, 4, 5, 6]));
    op.output("out", op.redistribute("spread", op.keyOn("k", s, () => "k")), sink);
    await run(flow, { workers: 2, epochIntervalMs: 0 });
    expect(sink.values.get("only")).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("no partition on any worker is NO_PARTITIONS", async () => {
    const flow = new Dataflow("test_df");
    op.output("out", op.keyOn("k", op.input("inp", flow, new TestingSource([1])), String), new RecordingFixedSink<number>([]));
    await expect(run(flow, { workers: 2 })).rejects.toMatchObject({ code: "NO_PARTITIONS", stepId: "test_df.out" });
  });

  it("an item that is not a [string, value] pair is INVALID_KEY", async () => {
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new TestingSource([42])), new RecordingFixedSink<number>(["p"]) as never);
    const err = await runMain(flow).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_KEY", stepId: "test_df.out" });
    expect((err as WeirError).cause).toBeInstanceOf(TypeError);
  });

  it("a partFn that returns a non-integer is INVALID_RETURN; one that throws is SINK_ERROR", async () => {
    for (const [fn, code] of [[() => 1.5, "INVALID_RETURN"], [() => "1", "INVALID_RETURN"], [() => { throw new Error("no"); }, "SINK_ERROR"]] as const) {
      const flow = new Dataflow("test_df");
      op.output("out", op.keyOn("k", op.input("inp", flow, new TestingSource([1])), String), new RecordingFixedSink<number>(["p"], fn as never));
      await expect(runMain(flow)).rejects.toMatchObject({ code, stepId: "test_df.out" });
    }
  });

  it("a throwing listParts is SINK_ERROR", async () => {
    const flow = new Dataflow("test_df");
    const sink = new RecordingFixedSink<number>(() => {
      throw new Error("cannot list");
    });
    op.output("out", op.keyOn("k", op.input("inp", flow, new TestingSource([1])), String), sink);
    await expect(runMain(flow)).rejects.toMatchObject({ code: "SINK_ERROR", stepId: "test_df.out" });
  });

  it("an output that is not one of the sink kinds is INVALID_ARGUMENT at definition time", () => {
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource([1]));
    expect(() => op.output("out", s, { build: () => ({ writeBatch() {} }) } as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("adler32", () => {
  it("is the unsigned Adler-32 of the UTF-8 bytes", () => {
    expect(adler32("")).toBe(1);
    expect(adler32("a")).toBe(0x00620062);
    expect(adler32("abc")).toBe(0x024d0127);
    expect(adler32("Wikipedia")).toBe(0x11e60398);
    // "é" is two UTF-8 bytes (0xc3 0xa9): a = 1 + 0xc3 + 0xa9, b = (1 + 0xc3) + a.
    expect(adler32("é")).toBe((((1 + 0xc3) + (1 + 0xc3 + 0xa9)) << 16) + (1 + 0xc3 + 0xa9));
    // Long input: both sums wrap at 65521 and the result stays unsigned.
    const long = adler32("\u00ff".repeat(100_000));
    expect(long).toBeGreaterThanOrEqual(0);
    expect(long).toBeLessThan(2 ** 32);
    expect(long & 0xffff).toBeLessThan(65521);
    expect(long >>> 16).toBeLessThan(65521);
  });

  it("is FixedPartitionedSink's default partFn", () => {
    const sink = new RecordingFixedSink<number>(["p"]);
    expect(sink.partFn("Wikipedia")).toBe(0x11e60398);
  });
});
