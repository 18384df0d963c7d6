// Sources through the engine (API.md §5, §12): the cases of Bytewax 0.21.1's pytests/test_inputs.py with their inputs and
// expected outputs, then weir's own cases for nextAwake, epochs, AbortExecution and AsyncIterableSource.
import { describe, expect, it } from "vitest";
import {
  AbortExecution, AsyncIterableSource, Dataflow, DynamicSink, DynamicSource, FixedPartitionedSource, op, run, runMain,
  StatefulSourcePartition, StatelessSinkPartition, StatelessSourcePartition, TestingSink, TestingSource, WeirError,
} from "../src/index.js";

/** `[[a, b], [b, c], …]` of consecutive elements. */
function pairwise<T>(xs: T[]): [T, T][] {
  return xs.slice(1).map((y, i) => [xs[i]!, y]);
}

/** Every gap between consecutive timestamps, in ms. */
function gaps(out: [Date, number][]): number[] {
  return pairwise(out).map(([[x], [y]]) => y.getTime() - x.getTime());
}

/** Emits `[now, n]` for n < count, one per poll, and asks to be polled again `intervalMs` after each poll. */
class MetronomePartition extends StatefulSourcePartition<[Date, number], [number, number]> {
  constructor(private readonly intervalMs: number, private readonly count: number, private awake: number, private n: number) {
    super();
  }

  nextBatch(): [Date, number][] | null {
    const now = Date.now();
    this.awake = now + this.intervalMs;
    if (this.n >= this.count) return null;
    return [[new Date(now), this.n++]];
  }

  override nextAwake(): Date {
    return new Date(this.awake);
  }

  snapshot(): [number, number] {
    return [this.awake, this.n];
  }
}

/** Bytewax's `DynamicMetronomeSource` (which always stops after 5 items). */
class DynamicMetronomeSource extends DynamicSource<[Date, number]> {
  constructor(private readonly intervalMs: number) {
    super();
  }

  build(): MetronomePartition {
    return new MetronomePartition(this.intervalMs, 5, Date.now(), 0);
  }
}

/** Bytewax's `MetronomeSource`: one partition, "singleton". */
class MetronomeSource extends FixedPartitionedSource<[Date, number], [number, number]> {
  constructor(private readonly intervalMs: number, private readonly count = Number.MAX_SAFE_INTEGER) {
    super();
  }

  listParts(): string[] {
    return ["singleton"];
  }

  buildPart(_stepId: string, _forPart: string, resume: [number, number] | undefined): MetronomePartition {
    const [awake, n] = resume ?? [Date.now(), 0];
    return new MetronomePartition(this.intervalMs, this.count, awake, n);
  }
}

/** Returns `n` twice per poll as a generator (any iterable is a batch), for n in 0..4, then EOF. */
class RepeatPartition extends StatefulSourcePartition<number, undefined> {
  private n = 0;

  nextBatch(): Iterable<number> | null {
    if (this.n >= 5) return null;
    const n = this.n++;
    return (function* () {
      yield n;
      yield n;
    })();
  }

  snapshot(): undefined {
    return undefined;
  }
}

