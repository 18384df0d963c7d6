import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CSVSource, DirSink, DirSource, FileSink, FileSource } from "../src/connectors/files.js";
import { adler32 } from "../src/outputs.js";

// Bytewax's pytests/fixtures, written into a temp dir per test.
const PARTITION_1 = "one1\none2\none3\none4\none5\none6\n";
const DIR_INPUT: Record<string, string> = {
  "partition-1.txt": PARTITION_1,
  "partition-2.txt": "two1\ntwo2\ntwo3\ntwo4\ntwo5\ntwo6\n",
  "partition-3.txt": "three1\nthree2\nthree3\nthree4\nthree5\nthree6\n",
  "partition-4.txt": "four1\nfour2\nfour3\nfour4\nfour5\nfour6\n",
  "partition-5.txt": "five1\nfive2\nfive3\nfive4\nfive5\nfive6\n",
};
const BLANK_LINES = "one\n\ntwo\n\n\nthree\nfour\n\nfive\n";
const METRICS_CSV = [
  "index,timestamp,value,instance",
  "0,2022-02-24 11:42:08,0.132,24ae8d",
  "0,2022-02-24 11:42:08,0.066,c6585a",
  "0,2022-02-24 11:42:08,42.652,ac20cd",
  "0,2022-02-24 11:42:08,51.846,5f5533",
  "0,2022-02-24 11:42:08,2.296,fe7f93",
  "0,2022-02-24 11:42:08,1.732,53ea38",
  "0,2022-02-24 11:42:08,91.958,825cc2",
  "0,2022-02-24 11:42:08,0.068,77c1ca",
].join("\n") + "\n";

type Part<X> = { nextBatch(): unknown; snapshot(): unknown; close(): unknown };

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "weir-files-"));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

