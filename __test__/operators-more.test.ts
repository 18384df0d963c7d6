// The rest of §3's operators through the engine, with Bytewax's test_operators.py inputs and outputs.
import { describe, expect, it, vi } from "vitest";
import { Dataflow, mapDictValue, op, run, StatefulLogic, TestingSink, TestingSource, type KeyedStream } from "../src/index.js";
import { runFlow } from "./run-flow.js";


const byKeyThenValue = <V>(xs: [string, V][]) => [...xs].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));

describe.each([1, 2])("with %i worker(s)", (workers) => {
  it("flatMapBatch is called once per batch with the batch's items in order", async () => {
    const sizes: number[] = [];
    const out = await runFlow<number>((f, out) => {
      const s = op.input("inp", f, new TestingSource([1, 2, 3, 4, 5], 5));
      op.output("out", op.flatMapBatch("fmb", s, (xs: number[]) => {
        sizes.push(xs.length);
        return xs.map((x) => x * 10);
      }), new TestingSink(out));
    }, workers);
    expect(out).toEqual([10, 20, 30, 40, 50]);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(5);
  });

  it("mapValue, filterValue, filterMapValue, flatMapValue keep the key; keyRm drops it", async () => {
    const inp: [string, number][] = [["a", 1], ["b", 2], ["a", 3]];
    const out = await runFlow<unknown>((f, out) => {
      const s = op.input("inp", f, new TestingSource(inp)) as KeyedStream<number>;
      const m = op.mapValue("mv", s, (v) => v * 2);
      const fl = op.filterValue("fv", m, (v) => v > 2);
      const fm = op.filterMapValue("fmv", fl, (v) => (v === 4 ? null : v + 1));
      const flat = op.flatMapValue("flv", fm, (v) => [v, -v]);
      op.output("out", op.keyRm("rm", flat), new TestingSink(out));
    }, workers);
    expect(out).toEqual([7, -7]);
  });

  it("flatten emits the elements of each iterable (strings are iterable)", async () => {
    const out = await runFlow<string>((f, out) => {
      op.output("out", op.flatten("fl", op.input("inp", f, new TestingSource(["ab", "c"]))), new TestingSink(out));
    }, workers);
    expect(out).toEqual(["a", "b", "c"]);
  });

  it("stateful: a discard rebuilds the logic for the key's next item, even in the same batch", async () => {
    const built: (number | undefined)[] = [];
    class Pairs extends StatefulLogic<number, number[], number[]> {
      constructor(private seen: number[]) { super(); }
      onItem(v: number): [number[][], boolean] {
        this.seen.push(v);
        return this.seen.length === 2 ? [[this.seen], StatefulLogic.DISCARD] : [[], StatefulLogic.RETAIN];
      }
      snapshot() { return this.seen; }
    }
    const out = await runFlow<[string, number[]]>((f, out) => {
      const s = op.input("inp", f, new TestingSource([["k", 1], ["k", 2], ["k", 3], ["k", 4], ["k", 5]] as [string, number][], 5));
      op.output("out", op.stateful("pairs", s, (resume: number[] | undefined) => {
        built.push(resume?.length);
        return new Pairs(resume ?? []);
      }), new TestingSink(out));
    }, workers);
    expect(out).toEqual([["k", [1, 2]], ["k", [3, 4]]]);
    expect(built).toEqual([undefined, undefined, undefined]);
  });

  it("stateful: onNotify fires at notifyAt without new input, and onEof at the end", async () => {
    class Timer extends StatefulLogic<string, string, null> {
      at = new Date(Date.now() + 30);
      onItem(v: string): [string[], boolean] { return [[`item ${v}`], false]; }
      override notifyAt() { return this.at; }
      override onNotify(): [string[], boolean] { this.at = new Date(8.64e15); return [["notified"], false]; }
      override onEof(): [string[], boolean] { return [["eof"], true]; }
      snapshot() { return null; }
    }
    const out = await runFlow<[string, string]>((f, out) => {
      const s = op.input("inp", f, new TestingSource([["k", "x"], TestingSource.PAUSE(150), ["j", "y"]] as never[]));
      op.output("out", op.stateful("timer", s as KeyedStream<string>, () => new Timer()), new TestingSink(out));
    }, workers);
    expect(out.filter(([k]) => k === "k").map(([, v]) => v)).toEqual(["item x", "notified", "eof"]);
  });

  it("statefulFlatMap emits every element and discards on a nullish state", async () => {
    const out = await runFlow<[string, number]>((f, out) => {
      const s = op.input("inp", f, new TestingSource([["a", 1], ["a", 2], ["a", 3]] as [string, number][]));
      op.output("out", op.statefulFlatMap("sfm", s, (st: number | undefined, v: number) => {
        const sum = (st ?? 0) + v;
        return [sum >= 3 ? null : sum, [sum, sum]];
      }), new TestingSink(out));
    }, workers);
    expect(out.map(([, v]) => v)).toEqual([1, 1, 3, 3, 3, 3]);
  });

  it("collect emits at maxSize and the rest at EOF", async () => {
    const out = await runFlow<[string, number[]]>((f, out) => {
      const s = op.input("inp", f, new TestingSource([["a", 1], ["b", 2], ["a", 3], ["a", 4], ["b", 5]] as [string, number][]));
      op.output("out", op.collect("c", s, 10_000, 2), new TestingSink(out));
    }, workers);
    expect(byKeyThenValue(out)).toEqual([["a", [1, 3]], ["a", [4]], ["b", [2, 5]]]);
  });

  it("collect emits after timeoutMs of quiet", async () => {
    const out = await runFlow<[string, number[]]>((f, out) => {
      const s = op.input("inp", f, new TestingSource([["a", 1], TestingSource.PAUSE(200), ["a", 2]] as never[]));
      op.output("out", op.collect("c", s as KeyedStream<number>, 20, 100), new TestingSink(out));
    }, workers);
    expect(out).toEqual([["a", [1]], ["a", [2]]]);
  });

  it("a non-boolean predicate is INVALID_RETURN; a non-iterable flatMap result too", async () => {
    const flow = new Dataflow("f");
    op.output("out", op.filter("p", op.input("inp", flow, new TestingSource([1])), () => 1 as unknown as boolean), new TestingSink([]));
    await expect(run(flow, { workers })).rejects.toMatchObject({ code: "INVALID_RETURN", stepId: "f.p" });
    const flow2 = new Dataflow("g");
    op.output("out", op.flatMap("fm", op.input("inp", flow2, new TestingSource([1])), () => 5 as unknown as number[]), new TestingSink([]));
    await expect(run(flow2, { workers })).rejects.toMatchObject({ code: "INVALID_RETURN", stepId: "g.fm" });
  });

  it("raises fails the run with RAISED_ITEM", async () => {
    const flow = new Dataflow("f");
    op.raises("r", op.input("inp", flow, new TestingSource(["boom"])));
    await expect(run(flow, { workers })).rejects.toMatchObject({ code: "RAISED_ITEM", stepId: "f.r" });
  });
});

describe("inspect", () => {
  it("prints `<stepId>: <item>` by default", async () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const flow = new Dataflow("test_df");
      op.inspect("insp", op.input("inp", flow, new TestingSource(["a", { b: [1, 2] }])));
      await run(flow);
      const lines = write.mock.calls.map((c) => String(c[0]));
      expect(lines).toContain("test_df.insp: 'a'\n");
      expect(lines).toContain("test_df.insp: { b: [ 1, 2 ] }\n");
    } finally {
      write.mockRestore();
    }
  });

  it("inspectDebug prints the worker and epoch", async () => {
    const write = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const flow = new Dataflow("test_df");
      op.inspectDebug("insp", op.input("inp", flow, new TestingSource([7])));
      await run(flow);
      expect(write.mock.calls.map((c) => String(c[0]))).toContain("test_df.insp W0 @1: 7\n");
    } finally {
      write.mockRestore();
    }
  });
});

describe("mapDictValue", () => {
  it("maps one field of a shallow copy", () => {
    const f = mapDictValue("n", (n: number) => n + 1);
    const o = { n: 1, s: "x" };
    expect(f(o)).toEqual({ n: 2, s: "x" });
    expect(o.n).toBe(1);
  });
});