describe("pytests/test_inputs.py", () => {
  it("test_flow_requires_input: a flow without an input step is INVALID_FLOW", async () => {
    const flow = new Dataflow("test_df");
    const err = await run(flow).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: "INVALID_FLOW" });
    expect((err as Error).message).toMatch(/input/);
  });

  it("test_dynamic_source_next_batch_iterator: nextBatch may return any iterable", async () => {
    class TestSource extends DynamicSource<number> {
      build(): StatelessSourcePartition<number> {
        return new RepeatPartition();
      }
    }
    const out: number[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("in", flow, new TestSource()), new TestingSink(out));
    await runMain(flow);
    expect(out).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it("test_fixed_partitioned_source_next_batch_iterator", async () => {
    class TestSource extends FixedPartitionedSource<number, undefined> {
      listParts(): string[] {
        return ["one"];
      }

      buildPart(): RepeatPartition {
        return new RepeatPartition();
      }
    }
    const out: number[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("in", flow, new TestSource()), new TestingSink(out));
    await runMain(flow);
    expect(out).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
  });

  it("test_dynamic_source_next_awake: the partition is not polled before its nextAwake", async () => {
    const out: [Date, number][] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("in", flow, new DynamicMetronomeSource(100)), new TestingSink(out));
    await runMain(flow);
    expect(out.map(([, n]) => n)).toEqual([0, 1, 2, 3, 4]);
    for (const gap of gaps(out)) expect(gap).toBeGreaterThanOrEqual(100);
  });

  it("test_dynamic_source_advances_epoch_even_if_not_awoken", async () => {
    const fastOut: [Date, number][] = [];
    const slowOut: [Date, number][] = [];
    const flow = new Dataflow("test_df");
    op.output("fast_out", op.input("fast_inp", flow, new DynamicMetronomeSource(100)), new TestingSink(fastOut));
    op.output("slow_out", op.input("slow_inp", flow, new DynamicMetronomeSource(500)), new TestingSink(slowOut));
    await runMain(flow, { epochIntervalMs: 250 });
    expect(fastOut.map(([, n]) => n)).toEqual([0, 1, 2, 3, 4]);
    expect(slowOut.map(([, n]) => n)).toEqual([0, 1, 2, 3, 4]);
    for (const gap of gaps(fastOut)) expect(gap).toBeGreaterThanOrEqual(100);
    // weir's addition: the sleeping slow input moves its epochs on its own deadlines, so the barrier never holds the fast input
    // back to the slow one's pace (which would stretch the fast items over about 2 s).
    const fastSpan = fastOut[4]![0].getTime() - fastOut[0]![0].getTime();
    expect(fastSpan).toBeLessThan(1500);
  });

  it("test_fixed_partitioned_source_next_awake", async () => {
    const out: [Date, number][] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new MetronomeSource(100, 5)), new TestingSink(out));
    await runMain(flow);
    expect(out.map(([, n]) => n)).toEqual([0, 1, 2, 3, 4]);
    for (const gap of gaps(out)) expect(gap).toBeGreaterThanOrEqual(100);
  });

  it("test_fixed_partitioned_source_advances_epoch_even_if_not_awoken", async () => {
    const fastOut: [Date, number][] = [];
    const slowOut: [Date, number][] = [];
    const flow = new Dataflow("test_df");
    op.output("fast_out", op.input("fast_inp", flow, new MetronomeSource(100, 5)), new TestingSink(fastOut));
    op.output("slow_out", op.input("slow_inp", flow, new MetronomeSource(500, 5)), new TestingSink(slowOut));
    await runMain(flow, { epochIntervalMs: 250 });
    expect(fastOut.map(([, n]) => n)).toEqual([0, 1, 2, 3, 4]);
    expect(slowOut.map(([, n]) => n)).toEqual([0, 1, 2, 3, 4]);
    for (const gap of gaps(fastOut)) expect(gap).toBeGreaterThanOrEqual(100);
    const fastSpan = fastOut[4]![0].getTime() - fastOut[0]![0].getTime();
    expect(fastSpan).toBeLessThan(1500);
  });

  // Bytewax's SimplePollingSource is not in weir (API.md §14). The case's point carries over to any source: an AbortExecution
  // thrown by a partition stops the run after the items read before it, and a rerun (here the position lives in the source
  // object, as in Bytewax's SimpleListSource) goes on after it.
  it("test_simple_polling_source_resume_state (adapted: a partition that throws AbortExecution)", async () => {
    const ABORT = Symbol("abort");
    class SimpleListSource extends FixedPartitionedSource<string, number> {
      nextIdx = 0;
      readonly triggered = new Set<number>();
      constructor(readonly items: (string | typeof ABORT)[]) {
        super();
      }

      listParts(): string[] {
        return ["singleton"];
      }

      buildPart(): StatefulSourcePartition<string, number> {
        const src = this;
        return new (class extends StatefulSourcePartition<string, number> {
          nextBatch(): string[] | null {
            if (src.nextIdx >= src.items.length) return null;
            const idx = src.nextIdx++;
            const item = src.items[idx]!;
            if (item === ABORT) {
              if (src.triggered.has(idx)) return [];
              src.triggered.add(idx);
              throw new AbortExecution();
            }
            return [item];
          }

          snapshot(): number {
            return src.nextIdx;
          }
        })();
      }
    }
    const out: string[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new SimpleListSource(["a", "b", ABORT, "c"])), new TestingSink(out));
    await expect(runMain(flow)).resolves.toMatchObject({ aborted: true });
    expect(out).toEqual(["a", "b"]);

    out.length = 0;
    await expect(runMain(flow)).resolves.toMatchObject({ aborted: false });
    expect(out).toEqual(["c"]);
  });

  // Bytewax's batch_async (API.md §14) became AsyncIterableSource's batching: the same generator, batch size and timeout give the
  // same batches, then EOF for good.
  it("test_batch_async (adapted to AsyncIterableSource)", async () => {
    async function* gen(): AsyncGenerator<number> {
      for (let i = 0; i < 5; i++) {
        await Promise.resolve();
        yield i;
      }
    }
    const part = await new AsyncIterableSource(() => gen(), { batchSize: 2, batchTimeoutMs: 1000 }).build("test", 0, 1);
    expect(await part.nextBatch()).toEqual([0, 1]);
    expect(await part.nextBatch()).toEqual([2, 3]);
    expect(await part.nextBatch()).toEqual([4]);
    expect(await part.nextBatch()).toBeNull();
    expect(await part.nextBatch()).toBeNull();
  });
});

