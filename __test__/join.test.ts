import { existsSync } from "node:fs";
import * as v8 from "node:v8";
import { beforeAll, describe, expect, it } from "vitest";
import { Dataflow, type KeyedStream, type Stream } from "../src/dataflow.js";
import { WeirError } from "../src/errors.js";
import { JoinState, join, type JoinEmitMode, type JoinInsertMode } from "../src/join.js";
import * as op from "../src/operators.js";
import { TestingSink, TestingSource } from "../src/testing/sources.js";

type Tagged = [side: number, value: unknown];

/** Drives a JoinState the way op.join does for one key; returns every emitted row and what EOF emits. */
function drive(sideCount: number, insertMode: JoinInsertMode, emitMode: JoinEmitMode, values: Tagged[]) {
  const state = new JoinState(sideCount, insertMode);
  const rows: unknown[][] = [];
  for (const [side, value] of values) {
    state.insert(side, value);
    rows.push(...state.emitAfterUpdate(emitMode));
  }
  const atEof = emitMode === "final" ? state.rows() : [];
  return { rows: [...rows, ...atEof], state };
}

const left = (...vs: unknown[]): Tagged[] => vs.map((v) => [0, v]);
const right = (...vs: unknown[]): Tagged[] => vs.map((v) => [1, v]);

describe("JoinState: API.md §3.2 examples (one key, left items first)", () => {
  it("last/running over left [1], right [2, 3]", () => {
    expect(drive(2, "last", "running", [...left(1), ...right(2, 3)]).rows).toEqual([[1, undefined], [1, 2], [1, 3]]);
  });

  it("first/final over left [1], right [2, 3]", () => {
    expect(drive(2, "first", "final", [...left(1), ...right(2, 3)]).rows).toEqual([[1, 2]]);
  });

  it("last/final over left [1], right [2, 3]", () => {
    expect(drive(2, "last", "final", [...left(1), ...right(2, 3)]).rows).toEqual([[1, 3]]);
  });

  it("product/final over left [1, 2], right [3, 4]", () => {
    expect(drive(2, "product", "final", [...left(1, 2), ...right(3, 4)]).rows).toEqual([[1, 3], [1, 4], [2, 3], [2, 4]]);
  });

  it("defaults (last/complete) over [1] and [2]", () => {
    const { rows, state } = drive(2, "last", "complete", [...left(1), ...right(2)]);
    expect(rows).toEqual([[1, 2]]);
    expect(state.isEmpty()).toBe(true);
  });
});