function write(rel: string, content: string | Buffer): string {
  const p = path.join(tmp, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}

async function next<X>(part: Part<X>): Promise<X[] | null> {
  const batch = (await part.nextBatch()) as Iterable<X> | null;
  return batch === null ? null : Array.from(batch);
}

/** Every item until EOF, and the batch sizes seen. */
async function drain<X>(part: Part<X>): Promise<{ items: X[]; sizes: number[] }> {
  const items: X[] = [];
  const sizes: number[] = [];
  for (;;) {
    const batch = await next(part);
    if (batch === null) return { items, sizes };
    sizes.push(batch.length);
    for (const x of batch) items.push(x);
  }
}

const SHARED = { getFsId: () => "SHARED" };
const devOf = (p: string): string => "0x" + fs.statSync(p).dev.toString(16);

describe("FileSource (ported from Bytewax test_files.py)", () => {
  it("test_file_input: reads lines without their newline", async () => {
    const file = write("dir_input/partition-1.txt", PARTITION_1);
    const src = new FileSource(file);
    const [part] = await src.listParts();
    const p = await src.buildPart("test", part!, undefined);
    expect((await drain(p)).items).toEqual(["one1", "one2", "one3", "one4", "one5", "one6"]);
    await p.close();
  });

  it("test_file_input_supports_blank_lines", async () => {
    const file = write("blank-lines.txt", BLANK_LINES);
    const p = await new FileSource(file, SHARED).buildPart("test", `SHARED::${file}`, undefined);
    expect((await drain(p)).items).toEqual(["one", "", "two", "", "", "three", "four", "", "five"]);
    await p.close();
  });

  it("test_file_input_resume_state", async () => {
    const file = write("dir_input/partition-1.txt", PARTITION_1);
    let inp = new FileSource(file, { batchSize: 1, getFsId: () => "SHARED" });
    let part = await inp.buildPart("test", `SHARED::${file}`, undefined);
    expect(await next(part)).toEqual(["one1"]);
    expect(await next(part)).toEqual(["one2"]);
    const resumeState = await part.snapshot();
    expect(await next(part)).toEqual(["one3"]);
    expect(await next(part)).toEqual(["one4"]);
    await part.close();

    inp = new FileSource(file, { batchSize: 1, getFsId: () => "SHARED" });
    part = await inp.buildPart("test", `SHARED::${file}`, resumeState);
    expect(await part.snapshot()).toBe(resumeState);
    expect(await next(part)).toEqual(["one3"]);
    expect(await next(part)).toEqual(["one4"]);
    expect(await next(part)).toEqual(["one5"]);
    expect(await next(part)).toEqual(["one6"]);
    expect(await next(part)).toBeNull();
    await part.close();
  });
});

describe("FileSource", () => {
  it("names its one partition fsId::path, with the directory's device by default", async () => {
    const file = write("a.txt", "x\n");
    expect(await new FileSource(file).listParts()).toEqual([`${devOf(tmp)}::${file}`]);
    const seen: string[] = [];
    const src = new FileSource(file, { getFsId: (dir) => (seen.push(dir), "fs1") });
    expect(await src.listParts()).toEqual([`fs1::${file}`]);
    expect(seen).toEqual([tmp]);
  });

  it("keeps the path as given", async () => {
    const file = write("a.txt", "x\n");
    const asGiven = `./${path.relative(process.cwd(), file)}`;
    expect(await new FileSource(asGiven, SHARED).listParts()).toEqual([`SHARED::${asGiven}`]);
    const p = await new FileSource(asGiven, SHARED).buildPart("s", `SHARED::${asGiven}`, undefined);
    expect(await next(p)).toEqual(["x"]);
    await p.close();
  });

  it("lists nothing where the file does not exist (or is a directory)", async () => {
    expect(await new FileSource(path.join(tmp, "missing.txt")).listParts()).toEqual([]);
    expect(await new FileSource(path.join(tmp, "no-dir", "missing.txt")).listParts()).toEqual([]);
    fs.mkdirSync(path.join(tmp, "d"));
    expect(await new FileSource(path.join(tmp, "d")).listParts()).toEqual([]);
  });

  it("checks what getFsId returns", async () => {
    const file = write("a.txt", "x\n");
    await expect(new FileSource(file, { getFsId: () => "a::b" }).listParts()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
    const asyncId = (() => Promise.resolve("x")) as unknown as (dir: string) => string;
    await expect(new FileSource(file, { getFsId: asyncId }).listParts()).rejects.toMatchObject({ code: "INVALID_RETURN" });
    const boom = new Error("boom");
    await expect(new FileSource(file, { getFsId: () => { throw boom; } }).listParts()).rejects.toMatchObject({ code: "CALLBACK_ERROR", cause: boom });
  });

  it("rejects bad options", () => {
    for (const batchSize of [0, -3, 2.5, NaN]) {
      expect(() => new FileSource("x.txt", { batchSize })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
    expect(() => new FileSource("")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("refuses to build another file's partition", async () => {
    const file = write("a.txt", "x\n");
    await expect(new FileSource(file).buildPart("s", "SHARED::other.txt", undefined)).rejects.toMatchObject({ code: "SOURCE_ERROR", stepId: "s" });
  });

  it("keeps \\r, emits a last line without \\n, and ends an empty file at once", async () => {
    const crlf = write("crlf.txt", "a\r\nb\r\n\r\nlast");
    let p = await new FileSource(crlf, SHARED).buildPart("s", `SHARED::${crlf}`, undefined);
    expect((await drain(p)).items).toEqual(["a\r", "b\r", "\r", "last"]);
    expect(await p.snapshot()).toBe(fs.statSync(crlf).size);
    await p.close();

    const empty = write("empty.txt", "");
    p = await new FileSource(empty, SHARED).buildPart("s", `SHARED::${empty}`, undefined);
    expect(await next(p)).toBeNull();
    expect(await p.snapshot()).toBe(0);
    await p.close();
  });

  it("caps batches at batchSize and reads a big file in chunks, across UTF-8 sequences", async () => {
    const lines = Array.from({ length: 50_000 }, (_, i) => `${i} héllo wörld ☃ 🦀 ${"x".repeat(i % 37)}`);
    const file = write("big.txt", lines.join("\n") + "\n");
    const p = await new FileSource(file, { ...SHARED, batchSize: 1000 }).buildPart("s", `SHARED::${file}`, undefined);
    const { items, sizes } = await drain(p);
    expect(items).toEqual(lines);
    expect(sizes.every((n) => n === 1000)).toBe(true);
    expect(await p.snapshot()).toBe(fs.statSync(file).size);
    await p.close();
  });

  it("reads a line longer than the read chunk", async () => {
    const long = "é".repeat(300_000);
    const file = write("long.txt", `a\n${long}\nb`);
    const p = await new FileSource(file, SHARED).buildPart("s", `SHARED::${file}`, undefined);
    expect((await drain(p)).items).toEqual(["a", long, "b"]);
    await p.close();
  });

  it("snapshots the byte offset after the last line returned, and resumes from every one of them", async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => (i % 5 === 0 ? "" : `line ${i} ✓`));
    const content = lines.join("\n") + "\n";
    const file = write("r.txt", content);
    const src = new FileSource(file, { ...SHARED, batchSize: 700 });
    const p = await src.buildPart("s", `SHARED::${file}`, undefined);
    const states: [number, number][] = [];
    let seen = 0;
    for (;;) {
      const batch = await next<string>(p);
      if (batch === null) break;
      seen += batch.length;
      const offset = (await p.snapshot()) as number;
      expect(offset).toBe(Buffer.byteLength(lines.slice(0, seen).map((l) => l + "\n").join("")));
      states.push([offset, seen]);
    }
    await p.close();
    for (const [offset, count] of states) {
      const resumed = await src.buildPart("s", `SHARED::${file}`, offset);
      expect((await drain(resumed)).items).toEqual(lines.slice(count));
      await resumed.close();
    }
  });

  it("continues a grown file from its EOF snapshot", async () => {
    const file = write("grow.txt", "a\nb\n");
    const src = new FileSource(file, SHARED);
    let p = await src.buildPart("s", `SHARED::${file}`, undefined);
    expect((await drain(p)).items).toEqual(["a", "b"]);
    const eofState = await p.snapshot();
    await p.close();
    fs.appendFileSync(file, "c\nd\n");
    p = await src.buildPart("s", `SHARED::${file}`, eofState as number);
    expect((await drain(p)).items).toEqual(["c", "d"]);
    await p.close();
  });

  it("rejects a resume state that is not an offset", async () => {
    const file = write("a.txt", "x\n");
    await expect(new FileSource(file, SHARED).buildPart("s", `SHARED::${file}`, -1)).rejects.toMatchObject({ code: "SOURCE_ERROR" });
  });
});

describe("DirSource (ported from Bytewax test_files.py)", () => {
  it("test_dir_input: one partition per file; every file is read", async () => {
    for (const [name, content] of Object.entries(DIR_INPUT)) write(`dir_input/${name}`, content);
    const dir = path.join(tmp, "dir_input");
    const src = new DirSource(dir);
    const parts = await src.listParts();
    expect(parts).toEqual(Object.keys(DIR_INPUT).map((name) => `${devOf(dir)}::${name}`));
    const out: string[] = [];
    for (const part of parts) {
      const p = await src.buildPart("test", part, undefined);
      out.push(...(await drain<string>(p)).items);
      await p.close();
    }
    for (const first of ["one1", "two1", "three1", "four1", "five1"]) expect(out).toContain(first);
    expect(out).toHaveLength(30);
  });

  it("test_dir_input_raises_on_non_exist", () => {
    const dir = path.join(tmp, "bluster");
    expect(() => new DirSource(dir)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: `input directory \`${dir}\` does not exist` }));
  });

  it("test_dir_input_raises_on_file", () => {
    const file = write("dir_input/partition-1.txt", PARTITION_1);
    expect(() => new DirSource(file)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT", message: `input directory \`${file}\` is not a directory` }));
  });
});

describe("DirSource", () => {
  const tree = ["a.txt", "b.txt", "c.log", ".hidden.txt", "ab.txt", "x1.txt", "x2.txt", "xz.txt", "sub/d.txt", "sub/deep/e.txt", "sub/deep/f.log"];
  const names = async (globPat: string): Promise<string[]> =>
    (await new DirSource(tmp, { globPat, getFsId: () => "F" }).listParts()).map((p) => p.slice("F::".length));

  beforeEach(() => {
    for (const rel of tree) write(rel, `${rel}\n`);
    fs.mkdirSync(path.join(tmp, "empty-dir"));
  });

  it("matches files, not directories, directly inside with the default '*' (dotfiles included, sorted)", async () => {
    expect(await names("*")).toEqual([".hidden.txt", "a.txt", "ab.txt", "b.txt", "c.log", "x1.txt", "x2.txt", "xz.txt"]);
  });

  it("supports ?, […], [!…] and literal characters", async () => {
    expect(await names("?.txt")).toEqual(["a.txt", "b.txt"]);
    expect(await names("x[0-9].txt")).toEqual(["x1.txt", "x2.txt"]);
    expect(await names("x[!0-9].txt")).toEqual(["xz.txt"]);
    expect(await names("x[^12].txt")).toEqual(["xz.txt"]);
    expect(await names("*.log")).toEqual(["c.log"]);
    expect(await names("a.txt")).toEqual(["a.txt"]);
    expect(await names("a+txt")).toEqual([]);
  });

  it("supports ** for any depth, including none", async () => {
    expect(await names("**/*.txt")).toEqual([".hidden.txt", "a.txt", "ab.txt", "b.txt", "sub/d.txt", "sub/deep/e.txt", "x1.txt", "x2.txt", "xz.txt"]);
    expect(await names("sub/**/*.log")).toEqual(["sub/deep/f.log"]);
    expect(await names("sub/*")).toEqual(["sub/d.txt"]);
    expect(await names("sub/**")).toEqual(["sub/d.txt", "sub/deep/e.txt", "sub/deep/f.log"]);
    expect(await names("**")).toHaveLength(tree.length);
  });

  it("names partitions fsId::relativePath and reads files in subdirectories", async () => {
    const src = new DirSource(tmp, { globPat: "sub/**/*.txt", batchSize: 1 });
    const parts = await src.listParts();
    expect(parts).toEqual([`${devOf(tmp)}::sub/d.txt`, `${devOf(tmp)}::sub/deep/e.txt`]);
    const p = await src.buildPart("s", parts[1]!, undefined);
    expect(await next(p)).toEqual(["sub/deep/e.txt"]);
    expect(await next(p)).toBeNull();
    await p.close();
  });

  it("calls getFsId with the directory at construction and checks the result", () => {
    const seen: string[] = [];
    new DirSource(tmp, { getFsId: (dir) => (seen.push(dir), "id") });
    expect(seen).toEqual([tmp]);
    expect(() => new DirSource(tmp, { getFsId: () => "a::b" })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("lists nothing once the directory is gone", async () => {
    const dir = path.join(tmp, "sub");
    const src = new DirSource(dir);
    fs.rmSync(dir, { recursive: true });
    expect(await src.listParts()).toEqual([]);
  });

  it("rejects a bad glob or batch size", () => {
    expect(() => new DirSource(tmp, { globPat: "[z-a]" })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => new DirSource(tmp, { globPat: "" })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => new DirSource(tmp, { batchSize: 0 })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("treats an unclosed [ literally", async () => {
    write("[x.txt", "q\n");
    expect(await names("[x.txt")).toEqual(["[x.txt"]);
  });
});

describe("CSVSource (ported from Bytewax test_files.py)", () => {
  it("test_csv_file_input: rows as objects keyed by the header", async () => {
    const file = write("metrics.csv", METRICS_CSV);
    const src = new CSVSource(file);
    const [part] = await src.listParts();
    expect(part).toBe(`${devOf(tmp)}::${file}`);
    const p = await src.buildPart("test", part!, undefined);
    const { items } = await drain(p);
    expect(items).toEqual([
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "0.132", instance: "24ae8d" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "0.066", instance: "c6585a" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "42.652", instance: "ac20cd" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "51.846", instance: "5f5533" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "2.296", instance: "fe7f93" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "1.732", instance: "53ea38" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "91.958", instance: "825cc2" },
      { index: "0", timestamp: "2022-02-24 11:42:08", value: "0.068", instance: "77c1ca" },
    ]);
    expect(Object.getPrototypeOf(items[0])).toBe(Object.prototype);
    await p.close();
  });
});

describe("CSVSource", () => {
  async function readCsv(content: string | Buffer, opts: ConstructorParameters<typeof CSVSource>[1] = {}): Promise<Record<string, string>[]> {
    const file = write(`t${Math.random().toString(36).slice(2)}.csv`, content);
    const p = await new CSVSource(file, { ...SHARED, ...opts }).buildPart("csv", `SHARED::${file}`, undefined);
    try {
      return (await drain(p)).items;
    } finally {
      await p.close();
    }
  }

  it("handles quotes, doubled quotes, delimiters and newlines inside quotes (RFC 4180)", async () => {
    const csv = 'a,b,c\r\n"x, y","say ""hi""","line1\r\nline2"\r\n"",plain,"\n"\r\n';
    expect(await readCsv(csv)).toEqual([
      { a: "x, y", b: 'say "hi"', c: "line1\r\nline2" },
      { a: "", b: "plain", c: "\n" },
    ]);
  });

  it("accepts \\n, \\r\\n and \\r line ends, a missing final newline, and empty fields", async () => {
    expect(await readCsv("a,b\n1,2\r\n3,4\r5,\n,\n6,7")).toEqual([
      { a: "1", b: "2" }, { a: "3", b: "4" }, { a: "5", b: "" }, { a: "", b: "" }, { a: "6", b: "7" },
    ]);
  });

  it("skips blank lines, before the header too", async () => {
    expect(await readCsv("\n\r\na,b\n\n1,2\r\n\r\n\n3,4\n\n")).toEqual([{ a: "1", b: "2" }, { a: "3", b: "4" }]);
  });

  it("keeps text after a closing quote and quotes inside unquoted fields, like Python's csv", async () => {
    expect(await readCsv('a,b\n"x"y,a"b\n')).toEqual([{ a: "xy", b: 'a"b' }]);
  });

  it("supports other delimiters and quotes", async () => {
    expect(await readCsv("a;b\n'x;y';'it''s'\n", { delimiter: ";", quote: "'" })).toEqual([{ a: "x;y", b: "it's" }]);
    expect(await readCsv("a\tb\n1\t\"2\"\n", { delimiter: "\t" })).toEqual([{ a: "1", b: "2" }]);
    expect(await readCsv("a¦b\n«x¦y«¦«z««»«\n", { delimiter: "¦", quote: "«" })).toEqual([{ a: "x¦y", b: "z«»" }]);
  });

  it("fails a ragged row with SOURCE_ERROR", async () => {
    await expect(readCsv("a,b\n1,2\n3\n")).rejects.toMatchObject({ name: "WeirError", code: "SOURCE_ERROR", stepId: "csv" });
    await expect(readCsv("a,b\n1,2,3\n")).rejects.toMatchObject({ code: "SOURCE_ERROR", message: expect.stringMatching(/3 fields; the header has 2/) });
  });

  it("fails an unterminated quoted field with SOURCE_ERROR", async () => {
    await expect(readCsv('a,b\n1,"2\n')).rejects.toMatchObject({ code: "SOURCE_ERROR", message: expect.stringMatching(/unterminated/) });
  });

  it("ends an empty or header-only file at once", async () => {
    expect(await readCsv("")).toEqual([]);
    expect(await readCsv("a,b,c\n")).toEqual([]);
    expect(await readCsv("a,b,c")).toEqual([]);
  });

  it("makes a __proto__ column an own property", async () => {
    const [row] = await readCsv("__proto__,x\nevil,1\n");
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.keys(row!)).toEqual(["__proto__", "x"]);
    expect(Object.getOwnPropertyDescriptor(row, "__proto__")?.value).toBe("evil");
  });

  it("reads quoted fields and rows that span read chunks", async () => {
    const big = `${"q,".repeat(40_000)}"${'""'.repeat(10_000)}\n`;
    const rows = Array.from({ length: 5000 }, (_, i) => ({ id: String(i), text: i % 1000 === 0 ? big : `row ${i} ü` }));
    const csv = "id,text\n" + rows.map((r) => `${r.id},"${r.text.replace(/"/g, '""')}"`).join("\n") + "\n";
    expect(await readCsv(csv, { batchSize: 333 })).toEqual(rows);
  });

  it("snapshots the byte offset after the last row and resumes there", async () => {
    const file = write("r.csv", "a,b\n1,2\n\n\"3\n\",4\n5,6\n");
    const src = new CSVSource(file, { ...SHARED, batchSize: 1 });
    let p = await src.buildPart("s", `SHARED::${file}`, undefined);
    expect(await p.snapshot()).toBe(4); // after the header
    expect(await next(p)).toEqual([{ a: "1", b: "2" }]);
    const state = (await p.snapshot()) as number;
    expect(state).toBe(8);
    expect(await next(p)).toEqual([{ a: "3\n", b: "4" }]);
    await p.close();

    p = await src.buildPart("s", `SHARED::${file}`, state);
    expect(await p.snapshot()).toBe(state);
    expect((await drain(p)).items).toEqual([{ a: "3\n", b: "4" }, { a: "5", b: "6" }]);
    expect(await p.snapshot()).toBe(fs.statSync(file).size);
    await p.close();
  });

  it("rejects bad dialect options", () => {
    for (const opts of [{ delimiter: "" }, { delimiter: ";;" }, { quote: "\n" }, { delimiter: "\r" }, { delimiter: "'", quote: "'" }]) {
      expect(() => new CSVSource("x.csv", opts)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });

  it("lists its partition only where the file exists", async () => {
    expect(await new CSVSource(path.join(tmp, "missing.csv")).listParts()).toEqual([]);
  });
});

describe("FileSink (ported from Bytewax test_files.py)", () => {
  it("test_file_output: writes each value and a newline", async () => {
    const file = path.join(tmp, "out.txt");
    const sink = new FileSink(file);
    const parts = await sink.listParts();
    expect(parts).toEqual([file]);
    const p = await sink.buildPart("test", parts[0]!, undefined);
    // The engine routes [key, value] by partFn and hands the partition values.
    expect(["1", "2", "3"].map((k) => sink.partFn(k))).toEqual([0, 0, 0]);
    await p.writeBatch(["1", "2", "3"]);
    await p.close();
    expect(fs.readFileSync(file, "utf8")).toBe("1\n2\n3\n");
  });

  it("test_file_output_resume_state: resuming truncates to the snapshot", async () => {
    const file = path.join(tmp, "out.txt");
    let out = new FileSink(file);
    let part = await out.buildPart("test", file, undefined);
    await part.writeBatch(["one1"]);
    await part.writeBatch(["one2"]);
    await part.writeBatch(["one3"]);
    const resumeState = await part.snapshot();
    await part.writeBatch(["one4"]);
    await part.close();

    out = new FileSink(file);
    part = await out.buildPart("test", file, resumeState);
    expect(await part.snapshot()).toBe(resumeState);
    await part.writeBatch(["two4"]);
    await part.writeBatch(["two5"]);
    await part.close();

    expect(fs.readFileSync(file, "utf8")).toBe("one1\none2\none3\ntwo4\ntwo5\n");
  });
});

describe("FileSink", () => {
  it("starts a fresh run with an empty file, as Bytewax does", async () => {
    const file = write("out.txt", "old\ncontent\n");
    const p = await new FileSink(file).buildPart("s", file, undefined);
    await p.writeBatch(["new"]);
    await p.close();
    expect(fs.readFileSync(file, "utf8")).toBe("new\n");
  });

  it("snapshots the byte offset (UTF-8) and writes `end` after each value", async () => {
    const file = path.join(tmp, "out.txt");
    const p = await new FileSink(file, { end: "\r\n" }).buildPart("s", file, undefined);
    expect(await p.snapshot()).toBe(0);
    await p.writeBatch(["é", "", "🦀"]);
    await p.writeBatch([]);
    expect(await p.snapshot()).toBe(Buffer.byteLength("é\r\n\r\n🦀\r\n"));
    await p.close();
    expect(fs.readFileSync(file, "utf8")).toBe("é\r\n\r\n🦀\r\n");
  });

  it("supports an empty end", async () => {
    const file = path.join(tmp, "out.txt");
    const p = await new FileSink(file, { end: "" }).buildPart("s", file, undefined);
    await p.writeBatch(["a", "b"]);
    await p.close();
    expect(fs.readFileSync(file, "utf8")).toBe("ab");
  });

  it("fails a non-string value with SINK_ERROR and writes nothing of that batch", async () => {
    const file = path.join(tmp, "out.txt");
    const p = await new FileSink(file).buildPart("s", file, undefined);
    await p.writeBatch(["ok"]);
    await expect(p.writeBatch(["a", 42 as unknown as string])).rejects.toMatchObject({
      name: "WeirError", code: "SINK_ERROR", stepId: "s", cause: expect.any(TypeError),
    });
    await p.close();
    expect(fs.readFileSync(file, "utf8")).toBe("ok\n");
  });

  it("is closable once and says so when used after close", async () => {
    const file = path.join(tmp, "out.txt");
    const p = await new FileSink(file).buildPart("s", file, undefined);
    await p.close();
    await p.close();
    await expect(async () => p.writeBatch(["x"])).rejects.toThrow(/closed/);
  });

  it("refuses another partition name and a bad resume state", async () => {
    const file = path.join(tmp, "out.txt");
    await expect(new FileSink(file).buildPart("s", "other.txt", undefined)).rejects.toMatchObject({ code: "SINK_ERROR" });
    await expect(new FileSink(file).buildPart("s", file, 1.5)).rejects.toMatchObject({ code: "SINK_ERROR" });
    expect(() => new FileSink(file, { end: 1 as unknown as string })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("DirSink (ported from Bytewax test_files.py)", () => {
  it("test_dir_output: assignFile picks the file", async () => {
    const sink = new DirSink(tmp, 3, { assignFile: (k) => Number.parseInt(k, 10) });
    const parts = await sink.listParts();
    expect(parts).toEqual(["part_0", "part_1", "part_2"]);
    // What the engine does: [k, v] → sortedParts[mod(partFn(k), N)].
    const byPart = new Map<string, string[]>();
    for (const [k, v] of [["0", "0"], ["1", "1"], ["2", "2"]] as const) {
      const name = [...parts].sort()[sink.partFn(k) % parts.length]!;
      byPart.set(name, [...(byPart.get(name) ?? []), v]);
    }
    for (const [name, values] of byPart) {
      const p = await sink.buildPart("test", name, undefined);
      await p.writeBatch(values);
      await p.close();
    }
    expect(fs.readFileSync(path.join(tmp, "part_0"), "utf8")).toBe("0\n");
    expect(fs.readFileSync(path.join(tmp, "part_1"), "utf8")).toBe("1\n");
    expect(fs.readFileSync(path.join(tmp, "part_2"), "utf8")).toBe("2\n");
  });
});

describe("DirSink", () => {
  it("names files with fileNamer and routes keys with adler32 by default", async () => {
    const sink = new DirSink(tmp, 2, { fileNamer: (i, n) => `out-${i}-of-${n}.txt` });
    expect(await sink.listParts()).toEqual(["out-0-of-2.txt", "out-1-of-2.txt"]);
    expect(sink.partFn("hello")).toBe(adler32("hello"));
    expect(new DirSink(tmp, 1).partFn("k")).toBe(adler32("k"));
  });

  it("truncates each file to its own snapshot on resume", async () => {
    const sink = new DirSink(tmp, 2, { end: ";" });
    const a = await sink.buildPart("s", "part_0", undefined);
    const b = await sink.buildPart("s", "part_1", undefined);
    await a.writeBatch(["a1"]);
    await b.writeBatch(["b1", "b2"]);
    const states = [await a.snapshot(), await b.snapshot()];
    await a.writeBatch(["a2"]);
    await b.writeBatch(["b3"]);
    await a.close();
    await b.close();

    const a2 = await sink.buildPart("s", "part_0", states[0]);
    const b2 = await sink.buildPart("s", "part_1", states[1]);
    await a2.writeBatch(["A"]);
    await a2.close();
    await b2.close();
    expect(fs.readFileSync(path.join(tmp, "part_0"), "utf8")).toBe("a1;A;");
    expect(fs.readFileSync(path.join(tmp, "part_1"), "utf8")).toBe("b1;b2;");
  });

  it("rejects bad arguments", () => {
    for (const n of [0, -1, 1.5]) expect(() => new DirSink(tmp, n)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => new DirSink(tmp, 2, { fileNamer: () => "same" })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    const asyncNamer = (async () => "x") as unknown as (i: number, n: number) => string;
    expect(() => new DirSink(tmp, 2, { fileNamer: asyncNamer })).toThrow(expect.objectContaining({ code: "INVALID_RETURN" }));
  });

  it("refuses a partition it does not have", async () => {
    await expect(new DirSink(tmp, 2).buildPart("s", "part_7", undefined)).rejects.toMatchObject({ code: "SINK_ERROR" });
  });

  it("fails a non-string value with SINK_ERROR", async () => {
    const p = await new DirSink(tmp, 1).buildPart("s", "part_0", undefined);
    await expect(p.writeBatch([{ not: "a string" } as unknown as string])).rejects.toMatchObject({ code: "SINK_ERROR" });
    await p.close();
  });
});
