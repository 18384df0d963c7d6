// Bytewax 0.21.1's pytests/connectors/test_{files,stdio,demo}.py cases that go through run_main, run through the engine here with
// the same fixtures (written to a temp dir) and the same expected outputs. connectors-{files,stdio,demo}.test.ts drive the
// partitions directly.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RandomMetricSource } from "../src/connectors/demo.js";
import { StdOutSink } from "../src/connectors/stdio.js";
import { CSVSource, DirSink, DirSource, FileSink, FileSource } from "../src/connectors/files.js";
import { Dataflow, op, run, runMain, TestingSink, TestingSource } from "../src/index.js";

const DIR_INPUT: Record<string, string> = {
  "partition-1.txt": "one1\none2\none3\none4\none5\none6\n",
  "partition-2.txt": "two1\ntwo2\ntwo3\ntwo4\ntwo5\ntwo6\n",
  "partition-3.txt": "three1\nthree2\nthree3\nthree4\nthree5\nthree6\n",
  "partition-4.txt": "four1\nfour2\nfour3\nfour4\nfour5\nfour6\n",
  "partition-5.txt": "five1\nfive2\nfive3\nfive4\nfive5\nfive6\n",
};
const BLANK_LINES = "one\n\ntwo\n\n\nthree\nfour\n\nfive\n";
const METRICS_CSV = `index,timestamp,value,instance
0,2022-02-24 11:42:08,0.132,24ae8d
0,2022-02-24 11:42:08,0.066,c6585a
0,2022-02-24 11:42:08,42.652,ac20cd
0,2022-02-24 11:42:08,51.846,5f5533
0,2022-02-24 11:42:08,2.296,fe7f93
0,2022-02-24 11:42:08,1.732,53ea38
0,2022-02-24 11:42:08,91.958,825cc2
0,2022-02-24 11:42:08,0.068,77c1ca
`;

let tmp: string;
let fixtures: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "weir-files-bytewax-"));
  fixtures = path.join(tmp, "fixtures");
  fs.mkdirSync(path.join(fixtures, "dir_input"), { recursive: true });
  for (const [name, content] of Object.entries(DIR_INPUT)) fs.writeFileSync(path.join(fixtures, "dir_input", name), content);
  fs.writeFileSync(path.join(fixtures, "blank-lines.txt"), BLANK_LINES);
  fs.writeFileSync(path.join(fixtures, "metrics.csv"), METRICS_CSV);
});
afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

async function readAll<X>(source: FileSource | DirSource | CSVSource, workers = 1): Promise<X[]> {
  const out: X[] = [];
  const flow = new Dataflow("test_df");
  op.output("out", op.input("inp", flow, source as never), new TestingSink(out));
  await run(flow, { workers });
  return out;
}

