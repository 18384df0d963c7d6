// The fused kernel compiler (src/runtime/kernels.ts): a chain of per-item steps compiled into one loop
// must give exactly what the steps give one after another, with async callbacks anywhere in the chain,
// and fail with the error of the step that failed.
import { describe, expect, it } from "vitest";
import { fuseKernels, kernelLoop, type KernelShape, type KernelSpec } from "../src/runtime/kernels.js";
import { Dataflow, FixedPartitionedSource, op, run, StatefulSourcePartition, TestingSink, TestingSource, WeirError } from "../src/index.js";
import { runFlow } from "./run-flow.js";
import type { BatchContext } from "../src/dataflow.js";

const ctx: BatchContext = { epoch: 1, workerIndex: 0, workerCount: 1 };

function spec(shape: KernelShape, stepId: string, fn: (x: any) => unknown): KernelSpec {
  const takes: Record<KernelShape, KernelSpec["take"]> = {
    map: (_x, r, out) => { out.push(r); },
    filter: (x, r, out) => {
      if (r === true) out.push(x);
      else if (r !== false) throw new WeirError("INVALID_RETURN", `${stepId}: not a boolean`, { stepId });
    },
    filterMap: (_x, r, out) => { if (r !== null && r !== undefined) out.push(r); },
    flatMap: (_x, r, out) => {
      if (r === null || r === undefined || typeof (r as Iterable<unknown>)[Symbol.iterator] !== "function") {
        throw new WeirError("INVALID_RETURN", `${stepId}: not iterable`, { stepId });
      }
      for (const y of r as Iterable<unknown>) out.push(y);
    },
    keyOn: (x, r, out) => {
      if (typeof r !== "string") throw new WeirError("INVALID_KEY", `${stepId}: not a string`, { stepId });
      out.push([r, x]);
    },
  };
  return { shape, stepId, callback: "cb", fn, take: takes[shape] };
}

/** The chain step by step through the per-step loops: the reference the fused loop must equal. */
async function stepwise(specs: KernelSpec[], items: unknown[]): Promise<unknown[]> {
  for (const s of specs) items = await kernelLoop(s)(items, ctx);
  return items;
}

const later = <T>(v: T): Promise<T> => new Promise((res) => setTimeout(() => res(v), 1));

// A seeded chain generator: random shapes, some callbacks async on some items.
function randomChain(seed: number): KernelSpec[] {
  let x = seed;
  const rnd = (m: number) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return ((x >>> 16) * m) >>> 16;
  };
  const n = 1 + rnd(5);
  const chain: KernelSpec[] = [];
  for (let k = 0; k < n; k++) {
    const shape = (["map", "filter", "filterMap", "flatMap", "keyOn"] as const)[rnd(5)]!;
    const asyncEvery = rnd(3) === 0 ? 2 + rnd(5) : 0; // 0 = never async
    const maybeAsync = <T>(v: number, r: T): T | Promise<T> => (asyncEvery && v % asyncEvery === 0 ? later(r) : r);
    const num = (v: unknown): number => (Array.isArray(v) ? num(v[1]) : Number(v));
    const id = `flow.s${k}`;
    switch (shape) {
      case "map": chain.push(spec("map", id, (v) => maybeAsync(num(v), num(v) * 3 + k))); break;
      case "filter": chain.push(spec("filter", id, (v) => maybeAsync(num(v), num(v) % 4 !== 1))); break;
      case "filterMap": chain.push(spec("filterMap", id, (v) => maybeAsync(num(v), num(v) % 5 === 0 ? null : num(v) + 1))); break;
      case "flatMap": chain.push(spec("flatMap", id, (v) => maybeAsync(num(v), num(v) % 3 === 0 ? [] : [num(v), num(v) + 7]))); break;
      case "keyOn": chain.push(spec("keyOn", id, (v) => maybeAsync(num(v), `k${num(v) % 7}`))); break;
    }
  }
  return chain;
}