/** A dynamic source whose partitions are made by `make(workerIndex, workerCount)`; records every build call. */
class FnSource<X> extends DynamicSource<X> {
  readonly builds: [string, number, number][] = [];
  constructor(private readonly make: (workerIndex: number, workerCount: number) => StatelessSourcePartition<X>) {
    super();
  }

  build(stepId: string, workerIndex: number, workerCount: number): StatelessSourcePartition<X> {
    this.builds.push([stepId, workerIndex, workerCount]);
    return this.make(workerIndex, workerCount);
  }
}

/** A partition from plain functions. */
function partition<X>(nextBatch: () => unknown, nextAwake: () => Date | undefined = () => undefined,
  close: () => void = () => {}): StatelessSourcePartition<X> {
  return new (class extends StatelessSourcePartition<X> {
    nextBatch() {
      return nextBatch() as Iterable<X> | null;
    }

    override nextAwake() {
      return nextAwake();
    }

    override close() {
      close();
    }
  })();
}

describe("sources: build, nextAwake, close (API.md §5)", () => {
  it("build runs on every worker with the full step id, the worker index and the worker count", async () => {
    const src = new FnSource<number>((w) => {
      let done = false;
      return partition(() => (done ? null : ((done = true), [w])));
    });
    const out: number[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, src), new TestingSink(out));
    await run(flow, { workers: 2 });
    expect(src.builds.sort()).toEqual([["test_df.inp", 0, 2], ["test_df.inp", 1, 2]]);
    expect(out.sort()).toEqual([0, 1]);
  });

  it("buildPart gets the full step id and the partition name, and close() runs once per partition at EOF", async () => {
    const calls: string[] = [];
    class Src extends FixedPartitionedSource<string, number> {
      listParts() {
        return ["p1", "p0"];
      }

      buildPart(stepId: string, forPart: string, resume: number | undefined) {
        calls.push(`build ${stepId} ${forPart} ${String(resume)}`);
        let i = 0;
        return new (class extends StatefulSourcePartition<string, number> {
          nextBatch() {
            return i < 2 ? [`${forPart}-${i++}`] : null;
          }

          snapshot() {
            return i;
          }

          override close() {
            calls.push(`close ${forPart}`);
          }
        })();
      }
    }
    const out: string[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new Src()), new TestingSink(out));
    await run(flow, { workers: 2 });
    expect(calls.sort()).toEqual(["build test_df.inp p0 undefined", "build test_df.inp p1 undefined", "close p0", "close p1"]);
    expect(out.sort()).toEqual(["p0-0", "p0-1", "p1-0", "p1-1"]);
  });

  it("an instant from nextAwake holds the next poll back; a later nullish answer polls again at once", async () => {
    const polls: number[] = [];
    let n = 0;
    const src = new FnSource<number>(() => partition(
      () => {
        polls.push(Date.now());
        return n < 3 ? [n++] : null;
      },
      // Only the first answer is an instant; the latest answer counts.
      () => (n === 1 ? new Date(Date.now() + 200) : undefined),
    ));
    const out: number[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, src), new TestingSink(out));
    await runMain(flow);
    expect(out).toEqual([0, 1, 2]);
    expect(polls).toHaveLength(4);
    expect(polls[1]! - polls[0]!).toBeGreaterThanOrEqual(200);
    // Non-empty batches with no instant: polled again without waiting for a timer.
    expect(polls[3]! - polls[1]!).toBeLessThan(150);
  });

  it("an idle partition (empty batches, no instant) is retried after a growing back-off, not in a busy loop", async () => {
    let polls = 0;
    let first = 0;
    const src = new FnSource<number>(() => partition(() => {
      polls++;
      first ||= Date.now();
      return Date.now() - first >= 300 ? null : [];
    }));
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, src), new TestingSink([]));
    await runMain(flow);
    expect(polls).toBeGreaterThan(3);
    expect(polls).toBeLessThan(100);
  });

  it("a nextBatch that returns undefined or a non-iterable is INVALID_RETURN naming the step", async () => {
    for (const bad of [undefined, 42, { length: 1 }]) {
      const flow = new Dataflow("test_df");
      op.output("out", op.input("inp", flow, new FnSource(() => partition(() => bad))), new TestingSink([]));
      const err = await run(flow).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: "WeirError", code: "INVALID_RETURN", stepId: "test_df.inp" });
      expect((err as WeirError).cause).toBeInstanceOf(TypeError);
    }
  });

  it("a throwing or rejecting nextBatch is SOURCE_ERROR with the thrown value as cause", async () => {
    const boom = new Error("boom");
    for (const nextBatch of [() => { throw boom; }, () => Promise.reject(boom)]) {
      const flow = new Dataflow("test_df");
      op.output("out", op.input("inp", flow, new FnSource(() => partition(nextBatch))), new TestingSink([]));
      await expect(run(flow)).rejects.toMatchObject({ code: "SOURCE_ERROR", stepId: "test_df.inp", cause: boom });
    }
  });

  it("an async nextBatch is awaited and its items keep their order", async () => {
    let n = 0;
    const src = new FnSource<number>(() => partition(async () => {
      await new Promise((r) => setTimeout(r, 2));
      return n < 4 ? [n++, n++] : null;
    }));
    const out: number[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, src), new TestingSink(out));
    await runMain(flow);
    expect(out).toEqual([0, 1, 2, 3]);
  });

  it("a partition is not polled again after it returned null", async () => {
    let polls = 0;
    let closes = 0;
    const flow = new Dataflow("test_df");
    // A second source keeps the run going for a while after the first one's EOF.
    const other = op.input("other", flow, new TestingSource([1, TestingSource.PAUSE(100), 2]));
    const once = op.input("once", flow, new FnSource<number>(() => partition(() => (polls++ === 0 ? [0] : null), () => undefined, () => void closes++)));
    op.output("out", op.merge("m", other, once), new TestingSink([]));
    await runMain(flow);
    expect(polls).toBe(2);
    expect(closes).toBe(1);
  });

  it("when the run fails, close() still runs once on every built source and sink partition", async () => {
    const closed: string[] = [];
    const never = new FnSource<number>(() => partition(() => [1], () => new Date(Date.now() + 50), () => void closed.push("source")));
    class Sink extends DynamicSink<number> {
      build(_s: string, w: number) {
        return new (class extends StatelessSinkPartition<number> {
          writeBatch() {}

          override close() {
            closed.push(`sink ${w}`);
          }
        })();
      }
    }
    const flow = new Dataflow("test_df");
    const s = op.map("boom", op.input("inp", flow, never), (): number => {
      throw new Error("boom");
    });
    op.output("out", s, new Sink());
    await expect(run(flow, { workers: 2 })).rejects.toMatchObject({ code: "CALLBACK_ERROR", stepId: "test_df.boom" });
    expect(closed.sort()).toEqual(["sink 0", "sink 1", "source", "source"]);
  });

  it("an input that is not one of the source kinds is INVALID_ARGUMENT at definition time", () => {
    const flow = new Dataflow("test_df");
    const notASource = { listParts: () => ["x"], buildPart: () => ({ nextBatch: () => null }) };
    expect(() => op.input("inp", flow, notASource as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  // Bytewax reads `next_awake()` right after building a partition (src/inputs.rs, before the first `next_batch`), so a partition
  // that starts with a future instant (e.g. resumed with a schedule) is not polled before it.
  it("nextAwake is consulted before the first poll, as in Bytewax", async () => {
    let built = 0;
    let firstPoll = 0;
    const src = new FnSource<number>(() => {
      built = Date.now();
      const awake = new Date(built + 300);
      return partition(() => ((firstPoll ||= Date.now()), null), () => awake);
    });
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, src), new TestingSink([]));
    await runMain(flow);
    expect(firstPoll - built).toBeGreaterThanOrEqual(300);
  });
});

