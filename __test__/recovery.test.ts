// Recovery (API.md §9): snapshots at epoch close in a real SQLite store, resume, rescaling, store errors.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Dataflow, initDbDir, op, RecoveryConfig, run, TestingSink, TestingSource } from "../src/index.js";

const dirs: string[] = [];
function storeDir(parts: number | null): string {
  const dir = mkdtempSync(path.join(tmpdir(), "weir-recovery-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe("resume after abort", () => {
  function abortFlow(inp: unknown[], out: unknown[]) {
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new TestingSource(inp)), new TestingSink(out));
    return flow;
  }

  it("with epochIntervalMs 0, the resumed run outputs only what follows the last snapshot", async () => {
    const dir = storeDir(1);
    await initDbDir(dir, 1);
    const inp = [0, 1, 2, TestingSource.ABORT(), 3, 4];
    const out: number[] = [];
    const flow = abortFlow(inp, out);
    expect(await run(flow, { epochIntervalMs: 0, recovery: new RecoveryConfig(dir) })).toMatchObject({ aborted: true });
    expect(out).toEqual([0, 1, 2]);
    out.length = 0;
    expect(await run(flow, { epochIntervalMs: 0, recovery: new RecoveryConfig(dir) })).toMatchObject({ aborted: false });
    expect(out).toEqual([3, 4]);
  });

  it("with a long epoch no epoch closed before the abort, so the rerun outputs everything", async () => {
    const dir = storeDir(1);
    await initDbDir(dir, 1);
    const out: number[] = [];
    const flow = abortFlow([0, 1, 2, TestingSource.ABORT(), 3, 4], out);
    // The abort's unfinished epoch counts as not closed (API.md §8, §9).
    expect(await run(flow, { epochIntervalMs: 5000, recovery: new RecoveryConfig(dir) })).toMatchObject({ aborted: true, lastClosedEpoch: 0 });
    expect(out).toEqual([0, 1, 2]);
    out.length = 0;
    await run(flow, { epochIntervalMs: 5000, recovery: new RecoveryConfig(dir) });
    expect(out).toEqual([0, 1, 2, 3, 4]);
  });
});

describe("resume after a drain", () => {
  it("a drained run's last epoch is snapshotted: the rerun continues after it, nothing replayed or lost", async () => {
    const dir = storeDir(1);
    await initDbDir(dir, 1);
    // A long epoch, so only the drain ends it; the pause leaves time for the drain to land after item 2.
    const inp = [0, 1, 2, TestingSource.PAUSE(300), 3, 4, 5];
    const out: number[] = [];
    const drain = new AbortController();
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(inp));
    const spied = op.inspect("spy", s, (_id, x) => {
      if (x === 2) drain.abort();
    });
    op.output("out", spied, new TestingSink(out));
    const first = await run(flow, { epochIntervalMs: 60_000, recovery: new RecoveryConfig(dir), drainSignal: drain.signal });
    expect(first).toMatchObject({ aborted: true, lastClosedEpoch: 1 });
    expect(out).toEqual([0, 1, 2]);
    out.length = 0;
    const second = await run(flow, { epochIntervalMs: 60_000, recovery: new RecoveryConfig(dir) });
    expect(second.aborted).toBe(false);
    expect(out).toEqual([3, 4, 5]);
  });
});

describe("rescaling", () => {
  it("3, then 5, then 1 workers continue each key's state (§9's example)", async () => {
    const dir = storeDir(3);
    await initDbDir(dir, 3);
    const inp = [["a", 4], ["b", 4], TestingSource.EOF(), ["a", 1], ["b", 5], TestingSource.EOF(), ["a", 8], ["b", 1]];
    const out: [string, number][] = [];
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(inp));
    const maxes = op.statefulMap("max", s as never, (st: number | undefined, v: number) => {
      const m = Math.max(st ?? v, v);
      return [m, m];
    });
    op.output("out", maxes, new TestingSink(out));
    const rec = new RecoveryConfig(dir);
    const sortByKey = (xs: [string, number][]) => [...xs].sort(([a], [b]) => (a < b ? -1 : 1));
    await run(flow, { workers: 3, epochIntervalMs: 0, recovery: rec });
    expect(sortByKey(out)).toEqual([["a", 4], ["b", 4]]);
    out.length = 0;
    await run(flow, { workers: 5, epochIntervalMs: 0, recovery: rec });
    expect(sortByKey(out)).toEqual([["a", 4], ["b", 5]]);
    out.length = 0;
    await run(flow, { workers: 1, epochIntervalMs: 0, recovery: rec });
    expect(sortByKey(out)).toEqual([["a", 8], ["b", 5]]);
  });
});

describe("store errors", () => {
  it("a missing directory is RECOVERY_DIR_NOT_FOUND", async () => {
    await expect(initDbDir("/nonexistent/weir-store", 2)).rejects.toMatchObject({ code: "RECOVERY_DIR_NOT_FOUND" });
  });

  function simpleFlow() {
    const flow = new Dataflow("f");
    op.output("out", op.input("inp", flow, new TestingSource([1])), new TestingSink([]));
    return flow;
  }

  it("an empty directory is RECOVERY_NO_PARTITIONS", async () => {
    const dir = storeDir(null);
    await expect(run(simpleFlow(), { recovery: new RecoveryConfig(dir) })).rejects.toMatchObject({ code: "RECOVERY_NO_PARTITIONS" });
  });

  it("a missing partition is RECOVERY_MISSING_PARTITIONS", async () => {
    const dir = storeDir(3);
    await initDbDir(dir, 3);
    rmSync(path.join(dir, "part-1.sqlite3"));
    await expect(run(simpleFlow(), { recovery: new RecoveryConfig(dir) })).rejects.toMatchObject({ code: "RECOVERY_MISSING_PARTITIONS" });
  });

  it("partitions of different stores are RECOVERY_PART_COUNT_MISMATCH", async () => {
    const a = storeDir(2);
    const b = storeDir(3);
    await initDbDir(a, 2);
    await initDbDir(b, 3);
    const { copyFileSync } = await import("node:fs");
    copyFileSync(path.join(b, "part-2.sqlite3"), path.join(a, "part-2.sqlite3"));
    await expect(run(simpleFlow(), { recovery: new RecoveryConfig(a) })).rejects.toMatchObject({ code: "RECOVERY_PART_COUNT_MISMATCH" });
  });

  it("a corrupt partition file is a clear RECOVERY error, not a crash", async () => {
    const dir = storeDir(2);
    await initDbDir(dir, 2);
    writeFileSync(path.join(dir, "part-1.sqlite3"), "this is not a database, just some text that is long enough");
    const err = await run(simpleFlow(), { recovery: new RecoveryConfig(dir) }).catch((e: unknown) => e);
    expect((err as { code: string }).code).toMatch(/^RECOVERY_/);
  });
});
