// Bytewax v0.21.1's recovery tests, ported: every case of `pytests/test_recovery.py`, plus the cases of
// `pytests/operators/test_stateful.py` and `pytests/test_testing.py` that run with a recovery store. Same inputs, same
// expected outputs; `epoch_interval=ZERO_TD/FIVE_TD` becomes `epochIntervalMs: 0/5000`, Bytewax's `recovery_config`
// fixture is a one-partition store (`initDbDir(dir, 1)`), and its exception classes are `WeirError` codes (§9).
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  clusterMain, Dataflow, initDbDir, op, RecoveryConfig, run, runMain, StatefulLogic, TestingSink, TestingSource,
  type KeyedStream, type LogicResult,
} from "../src/index.js";
import { KeepLastLogic } from "./keep-last-logic.js";

const ZERO_TD = 0;
const FIVE_TD = 5000;

const dirs: string[] = [];
function tmpPath(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "weir-bytewax-recovery-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Bytewax's `recovery_config` fixture: a one-partition store. */
async function recoveryConfig(): Promise<RecoveryConfig> {
  const dir = tmpPath();
  await initDbDir(dir, 1);
  return new RecoveryConfig(dir);
}

function passThrough(inp: unknown[], out: unknown[], batchSize?: number): Dataflow {
  const flow = new Dataflow("test_df");
  const s = op.input("inp", flow, new TestingSource(inp, batchSize));
  op.output("out", s, new TestingSink(out));
  return flow;
}

describe("pytests/test_recovery.py", () => {
  it("test_abort_no_snapshots", async () => {
    const recovery = await recoveryConfig();
    const inp = [0, 1, 2, TestingSource.ABORT(), 3, 4];
    const out: number[] = [];
    const flow = passThrough(inp, out);
    // A 5 s epoch: no snapshot exists when the abort happens.
    await runMain(flow, { epochIntervalMs: FIVE_TD, recovery });
    expect(out).toEqual([0, 1, 2]);
    // So the resume replays all input.
    out.length = 0;
    await runMain(flow, { epochIntervalMs: FIVE_TD, recovery });
    expect(out).toEqual([0, 1, 2, 3, 4]);
  });

  it("test_abort_with_snapshots", async () => {
    const recovery = await recoveryConfig();
    const inp = [0, 1, 2, TestingSource.ABORT(), 3, 4];
    const out: number[] = [];
    const flow = passThrough(inp, out);
    // A 0 s epoch: a snapshot after each item.
    await runMain(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([0, 1, 2]);
    // Resumes as if it was an EOF.
    out.length = 0;
    await runMain(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([3, 4]);
  });

  it("test_continuation", async () => {
    const recovery = await recoveryConfig();
    const inp = [0, 1, 2, TestingSource.EOF(), 3, 4];
    const out: number[] = [];
    const flow = passThrough(inp, out);
    // A 5 s epoch: the only snapshot is at EOF.
    await runMain(flow, { epochIntervalMs: FIVE_TD, recovery });
    expect(out).toEqual([0, 1, 2]);
    // Each continuation resumes at the last snapshot.
    out.length = 0;
    await runMain(flow, { epochIntervalMs: FIVE_TD, recovery });
    expect(out).toEqual([3, 4]);
    out.length = 0;
    await runMain(flow, { epochIntervalMs: FIVE_TD, recovery });
    expect(out).toEqual([]);
    out.length = 0;
    await runMain(flow, { epochIntervalMs: FIVE_TD, recovery });
    expect(out).toEqual([]);
  });

  it("test_continuation_with_delayed_backup", async () => {
    const dir = tmpPath();
    await initDbDir(dir, 1);
    const recovery = new RecoveryConfig(dir, FIVE_TD * 2);
    const E = () => TestingSource.EOF();
    const inp = [0, E(), 1, E(), 2, E(), 3, E(), 4];
    const out: number[] = [];
    const flow = passThrough(inp, out);
    // Snapshots only at EOF, but superseded ones are kept for 10 s: later executions still resume from the newest.
    for (const expected of [[0], [1], [2], [3], [4], []]) {
      out.length = 0;
      await runMain(flow, { epochIntervalMs: FIVE_TD, recovery });
      expect(out).toEqual(expected);
    }
  });

  function keepMax(maxVal: number | undefined, newVal: number): [number, number] {
    const m = Math.max(maxVal ?? 0, newVal);
    return [m, m];
  }

  function buildKeepMaxDataflow(inp: unknown[], out: unknown[]): Dataflow {
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(inp)) as KeyedStream<number>;
    op.output("out", op.statefulMap("max", s, keepMax), new TestingSink(out));
    return flow;
  }

  it("test_rescale", async () => {
    const dir = tmpPath();
    await initDbDir(dir, 3);
    const recovery = new RecoveryConfig(dir);
    const inp = [["a", 4], ["b", 4], TestingSource.EOF(), ["a", 1], ["b", 5], TestingSource.EOF(), ["a", 8], ["b", 1]];
    const out: [string, number][] = [];
    const flow = buildKeepMaxDataflow(inp, out);
    const entryPoint = (workerCountPerProc: number) =>
      clusterMain(flow, { addresses: [], procId: 0, epochIntervalMs: ZERO_TD, recovery, workerCountPerProc });
    // Two continuations with a different worker count each time. Start with 3 workers.
    await entryPoint(3);
    expect(out).toEqual([["a", 4], ["b", 4]]);
    // Continue with 5 workers.
    out.length = 0;
    await entryPoint(5);
    expect(out).toEqual([["a", 4], ["b", 5]]);
    // Continue again, resizing down to 1 worker.
    out.length = 0;
    await entryPoint(1);
    expect(out).toEqual([["a", 8], ["b", 5]]);
  });

  it("test_no_parts", async () => {
    // No initDbDir.
    const recovery = new RecoveryConfig(tmpPath());
    const flow = buildKeepMaxDataflow([], []);
    await expect(runMain(flow, { epochIntervalMs: ZERO_TD, recovery })).rejects.toMatchObject({ code: "RECOVERY_NO_PARTITIONS" });
  });

  it("test_missing_parts", async () => {
    const dir = tmpPath();
    await initDbDir(dir, 3);
    const recovery = new RecoveryConfig(dir);
    rmSync(path.join(dir, "part-0.sqlite3"));
    const flow = buildKeepMaxDataflow([], []);
    await expect(runMain(flow, { epochIntervalMs: ZERO_TD, recovery })).rejects.toMatchObject({ code: "RECOVERY_MISSING_PARTITIONS" });
  });

  it("test_inconsistent_parts", async () => {
    const partCount = 3;
    const dir = tmpPath();
    await initDbDir(dir, partCount);
    const recovery = new RecoveryConfig(dir, ZERO_TD);
    // Keep a copy of every initial partition.
    for (let i = 0; i < partCount; i++) copyFileSync(path.join(dir, `part-${i}.sqlite3`), path.join(dir, `part-${i}.run0`));
    const inp = [["a", 4], ["b", 4], TestingSource.ABORT(), ["a", 1], ["b", 5]];
    const out: [string, number][] = [];
    const flow = buildKeepMaxDataflow(inp, out);
    // Run the dataflow until the abort.
    await runMain(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([["a", 4], ["b", 4]]);
    for (let i = 0; i < partCount; i++) copyFileSync(path.join(dir, `part-${i}.sqlite3`), path.join(dir, `part-${i}.run1`));
    // Continue, but with partition 0 put back to its initial version. With a backup interval of 0 the state needed to
    // resume at the initial epoch was already thrown away.
    out.length = 0;
    copyFileSync(path.join(dir, "part-0.run0"), path.join(dir, "part-0.sqlite3"));
    await expect(runMain(flow, { epochIntervalMs: ZERO_TD, recovery })).rejects.toMatchObject({ code: "RECOVERY_INCONSISTENT" });
  });
});

/** `BaseTestLogic` of `pytests/operators/test_stateful.py`: emits each state transition as `[old, new]`. */
class BaseTestLogic extends StatefulLogic<unknown, [string, string], string> {
  static itemTriggersNotify = false;
  static afterItem = StatefulLogic.RETAIN;
  static afterNotify = StatefulLogic.RETAIN;
  static afterEof = StatefulLogic.RETAIN;
  private notifyAtDate: Date | undefined;
  private state: string;

  constructor(state: string | undefined) {
    super();
    this.state = state ?? "NEW";
  }

  private get cls(): typeof BaseTestLogic {
    return this.constructor as typeof BaseTestLogic;
  }

  private transition(to: string, discard: boolean): LogicResult<[string, string]> {
    const old = this.state;
    this.state = to;
    return [[[old, to]], discard];
  }

  onItem(_value: unknown): LogicResult<[string, string]> {
    if (this.cls.itemTriggersNotify) this.notifyAtDate = new Date();
    return this.transition("ITEM", this.cls.afterItem);
  }

  override onNotify(): LogicResult<[string, string]> {
    this.notifyAtDate = undefined;
    return this.transition("NOTIFY", this.cls.afterNotify);
  }

  override onEof(): LogicResult<[string, string]> {
    return this.transition("EOF", this.cls.afterEof);
  }

  override notifyAt(): Date | undefined {
    return this.notifyAtDate;
  }

  snapshot(): string {
    return this.state;
  }
}

describe("pytests/operators/test_stateful.py (with recovery)", () => {
  function eofFlow(logic: typeof BaseTestLogic, out: unknown[]): Dataflow {
    const inp = [1, TestingSource.EOF(), 2, TestingSource.ABORT()];
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(inp));
    const keyed = op.keyOn("key", s, () => "ALL");
    op.output("out", op.stateful("stateful", keyed, (resume: string | undefined) => new logic(resume)), new TestingSink(out));
    return flow;
  }

  it("test_stateful_on_eof_discard", async () => {
    const recovery = await recoveryConfig();
    class TestLogic extends BaseTestLogic {
      static override afterEof = StatefulLogic.DISCARD;
    }
    const out: unknown[] = [];
    const flow = eofFlow(TestLogic, out);
    await run(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([["ALL", ["NEW", "ITEM"]], ["ALL", ["ITEM", "EOF"]]]);
    out.length = 0;
    await run(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([["ALL", ["NEW", "ITEM"]]]);
  });

  it("test_stateful_on_eof_retain", async () => {
    const recovery = await recoveryConfig();
    class TestLogic extends BaseTestLogic {
      static override afterEof = StatefulLogic.RETAIN;
    }
    const out: unknown[] = [];
    const flow = eofFlow(TestLogic, out);
    await run(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([["ALL", ["NEW", "ITEM"]], ["ALL", ["ITEM", "EOF"]]]);
    out.length = 0;
    await run(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([["ALL", ["EOF", "ITEM"]]]);
  });

  function keepLastFlow(inp: unknown[], out: unknown[]): Dataflow {
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(inp)) as KeyedStream<string>;
    op.output("out", op.stateful<string, [string | undefined, string], string | undefined>("stateful", s, (resume) => new KeepLastLogic(resume)), new TestingSink(out));
    return flow;
  }

  it("test_stateful_snapshots_logic_per_key", async () => {
    const recovery = await recoveryConfig();
    const inp = [["a", "a1"], ["b", "b1"], TestingSource.ABORT(), ["a", "a2"], ["b", "b2"]];
    const out: unknown[] = [];
    const flow = keepLastFlow(inp, out);
    await run(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([["a", [undefined, "a1"]], ["b", [undefined, "b1"]]]);
    out.length = 0;
    await run(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([["a", ["a1", "a2"]], ["b", ["b1", "b2"]]]);
  });

  it("test_stateful_snapshots_discard_per_key", async () => {
    const recovery = await recoveryConfig();
    const inp = [["a", "a1"], ["b", "b1"], ["a", "DISCARD"], ["b", "b2"], TestingSource.ABORT(), ["a", "a3"], ["b", "b3"]];
    const out: unknown[] = [];
    const flow = keepLastFlow(inp, out);
    await run(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([
      ["a", [undefined, "a1"]], ["b", [undefined, "b1"]], ["a", ["a1", "DISCARD"]], ["b", ["b1", "b2"]],
    ]);
    out.length = 0;
    await run(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([["a", [undefined, "a3"]], ["b", ["b2", "b3"]]]);
  });
});

describe("pytests/test_testing.py (with recovery)", () => {
  it("test_testing_source_eof_run", async () => {
    const recovery = await recoveryConfig();
    const out: number[] = [];
    const flow = passThrough([0, 1, 2, TestingSource.EOF(), 3, 4], out, 2);
    await runMain(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([0, 1, 2]);
    out.length = 0;
    await runMain(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([3, 4]);
  });

  it("test_testing_source_abort_run", async () => {
    const recovery = await recoveryConfig();
    const out: number[] = [];
    const flow = passThrough([0, 1, 2, TestingSource.ABORT(), 3, 4], out, 2);
    await runMain(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([0, 1, 2]);
    out.length = 0;
    await runMain(flow, { epochIntervalMs: ZERO_TD, recovery });
    expect(out).toEqual([3, 4]);
  });
});

// Not in Bytewax's suite: what §9 promises about the backup interval, and a continuation over a growing file.
describe("weir additions: backup interval, growing files", () => {
  function maxFlow(inp: unknown[], out: unknown[]): Dataflow {
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource(inp)) as KeyedStream<number>;
    op.output("out", op.statefulMap("max", s, (m: number | undefined, v: number) => {
      const x = Math.max(m ?? 0, v);
      return [x, x];
    }), new TestingSink(out));
    return flow;
  }
  const inp = [["a", 4], ["b", 4], TestingSource.EOF(), ["a", 1], ["b", 5], ["c", 2], TestingSource.EOF(), ["a", 8], ["b", 1], ["c", 1]];

  /**
   * Runs two executions, backing partition `older` up after the first and the other partition after the second, and
   * returns a directory holding the two backups.
   */
  async function mixedBackups(backupIntervalMs: number, older = 0): Promise<{ restored: string; out: unknown[]; second: unknown[]; third: unknown[] }> {
    const dir = tmpPath();
    const backup = tmpPath();
    await initDbDir(dir, 2);
    const recovery = new RecoveryConfig(dir, backupIntervalMs);
    const out: unknown[] = [];
    const flow = maxFlow(inp, out);
    await runMain(flow, { epochIntervalMs: ZERO_TD, recovery });
    copyFileSync(path.join(dir, `part-${older}.sqlite3`), path.join(backup, `part-${older}.sqlite3`));
    out.length = 0;
    await runMain(flow, { epochIntervalMs: ZERO_TD, recovery });
    const second = [...out];
    copyFileSync(path.join(dir, `part-${1 - older}.sqlite3`), path.join(backup, `part-${1 - older}.sqlite3`));
    out.length = 0;
    // What the store itself (not the mix) resumes with.
    await runMain(flow, { epochIntervalMs: ZERO_TD, recovery });
    const third = [...out];
    out.length = 0;
    return { restored: backup, out, second, third };
  }

  it("partitions backed up at different times within the backup interval restore to the older point", async () => {
    const { restored, out, second } = await mixedBackups(3_600_000);
    expect(second).toEqual([["a", 4], ["b", 5], ["c", 2]]);
    await runMain(maxFlow(inp, out), { epochIntervalMs: ZERO_TD, recovery: new RecoveryConfig(restored, 3_600_000) });
    expect(out).toEqual(second);
  });

  // Here partition 1 is the older one. Each worker records its front in every partition (in the transaction with its
  // rows there), so whichever partition is older holds the resume point back to when it was backed up.
  it("the same with the other partition older: resumes at the older point, never mixing the two", async () => {
    const { restored, out, second, third } = await mixedBackups(3_600_000, 1);
    expect(second).toEqual([["a", 4], ["b", 5], ["c", 2]]);
    expect(third).toEqual([["a", 8], ["b", 5], ["c", 2]]);
    await runMain(maxFlow(inp, out), { epochIntervalMs: ZERO_TD, recovery: new RecoveryConfig(restored, 3_600_000) });
    expect(out).toEqual(second);
  });

  it("with backup interval 0 the same mix is RECOVERY_INCONSISTENT (the older point's state was collected)", async () => {
    const { restored, out } = await mixedBackups(0);
    await expect(runMain(maxFlow(inp, out), { epochIntervalMs: ZERO_TD, recovery: new RecoveryConfig(restored) }))
      .rejects.toMatchObject({ code: "RECOVERY_INCONSISTENT" });
  });

  it("a continuation reads only what was appended to a FileSource and appends to the FileSink", async () => {
    const { FileSource, FileSink } = await import("../src/connectors/files.js");
    const { appendFileSync, readFileSync, writeFileSync } = await import("node:fs");
    const recovery = await recoveryConfig();
    const work = tmpPath();
    const input = path.join(work, "in.txt");
    const output = path.join(work, "out.txt");
    writeFileSync(input, "one\ntwo\n");
    const seen: string[] = [];
    const flow = new Dataflow("test_df");
    const lines = op.inspect("seen", op.input("inp", flow, new FileSource(input)), (_id, line: string) => void seen.push(line));
    op.output("out", op.map("upper", lines, (l: string) => ["", l.toUpperCase()] as [string, string]), new FileSink(output));
    await runMain(flow, { epochIntervalMs: FIVE_TD, recovery });
    appendFileSync(input, "three\n");
    await runMain(flow, { epochIntervalMs: FIVE_TD, recovery });
    expect(seen).toEqual(["one", "two", "three"]);
    expect(readFileSync(output, "utf8")).toBe("ONE\nTWO\nTHREE\n");
    await runMain(flow, { epochIntervalMs: FIVE_TD, recovery });
    expect(seen).toHaveLength(3);
    expect(readFileSync(output, "utf8")).toBe("ONE\nTWO\nTHREE\n");
  });
});
