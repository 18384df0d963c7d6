// File, CSV, directory and stdout connectors through the engine (Bytewax's test_connectors cases).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { Dataflow, op, run, TestingSink, TestingSource } from "../src/index.js";
import { CSVSource, DirSink, DirSource, FileSink, FileSource } from "../src/connectors/files.js";

const dirs: string[] = [];
function tmp(): string {
  const d = mkdtempSync(path.join(tmpdir(), "weir-conn-"));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe.each([1, 2])("with %i worker(s)", (workers) => {
  it("FileSource → FileSink copies lines (blank lines are items)", async () => {
    const d = tmp();
    writeFileSync(path.join(d, "in.txt"), "one\n\ntwo\nthree\n");
    const flow = new Dataflow("test_df");
    const lines = op.input("inp", flow, new FileSource(path.join(d, "in.txt")));
    op.output("out", op.keyOn("k", lines, () => "ALL"), new FileSink(path.join(d, "out.txt")));
    await run(flow, { workers });
    expect(readFileSync(path.join(d, "out.txt"), "utf8")).toBe("one\n\ntwo\nthree\n");
  });

  it("DirSource reads every matching file; DirSink spreads keys over its files", async () => {
    const d = tmp();
    mkdirSync(path.join(d, "in"));
    mkdirSync(path.join(d, "out"));
    writeFileSync(path.join(d, "in", "a.txt"), "a1\na2\n");
    writeFileSync(path.join(d, "in", "b.txt"), "b1\n");
    writeFileSync(path.join(d, "in", "skip.log"), "nope\n");
    const flow = new Dataflow("test_df");
    const lines = op.input("inp", flow, new DirSource(path.join(d, "in"), { globPat: "*.txt" }));
    op.output("out", op.keyOn("k", lines, (l: string) => l), new DirSink(path.join(d, "out"), 3));
    await run(flow, { workers });
    // Partitions are built on first write: only files that received keys exist.
    const files = readdirSync(path.join(d, "out"));
    expect(files.every((f) => ["part_0", "part_1", "part_2"].includes(f))).toBe(true);
    const written = files.flatMap((f) => readFileSync(path.join(d, "out", f), "utf8").split("\n").filter(Boolean));
    expect(written.sort()).toEqual(["a1", "a2", "b1"]);
  });

  it("CSVSource yields one object per row", async () => {
    const d = tmp();
    writeFileSync(path.join(d, "in.csv"), 'name,qty\n"Smith, J",3\nDoe,"4"\n');
    const out: Record<string, string>[] = [];
    const flow = new Dataflow("test_df");
    op.output("out", op.input("inp", flow, new CSVSource(path.join(d, "in.csv"))), new TestingSink(out));
    await run(flow, { workers });
    expect(out).toEqual([{ name: "Smith, J", qty: "3" }, { name: "Doe", qty: "4" }]);
  });

  it("a non-string value into a FileSink is SINK_ERROR naming the step", async () => {
    const d = tmp();
    const flow = new Dataflow("f");
    const s = op.input("inp", flow, new TestingSource([["k", 1]] as [string, number][]));
    op.output("out", s as never, new FileSink(path.join(d, "out.txt")));
    await expect(run(flow, { workers })).rejects.toMatchObject({ code: "SINK_ERROR", stepId: "f.out" });
  });
});
