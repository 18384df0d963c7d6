// Bytewax 0.21.1's pytests/operators/windowing/test_{collect,count,fold,join,max_min,reduce}_window.py through runMain, with the
// same inputs and expected outputs. Like Bytewax's, these EventClocks read the real system clock (no nowGetter): the cases are
// built so that it does not matter (values in order, a wait of Infinity, or values late whatever the wall time). The clock and
// windower unit cases of the same directory are in windowing-{clock,session,sliding}.test.ts; windowing-logics.test.ts drives the
// logics of some of these cases directly.
import { describe, expect, it } from "vitest";
import { clusterMain, Dataflow, op, runMain, TestingSink, TestingSource, type RunResult, type Stream } from "../src/index.js";
import * as win from "../src/windowing/index.js";

const ALIGN_2022 = new Date("2022-01-01T00:00:00Z");
const ALIGN_2024 = new Date("2024-01-01T00:00:00Z");
const sec = (base: Date, s: number) => new Date(base.getTime() + s * 1000);

async function runMainFlow<T>(build: (flow: Dataflow) => Stream<T>): Promise<T[]> {
  const out: T[] = [];
  const flow = new Dataflow("test_df");
  op.output("out", build(flow), new TestingSink(out));
  await runMain(flow);
  return out;
}

describe("test_collect_window.py", () => {
  it("test_collect_window", async () => {
    type Ev = { timestamp: Date; value: number };
    const inp: Ev[] = [
      { timestamp: ALIGN_2022, value: 1 },
      { timestamp: sec(ALIGN_2022, 8), value: 3 },
      { timestamp: sec(ALIGN_2022, 4), value: 2 },
      { timestamp: sec(ALIGN_2022, 13), value: 5 },
      { timestamp: sec(ALIGN_2022, 12), value: 4 },
    ];
    const out = await runMainFlow((flow) => {
      const keyed = op.keyOn("key", op.input("inp", flow, new TestingSource(inp)), () => "ALL");
      const clock = new win.EventClock<Ev>({ tsGetter: (e) => e.timestamp, waitForSystemDurationMs: Infinity });
      const windower = new win.TumblingWindower({ lengthMs: 10_000, alignTo: ALIGN_2022 });
      const collected = win.collectWindow("collect_window", keyed, clock, windower);
      return op.map("clean", op.keyRm("unkey", collected.down), ([id, events]) => [id, (events as Ev[]).map((e) => e.value)]);
    });
    expect(out).toEqual([[0, [1, 2, 3]], [1, [4, 5]]]);
  });
});

type UserVal = { time: Date; user: string; val: number };
const USER_VALS = (vals: number[], users = ["a", "a", "a", "a", "a"]): UserVal[] =>
  [0, 4, 8, 12, 13].map((s, i) => ({ time: sec(ALIGN_2022, s), user: users[i]!, val: vals[i]! }));
const userClock = () => new win.EventClock<UserVal>({ tsGetter: (e) => e.time, waitForSystemDurationMs: 0 });
const tumbling10 = () => new win.TumblingWindower({ lengthMs: 10_000, alignTo: ALIGN_2022 });

describe("test_count_window.py", () => {
  it("test_count_window", async () => {
    // The users of Bytewax's case: a at 0, 4, 12, 13 s; b at 8 s.
    const inp = USER_VALS([1, 1, 1, 1, 1], ["a", "a", "b", "a", "a"]);
    const out = await runMainFlow((flow) =>
      win.countWindow("add", op.input("inp", flow, new TestingSource(inp)), userClock(), tumbling10(), (e) => e.user).down);
    expect(out).toEqual([["a", [0, 2]], ["a", [1, 2]], ["b", [0, 1]]]);
  });
});