describe("JoinState", () => {
  it("complete emits once every side is set, then starts afresh", () => {
    const { rows, state } = drive(3, "last", "complete", [[0, "a"], [2, "c"], [0, "a2"], [1, "b"], [1, "b2"]]);
    expect(rows).toEqual([["a2", "b", "c"]]);
    expect(state.snapshot()).toEqual({ seen: [[], ["b2"], []] });
  });

  it("product/complete emits as soon as every side has one value", () => {
    expect(drive(2, "product", "complete", [...left(1, 2), ...right(3), ...right(4)]).rows).toEqual([[1, 3], [2, 3]]);
  });

  it("product/running emits the whole product after every value", () => {
    expect(drive(2, "product", "running", [...left(1), ...right(3), ...left(2)]).rows)
      .toEqual([[1, undefined], [1, 3], [1, 3], [2, 3]]);
  });

  it("first keeps a side's first value", () => {
    const state = new JoinState(2, "first");
    state.insert(1, "x");
    state.insert(1, "y");
    expect(state.rows()).toEqual([[undefined, "x"]]);
  });

  it("rows: cartesian product in side order, an empty side contributing one undefined", () => {
    const state = new JoinState(3, "product");
    expect(state.rows()).toEqual([[undefined, undefined, undefined]]);
    state.insert(0, 1);
    state.insert(0, 2);
    state.insert(2, "a");
    state.insert(2, "b");
    expect(state.rows()).toEqual([[1, undefined, "a"], [1, undefined, "b"], [2, undefined, "a"], [2, undefined, "b"]]);
  });

  it("keeps undefined and null values as set values", () => {
    const state = new JoinState(2, "last");
    state.insert(0, undefined);
    expect(state.isComplete()).toBe(false);
    state.insert(1, null);
    expect(state.isComplete()).toBe(true);
    expect(state.emitAfterUpdate("complete")).toEqual([[undefined, null]]);
  });

  it("a single side joins to one-element rows", () => {
    expect(drive(1, "last", "complete", [[0, 1], [0, 2]]).rows).toEqual([[1], [2]]);
  });

  it("final never emits on update", () => {
    const state = new JoinState(2, "last");
    state.insert(0, 1);
    state.insert(1, 2);
    expect(state.emitAfterUpdate("final")).toEqual([]);
    expect(state.isComplete()).toBe(true);
  });

  it("snapshot is a copy that survives v8 serialisation and restores the state", () => {
    const state = new JoinState(2, "product");
    state.insert(0, { n: 1 });
    state.insert(1, new Date(0));
    const snap = state.snapshot();
    state.insert(0, { n: 2 });
    expect(snap).toEqual({ seen: [[{ n: 1 }], [new Date(0)]] });
    const restored = new JoinState(2, "product", v8.deserialize(v8.serialize(snap)));
    restored.insert(1, new Date(1));
    expect(restored.rows()).toEqual([[{ n: 1 }, new Date(0)], [{ n: 1 }, new Date(1)]]);
  });

  it("a resumed snapshot is padded or cut to the side count", () => {
    expect(new JoinState(3, "last", { seen: [[1]] }).rows()).toEqual([[1, undefined, undefined]]);
    expect(new JoinState(1, "last", { seen: [[1], [2]] }).rows()).toEqual([[1]]);
  });

  it("rejects a side out of range and bad construction", () => {
    const state = new JoinState(2, "last");
    expect(() => state.insert(2, "x")).toThrow(RangeError);
    expect(() => state.insert(-1, "x")).toThrow(RangeError);
    expect(() => new JoinState(0, "last")).toThrow(RangeError);
    expect(() => new JoinState(2, "lastest" as JoinInsertMode)).toThrow(RangeError);
  });

  describe("mergeFrom (windows: `original` merged into the target)", () => {
    function pair(insertMode: JoinInsertMode, target: Tagged[], original: Tagged[]) {
      const t = new JoinState(3, insertMode);
      for (const [s, v] of target) t.insert(s, v);
      const o = new JoinState(3, insertMode);
      for (const [s, v] of original) o.insert(s, v);
      t.mergeFrom(o);
      return { target: t, original: o };
    }

    it("first keeps the target's values where set", () => {
      const { target } = pair("first", [[0, "t0"]], [[0, "o0"], [1, "o1"]]);
      expect(target.snapshot()).toEqual({ seen: [["t0"], ["o1"], []] });
    });

    it("last prefers the original's values where set", () => {
      const { target } = pair("last", [[0, "t0"], [2, "t2"]], [[0, "o0"], [1, "o1"]]);
      expect(target.snapshot()).toEqual({ seen: [["o0"], ["o1"], ["t2"]] });
    });

    it("product concatenates, target first", () => {
      const { target } = pair("product", [[0, "t0"], [0, "t0b"]], [[0, "o0"], [2, "o2"]]);
      expect(target.snapshot()).toEqual({ seen: [["t0", "t0b", "o0"], [], ["o2"]] });
    });

    it("leaves the original untouched and shares no arrays with it", () => {
      const { target, original } = pair("product", [], [[1, "o1"]]);
      target.insert(1, "t1");
      expect(original.snapshot()).toEqual({ seen: [[], ["o1"], []] });
      expect(target.snapshot()).toEqual({ seen: [[], ["o1", "t1"], []] });
    });

    it("then emits by the emit mode", () => {
      const { target } = pair("last", [[0, 1]], [[1, 2], [2, 3]]);
      expect(target.emitAfterUpdate("complete")).toEqual([[1, 2, 3]]);
      expect(target.isEmpty()).toBe(true);
    });

    it("rejects states of different side counts", () => {
      expect(() => new JoinState(2, "last").mergeFrom(new JoinState(3, "last"))).toThrow(RangeError);
    });
  });
});

