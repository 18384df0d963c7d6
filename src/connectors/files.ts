// Local-file connectors (API.md §6): line and CSV sources that seek to a byte offset, line sinks that truncate on resume.
import * as fs from "node:fs";
import * as path from "node:path";
import { WeirError, invalidArgument } from "../errors.js";
import { FixedPartitionedSource, StatefulSourcePartition } from "../inputs.js";
import { FixedPartitionedSink, StatefulSinkPartition, adler32 } from "../outputs.js";
import { LinePartition } from "./files/reader.js";
import { type CsvDialect, CsvPartition } from "./files/csv.js";
import { LineSinkPartition } from "./files/line-sink.js";
import { type CompiledGlob, compileGlob, listFiles } from "./files/glob.js";
import { LazyFsId, checkGetFsId, checkPath, checkBatchSize, checkEnd, checkCsvChar, checkOffset, partPath, checkPartPath, nameFiles, isFile, isDirectory } from "./files/checks.js";

/** Options shared by the line and CSV sources. */
export interface FileSourceOptions {
  /** The most items per batch (default 1000). */
  batchSize?: number;
  /**
   * Called with the file's directory; returns an id of its filesystem that is the same on every worker that sees the same file and
   * across restarts (so each file is read once cluster-wide). Default: `"0x" + stat(dir).dev.toString(16)`. If every worker sees
   * identical files, return a constant, e.g. `() => "SHARED"`. MUST be synchronous and MUST NOT contain `::`.
   */
  getFsId?: (dir: string) => string;
}

export interface DirSourceOptions extends FileSourceOptions {
  /** Files to read, relative to the directory: `*`, `?`, `[…]`, `**` (default `"*"`: every file directly inside). */
  globPat?: string;
}

export interface CSVSourceOptions extends FileSourceOptions {
  /** Field separator, one character (default `","`). */
  delimiter?: string;
  /** Quote character, one character (default `'"'`); doubled inside a quoted field it stands for itself. */
  quote?: string;
}

export interface FileSinkOptions {
  /** Written after each value (default `"\n"`). */
  end?: string;
}

export interface DirSinkOptions extends FileSinkOptions {
  /** Name of file `i` of `fileCount` (default `part_${i}`). MUST be synchronous. */
  fileNamer?: (i: number, fileCount: number) => string;
  /** File index for an item key, wrapped modulo the partition count (default `adler32`). MUST be synchronous. */
  assignFile?: (key: string) => number;
}

/**
 * Reads a file line by line: UTF-8 lines without their trailing `\n` (a `\r` is kept; blank lines are items). The state is the
 * byte offset after the last line returned, so a resumed run, or a continuation of a grown file, seeks there.
 *
 * @example
 * const lines = op.input("lines", flow, new FileSource("data/events.log", { batchSize: 500 }));
 */
export class FileSource extends FixedPartitionedSource<string, number> {
  readonly #path: string;
  readonly #batchSize: number;
  readonly #fsId: LazyFsId;

  constructor(filePath: string, opts: FileSourceOptions = {}) {
    super();
    this.#path = checkPath("FileSource", "path", filePath);
    this.#batchSize = checkBatchSize("FileSource", opts.batchSize);
    this.#fsId = new LazyFsId(checkGetFsId("FileSource", opts.getFsId), path.dirname(filePath));
  }

