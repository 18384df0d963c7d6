// Bytewax 0.21.1's pytests/operators/*.py (windowing excluded: see windowing-*.test.ts), one case per Bytewax test, with the same
// inputs and expected outputs through runMain. Python exceptions raised at run time become WeirError codes; tests of Bytewax's
// private logic classes (_CollectLogic, _FoldFinalLogic, _StatefulFlatMapLogic, _JoinState) are ported as the behaviour they pin
// down, observed through the public operator. Cases that need recovery are in recovery-bytewax.test.ts.
import { describe, expect, it } from "vitest";
import {
  clusterMain, Dataflow, mapDictValue, op, runMain, StatefulLogic, TestingSink, TestingSource, TimeTestingGetter, TTLCache, WeirError,
  type KeyedStream, type LogicResult, type RunResult, type Stream,
} from "../src/index.js";
import { KeepLastLogic } from "./keep-last-logic.js";

/** Builds a flow "test_df" whose only output fills the returned array, and runs it with runMain. */
async function runMainFlow<T>(build: (flow: Dataflow) => Stream<T>, opts: { epochIntervalMs?: number } = {}): Promise<T[]> {
  const out: T[] = [];
  const flow = new Dataflow("test_df");
  op.output("out", build(flow), new TestingSink(out));
  await runMain(flow, opts);
  return out;
}

/** `op.keyOn(…, () => "ALL")` over a TestingSource of `items`. */
function allKeyed<V>(flow: Dataflow, items: V[]): KeyedStream<V> {
  return op.keyOn("key", op.input("inp", flow, new TestingSource(items)), () => "ALL");
}

const entryPoints: [string, (flow: Dataflow) => Promise<RunResult>][] = [
  ["runMain", (flow) => runMain(flow)],
  ["clusterMain-1thread", (flow) => clusterMain(flow, { addresses: [], procId: 0 })],
];

describe("test_branch.py", () => {
  it("test_branch", async () => {
    const odds: number[] = [];
    const evens: number[] = [];
    const flow = new Dataflow("test_df");
    const b = op.branch("branch", op.input("inp", flow, new TestingSource([1, 2, 3])), (x: number) => x % 2 !== 0);
    op.output("out_odds", b.trues, new TestingSink(odds));
    op.output("out_evens", b.falses, new TestingSink(evens));
    await runMain(flow);
    expect(odds).toEqual([1, 3]);
    expect(evens).toEqual([2]);
  });

  it("test_branch_type: a type-guard predicate narrows trues and falses", async () => {
    const ints: number[] = [];
    const strs: string[] = [];
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource<number | string>([1, "a", 2, "b"]));
    const b = op.branch("branch", s, (x): x is number => typeof x === "number");
    op.output("out_ints", b.trues, new TestingSink(ints));
    op.output("out_strs", b.falses, new TestingSink(strs));
    await runMain(flow);
    expect(ints).toEqual([1, 2]);
    expect(strs).toEqual(["a", "b"]);
  });

  it("test_branch_raises_on_non_bool_key: a non-boolean predicate result is INVALID_RETURN", async () => {
    const flow = new Dataflow("test_df");
    const b = op.branch("branch", op.input("inp", flow, new TestingSource([1, 2, 3])), (() => "not a bool") as never);
    op.output("out_odds", b.trues, new TestingSink([]));
    op.output("out_evens", b.falses, new TestingSink([]));
    const err = await runMain(flow).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_RETURN", stepId: "test_df.branch" });
    expect((err as WeirError).cause).toBeInstanceOf(TypeError);
  });

  // Bytewax's benchmark, kept for its assertion: 100,000 items in batches of 10, every parity in order, for each entry point.
  it.each(entryPoints)("test_branch_benchmark (%s)", async (_name, entryPoint) => {
    const odds: number[] = [];
    const evens: number[] = [];
    const flow = new Dataflow("branch");
    const inp = op.input("inp", flow, new TestingSource(Array.from({ length: 100_000 }, (_, i) => i), 10));
    const b = op.branch("evens_and_odds", inp, (x: number) => x % 2 === 0);
    op.output("out_evens", b.trues, new TestingSink(evens));
    op.output("out_odds", b.falses, new TestingSink(odds));
    await entryPoint(flow);
    expect(odds).toEqual(Array.from({ length: 50_000 }, (_, i) => 2 * i + 1));
    expect(evens).toEqual(Array.from({ length: 50_000 }, (_, i) => 2 * i));
  });
});