describe("epochs (API.md §12)", () => {
  function epochsOf(items: unknown[], opts: { epochIntervalMs?: number; workers?: number; batchSize?: number } = {}) {
    const seen: [unknown, number][] = [];
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(items, opts.batchSize ?? 1));
    op.output("out", op.inspectDebug("dbg", s, (_id, x, epoch) => void seen.push([x, epoch])), new TestingSink([]));
    return run(flow, { epochIntervalMs: opts.epochIntervalMs, workers: opts.workers ?? 1 }).then((res) => ({ seen, res }));
  }

  it("start at 1; with epochIntervalMs 0 every poll closes an epoch", async () => {
    const { seen, res } = await epochsOf(["a", "b", "c"], { epochIntervalMs: 0 });
    expect(seen).toEqual([["a", 1], ["b", 2], ["c", 3]]);
    expect(res.aborted).toBe(false);
    expect(res.lastClosedEpoch).toBeGreaterThanOrEqual(3);
  });

  it("a batch is one epoch: with batch size 2 and interval 0, two items per epoch", async () => {
    const { seen } = await epochsOf([1, 2, 3, 4, 5], { epochIntervalMs: 0, batchSize: 2 });
    expect(seen).toEqual([[1, 1], [2, 1], [3, 2], [4, 2], [5, 3]]);
  });

  it("with the default interval (10 s) a quick source stays in epoch 1", async () => {
    const { seen, res } = await epochsOf([1, 2, 3]);
    expect(seen).toEqual([[1, 1], [2, 1], [3, 1]]);
    expect(res.lastClosedEpoch).toBeGreaterThanOrEqual(1);
  });

  it("a sleeping partition still moves to later epochs at each deadline", async () => {
    // PAUSE(350) keeps the partition unpolled; with a 100 ms interval the input wakes at each epoch deadline, so the item after the
    // pause is at least 3 epochs later (it would be only 1 later if epochs moved only when polled).
    const { seen } = await epochsOf([1, TestingSource.PAUSE(350), 2], { epochIntervalMs: 100 });
    expect(seen.map(([x]) => x)).toEqual([1, 2]);
    expect(seen[1]![1] - seen[0]![1]).toBeGreaterThanOrEqual(3);
  });

  it("with interval 0 each item of one partition is processed everywhere before the next is read, on 2 workers too", async () => {
    const log: string[] = [];
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(["x", "y", "z"]));
    const keyed = op.keyOn("key", op.inspect("read", s, (_id, x) => void log.push(`read ${x}`)), (x: string) => x);
    const counted = op.statefulMap("count", keyed, (n: number | undefined, x: string) => [(n ?? 0) + 1, x]);
    op.output("out", op.inspect("wrote", counted, (_id, [, x]) => void log.push(`wrote ${x}`)), new TestingSink([]));
    await run(flow, { epochIntervalMs: 0, workers: 2 });
    expect(log).toEqual(["read x", "wrote x", "read y", "wrote y", "read z", "wrote z"]);
  });
});

