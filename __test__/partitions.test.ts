// Partition assignment (API.md §5): each worker lists what it can reach; every partition is built once.
import { describe, expect, it } from "vitest";
import { Dataflow, FixedPartitionedSource, op, run, StatefulSourcePartition, TestingSink } from "../src/index.js";
import { assignPartitions } from "../src/runtime/partitions.js";

describe("assignPartitions", () => {
  it("gives least-shared partitions first, each to its least-loaded candidate", () => {
    const owners = assignPartitions([["a", "b", "c", "d"], ["a", "b"], ["c"]]);
    expect(owners.get("d")).toBe(0);
    expect(new Set(owners.values()).size).toBe(3);
    expect([...owners.keys()].sort()).toEqual(["a", "b", "c", "d"]);
    for (const [part, w] of owners) expect([["a", "b", "c", "d"], ["a", "b"], ["c"]][w]).toContain(part);
  });

  it("is the same whatever the order of each list", () => {
    expect(assignPartitions([["b", "a"], ["a", "b"]])).toEqual(assignPartitions([["a", "b"], ["b", "a"]]));
  });
});

class Parts extends FixedPartitionedSource<string, number> {
  calls = 0;
  built: string[] = [];
  constructor(private readonly listings: string[][]) {
    super();
  }
  listParts(): string[] {
    return this.listings[this.calls++ % this.listings.length]!;
  }
  buildPart(_stepId: string, forPart: string, resume: number | undefined) {
    this.built.push(forPart);
    let i = resume ?? 0;
    return new (class extends StatefulSourcePartition<string, number> {
      nextBatch() {
        return i < 3 ? [`${forPart}${i++}`] : null;
      }
      snapshot() {
        return i;
      }
    })();
  }
}

describe("fixed-partitioned sources in a run", () => {
  it("builds every partition exactly once when workers list different partitions", async () => {
    const source = new Parts([["a"], ["a", "b"]]);
    const flow = new Dataflow("f");
    const out: string[] = [];
    op.output("out", op.input("inp", flow, source), new TestingSink(out));
    await run(flow, { workers: 2 });
    expect(source.built.sort()).toEqual(["a", "b"]);
    expect(out.sort()).toEqual(["a0", "a1", "a2", "b0", "b1", "b2"]);
  });

  it("a source with no partition anywhere is NO_PARTITIONS", async () => {
    const flow = new Dataflow("f");
    op.output("out", op.input("inp", flow, new Parts([[]])), new TestingSink([]));
    await expect(run(flow, { workers: 2 })).rejects.toMatchObject({ code: "NO_PARTITIONS", stepId: "f.inp" });
  });

  it("a throwing listParts is SOURCE_ERROR naming the step", async () => {
    class Broken extends Parts {
      override listParts(): string[] {
        throw new Error("no listing");
      }
    }
    const flow = new Dataflow("f");
    op.output("out", op.input("inp", flow, new Broken([])), new TestingSink([]));
    await expect(run(flow)).rejects.toMatchObject({ code: "SOURCE_ERROR", stepId: "f.inp" });
  });
});