describe("test_collect.py", () => {
  it("test_collect", async () => {
    // A long timeout, so only the size (3) and EOF emit.
    const out = await runMainFlow((f) => op.collect("collect", allKeyed(f, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), 10_000, 3));
    expect(out).toEqual([["ALL", [0, 1, 2]], ["ALL", [3, 4, 5]], ["ALL", [6, 7, 8]], ["ALL", [9]]]);
  });
});

describe("test_count_final.py", () => {
  it("test_count_final", async () => {
    const out = await runMainFlow((f) => op.countFinal("count", op.input("inp", f, new TestingSource(["a", "a", "b", "c", "b", "a"])), (x: string) => x));
    expect(out).toEqual([["a", 3], ["b", 2], ["c", 1]]);
  });
});

describe("test_enrich_cached.py", () => {
  const start = () => new TimeTestingGetter(new Date("2024-05-10T10:00:00Z"));

  it("test_cache_get_init", () => {
    const lookup = new Map([["a", 1], ["b", 2]]);
    const cache = new TTLCache((k: string) => lookup.get(k), start().get, 60_000);
    expect(cache.get("a")).toBe(1);
  });

  it("test_cache_get_cached: the getter runs once per key while fresh", () => {
    const lookup = new Map([["a", 1], ["b", 2]]);
    // Like Python's dict.pop: a second fetch of the same key would find nothing.
    const pop = (k: string) => {
      const v = lookup.get(k);
      lookup.delete(k);
      return v;
    };
    const cache = new TTLCache(pop, start().get, 60_000);
    expect(cache.get("a")).toBe(1);
    expect(cache.get("a")).toBe(1);
  });

  it("test_cache_get_expire", () => {
    const source = start();
    const lookup = new Map([["a", 1], ["b", 2]]);
    const cache = new TTLCache((k: string) => lookup.get(k), source.get, 60_000);
    expect(cache.get("a")).toBe(1);
    source.advance(120_000);
    lookup.set("a", 3);
    expect(cache.get("a")).toBe(3);
  });

  it("test_enrich_cached", async () => {
    const lookup: Record<string, number> = { a: 1, b: 2 };
    const out = await runMainFlow((f) => op.enrichCached("enrich", op.input("inp", f, new TestingSource(["a", "b", "a"])),
      (item: string) => lookup[item]!, (cache: TTLCache<string, number>, item: string) => cache.get(item)));
    expect(out).toEqual([1, 2, 1]);
  });
});

describe("test_filter*.py", () => {
  it("test_filter", async () => {
    expect(await runMainFlow((f) => op.filter("is_odd", op.input("inp", f, new TestingSource([1, 2, 3])), (x: number) => x % 2 !== 0)))
      .toEqual([1, 3]);
  });

  it("test_filter_map", async () => {
    const makeOdd = (x: number) => (x % 2 !== 0 ? null : x + 1);
    expect(await runMainFlow((f) => op.filterMap("make_odd", op.input("inp", f, new TestingSource([0, 1, 2, 3, 4, 5])), makeOdd)))
      .toEqual([1, 3, 5]);
  });

  it("test_filter_map_value", async () => {
    const makeOdd = (x: number) => (x % 2 !== 0 ? null : x + 1);
    const inp: [string, number][] = [0, 1, 2, 3, 4, 5].map((x) => ["ALL", x]);
    expect(await runMainFlow((f) => op.filterMapValue("make_odd", op.input("inp", f, new TestingSource(inp)), makeOdd)))
      .toEqual([["ALL", 1], ["ALL", 3], ["ALL", 5]]);
  });

  it("test_filter_value", async () => {
    expect(await runMainFlow((f) => op.filterValue("is_odd", allKeyed(f, [1, 2, 3]), (x: number) => x % 2 !== 0)))
      .toEqual([["ALL", 1], ["ALL", 3]]);
  });
});

