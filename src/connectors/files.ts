// Local-file connectors (API.md §6): line and CSV sources that seek to a byte offset, line sinks that truncate on resume.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { WeirError, describe, invalidArgument } from "../errors.js";
import { FixedPartitionedSource, StatefulSourcePartition } from "../inputs.js";
import { FixedPartitionedSink, StatefulSinkPartition, adler32 } from "../outputs.js";
import { isPromiseLike } from "../types.js";

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

// ---------------------------------------------------------------------------------------------------------------------------------
// Reading: a file handle plus a growing window of bytes, read in chunks at explicit positions (so seeking is free).

const CHUNK_BYTES = 64 * 1024;
const LF = 0x0a;
const CR = 0x0d;

class FileChunks {
  /** The unread window: `data[0]` sits at file offset `#base`; `data` views `#buf`. */
  data: Buffer = Buffer.alloc(0);
  /** First unconsumed index of `data`. */
  pos = 0;
  /** The last read hit the end of the file. */
  eof = false;
  #buf: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  #base: number;
  #handle: fsp.FileHandle | undefined;
  readonly #path: string;

  private constructor(handle: fsp.FileHandle, filePath: string, offset: number) {
    this.#handle = handle;
    this.#path = filePath;
    this.#base = offset;
  }

  static async open(filePath: string, offset: number): Promise<FileChunks> {
    return new FileChunks(await fsp.open(filePath, "r"), filePath, offset);
  }

  /** File offset of the first unconsumed byte. */
  get offset(): number {
    return this.#base + this.pos;
  }

  /** Drops the window and continues reading at `offset`. */
  seek(offset: number): void {
    this.#base = offset;
    this.data = this.data.subarray(0, 0);
    this.pos = 0;
    this.eof = false;
  }

  /** Moves the unconsumed bytes to the front (growing the buffer when they fill half of it) and reads one more chunk after them. */
  async fill(): Promise<void> {
    if (this.#handle === undefined) throw new Error(`file '${this.#path}' is closed`);
    const keep = this.data.length - this.pos;
    let buf = this.#buf;
    if (keep > buf.length / 2) buf = Buffer.allocUnsafe(buf.length * 2);
    this.data.copy(buf, 0, this.pos);
    this.#buf = buf;
    this.#base += this.pos;
    this.pos = 0;
    const { bytesRead } = await this.#handle.read(buf, keep, buf.length - keep, this.#base + keep);
    if (bytesRead === 0) this.eof = true;
    this.data = buf.subarray(0, keep + bytesRead);
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    this.#handle = undefined;
    await handle?.close();
  }
}

class LinePartition extends StatefulSourcePartition<string, number> {
  readonly #file: FileChunks;
  readonly #batchSize: number;
  #done = false;

  private constructor(file: FileChunks, batchSize: number) {
    super();
    this.#file = file;
    this.#batchSize = batchSize;
  }

  static async open(filePath: string, batchSize: number, offset: number): Promise<LinePartition> {
    return new LinePartition(await FileChunks.open(filePath, offset), batchSize);
  }