describe("op.join at definition time", () => {
  function sides() {
    const flow = new Dataflow("f");
    const a = op.input("a", flow, new TestingSource<[string, number]>([]));
    const b = op.input("b", flow, new TestingSource<[string, string]>([]));
    return { flow, a: a as KeyedStream<number>, b: b as KeyedStream<string> };
  }

  function codeOf(f: () => unknown): string {
    try {
      f();
    } catch (e) {
      return e instanceof WeirError ? e.code : `not a WeirError: ${String(e)}`;
    }
    return "no error";
  }

  it("is one atomic step with input port sides and output port down", () => {
    const { flow, a, b } = sides();
    join("j", a, b, { insertMode: "product", emitMode: "final" });
    expect(flow._stepTree.map((n) => [n.stepId, n.opType, n.builtin, n.substeps.length])).toEqual([
      ["f.a", "input", true, 0], ["f.b", "input", true, 0], ["f.j", "join", true, 0],
    ]);
    const node = flow._stepTree[2]!;
    expect(node.inputs).toEqual([{ portName: "sides", streams: [a, b] }]);
    expect(node.outputs.map((o) => [o.portName, o.stream.streamId])).toEqual([["down", "f.j.down"]]);
    // Every internal primitive is attributed to the join step.
    const internal = flow._steps.filter((s) => s.stepId === "f.j");
    expect(internal.map((s) => s.def.kind)).toEqual(["kernel", "kernel", "merge", "stateful"]);
  });

  it("no sides, unknown modes and unknown options are INVALID_ARGUMENT", () => {
    const { a, b } = sides();
    const untyped = join as (stepId: string, ...args: unknown[]) => Stream<unknown>;
    expect(codeOf(() => untyped("j1"))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => untyped("j2", { emitMode: "final" }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => untyped("j3", a, b, { insertMode: "all" }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => untyped("j4", a, b, { emitMode: "eventually" }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => untyped("j5", a, b, { emitMode: null }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => untyped("j6", a, b, { emit_mode: "final" }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => untyped("j7", a, 42))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => untyped("bad.id", a, b))).toBe("INVALID_ID");
    untyped("ok", a, b, {});
    expect(codeOf(() => untyped("ok", a, b))).toBe("DUPLICATE_STEP");
    expect(a.flow()._stepTree.map((n) => n.stepName)).toEqual(["a", "b", "ok"]);
  });

  it("names the field to pick when a BranchOut is passed as a side", () => {
    const { a } = sides();
    const branches = op.branch("split", a, () => true);
    expect(() => (join as (id: string, ...args: unknown[]) => unknown)("j", a, branches)).toThrow(/BranchOut: pick \.trues or \.falses/);
  });

  it("rejects sides from different dataflows", () => {
    const { a } = sides();
    const { b } = sides();
    expect(codeOf(() => join("j", a, b))).toBe("INVALID_ARGUMENT");
  });
});

const runtimeLanded = existsSync(new URL("../src/runtime/run.ts", import.meta.url));

describe.skipIf(!runtimeLanded)("op.join in a dataflow", () => {
  type Testing = typeof import("../src/testing.js");
  let runMain: Testing["runMain"];
  let clusterMain: Testing["clusterMain"];
  beforeAll(async () => {
    // Imported lazily: the module needs the runtime, which may not exist yet.
    ({ runMain, clusterMain } = await import("../src/testing.js"));
  });

  /** Left items then right items, all under one key unless given as pairs. */
  async function runJoin(leftItems: [string, unknown][], rightItems: [string, unknown][], opts?: object, workers = 1) {
    const flow = new Dataflow("f");
    const l = op.input("left", flow, new TestingSource(leftItems)) as KeyedStream<unknown>;
    const r = op.input("right", flow, new TestingSource(rightItems)) as KeyedStream<unknown>;
    const joined = opts === undefined ? join("join", l, r) : join("join", l, r, opts);
    const out: [string, unknown[]][] = [];
    op.output("out", joined, new TestingSink(out));
    if (workers === 1) await runMain(flow, { epochIntervalMs: 0 });
    else await clusterMain(flow, { addresses: [], procId: 0, workerCountPerProc: workers, epochIntervalMs: 0 });
    return out;
  }

  /** One source feeding both sides, so "left items arrive first" holds whatever the scheduling. */
  async function runOrdered(items: [side: 0 | 1, key: string, value: unknown][], opts?: object) {
    const flow = new Dataflow("f");
    const inp = op.input("inp", flow, new TestingSource(items));
    const sidesOut = op.branch("by_side", inp, ([side]) => side === 0);
    const l = op.map("left", sidesOut.trues, ([, k, v]): [string, unknown] => [k, v]);
    const r = op.map("right", sidesOut.falses, ([, k, v]): [string, unknown] => [k, v]);
    const joined = opts === undefined ? join("join", l, r) : join("join", l, r, opts);
    const out: [string, unknown[]][] = [];
    op.output("out", joined, new TestingSink(out));
    await runMain(flow, { epochIntervalMs: 0 });
    return out;
  }

  const k = (side: 0 | 1, ...values: unknown[]) => values.map((v): [0 | 1, string, unknown] => [side, "k", v]);

  it("last/running", async () => {
    expect(await runOrdered([...k(0, 1), ...k(1, 2, 3)], { emitMode: "running" }))
      .toEqual([["k", [1, undefined]], ["k", [1, 2]], ["k", [1, 3]]]);
  });

  it("first/final", async () => {
    expect(await runOrdered([...k(0, 1), ...k(1, 2, 3)], { insertMode: "first", emitMode: "final" })).toEqual([["k", [1, 2]]]);
  });

  it("last/final", async () => {
    expect(await runOrdered([...k(0, 1), ...k(1, 2, 3)], { emitMode: "final" })).toEqual([["k", [1, 3]]]);
  });

  it("product/final", async () => {
    expect(await runOrdered([...k(0, 1, 2), ...k(1, 3, 4)], { insertMode: "product", emitMode: "final" }))
      .toEqual([["k", [1, 3]], ["k", [1, 4]], ["k", [2, 3]], ["k", [2, 4]]]);
  });

  it("defaults: complete emits once per completed pair and forgets the key", async () => {
    expect(await runOrdered([...k(0, 1), ...k(1, 2), ...k(1, 3), ...k(0, 4)])).toEqual([["k", [1, 2]], ["k", [4, 3]]]);
  });

  it("final emits keys in key order at EOF; incomplete rows have undefined", async () => {
    const out = await runJoin([["b", 1], ["a", 2]], [["a", "x"], ["c", "y"]], { emitMode: "final" });
    expect(out).toEqual([["a", [2, "x"]], ["b", [1, undefined]], ["c", [undefined, "y"]]]);
  });

  it("routes by key across workers", async () => {
    const keys = ["a", "b", "c", "d", "e", "f", "g", "h"];
    const out = await runJoin(keys.map((key, i) => [key, i]), keys.map((key) => [key, key.toUpperCase()]), undefined, 3);
    expect(out.sort(([x], [y]) => (x < y ? -1 : 1))).toEqual(keys.map((key, i) => [key, [i, key.toUpperCase()]]));
  });

  it("a non-pair item fails the run with INVALID_KEY naming the join step", async () => {
    const flow = new Dataflow("f");
    const l = op.input("left", flow, new TestingSource<unknown>([42])) as KeyedStream<unknown>;
    const r = op.input("right", flow, new TestingSource<[string, number]>([])) as KeyedStream<number>;
    op.output("out", join("join", l, r), new TestingSink([]));
    await expect(runMain(flow, { epochIntervalMs: 0 })).rejects.toMatchObject({ code: "INVALID_KEY", stepId: "f.join" });
  });
});
