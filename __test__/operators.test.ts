// Dataflow-level tests of the stateless and stateful operators (cases from Bytewax's test_operators.py).
import { describe, expect, it } from "vitest";
import { Dataflow, op, run, StatefulBatchLogic, TestingSink, TestingSource, WeirError } from "../src/index.js";
import { runFlow } from "./run-flow.js";


describe.each([1, 2])("with %i worker(s)", (workers) => {
  it("map", async () => {
    const out = await runFlow<number>((f, out) => {
      const s = op.input("inp", f, new TestingSource([0, 1, 2]));
      op.output("out", op.map("add_one", s, (x: number) => x + 1), new TestingSink(out));
    }, workers);
    expect(out.sort()).toEqual([1, 2, 3]);
  });

  it("filter, flatMap, flatten, filterMap", async () => {
    const out = await runFlow<number>((f, out) => {
      const s = op.input("inp", f, new TestingSource([1, 2, 3, 4, 5, 6]));
      const even = op.filter("even", s, (x: number) => x % 2 === 0);
      const twice = op.flatMap("twice", even, (x: number) => [x, x]);
      const pairs = op.map("pair", twice, (x: number) => [x]);
      const flat = op.flatten("flat", pairs);
      const big = op.filterMap("big", flat, (x: number) => (x > 2 ? x * 10 : null));
      op.output("out", big, new TestingSink(out));
    }, workers);
    expect(out.sort((a, b) => a - b)).toEqual([40, 40, 60, 60]);
  });

  it("branch", async () => {
    const evens: number[] = [];
    const odds: number[] = [];
    await runFlow((f) => {
      const s = op.input("inp", f, new TestingSource([1, 2, 3, 4]));
      const b = op.branch("evens", s, (x: number) => x % 2 === 0);
      op.output("e", b.trues, new TestingSink(evens));
      op.output("o", b.falses, new TestingSink(odds));
    }, workers);
    expect(evens.sort()).toEqual([2, 4]);
    expect(odds.sort()).toEqual([1, 3]);
  });

  it("merge and a stream feeding two steps", async () => {
    const out = await runFlow<number>((f, out) => {
      const a = op.input("a", f, new TestingSource([1, 2]));
      const b = op.input("b", f, new TestingSource([3]));
      const m = op.merge("m", a, b);
      op.output("o1", op.map("x10", m, (x: number) => x * 10), new TestingSink(out));
      op.output("o2", m, new TestingSink(out));
    }, workers);
    expect(out.sort((x, y) => x - y)).toEqual([1, 2, 3, 10, 20, 30]);
  });

  it("statefulMap keeps a running sum per key", async () => {
    const out = await runFlow<[string, number]>((f, out) => {
      const s = op.input("inp", f, new TestingSource([["a", 1], ["b", 10], ["a", 2], ["b", 20], ["a", 3]] as [string, number][]));
      op.output("out", op.statefulMap("sum", s, (st: number | undefined, v: number) => [(st ?? 0) + v, (st ?? 0) + v]), new TestingSink(out));
    }, workers);
    expect(out.filter(([k]) => k === "a").map(([, v]) => v)).toEqual([1, 3, 6]);
    expect(out.filter(([k]) => k === "b").map(([, v]) => v)).toEqual([10, 30]);
  });

  it("countFinal, foldFinal, reduceFinal, maxFinal, minFinal", async () => {
    const inp = ["a", "b", "a", "c", "a", "b"];
    const counts = await runFlow<[string, number]>((f, out) => {
      op.output("out", op.countFinal("count", op.input("inp", f, new TestingSource(inp)), (x: string) => x), new TestingSink(out));
    }, workers);
    expect(new Map(counts)).toEqual(new Map([["a", 3], ["b", 2], ["c", 1]]));
    const kv = [["k", 3], ["k", 9], ["k", 1], ["j", 5]] as [string, number][];
    const folded = await runFlow<[string, number[]]>((f, out) => {
      op.output("out", op.foldFinal("fold", op.input("inp", f, new TestingSource(kv)), () => [] as number[], (acc: number[], v: number) => [...acc, v]), new TestingSink(out));
    }, workers);
    expect(new Map(folded)).toEqual(new Map([["k", [3, 9, 1]], ["j", [5]]]));
    const reduced = await runFlow<[string, number]>((f, out) => {
      op.output("out", op.reduceFinal("sum", op.input("inp", f, new TestingSource(kv)), (a: number, b: number) => a + b), new TestingSink(out));
    }, workers);
    expect(new Map(reduced)).toEqual(new Map([["k", 13], ["j", 5]]));
    const maxes = await runFlow<[string, number]>((f, out) => {
      op.output("out", op.maxFinal("max", op.input("inp", f, new TestingSource(kv))), new TestingSink(out));
    }, workers);
    expect(new Map(maxes)).toEqual(new Map([["k", 9], ["j", 5]]));
    const mins = await runFlow<[string, number]>((f, out) => {
      op.output("out", op.minFinal("min", op.input("inp", f, new TestingSource(kv))), new TestingSink(out));
    }, workers);
    expect(new Map(mins)).toEqual(new Map([["k", 1], ["j", 5]]));
  });

  it("statefulBatch runs onEof per live key in key order", async () => {
    class Last extends StatefulBatchLogic<number, number, number> {
      last = 0;
      onBatch(vs: number[]): [number[], boolean] { this.last = vs[vs.length - 1]!; return [[], false]; }
      override onEof(): [number[], boolean] { return [[this.last], true]; }
      snapshot() { return this.last; }
    }
    const out = await runFlow<[string, number]>((f, out) => {
      const s = op.input("inp", f, new TestingSource([["b", 1], ["a", 2], ["b", 3]] as [string, number][]));
      op.output("out", op.statefulBatch("last", s, () => new Last()), new TestingSink(out));
    }, workers);
    expect(new Map(out)).toEqual(new Map([["a", 2], ["b", 3]]));
  });

  it("async mappers keep order", async () => {
    const out = await runFlow<number>((f, out) => {
      const s = op.input("inp", f, new TestingSource([1, 2, 3, 4, 5], 5));
      const slow = op.map("slow", s, async (x: number) => {
        await new Promise((r) => setTimeout(r, (6 - x) * 3));
        return x * 2;
      });
      op.output("out", slow, new TestingSink(out));
    }, workers);
    expect(out).toEqual([2, 4, 6, 8, 10]);
  });

  it("a throwing mapper rejects with CALLBACK_ERROR, the full step id and the cause", async () => {
    const boom = new Error("boom on 3");
    const flow = new Dataflow("f");
    const s = op.input("inp", flow, new TestingSource([1, 2, 3, 4]));
    op.output("out", op.map("double", s, (x: number) => { if (x === 3) throw boom; return x * 2; }), new TestingSink([]));
    const err = await run(flow, { workers }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: "CALLBACK_ERROR", stepId: "f.double", cause: boom });
    expect((err as Error).message).toContain("error calling 'mapper' in step 'f.double'");
  });

  it("a rejecting async mapper rejects the run the same way", async () => {
    const flow = new Dataflow("f");
    const s = op.input("inp", flow, new TestingSource([1, 2, 3]));
    op.output("out", op.map("m", s, async (x: number) => { if (x === 2) throw new TypeError("nope"); return x; }), new TestingSink([]));
    await expect(run(flow, { workers })).rejects.toMatchObject({ code: "CALLBACK_ERROR", stepId: "f.m" });
  });

  it("a non-string key is INVALID_KEY", async () => {
    const flow = new Dataflow("f");
    const s = op.input("inp", flow, new TestingSource([1, 2]));
    op.output("out", op.keyOn("key", s, (x: number) => x as unknown as string), new TestingSink([]));
    await expect(run(flow, { workers })).rejects.toMatchObject({ code: "INVALID_KEY", stepId: "f.key" });
  });
});