describe("test_flat_map.py, test_flat_map_batch.py, test_flatten.py", () => {
  it("test_flat_map", async () => {
    expect(await runMainFlow((f) => op.flatMap("split_into_words", op.input("inp", f, new TestingSource(["split this"])), (s: string) => s.split(" "))))
      .toEqual(["split", "this"]);
  });

  it("test_flat_map_iterable: a generator is an iterable result", async () => {
    function* repeat([val, count]: [string, number]): Generator<string> {
      for (let i = 0; i < count; i++) yield val;
    }
    const inp: [string, number][] = [["a", 2], ["b", 4]];
    expect(await runMainFlow((f) => op.flatMap("repeat", op.input("inp", f, new TestingSource(inp)), repeat)))
      .toEqual(["a", "a", "b", "b", "b", "b"]);
  });

  it("test_flat_map_batch", async () => {
    function* splitIntoWords(sentences: string[]): Generator<string> {
      for (const s of sentences) yield* s.split(" ");
    }
    expect(await runMainFlow((f) => op.flatMapBatch("split_into_words", op.input("inp", f, new TestingSource(["split this", "and this"], 10)), splitIntoWords)))
      .toEqual(["split", "this", "and", "this"]);
  });

  it.each(entryPoints)("test_flat_map_batch_benchmark (%s): 100,000 items through unchanged, in order", async (_name, entryPoint) => {
    const out: number[] = [];
    const flow = new Dataflow("flat_map_batch");
    const s = op.input("inp", flow, new TestingSource(Array.from({ length: 100_000 }, (_, i) => i), 10));
    op.output("out", op.flatMapBatch("flat_map", s, function* (xs: number[]) {
      yield* xs;
    }), new TestingSink(out));
    await entryPoint(flow);
    expect(out).toEqual(Array.from({ length: 100_000 }, (_, i) => i));
  });

  it("test_flatten", async () => {
    expect(await runMainFlow((f) => op.flatten("flatten", op.input("inp", f, new TestingSource([[1, 2], [], [3]]))))).toEqual([1, 2, 3]);
  });

  it("test_flatten_raises: a non-iterable item is INVALID_RETURN", async () => {
    const err = await runMainFlow((f) => op.flatten("flatten", op.input("inp", f, new TestingSource([666])) as never)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_RETURN", stepId: "test_df.flatten" });
  });
});

describe("test_fold_final.py, test_reduce_final.py, test_max_min_final.py", () => {
  it("test_fold_final", async () => {
    expect(await runMainFlow((f) => op.foldFinal("keep_max", allKeyed(f, [1, 4, 2, 9, 4, 3]), () => 0, Math.max))).toEqual([["ALL", 9]]);
  });

  it("test_fold_final_logic_snapshot (adapted: the folder's result is the accumulator the next value sees)", async () => {
    const seen: unknown[] = [];
    const out = await runMainFlow((f) => op.foldFinal("fold", allKeyed(f, [5, 6]), () => "old_state", (acc: string) => {
      seen.push(acc);
      return "new_state";
    }));
    expect(seen).toEqual(["old_state", "new_state"]);
    expect(out).toEqual([["ALL", "new_state"]]);
  });

  it("test_reduce_final", async () => {
    expect(await runMainFlow((f) => op.reduceFinal("keep_max", allKeyed(f, [1, 4, 2, 9, 4, 3]), Math.max))).toEqual([["ALL", 9]]);
  });

  const users = [{ user: "a", val: 1 }, { user: "a", val: 9 }, { user: "a", val: 3 }];

  it("test_max_final", async () => {
    const out = await runMainFlow((f) => op.maxFinal("max", op.keyOn("key_on_user", op.input("inp", f, new TestingSource(users)), (e) => e.user), (e) => e.val));
    expect(out).toEqual([["a", { user: "a", val: 9 }]]);
  });

  it("test_min_final", async () => {
    const out = await runMainFlow((f) => op.minFinal("min", op.keyOn("key_on_user", op.input("inp", f, new TestingSource(users)), (e) => e.user), (e) => e.val));
    expect(out).toEqual([["a", { user: "a", val: 1 }]]);
  });
});

describe("test_inspect.py", () => {
  it("test_inspect", async () => {
    const seen: [string, string][] = [];
    const flow = new Dataflow("test_df");
    op.inspect("insp", op.input("inp", flow, new TestingSource(["a"])), (stepId, item: string) => void seen.push([stepId, item]));
    await runMain(flow);
    expect(seen).toEqual([["test_df.insp", "a"]]);
  });

  it("test_inspect_chain", async () => {
    const seen: [string, string][] = [];
    const out: string[] = [];
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(["a"])).then(op.inspect, "insp", (stepId: string, item: string) => void seen.push([stepId, item]));
    op.output("out", s, new TestingSink(out));
    await runMain(flow);
    expect(seen).toEqual([["test_df.insp", "a"]]);
    expect(out).toEqual(["a"]);
  });

  it("test_inspect_debug", async () => {
    const seen: [string, string, number, number][] = [];
    const flow = new Dataflow("test_df");
    op.inspectDebug("insp", op.input("inp", flow, new TestingSource(["a"])), (stepId, item: string, epoch, worker) => void seen.push([stepId, item, epoch, worker]));
    await runMain(flow);
    expect(seen).toEqual([["test_df.insp", "a", 1, 0]]);
  });
});