describe("test_fold_window.py", () => {
  type Ev = { timestamp: Date; value: string };
  const ev = (s: number, value: string): Ev => ({ timestamp: sec(ALIGN_2022, s), value });
  const collectValues = (acc: string[], e: Ev) => [...acc, e.value];
  const concat = (a: string[], b: string[]) => [...a, ...b];

  function foldFlow(inp: Ev[], windower: win.Windower<unknown>) {
    return runMainFlow((flow) => {
      const keyed = op.keyOn("key", op.input("inp", flow, new TestingSource(inp)), () => "ALL");
      const clock = new win.EventClock<Ev>({ tsGetter: (e) => e.timestamp, waitForSystemDurationMs: 0 });
      return op.keyRm("unkey", win.foldWindow("sum", keyed, clock, windower, (): string[] => [], collectValues, concat).down);
    });
  }

  it("test_fold_window_tumbling", async () => {
    type UserEvent = { timestamp: Date; typ: string };
    const inp: UserEvent[] = [
      { timestamp: ALIGN_2022, typ: "login" },
      { timestamp: sec(ALIGN_2022, 4), typ: "post" },
      { timestamp: sec(ALIGN_2022, 8), typ: "post" },
      { timestamp: sec(ALIGN_2022, 16), typ: "post" },
    ];
    const out = await runMainFlow((flow) => {
      const keyed = op.keyOn("key", op.input("inp", flow, new TestingSource(inp)), () => "ALL");
      const clock = new win.EventClock<UserEvent>({ tsGetter: (e) => e.timestamp, waitForSystemDurationMs: 0 });
      const counts = win.foldWindow("count", keyed, clock, tumbling10(), () => ({}) as Record<string, number>,
        (acc, e) => ({ ...acc, [e.typ]: (acc[e.typ] ?? 0) + 1 }), (a, b) => ({ ...a, ...b }));
      return op.keyRm("key_rm", counts.down);
    });
    expect(out).toEqual([[0, { login: 1, post: 2 }], [1, { post: 1 }]]);
  });

  it("test_fold_window_session: a late value is left out", async () => {
    const inp = [ev(1, "a"), ev(5, "b"), ev(11, "c"), ev(12, "d"), ev(13, "e"), ev(14, "f"), ev(20, "g"), ev(1, "h")];
    expect(await foldFlow(inp, new win.SessionWindower({ gapMs: 5_000 }))).toEqual([[0, ["a", "b"]], [1, ["c", "d", "e", "f"]], [2, ["g"]]]);
  });

  it("test_fold_window_sliding: a late value is left out", async () => {
    const inp = [ev(1, "a"), ev(4, "b"), ev(8, "c"), ev(12, "d"), ev(13, "e"), ev(14, "f"), ev(16, "g"), ev(1, "h")];
    const windower = new win.SlidingWindower({ lengthMs: 10_000, offsetMs: 5_000, alignTo: ALIGN_2022 });
    expect(await foldFlow(inp, windower)).toEqual([
      [-1, ["a", "b"]], [0, ["a", "b", "c"]], [1, ["c", "d", "e", "f"]], [2, ["d", "e", "f", "g"]], [3, ["g"]],
    ]);
  });

  // Bytewax's benchmark, kept for its assertion: 100,000 one-second timestamps in batches of 10 fill 1,667 one-minute windows.
  it.each([
    ["runMain", (flow: Dataflow) => runMain(flow)],
    ["clusterMain-1thread", (flow: Dataflow) => clusterMain(flow, { addresses: [], procId: 0 })],
  ] as [string, (flow: Dataflow) => Promise<RunResult>][])("test_fold_window_benchmark (%s)", async (_name, entryPoint) => {
    const out: [number, null][] = [];
    const flow = new Dataflow("bench");
    const times = op.input("in", flow, new TestingSource(Array.from({ length: 100_000 }, (_, i) => sec(ALIGN_2024, i)), 10));
    const keyed = op.keyOn("key", times, () => "ALL");
    const clock = new win.EventClock<Date>({ tsGetter: (x) => x, waitForSystemDurationMs: 0 });
    const windower = new win.TumblingWindower({ lengthMs: 60_000, alignTo: ALIGN_2024 });
    const folded = win.foldWindow("fold_window", keyed, clock, windower, () => null, (s) => s, (s) => s, false);
    op.output("out", op.keyRm("unkey", folded.down), new TestingSink(out));
    await entryPoint(flow);
    expect(out).toEqual(Array.from({ length: 1667 }, (_, i) => [i, null]));
  }, 60_000);
});