describe("AbortExecution (API.md §5, §8)", () => {
  it("is one class, an Error, exported from weir/inputs and weir/outputs", async () => {
    const outputs = await import("../src/outputs.js");
    expect(outputs.AbortExecution).toBe(AbortExecution);
    expect(new AbortExecution()).toBeInstanceOf(Error);
  });

  it("from one worker's partition stops every local worker; items read before it reach the sink; every partition closes", async () => {
    const closed: number[] = [];
    const src = new FnSource<string>((w) => {
      let n = 0;
      return partition(
        () => {
          if (w === 1) return []; // never at EOF: only the abort ends the run
          if (n < 3) return [`w0-${n++}`];
          throw new AbortExecution();
        },
        () => undefined,
        () => void closed.push(w),
      );
    });
    const out: string[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.map("up", op.input("inp", flow, src), (x: string) => x.toUpperCase()), new TestingSink(out));
    await expect(run(flow, { workers: 2, epochIntervalMs: 0 })).resolves.toMatchObject({ aborted: true });
    expect(out).toEqual(["W0-0", "W0-1", "W0-2"]);
    expect(closed.sort()).toEqual([0, 1]);
  });

  it("a rejected Promise with AbortExecution aborts too", async () => {
    const src = new FnSource<number>(() => partition(() => Promise.reject(new AbortExecution("stop"))));
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, src), new TestingSink([]));
    await expect(runMain(flow)).resolves.toMatchObject({ aborted: true });
  });
});