describe("test_join.py", () => {
  async function runJoin(left: number[], right: number[], opts?: { insertMode: "first" | "last" | "product"; emitMode: "complete" | "final" | "running" }) {
    return runMainFlow((flow) => {
      const keyedLefts = op.keyOn("key_l", op.input("inp_l", flow, new TestingSource(left)), () => "ALL");
      const keyedRights = op.keyOn("key_r", op.input("inp_r", flow, new TestingSource(right)), () => "ALL");
      const joined = opts ? op.join("join", keyedLefts, keyedRights, opts) : op.join("join", keyedLefts, keyedRights);
      return op.keyRm("unkey", joined);
    });
  }

  it("test_join_state_astuples (adapted: product rows over 3 sides, an empty side giving undefined)", async () => {
    const out = await runMainFlow((flow) => {
      const side = (name: string, items: number[]) => op.keyOn(`key_${name}`, op.input(`inp_${name}`, flow, new TestingSource(items)), () => "ALL");
      return op.keyRm("unkey", op.join("join", side("a", [1, 2]), side("b", []), side("c", [3, 4]), { insertMode: "product", emitMode: "final" }));
    });
    expect(out).toEqual([[1, undefined, 3], [1, undefined, 4], [2, undefined, 3], [2, undefined, 4]]);
  });

  it("test_join_last_complete", async () => {
    expect(await runJoin([1], [2], { insertMode: "last", emitMode: "complete" })).toEqual([[1, 2]]);
  });

  it("test_join_default_is_last_complete", async () => {
    expect(await runJoin([1], [2])).toEqual([[1, 2]]);
  });

  it("test_join_first_final", async () => {
    expect(await runJoin([1], [2, 3], { insertMode: "first", emitMode: "final" })).toEqual([[1, 2]]);
  });

  it("test_join_last_final", async () => {
    expect(await runJoin([1], [2, 3], { insertMode: "last", emitMode: "final" })).toEqual([[1, 3]]);
  });

  it("test_join_last_running", async () => {
    expect(await runJoin([1], [2, 3], { insertMode: "last", emitMode: "running" })).toEqual([[1, undefined], [1, 2], [1, 3]]);
  });

  it("test_join_product_final", async () => {
    expect(await runJoin([1, 2], [3, 4], { insertMode: "product", emitMode: "final" })).toEqual([[1, 3], [1, 4], [2, 3], [2, 4]]);
  });
});