  async nextBatch(): Promise<string[] | null> {
    if (this.#done) return null;
    const file = this.#file;
    const batch: string[] = [];
    while (batch.length < this.#batchSize) {
      const newline = file.data.indexOf(LF, file.pos);
      if (newline >= 0) {
        batch.push(file.data.toString("utf8", file.pos, newline));
        file.pos = newline + 1;
      } else if (!file.eof) {
        await file.fill();
      } else {
        // The last line may lack its `\n`.
        if (file.pos < file.data.length) batch.push(file.data.toString("utf8", file.pos));
        file.pos = file.data.length;
        this.#done = true;
        break;
      }
    }
    return batch.length === 0 && this.#done ? null : batch;
  }

  snapshot(): number {
    return this.#file.offset;
  }

  async close(): Promise<void> {
    await this.#file.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------------------------
// CSV

interface CsvDialect {
  delimiter: Buffer;
  quote: Buffer;
  quoteText: string;
}

/** The window ends inside the record: read more and parse it again. */
const NEED_MORE = 0;
/** No record left in the file. */
const END_OF_DATA = 1;
type CsvParse = typeof NEED_MORE | typeof END_OF_DATA | { fields: string[] | null /* null: blank line */; end: number };

class CsvPartition extends StatefulSourcePartition<Record<string, string>, number> {
  readonly #stepId: string;
  readonly #path: string;
  readonly #file: FileChunks;
  readonly #batchSize: number;
  readonly #dialect: CsvDialect;
  #header: string[] = [];
  #done = false;

  private constructor(stepId: string, filePath: string, file: FileChunks, batchSize: number, dialect: CsvDialect) {
    super();
    this.#stepId = stepId;
    this.#path = filePath;
    this.#file = file;
    this.#batchSize = batchSize;
    this.#dialect = dialect;
  }

  /** Reads the header from the start of the file, then moves to `offset` if that lies past it. */
  static async open(stepId: string, filePath: string, batchSize: number, dialect: CsvDialect, offset: number): Promise<CsvPartition> {
    const file = await FileChunks.open(filePath, 0);
    const part = new CsvPartition(stepId, filePath, file, batchSize, dialect);
    try {
      const header = await part.#nextRecord();
      part.#header = header?.fields ?? [];
      part.#done = header === null;
      if (header !== null && offset > file.offset) file.seek(offset);
      return part;
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  async nextBatch(): Promise<Record<string, string>[] | null> {
    if (this.#done) return null;
    const batch: Record<string, string>[] = [];
    while (batch.length < this.#batchSize) {
      const start = this.#file.offset;
      const rec = await this.#nextRecord();
      if (rec === null) {
        this.#done = true;
        break;
      }
      if (rec.fields.length !== this.#header.length) {
        throw new WeirError("SOURCE_ERROR",
          `CSVSource in step '${this.#stepId}': the row at byte ${start} of '${this.#path}' has ${rec.fields.length} fields; the header has ${this.#header.length}`,
          { stepId: this.#stepId });
      }
      batch.push(toRecord(this.#header, rec.fields));
    }
    return batch.length === 0 && this.#done ? null : batch;
  }

  /** The next non-blank record, or null at the end of the file. */
  async #nextRecord(): Promise<{ fields: string[] } | null> {
    const file = this.#file;
    for (;;) {
      let res: CsvParse;
      try {
        res = parseCsvRecord(file.data, file.pos, file.eof, this.#dialect);
      } catch (err) {
        throw new WeirError("SOURCE_ERROR", `CSVSource in step '${this.#stepId}': ${(err as Error).message} at byte ${file.offset} of '${this.#path}'`,
          { stepId: this.#stepId, cause: err });
      }
      if (res === END_OF_DATA) return null;
      if (res === NEED_MORE) {
        await file.fill();
        continue;
      }
      file.pos = res.end;
      if (res.fields !== null) return { fields: res.fields };
    }
  }

  snapshot(): number {
    return this.#file.offset;
  }

  async close(): Promise<void> {
    await this.#file.close();
  }
}

function toRecord(header: string[], fields: string[]): Record<string, string> {
  const row: Record<string, string> = {};
  for (let i = 0; i < header.length; i++) {
    const key = header[i]!;
    // A `__proto__` column must become an own property, not the prototype.
    if (key === "__proto__") Object.defineProperty(row, key, { value: fields[i]!, enumerable: true, writable: true, configurable: true });
    else row[key] = fields[i]!;
  }
  return row;
}

function startsWith(data: Buffer, at: number, seq: Buffer): boolean {
  if (at + seq.length > data.length) return false;
  for (let k = 0; k < seq.length; k++) if (data[at + k] !== seq[k]) return false;
  return true;
}

/** Index of the first delimiter, CR or LF at or after `from` (or `data.length`). */
function scanUnquoted(data: Buffer, from: number, delimiter: Buffer): number {
  const d0 = delimiter[0]!;
  for (let i = from; i < data.length; i++) {
    const b = data[i]!;
    if (b === LF || b === CR || (b === d0 && startsWith(data, i, delimiter))) return i;
  }
  return data.length;
}

/**
 * Parses the record that starts at `start`. Like Python's csv module (non-strict), text after a closing quote and quotes inside
 * unquoted fields are kept literally; an unterminated quoted field at the end of the file throws.
 */
function parseCsvRecord(data: Buffer, start: number, atEof: boolean, dialect: CsvDialect): CsvParse {
  const { delimiter, quote } = dialect;
  const n = data.length;
  if (start >= n) return atEof ? END_OF_DATA : NEED_MORE;
  if (data[start] === LF || data[start] === CR) {
    const end = lineEnd(data, start, atEof);
    return end === NEED_MORE ? NEED_MORE : { fields: null, end };
  }
  // A one-byte quote is searched for as a number, which is much faster than as a Buffer.
  const quoteNeedle: number | Buffer = quote.length === 1 ? quote[0]! : quote;
  const fields: string[] = [];
  let i = start;
  for (;;) {
    let value = "";
    if (startsWith(data, i, quote)) {
      i += quote.length;
      for (;;) {
        const close = data.indexOf(quoteNeedle, i);
        if (close < 0) {
          if (atEof) throw new Error("unterminated quoted field");
          return NEED_MORE;
        }
        const after = close + quote.length;
        if (after >= n && !atEof) return NEED_MORE; // the next byte decides whether the quote is doubled
        value += data.toString("utf8", i, close);
        if (startsWith(data, after, quote)) {
          value += dialect.quoteText;
          i = after + quote.length;
        } else {
          i = after;
          break;
        }
      }
    }
    const stop = scanUnquoted(data, i, delimiter);
    if (stop >= n && !atEof) return NEED_MORE;
    value += data.toString("utf8", i, stop);
    fields.push(value);
    i = stop;
    if (i >= n) return { fields, end: n };
    if (data[i] === LF || data[i] === CR) {
      const end = lineEnd(data, i, atEof);
      return end === NEED_MORE ? NEED_MORE : { fields, end };
    }
    i += delimiter.length;
  }
}

/** The index after the line end (`\n`, `\r\n` or `\r`) at `i`. */
function lineEnd(data: Buffer, i: number, atEof: boolean): number | typeof NEED_MORE {
  if (data[i] === LF) return i + 1;
  if (i + 1 < data.length) return data[i + 1] === LF ? i + 2 : i + 1;
  return atEof ? i + 1 : NEED_MORE;
}

// ---------------------------------------------------------------------------------------------------------------------------------
// Writing

class LineSinkPartition extends StatefulSinkPartition<string, number> {
  readonly #stepId: string;
  readonly #path: string;
  readonly #end: string;
  #handle: fsp.FileHandle | undefined;
  #offset: number;

  private constructor(stepId: string, filePath: string, handle: fsp.FileHandle, offset: number, end: string) {
    super();
    this.#stepId = stepId;
    this.#path = filePath;
    this.#handle = handle;
    this.#offset = offset;
    this.#end = end;
  }

  /** Opens for appending after truncating to `offset` (0 on a fresh run, which starts the file empty, as Bytewax does). */
  static async open(stepId: string, filePath: string, offset: number, end: string): Promise<LineSinkPartition> {
    const handle = await fsp.open(filePath, "a");
    try {
      await handle.truncate(offset);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return new LineSinkPartition(stepId, filePath, handle, offset, end);
  }

  async writeBatch(values: string[]): Promise<void> {
    const handle = this.#open();
    for (const value of values as unknown[]) {
      if (typeof value !== "string") {
        const cause = new TypeError(`a file sink value must be a string; got ${value === null ? "null" : typeof value}`);
        throw new WeirError("SINK_ERROR", `step '${this.#stepId}' can't write to '${this.#path}': ${cause.message} (map values to strings first)`,
          { stepId: this.#stepId, cause });
      }
    }
    if (values.length === 0) return;
    const bytes = Buffer.from(values.join(this.#end) + this.#end, "utf8");
    let written = 0;
    while (written < bytes.length) {
      const res = await handle.write(bytes, written, bytes.length - written);
      written += res.bytesWritten;
    }
    this.#offset += bytes.length;
  }

  async snapshot(): Promise<number> {
    await this.#open().sync();
    return this.#offset;
  }

  async close(): Promise<void> {
    const handle = this.#handle;
    if (handle === undefined) return;
    this.#handle = undefined;
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  #open(): fsp.FileHandle {
    if (this.#handle === undefined) throw new Error(`file sink partition '${this.#path}' of step '${this.#stepId}' is closed`);
    return this.#handle;
  }
}

// ---------------------------------------------------------------------------------------------------------------------------------
// Globs: `*` and `?` within one path segment, `[…]` classes (`!` or `^` negates), `**` as a whole segment for any depth.

interface CompiledGlob {
  regex: RegExp;
  /** How many path segments a match can have (Infinity with `**`). */
  maxDepth: number;
}

function compileGlob(pattern: string): CompiledGlob {
  const segments = pattern.replace(/^(\.\/)+/, "").split("/").filter((s) => s !== "");
  let source = "";
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    if (seg === "**") {
      source += last ? ".*" : "(?:[^/]*/)*";
    } else {
      source += segmentRegex(seg) + (last ? "" : "/");
    }
  });
  return { regex: new RegExp(`^${source}$`, "s"), maxDepth: segments.includes("**") ? Infinity : segments.length };
}

function segmentRegex(seg: string): string {
  let out = "";
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[") {
      const cls = classRegex(seg, i);
      if (cls === null) out += "\\[";
      else {
        out += cls.regex;
        i = cls.end;
      }
    } else out += c.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
  }
  return out;
}

/** The class starting at `seg[open] === "["`, or null if it is never closed (then `[` is literal). */
function classRegex(seg: string, open: number): { regex: string; end: number } | null {
  let i = open + 1;
  const negate = seg[i] === "!" || seg[i] === "^";
  if (negate) i++;
  let body = "";
  // A `]` right after the opening (or its negation) is a member.
  if (seg[i] === "]") {
    body += "\\]";
    i++;
  }
  for (; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === "]") return { regex: negate ? `[^/${body}]` : `[${body}]`, end: i };
    body += c === "-" ? "-" : c.replace(/[\\^[\]]/g, "\\$&");
  }
  return null;
}

/** Regular files under `root` whose relative path (with `/`) matches, sorted. Symlinks to files count; directory symlinks are not followed. */
async function listFiles(root: string, glob: CompiledGlob): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, rel: string, depth: number): Promise<void> => {
    const entries = await fsp.readdir(dir, { withFileTypes: true });
    for (const entry of entries) {
      const relPath = rel === "" ? entry.name : `${rel}/${entry.name}`;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (depth + 1 < glob.maxDepth) await walk(full, relPath, depth + 1);
      } else if ((entry.isFile() || (entry.isSymbolicLink() && (await isFile(full)))) && glob.regex.test(relPath)) {
        found.push(relPath);
      }
    }
  };
  await walk(root, "", 0);
  return found.sort();
}

// ---------------------------------------------------------------------------------------------------------------------------------
// Option checks and small helpers

/** Calls `getFsId` once, when first needed (a file source's directory may not exist on every worker), and checks its result. */
class LazyFsId {
  #id: string | undefined;
  constructor(readonly getFsId: (dir: string) => string, readonly dir: string) {}

  get(): string {
    if (this.#id !== undefined) return this.#id;
    let id: unknown;
    try {
      id = this.getFsId(this.dir);
    } catch (err) {
      if (err instanceof WeirError) throw err;
      throw new WeirError("CALLBACK_ERROR", `error calling 'getFsId' for '${this.dir}': ${describe(err)}`, { cause: err });
    }
    if (typeof id !== "string") {
      const what = isPromiseLike(id) ? "a Promise; it must be synchronous" : `${typeof id}, not a string`;
      const cause = new TypeError(`'getFsId' returned ${what}`);
      throw new WeirError("INVALID_RETURN", cause.message, { cause });
    }
    if (id.includes("::")) throw invalidArgument(`the result of 'getFsId' must not contain '::'; got ${JSON.stringify(id)}`);
    this.#id = id;
    return id;
  }
}

function defaultFsId(dir: string): string {
  return "0x" + fs.statSync(dir).dev.toString(16);
}

function checkGetFsId(cls: string, getFsId: ((dir: string) => string) | undefined): (dir: string) => string {
  if (getFsId === undefined) return defaultFsId;
  if (typeof getFsId !== "function") throw invalidArgument(`${cls}: 'getFsId' must be a function`);
  return getFsId;
}

function checkPath(cls: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw invalidArgument(`${cls}: '${name}' must be a non-empty string`);
  return value;
}

function checkBatchSize(cls: string, batchSize: number | undefined): number {
  const size = batchSize ?? 1000;
  if (!Number.isSafeInteger(size) || size < 1) throw invalidArgument(`${cls}: 'batchSize' must be a positive integer; got ${String(size)}`);
  return size;
}

function checkEnd(cls: string, end: string | undefined): string {
  const value = end ?? "\n";
  if (typeof value !== "string") throw invalidArgument(`${cls}: 'end' must be a string`);
  return value;
}

function checkCsvChar(name: string, value: unknown): string {
  if (typeof value !== "string" || [...value].length !== 1 || value === "\n" || value === "\r") {
    throw invalidArgument(`CSVSource: '${name}' must be one character other than CR or LF; got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkOffset(stepId: string, code: "SOURCE_ERROR" | "SINK_ERROR", resumeState: unknown): number {
  if (resumeState === undefined) return 0;
  if (typeof resumeState !== "number" || !Number.isSafeInteger(resumeState) || resumeState < 0) {
    throw new WeirError(code, `step '${stepId}': resume state ${String(resumeState)} is not a byte offset`, { stepId });
  }
  return resumeState;
}

function partPath(stepId: string, cls: string, forPart: string): string {
  const sep = forPart.indexOf("::");
  if (sep < 0) throw new WeirError("SOURCE_ERROR", `${cls} in step '${stepId}': partition '${forPart}' is not '<fsId>::<path>'`, { stepId });
  return forPart.slice(sep + 2);
}

function checkPartPath(stepId: string, cls: string, forPart: string, expected: string): void {
  if (partPath(stepId, cls, forPart) !== expected) {
    throw new WeirError("SOURCE_ERROR", `${cls} in step '${stepId}' reads '${expected}'; it can't build partition '${forPart}'`, { stepId });
  }
}

function nameFiles(fileNamer: (i: number, fileCount: number) => string, fileCount: number): string[] {
  const names: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < fileCount; i++) {
    const name: unknown = fileNamer(i, fileCount);
    if (typeof name !== "string" || name === "") {
      const what = isPromiseLike(name) ? "a Promise; it must be synchronous" : `${JSON.stringify(name) ?? typeof name}, not a non-empty string`;
      const cause = new TypeError(`'fileNamer' returned ${what}`);
      throw new WeirError("INVALID_RETURN", `DirSink: ${cause.message}`, { cause });
    }
    if (seen.has(name)) throw invalidArgument(`DirSink: 'fileNamer' returned '${name}' for two files`);
    seen.add(name);
    names.push(name);
  }
  return names;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}