describe("AsyncIterableSource (API.md §5)", () => {
  it("gives each worker the iterable its factory returns, and ends at the iterable's end", async () => {
    const calls: [number, number][] = [];
    const src = new AsyncIterableSource((w, n) => {
      calls.push([w, n]);
      return (async function* () {
        for (let i = 0; i < 3; i++) yield `${w}/${n}:${i}`;
      })();
    });
    const out: string[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, src), new TestingSink(out));
    await run(flow, { workers: 2 });
    expect(calls.sort()).toEqual([[0, 2], [1, 2]]);
    expect(out.filter((x) => x.startsWith("0/")).sort()).toEqual(["0/2:0", "0/2:1", "0/2:2"]);
    expect(out.filter((x) => x.startsWith("1/")).sort()).toEqual(["1/2:0", "1/2:1", "1/2:2"]);
  });

  it("accepts synchronous iterables and caps batches at batchSize", async () => {
    const part = await new AsyncIterableSource(() => [1, 2, 3, 4, 5], { batchSize: 2 }).build("s", 0, 1);
    expect(await part.nextBatch()).toEqual([1, 2]);
    expect(await part.nextBatch()).toEqual([3, 4]);
    expect(await part.nextBatch()).toEqual([5]);
    expect(await part.nextBatch()).toBeNull();
  });

  it("hands out what arrived within batchTimeoutMs instead of waiting for a full batch", async () => {
    async function* slow() {
      yield 1;
      await new Promise((r) => setTimeout(r, 300));
      yield 2;
    }
    const part = await new AsyncIterableSource(() => slow(), { batchSize: 10, batchTimeoutMs: 20 }).build("s", 0, 1);
    const t0 = Date.now();
    expect(await part.nextBatch()).toEqual([1]);
    expect(Date.now() - t0).toBeLessThan(250);
  });

  it("an error of the iterable fails the run with SOURCE_ERROR", async () => {
    const boom = new Error("iterable failed");
    const src = new AsyncIterableSource(() => (async function* () {
      yield 1;
      throw boom;
    })());
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, src), new TestingSink([]));
    await expect(run(flow)).rejects.toMatchObject({ code: "SOURCE_ERROR", stepId: "test_df.inp", cause: boom });
  });

  it("reads ahead without overlapping next() calls", async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    let n = 0;
    const it: AsyncIterableIterator<number> = {
      next: async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 3));
        inFlight--;
        return n < 20 ? { done: false, value: n++ } : { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const out: number[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new AsyncIterableSource(() => it, { batchSize: 4, batchTimeoutMs: 1 })), new TestingSink(out));
    await runMain(flow);
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(maxInFlight).toBe(1);
  });

  it("close() calls the iterator's return()", async () => {
    let returned = false;
    const it: AsyncIterableIterator<number> = {
      next: async () => ({ done: false, value: 1 }),
      return: async () => {
        returned = true;
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    const part = await new AsyncIterableSource(() => it, { batchSize: 1 }).build("s", 0, 1);
    expect(await part.nextBatch()).toEqual([1]);
    await part.close();
    expect(returned).toBe(true);
  });
});

describe("partition assignment (API.md §5)", () => {
  it("least-shared partitions first, each to its least-loaded candidate, through the engine", async () => {
    // listParts runs once per worker, in worker order: worker 0 reaches a, b, c and worker 1 reaches a, b. c has one candidate
    // (worker 0); then a goes to the less loaded worker 1, and b, with both at one, to the lower index.
    const listings = [["c", "b", "a"], ["b", "a"]];
    let call = 0;
    const builtOn = new Map<string, number>();
    class Src extends FixedPartitionedSource<[string, number], number> {
      listParts() {
        return listings[call++ % 2]!;
      }

      buildPart(_stepId: string, forPart: string) {
        let done = false;
        return new (class extends StatefulSourcePartition<[string, number], number> {
          nextBatch(): [string, number][] | null {
            return done ? null : ((done = true), [[forPart, 0]]);
          }

          snapshot() {
            return 0;
          }
        })();
      }
    }
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new Src());
    op.output("out", op.inspectDebug("where", s, (_id, [part], _epoch, worker) => void builtOn.set(part, worker)), new TestingSink([]));
    await run(flow, { workers: 2 });
    expect(Object.fromEntries(builtOn)).toEqual({ a: 1, b: 0, c: 0 });
  });
});
