// A source call may poll several rounds and send them as one batch, but only where no step can tell
// (src/runtime/nodes.ts, SourceNode.mergesRounds): keyed steps and sinks downstream, per-item steps in between,
// epochs longer than a poll.
import { describe, expect, it } from "vitest";
import { Dataflow, op, run, StatefulBatchLogic, TestingSink, TestingSource } from "../src/index.js";

/** Counts onBatch calls and values for one key. */
class Calls extends StatefulBatchLogic<number, [number, number], null> {
  calls = 0;
  values = 0;
  onBatch(vs: number[]): [[number, number][], boolean] {
    this.calls++;
    this.values += vs.length;
    return [[], false];
  }
  override onEof(): [[number, number][], boolean] {
    return [[[this.calls, this.values]], true];
  }
  snapshot(): null { return null; }
}

async function callsFor(epochIntervalMs: number, withBatchStep: boolean): Promise<[number, number]> {
  const items = Array.from({ length: 200 }, (_, i) => i);
  const out: [string, [number, number]][] = [];
  const flow = new Dataflow("rounds_df");
  let s = op.input("inp", flow, new TestingSource(items, 1));
  if (withBatchStep) s = op.flatMapBatch("batch", s, (xs: number[]) => xs);
  const keyed = op.keyOn("key", op.map("twice", s, (x: number) => x * 2), () => "k");
  op.output("out", op.statefulBatch("count", keyed, () => new Calls()), new TestingSink(out));
  await run(flow, { epochIntervalMs });
  expect(out.length).toBe(1);
  return out[0]![1];
}

describe("merged source rounds", () => {
  it("a keyed step after per-item steps gets several one-item polls per call, and every value once", async () => {
    const [calls, values] = await callsFor(60_000, false);
    expect(values).toBe(200);
    expect(calls).toBeLessThan(200);
  });

  it("not with epochs of one poll: each poll is its own epoch and call", async () => {
    expect(await callsFor(0, false)).toEqual([200, 200]);
  });

  it("not when a batch-level step (flatMapBatch) sits in between: it sees each poll's batch", async () => {
    expect(await callsFor(60_000, true)).toEqual([200, 200]);
  });
});