describe("fuseKernels", () => {
  it("equals the step-by-step result for 40 seeded random chains, sync and async", async () => {
    const items = Array.from({ length: 60 }, (_, i) => i);
    for (let seed = 1; seed <= 40; seed++) {
      const chain = randomChain(seed);
      const expected = await stepwise(chain, items);
      const got = await fuseKernels(chain)(items, ctx);
      expect(got, `seed ${seed}: ${chain.map((s) => s.shape).join(" → ")}`).toEqual(expected);
    }
  });

  it("appends to a given array, so several batches need no concatenation", async () => {
    const k = fuseKernels([spec("map", "f.a", (x) => x * 10), spec("filter", "f.b", (x) => x !== 20)]);
    const out: unknown[] = ["before"];
    expect(k([1, 2, 3], ctx, out)).toBe(out);
    expect(k([4], ctx, out)).toBe(out);
    expect(out).toEqual(["before", 10, 30, 40]);
    const slow = fuseKernels([spec("map", "f.c", (x) => (x === 2 ? later(x) : x))]);
    const into: unknown[] = [0];
    expect(await slow([1, 2, 3], ctx, into)).toBe(into);
    expect(into).toEqual([0, 1, 2, 3]);
  });

  it("stays synchronous while every callback is", () => {
    const k = fuseKernels([spec("map", "f.a", (x) => x + 1), spec("flatMap", "f.b", (x) => [x, -x]), spec("filter", "f.c", (x) => x > 0)]);
    expect(k([1, 2, 3], ctx)).toEqual([2, 3, 4]);
  });

  it("calls each step's callbacks in that step's input order, also after a Promise", async () => {
    const calls: string[] = [];
    const k = fuseKernels([
      spec("map", "f.a", (x) => { calls.push(`a${x}`); return x === 1 ? later(x) : x; }),
      spec("map", "f.b", (x) => { calls.push(`b${x}`); return x; }),
    ]);
    expect(await k([0, 1, 2, 3], ctx)).toEqual([0, 1, 2, 3]);
    const order = (p: string) => calls.filter((c) => c.startsWith(p));
    expect(order("a")).toEqual(["a0", "a1", "a2", "a3"]);
    expect(order("b")).toEqual(["b0", "b1", "b2", "b3"]);
  });

  it("names the step whose callback threw, with the original cause", () => {
    const boom = new Error("boom");
    const k = fuseKernels([spec("map", "f.a", (x) => x), spec("flatMap", "f.b", (x) => [x]), spec("map", "f.c", (x) => {
      if (x === 2) throw boom;
      return x;
    })]);
    try {
      k([1, 2, 3], ctx);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(WeirError);
      expect((e as WeirError).code).toBe("CALLBACK_ERROR");
      expect((e as WeirError).stepId).toBe("f.c");
      expect((e as WeirError).cause).toBe(boom);
    }
  });

  it("names the step whose Promise rejected", async () => {
    const k = fuseKernels([spec("map", "f.a", (x) => x), spec("filter", "f.b", (x) => (x === 2 ? Promise.reject(new Error("no")) : true))]);
    await expect(k([1, 2, 3], ctx)).rejects.toMatchObject({ code: "CALLBACK_ERROR", stepId: "f.b" });
  });

  it("keeps the step's own error for a result of the wrong type", () => {
    expect(() => fuseKernels([spec("filter", "f.a", () => 1)])([1], ctx)).toThrow(expect.objectContaining({ code: "INVALID_RETURN", stepId: "f.a" }));
    expect(() => fuseKernels([spec("keyOn", "f.k", () => 1)])([1], ctx)).toThrow(expect.objectContaining({ code: "INVALID_KEY", stepId: "f.k" }));
    expect(() => fuseKernels([spec("flatMap", "f.m", () => 5)])([1], ctx)).toThrow(expect.objectContaining({ code: "INVALID_RETURN", stepId: "f.m" }));
  });

  it("takes any iterable from flatMap, and a throwing generator is that step's error", () => {
    const k = fuseKernels([spec("flatMap", "f.g", function* (x: number) { yield x; yield x * 10; }), spec("map", "f.h", (x) => x + 1)]);
    expect(k([1, 2], ctx)).toEqual([2, 11, 3, 21]);
    const bad = fuseKernels([spec("flatMap", "f.g", function* () { yield 1; throw new Error("gen"); })]);
    expect(() => bad([1], ctx)).toThrow(expect.objectContaining({ code: "CALLBACK_ERROR", stepId: "f.g" }));
  });
});

/** Partitions "p0".."p3", each yielding its own numbers in batches of 5. */
class Numbered extends FixedPartitionedSource<number, number> {
  listParts() { return ["p0", "p1", "p2", "p3"]; }
  buildPart(_step: string, name: string) {
    const base = Number(name.slice(1)) * 100;
    let i = 0;
    return new (class extends StatefulSourcePartition<number, number> {
      nextBatch() {
        if (i >= 20) return null;
        const b = [0, 1, 2, 3, 4].map((j) => base + i + j);
        i += 5;
        return b;
      }
      snapshot() { return i; }
    })();
  }
}

describe("fused chains in a dataflow", () => {
  it("a chain right after a multi-partition source, sync and with an async step, keeps each partition's order", async () => {
    for (const asyncEvery of [0, 3]) {
      const out: number[] = [];
      const flow = new Dataflow("parts_df");
      const s = op.input("inp", flow, new Numbered());
      const m = op.map("m", s, (x: number) => (asyncEvery && x % asyncEvery === 0 ? later(x + 1) : x + 1));
      op.output("out", op.filter("f", m, (x: number) => x % 7 !== 0), new TestingSink(out));
      await run(flow, { workers: 1 });
      const expected = [0, 1, 2, 3].flatMap((p) => Array.from({ length: 20 }, (_, j) => p * 100 + j + 1)).filter((x) => x % 7 !== 0);
      expect([...out].sort((a, b) => a - b)).toEqual(expected);
      for (const p of [0, 1, 2, 3]) {
        const mine = out.filter((x) => Math.floor((x - 1) / 100) === p);
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
      }
    }
  });


  it("a chain of every fusable step with an async step in the middle, 1 and 2 workers", async () => {
    for (const workers of [1, 2]) {
      const out = await runFlow<[string, number]>((f, sink) => {
        const s = op.input("inp", f, new TestingSource(Array.from({ length: 30 }, (_, i) => i), 7));
        const a = op.map("a", s, (x: number) => x * 2);
        const b = op.filter("b", a, async (x: number) => x % 3 !== 0);
        const c = op.flatMap("c", b, (x: number) => [x, x + 1]);
        const d = op.filterMap("d", c, (x: number) => (x % 5 === 0 ? undefined : x));
        const e = op.keyOn("e", d, (x: number) => String(x % 4));
        op.output("out", e, new TestingSink(sink));
      }, workers);
      const expected: [string, number][] = [];
      for (let i = 0; i < 30; i++) {
        const x = i * 2;
        if (x % 3 === 0) continue;
        for (const y of [x, x + 1]) if (y % 5 !== 0) expected.push([String(y % 4), y]);
      }
      if (workers === 1) expect(out).toEqual(expected);
      else expect([...out].sort()).toEqual([...expected].sort());
    }
  });
});
