// Stateful steps with async logics (API.md §3.1, §12): builders, onBatch and notifyAt may return Promises
// for some keys and not others; a key's calls never overlap, each activation's output comes in ascending
// key order, and a rejection is CALLBACK_ERROR naming the method.
import { describe, expect, it } from "vitest";
import { Dataflow, op, run, StatefulBatchLogic, TestingSink, TestingSource, WeirError } from "../src/index.js";

const later = <T>(v: T, ms = 1): Promise<T> => new Promise((res) => setTimeout(() => res(v), ms));

interface Val { k: string; v: number }

/** Sums a key's values; async (onBatch and notifyAt) for keys starting with "a". */
class Sum extends StatefulBatchLogic<Val, string, number> {
  sum = 0;
  busy = false;
  constructor(readonly failOn?: string) { super(); }
  onBatch(vs: Val[]): [string[], boolean] | Promise<[string[], boolean]> {
    const key = vs[0]!.k;
    if (this.busy) throw new Error(`overlapping calls for ${key}`);
    const apply = (): [string[], boolean] => {
      for (const { v } of vs) this.sum += v;
      return [[`${key}=${this.sum}`], false];
    };
    if (!key.startsWith("a")) return apply();
    this.busy = true;
    return later(null, 3).then(() => {
      this.busy = false;
      if (key === this.failOn) throw new Error(`no ${key}`);
      return apply();
    });
  }
  override notifyAt(): Date | undefined | Promise<Date | undefined> {
    return this.sum > 0 && this.sum % 2 === 0 ? later(undefined) : undefined;
  }
  snapshot(): number { return this.sum; }
}

function sumFlow(out: [string, string][], failOn?: string): Dataflow {
  const flow = new Dataflow("async_df");
  const input = [["b", 1], ["a1", 2], ["c", 3], ["a2", 4], ["b", 5], ["a1", 6], ["c", 7], ["a2", 8]] as const;
  const s = op.input("inp", flow, new TestingSource(input.map(([k, v]) => [k, { k, v }] as [string, Val]), 4));
  let builds = 0;
  // Every other logic is built asynchronously.
  const sums = op.statefulBatch("sum", s, () => (++builds % 2 === 0 ? later(new Sum(failOn)) : new Sum(failOn)));
  op.output("out", sums, new TestingSink(out));
  return flow;
}

describe("stateful steps with async logics", () => {
  it("mixes sync and async keys in one activation: ascending key order, no overlap, one worker", async () => {
    const out: [string, string][] = [];
    // Epochs of one poll each, so each batch of four is its own activation.
    await run(sumFlow(out), { workers: 1, epochIntervalMs: 0 });
    // Two batches of four; in each, the keys in ascending order.
    expect(out).toEqual([
      ["a1", "a1=2"], ["a2", "a2=4"], ["b", "b=1"], ["c", "c=3"],
      ["a1", "a1=8"], ["a2", "a2=12"], ["b", "b=6"], ["c", "c=10"],
    ]);
  });

  it("gives the same sums with 2 workers", async () => {
    const out: [string, string][] = [];
    await run(sumFlow(out), { workers: 2 });
    const last = new Map(out);
    expect(last).toEqual(new Map([["a1", "a1=8"], ["a2", "a2=12"], ["b", "b=6"], ["c", "c=10"]]));
  });

  it("a rejecting onBatch is CALLBACK_ERROR naming the step and the method", async () => {
    const err = await run(sumFlow([], "a2"), { workers: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: "CALLBACK_ERROR", stepId: "async_df.sum" });
    expect((err as Error).message).toContain("onBatch");
    expect(((err as Error).cause as Error).message).toBe("no a2");
  });
});