describe("test_join_window.py", () => {
  type Ev = { timestamp: Date; value: number };
  const ev = (s: number, value: number): Ev => ({ timestamp: sec(ALIGN_2024, s), value });

  function joinFlow(left: Ev[], right: Ev[], opts?: { insertMode: "first" | "last" | "product"; emitMode: "complete" | "final" | "running" }) {
    return runMainFlow((flow) => {
      const keyedLefts = op.keyOn("key_l", op.input("inp_l", flow, new TestingSource(left)), () => "ALL");
      const keyedRights = op.keyOn("key_r", op.input("inp_r", flow, new TestingSource(right)), () => "ALL");
      const clock = new win.EventClock<Ev>({ tsGetter: (e) => e.timestamp, waitForSystemDurationMs: Infinity });
      const windower = new win.SessionWindower({ gapMs: 10_000 });
      const joined = opts
        ? win.joinWindow("join", clock, windower, keyedLefts, keyedRights, opts)
        : win.joinWindow("join", clock, windower, keyedLefts, keyedRights);
      return op.map("clean", op.keyRm("unkey", joined.down), ([, row]) => (row as (Ev | undefined)[]).map((e) => e?.value));
    });
  }

  it("test_join_window_first_complete", async () => {
    expect(await joinFlow([ev(0, 1)], [ev(2, 3), ev(1, 2)], { insertMode: "first", emitMode: "complete" })).toEqual([[1, 2]]);
  });

  it("test_join_window_last_complete", async () => {
    expect(await joinFlow([ev(0, 1)], [ev(1, 2)], { insertMode: "last", emitMode: "complete" })).toEqual([[1, 2]]);
  });

  it("test_join_window_last_final", async () => {
    expect(await joinFlow([ev(0, 1)], [ev(1, 2), ev(2, 3)], { insertMode: "last", emitMode: "final" })).toEqual([[1, 3]]);
  });

  it("test_join_window_default_mode_is_last_final", async () => {
    expect(await joinFlow([ev(0, 1)], [ev(1, 2), ev(2, 3)])).toEqual([[1, 3]]);
  });

  it("test_join_window_last_running", async () => {
    expect(await joinFlow([ev(0, 1)], [ev(1, 2), ev(2, 3)], { insertMode: "last", emitMode: "running" }))
      .toEqual([[1, undefined], [1, 2], [1, 3]]);
  });

  it("test_join_window_product_final", async () => {
    expect(await joinFlow([ev(0, 1), ev(1, 2)], [ev(1, 3), ev(2, 4)], { insertMode: "product", emitMode: "final" }))
      .toEqual([[1, 3], [1, 4], [2, 3], [2, 4]]);
  });
});

describe("test_max_min_window.py, test_reduce_window.py", () => {
  it("test_max_window", async () => {
    const inp = USER_VALS([1, 9, 3, 10, 4]);
    const out = await runMainFlow((flow) => {
      const s = op.keyOn("key_on_user", op.input("inp", flow, new TestingSource(inp)), (e) => e.user);
      return win.maxWindow("add", s, userClock(), tumbling10(), (e) => e.val).down;
    });
    expect(out).toEqual([
      ["a", [0, { time: sec(ALIGN_2022, 4), user: "a", val: 9 }]],
      ["a", [1, { time: sec(ALIGN_2022, 12), user: "a", val: 10 }]],
    ]);
  });

  it("test_min_window", async () => {
    const inp = USER_VALS([1, 9, 3, 10, 4]);
    const out = await runMainFlow((flow) => {
      const s = op.keyOn("key_on_user", op.input("inp", flow, new TestingSource(inp)), (e) => e.user);
      return win.minWindow("min", s, userClock(), tumbling10(), (e) => e.val).down;
    });
    expect(out).toEqual([
      ["a", [0, { time: ALIGN_2022, user: "a", val: 1 }]],
      ["a", [1, { time: sec(ALIGN_2022, 13), user: "a", val: 4 }]],
    ]);
  });

  it("test_reduce_window", async () => {
    const inp = USER_VALS([1, 1, 1, 1, 1]);
    const out = await runMainFlow((flow) => {
      const s = op.keyOn("key_on_user", op.input("inp", flow, new TestingSource(inp)), (e) => e.user);
      // Items MUST NOT be mutated (API.md §1), so the reducer returns a new object where Bytewax's adds in place.
      const reduced = win.reduceWindow("add", s, userClock(), tumbling10(), (acc, x) => ({ ...acc, val: acc.val + x.val }));
      return op.map("extract_val", reduced.down, ([key, [id, e]]): [string, [number, number]] => [key, [id, e.val]]);
    });
    expect(out).toEqual([["a", [0, 3]], ["a", [1, 2]]]);
  });
});