describe("pytests/connectors/test_files.py (through the engine)", () => {
  it("test_dir_input", async () => {
    const out = await readAll<string>(new DirSource(path.join(fixtures, "dir_input")));
    for (const line of ["one1", "two1", "three1", "four1", "five1"]) expect(out).toContain(line);
    // weir's addition: every line of every file, each once, in file order within a file.
    expect(out).toHaveLength(30);
    expect(out.filter((l) => l.startsWith("three"))).toEqual(["three1", "three2", "three3", "three4", "three5", "three6"]);
  });

  it("test_dir_input with two workers reads each file once", async () => {
    const out = await readAll<string>(new DirSource(path.join(fixtures, "dir_input")), 2);
    expect(out.sort()).toEqual(Object.values(DIR_INPUT).flatMap((c) => c.trim().split("\n")).sort());
  });

  it("test_dir_input_raises_on_non_exist", () => {
    const p = path.join(fixtures, "bluster");
    expect(() => op.input("inp", new Dataflow("test_df"), new DirSource(p))).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: `input directory \`${p}\` does not exist` }));
  });

  it("test_dir_input_raises_on_file", () => {
    const p = path.join(fixtures, "dir_input", "partition-1.txt");
    expect(() => op.input("inp", new Dataflow("test_df"), new DirSource(p))).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: `input directory \`${p}\` is not a directory` }));
  });

  it("test_file_input", async () => {
    const out = await readAll<string>(new FileSource(path.join(fixtures, "dir_input", "partition-1.txt")));
    expect(out).toEqual(["one1", "one2", "one3", "one4", "one5", "one6"]);
  });

  it("test_file_input_supports_blank_lines", async () => {
    const out = await readAll<string>(new FileSource(path.join(fixtures, "blank-lines.txt")));
    expect(out).toEqual(["one", "", "two", "", "", "three", "four", "", "five"]);
  });

  it("test_csv_file_input", async () => {
    const out = await readAll<Record<string, string>>(new CSVSource(path.join(fixtures, "metrics.csv")));
    expect(out).toEqual([
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "0.132", instance: "24ae8d" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "0.066", instance: "c6585a" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "42.652", instance: "ac20cd" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "51.846", instance: "5f5533" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "2.296", instance: "fe7f93" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "1.732", instance: "53ea38" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "91.958", instance: "825cc2" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "0.068", instance: "77c1ca" },
    ]);
  });

  it("test_file_output", async () => {
    const file = path.join(tmp, "out.txt");
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource<[string, string]>([["1", "1"], ["2", "2"], ["3", "3"]]));
    op.output("out", s, new FileSink(file));
    await runMain(flow);
    expect(fs.readFileSync(file, "utf8")).toBe("1\n2\n3\n");
  });

  it("test_dir_output: assignFile routes each item to the file its key names", async () => {
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new TestingSource<[string, string]>([["0", "0"], ["1", "1"], ["2", "2"]]));
    op.output("out", s, new DirSink(tmp, 3, { assignFile: (k) => Number.parseInt(k, 10) }));
    await runMain(flow);
    expect(fs.readFileSync(path.join(tmp, "part_0"), "utf8")).toBe("0\n");
    expect(fs.readFileSync(path.join(tmp, "part_1"), "utf8")).toBe("1\n");
    expect(fs.readFileSync(path.join(tmp, "part_2"), "utf8")).toBe("2\n");
  });

  it("test_dir_output with two workers", async () => {
    const flow = new Dataflow("test_df");
    const items: [string, string][] = Array.from({ length: 9 }, (_, i) => [String(i), `v${i}`]);
    op.output("out", op.input("inp", flow, new TestingSource(items)), new DirSink(tmp, 3, { assignFile: (k) => Number.parseInt(k, 10) }));
    await run(flow, { workers: 2 });
    expect(fs.readFileSync(path.join(tmp, "part_0"), "utf8")).toBe("v0\nv3\nv6\n");
    expect(fs.readFileSync(path.join(tmp, "part_1"), "utf8")).toBe("v1\nv4\nv7\n");
    expect(fs.readFileSync(path.join(tmp, "part_2"), "utf8")).toBe("v2\nv5\nv8\n");
  });
});

describe("pytests/connectors/test_stdio.py (through the engine)", () => {
  it("test_std_output", async () => {
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation(((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    }) as typeof process.stdout.write);
    try {
      const flow = new Dataflow("test_df");
      op.output("out", op.input("inp", flow, new TestingSource(["a", "b"])), new StdOutSink());
      await runMain(flow);
    } finally {
      spy.mockRestore();
    }
    expect(chunks.join("")).toBe("a\nb\n");
  });
});

describe("pytests/connectors/test_demo.py (through the engine)", () => {
  it("test_random_metric_source", async () => {
    const out: [string, number][] = [];
    const flow = new Dataflow("test_df");
    const s = op.input("inp", flow, new RandomMetricSource("volts", { intervalMs: 0, count: 3, nextRandom: () => 42 }));
    op.output("out", s, new TestingSink(out));
    await runMain(flow);
    expect(out).toEqual([["volts", 42], ["volts", 42], ["volts", 42]]);
  });
});