  async listParts(): Promise<string[]> {
    return (await isFile(this.#path)) ? [`${this.#fsId.get()}::${this.#path}`] : [];
  }

  async buildPart(stepId: string, forPart: string, resumeState: number | undefined): Promise<StatefulSourcePartition<string, number>> {
    checkPartPath(stepId, "FileSource", forPart, this.#path);
    return LinePartition.open(this.#path, this.#batchSize, checkOffset(stepId, "SOURCE_ERROR", resumeState));
  }
}

/**
 * Reads every file of a directory that matches `globPat`, line by line as `FileSource` does. Each file is a partition, named
 * `${fsId}::${relativePath}`, so files are read in parallel and lines of different files interleave.
 *
 * @example
 * const lines = op.input("logs", flow, new DirSource("logs", { globPat: "**\/*.log" }));
 */
export class DirSource extends FixedPartitionedSource<string, number> {
  readonly #dirPath: string;
  readonly #glob: CompiledGlob;
  readonly #batchSize: number;
  readonly #fsId: string;

  constructor(dirPath: string, opts: DirSourceOptions = {}) {
    super();
    this.#dirPath = checkPath("DirSource", "dirPath", dirPath);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(dirPath);
    } catch {
      throw invalidArgument(`input directory \`${dirPath}\` does not exist`);
    }
    if (!stat.isDirectory()) throw invalidArgument(`input directory \`${dirPath}\` is not a directory`);
    const globPat = opts.globPat ?? "*";
    if (typeof globPat !== "string" || globPat === "") throw invalidArgument(`DirSource: 'globPat' must be a non-empty string`);
    try {
      this.#glob = compileGlob(globPat);
    } catch (err) {
      throw new WeirError("INVALID_ARGUMENT", `DirSource: invalid 'globPat' ${JSON.stringify(globPat)}: ${(err as Error).message}`, { cause: err });
    }
    this.#batchSize = checkBatchSize("DirSource", opts.batchSize);
    this.#fsId = new LazyFsId(checkGetFsId("DirSource", opts.getFsId), dirPath).get();
  }

  async listParts(): Promise<string[]> {
    if (!(await isDirectory(this.#dirPath))) return [];
    const relPaths = await listFiles(this.#dirPath, this.#glob);
    return relPaths.map((rel) => `${this.#fsId}::${rel}`);
  }

  async buildPart(stepId: string, forPart: string, resumeState: number | undefined): Promise<StatefulSourcePartition<string, number>> {
    const rel = partPath(stepId, "DirSource", forPart);
    return LinePartition.open(path.join(this.#dirPath, rel), this.#batchSize, checkOffset(stepId, "SOURCE_ERROR", resumeState));
  }
}

/**
 * Reads an RFC 4180 CSV file row by row as plain objects keyed by the header row (quoted fields may hold delimiters, doubled quotes
 * and newlines; `\n`, `\r\n` and `\r` end rows; blank lines are skipped). A row whose field count differs from the header's is a
 * `SOURCE_ERROR`. The state is the byte offset after the last row returned.
 *
 * @example
 * // index,timestamp,value\n0,2022-02-24 11:42:08,0.132  →  { index: "0", timestamp: "2022-02-24 11:42:08", value: "0.132" }
 * const rows = op.input("rows", flow, new CSVSource("metrics.csv"));
 */
export class CSVSource extends FixedPartitionedSource<Record<string, string>, number> {
  readonly #path: string;
  readonly #batchSize: number;
  readonly #fsId: LazyFsId;
  readonly #dialect: CsvDialect;

  constructor(filePath: string, opts: CSVSourceOptions = {}) {
    super();
    this.#path = checkPath("CSVSource", "path", filePath);
    this.#batchSize = checkBatchSize("CSVSource", opts.batchSize);
    this.#fsId = new LazyFsId(checkGetFsId("CSVSource", opts.getFsId), path.dirname(filePath));
    const delimiter = checkCsvChar("delimiter", opts.delimiter ?? ",");
    const quote = checkCsvChar("quote", opts.quote ?? '"');
    if (delimiter === quote) throw invalidArgument(`CSVSource: 'delimiter' and 'quote' must differ`);
    this.#dialect = { delimiter: Buffer.from(delimiter, "utf8"), quote: Buffer.from(quote, "utf8"), quoteText: quote };
  }

  async listParts(): Promise<string[]> {
    return (await isFile(this.#path)) ? [`${this.#fsId.get()}::${this.#path}`] : [];
  }

  async buildPart(stepId: string, forPart: string, resumeState: number | undefined): Promise<StatefulSourcePartition<Record<string, string>, number>> {
    checkPartPath(stepId, "CSVSource", forPart, this.#path);
    return CsvPartition.open(stepId, this.#path, this.#batchSize, this.#dialect, checkOffset(stepId, "SOURCE_ERROR", resumeState));
  }
}

/**
 * Writes the string values of `[key, value]` items to one file, each followed by `end`. A fresh run starts the file empty; a resumed
 * run truncates it to the snapshotted offset, so a finite flow's output is exactly-once. Values MUST be strings (`SINK_ERROR`).
 *
 * @example
 * op.output("out", op.map("fmt", s, (x) => ["", JSON.stringify(x)] as [string, string]), new FileSink("out.jsonl"));
 */
export class FileSink extends FixedPartitionedSink<string, number> {
  readonly #path: string;
  readonly #end: string;

  constructor(filePath: string, opts: FileSinkOptions = {}) {
    super();
    this.#path = checkPath("FileSink", "path", filePath);
    this.#end = checkEnd("FileSink", opts.end);
  }

  listParts(): string[] {
    return [this.#path];
  }

  override partFn(_itemKey: string): number {
    return 0;
  }

  async buildPart(stepId: string, forPart: string, resumeState: number | undefined): Promise<StatefulSinkPartition<string, number>> {
    if (forPart !== this.#path) {
      throw new WeirError("SINK_ERROR", `FileSink in step '${stepId}' writes '${this.#path}'; it can't build partition '${forPart}'`, { stepId });
    }
    return LineSinkPartition.open(stepId, this.#path, checkOffset(stepId, "SINK_ERROR", resumeState), this.#end);
  }
}

/**
 * Writes the string values of `[key, value]` items to `fileCount` files in `dirPath`: the value of key `k` goes to file
 * `assignFile(k)` (modulo the partition count), each file is a partition, and each behaves like a `FileSink`.
 *
 * @example
 * op.output("out", keyedStrings, new DirSink("out", 4, { fileNamer: (i, n) => `part-${i}-of-${n}.txt` }));
 */
export class DirSink extends FixedPartitionedSink<string, number> {
  readonly #dirPath: string;
  readonly #fileNames: string[];
  readonly #fileNameSet: Set<string>;
  readonly #assignFile: (key: string) => number;
  readonly #end: string;

  constructor(dirPath: string, fileCount: number, opts: DirSinkOptions = {}) {
    super();
    this.#dirPath = checkPath("DirSink", "dirPath", dirPath);
    if (!Number.isSafeInteger(fileCount) || fileCount < 1) throw invalidArgument(`DirSink: 'fileCount' must be a positive integer; got ${String(fileCount)}`);
    const fileNamer = opts.fileNamer ?? ((i: number) => `part_${i}`);
    if (typeof fileNamer !== "function") throw invalidArgument(`DirSink: 'fileNamer' must be a function`);
    this.#fileNames = nameFiles(fileNamer, fileCount);
    this.#fileNameSet = new Set(this.#fileNames);
    const assignFile = opts.assignFile ?? adler32;
    if (typeof assignFile !== "function") throw invalidArgument(`DirSink: 'assignFile' must be a function`);
    this.#assignFile = assignFile;
    this.#end = checkEnd("DirSink", opts.end);
  }

  listParts(): string[] {
    return [...this.#fileNames];
  }

  override partFn(itemKey: string): number {
    return this.#assignFile(itemKey);
  }

  async buildPart(stepId: string, forPart: string, resumeState: number | undefined): Promise<StatefulSinkPartition<string, number>> {
    if (!this.#fileNameSet.has(forPart)) {
      throw new WeirError("SINK_ERROR", `DirSink in step '${stepId}' has no file named '${forPart}'`, { stepId });
    }
    const filePath = path.join(this.#dirPath, forPart);
    return LineSinkPartition.open(stepId, filePath, checkOffset(stepId, "SINK_ERROR", resumeState), this.#end);
  }
}