describe("test_key_on.py, test_map.py, test_map_value.py, test_merge.py, test_raises.py", () => {
  it("test_key_on", async () => {
    expect(await runMainFlow((f) => op.keyOn("key", op.input("inp", f, new TestingSource([1, 2, 3])), (x: number) => String(x))))
      .toEqual([["1", 1], ["2", 2], ["3", 3]]);
  });

  it("test_key_on_raises_on_non_str_key: INVALID_KEY", async () => {
    const err = await runMainFlow((f) => op.keyOn("key", op.input("inp", f, new TestingSource([1, 2, 3])), ((x: number) => x) as never)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_KEY", stepId: "test_df.key" });
    expect((err as WeirError).cause).toBeInstanceOf(TypeError);
  });

  it("test_map", async () => {
    expect(await runMainFlow((f) => op.map("add_one", op.input("inp", f, new TestingSource([0, 1, 2])), (x: number) => x + 1))).toEqual([1, 2, 3]);
  });

  it("test_map_value", async () => {
    expect(await runMainFlow((f) => op.mapValue("add_one", allKeyed(f, [0, 1, 2]), (x: number) => x + 1)))
      .toEqual([["ALL", 1], ["ALL", 2], ["ALL", 3]]);
  });

  // API.md §3 leaves the interleaving of merged inputs unspecified; weir polls the inputs of a worker in turn, one batch each,
  // which gives Bytewax's order here (as it does for the two join inputs above).
  it("test_merge", async () => {
    const out = await runMainFlow((f) => op.merge("merge",
      op.input("inp_odds", f, new TestingSource([1, 3, 5])),
      op.input("inp_evens", f, new TestingSource([2, 4, 6])),
      op.input("inp_huge", f, new TestingSource([100, 200, 300]))));
    expect(out).toEqual([1, 2, 100, 3, 4, 200, 5, 6, 300]);
  });

  it("test_raises: the first item fails the run with RAISED_ITEM", async () => {
    const flow = new Dataflow("test_df");
    op.raises("raises", op.input("inp", flow, new TestingSource([0, 1, 2])));
    await expect(runMain(flow)).rejects.toMatchObject({ name: "WeirError", code: "RAISED_ITEM", stepId: "test_df.raises" });
  });
});

/** Bytewax's BaseTestLogic: emits each state transition; the flags say whether to discard after an item, a notification or EOF. */
function testLogic(opts: { itemTriggersNotify?: boolean; afterItem?: boolean; afterNotify?: boolean; afterEof?: boolean }) {
  return class extends StatefulLogic<unknown, [string, string], string> {
    private notifyAtDate: Date | undefined;
    private state: string;
    constructor(resume: string | undefined) {
      super();
      this.state = resume ?? "NEW";
    }

    private move(to: string, discard: boolean): LogicResult<[string, string]> {
      const old = this.state;
      this.state = to;
      return [[[old, to]], discard];
    }

    onItem(): LogicResult<[string, string]> {
      if (opts.itemTriggersNotify) this.notifyAtDate = new Date();
      return this.move("ITEM", opts.afterItem ?? StatefulLogic.RETAIN);
    }

    override onNotify(): LogicResult<[string, string]> {
      this.notifyAtDate = undefined;
      return this.move("NOTIFY", opts.afterNotify ?? StatefulLogic.RETAIN);
    }

    override onEof(): LogicResult<[string, string]> {
      return this.move("EOF", opts.afterEof ?? StatefulLogic.RETAIN);
    }

    override notifyAt(): Date | undefined {
      return this.notifyAtDate;
    }

    snapshot(): string {
      return this.state;
    }
  };
}

describe("test_stateful.py (without recovery)", () => {
  async function runStateful(Logic: ReturnType<typeof testLogic>) {
    return runMainFlow((f) => op.stateful("stateful", allKeyed(f, [1, 2, TestingSource.ABORT()]), (resume: string | undefined) => new Logic(resume)),
      { epochIntervalMs: 0 });
  }

  it("test_stateful_on_item_discard", async () => {
    expect(await runStateful(testLogic({ afterItem: StatefulLogic.DISCARD }))).toEqual([["ALL", ["NEW", "ITEM"]], ["ALL", ["NEW", "ITEM"]]]);
  });

  it("test_stateful_on_item_retain", async () => {
    expect(await runStateful(testLogic({ afterItem: StatefulLogic.RETAIN }))).toEqual([["ALL", ["NEW", "ITEM"]], ["ALL", ["ITEM", "ITEM"]]]);
  });

  it("test_stateful_on_notify_discard", async () => {
    expect(await runStateful(testLogic({ itemTriggersNotify: true, afterNotify: StatefulLogic.DISCARD }))).toEqual([
      ["ALL", ["NEW", "ITEM"]], ["ALL", ["ITEM", "NOTIFY"]], ["ALL", ["NEW", "ITEM"]], ["ALL", ["ITEM", "NOTIFY"]],
    ]);
  });

  it("test_stateful_on_notify_retain", async () => {
    expect(await runStateful(testLogic({ itemTriggersNotify: true, afterNotify: StatefulLogic.RETAIN }))).toEqual([
      ["ALL", ["NEW", "ITEM"]], ["ALL", ["ITEM", "NOTIFY"]], ["ALL", ["NOTIFY", "ITEM"]], ["ALL", ["ITEM", "NOTIFY"]],
    ]);
  });

  it("test_stateful_keeps_logic_per_key", async () => {
    const inp: [string, string][] = [["a", "a1"], ["b", "b1"], ["a", "a2"], ["b", "b2"]];
    const out = await runMainFlow((f) => op.stateful("stateful", op.input("inp", f, new TestingSource(inp)), (resume: string | undefined) => new KeepLastLogic(resume)),
      { epochIntervalMs: 0 });
    expect(out).toEqual([["a", [undefined, "a1"]], ["b", [undefined, "b1"]], ["a", ["a1", "a2"]], ["b", ["b1", "b2"]]]);
  });
});

describe("test_stateful_map.py, test_stateful_flat_map.py", () => {
  it("test_stateful_map", async () => {
    // Bytewax's running mean, including its slice: past 3 values it keeps all but the last 3.
    const runningMean = (last3: number[] | undefined, value: number): [number[], number] => {
      let kept = [...(last3 ?? []), value];
      if (kept.length > 3) kept = kept.slice(0, -3);
      return [kept, kept.reduce((a, b) => a + b, 0) / kept.length];
    };
    expect(await runMainFlow((f) => op.statefulMap("running_mean", allKeyed(f, [2, 5, 8, 1, 3]), runningMean)))
      .toEqual([["ALL", 2.0], ["ALL", 3.5], ["ALL", 5.0], ["ALL", 2.0], ["ALL", 2.5]]);
  });

  it("test_stateful_map_raises_on_non_tuple: INVALID_RETURN", async () => {
    const err = await runMainFlow((f) => op.statefulMap("bad_mapper", allKeyed(f, [1, 4, 2, 9, 4, 3]), ((_s: unknown, v: number) => v) as never))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "INVALID_RETURN", stepId: "test_df.bad_mapper" });
    expect((err as WeirError).cause).toBeInstanceOf(TypeError);
  });

  it("test_stateful_flat_map", async () => {
    const filterSmaller = (last: number | undefined, value: number): [number, number[]] =>
      [value, last === undefined || value > last ? [value] : []];
    expect(await runMainFlow((f) => op.statefulFlatMap("filter_smaller", allKeyed(f, [2, 5, 8, 1, 3]), filterSmaller)))
      .toEqual([["ALL", 2], ["ALL", 5], ["ALL", 8], ["ALL", 3]]);
  });

  it("test_stateful_map_logic_discard_on_none (adapted: a nullish state discards, so the next value starts afresh)", async () => {
    const seen: unknown[] = [];
    await runMainFlow((f) => op.statefulFlatMap("m", allKeyed(f, [1, 2]), (state: string | undefined, v: number): [null, number[]] => {
      seen.push(state);
      return [null, [v]];
    }));
    expect(seen).toEqual([undefined, undefined]);
  });

  it("test_stateful_map_logic_snapshot (adapted: the returned state is what the next value sees)", async () => {
    const seen: unknown[] = [];
    await runMainFlow((f) => op.statefulFlatMap("m", allKeyed(f, [1, 2]), (state: string | undefined): [string, never[]] => {
      seen.push(state);
      return ["new_state", []];
    }));
    expect(seen).toEqual([undefined, "new_state"]);
  });
});

describe("helpers/test_map_dict_value.py", () => {
  it("test_map_dict_value", async () => {
    const inp = [{ a: 0, b: 0 }, { a: 1, b: 0 }, { a: 2, b: 0 }];
    expect(await runMainFlow((f) => op.map("add_one", op.input("inp", f, new TestingSource(inp)), mapDictValue("a", (x: number) => x + 1))))
      .toEqual([{ a: 1, b: 0 }, { a: 2, b: 0 }, { a: 3, b: 0 }]);
  });
});