describe("definition-time checks", () => {
  it("a duplicate step id is DUPLICATE_STEP naming both steps", () => {
    const flow = new Dataflow("f");
    const s = op.input("inp", flow, new TestingSource([1]));
    op.map("m", s, (x: number) => x);
    expect(() => op.filter("m", s, () => true)).toThrow(expect.objectContaining({ code: "DUPLICATE_STEP" }));
    expect(() => op.filter("m", s, () => true)).toThrow(/'f.m' is already used by a 'map' step; the 'filter' step/);
  });

  it("ids with dots or empty ids are INVALID_ID", () => {
    expect(() => new Dataflow("a.b")).toThrow(expect.objectContaining({ code: "INVALID_ID" }));
    const flow = new Dataflow("f");
    expect(() => op.input("", flow, new TestingSource([1]))).toThrow(expect.objectContaining({ code: "INVALID_ID" }));
  });

  it("a BranchOut where a stream is expected gets a hint", () => {
    const flow = new Dataflow("f");
    const b = op.branch("b", op.input("inp", flow, new TestingSource([1])), () => true);
    expect(() => op.map("m", b as never, (x: number) => x)).toThrow(/pick .trues or .falses/);
  });

  it("a flow without input or output is INVALID_FLOW", async () => {
    const flow = new Dataflow("f");
    op.input("inp", flow, new TestingSource([1]));
    await expect(run(flow)).rejects.toMatchObject({ code: "INVALID_FLOW" });
  });

  it("a running flow cannot start again", async () => {
    const flow = new Dataflow("f");
    op.output("out", op.input("inp", flow, new TestingSource([1, 2, 3])), new TestingSink([]));
    const first = run(flow);
    await expect(run(flow)).rejects.toMatchObject({ code: "ALREADY_RUNNING" });
    await first;
    await expect(run(flow)).resolves.toEqual({ aborted: false, lastClosedEpoch: expect.any(Number) });
  });

  it("bad run options are INVALID_CONFIG", async () => {
    const flow = new Dataflow("f");
    op.output("out", op.input("inp", flow, new TestingSource([1])), new TestingSink([]));
    await expect(run(flow, { workers: 0 })).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    await expect(run(flow, { epochIntervalMs: -1 })).rejects.toMatchObject({ code: "INVALID_CONFIG" });
    await expect(run(flow, { procId: 1 })).rejects.toMatchObject({ code: "INVALID_CONFIG" });
  });
});

describe("epochs", () => {
  it("with epochIntervalMs 0 and batch size 1 each item is processed before the next is read", async () => {
    const seen: string[] = [];
    const flow = new Dataflow("f");
    const s = op.input("inp", flow, new TestingSource([1, 2, 3]));
    const a = op.inspectDebug("a", s, (_id, x, epoch) => void seen.push(`a${x}@${epoch}`));
    op.output("out", op.inspectDebug("b", op.redistribute("r", a), (_id, x, epoch) => void seen.push(`b${x}@${epoch}`)), new TestingSink([]));
    await run(flow, { epochIntervalMs: 0, workers: 2 });
    expect(seen).toEqual(["a1@1", "b1@1", "a2@2", "b2@2", "a3@3", "b3@3"]);
  });

  it("AbortExecution stops the run, which resolves with aborted: true", async () => {
    const out: number[] = [];
    const flow = new Dataflow("f");
    op.output("out", op.input("inp", flow, new TestingSource([0, 1, 2, TestingSource.ABORT(), 3, 4])), new TestingSink(out));
    await expect(run(flow)).resolves.toMatchObject({ aborted: true });
    expect(out).toEqual([0, 1, 2]);
  });
});
