// Local-file connectors: CSV
import { WeirError } from "../../errors.js";
import { StatefulSourcePartition } from "../../inputs.js";
import { LF, CR, FileChunks } from "./reader.js";

export interface CsvDialect {
  delimiter: Buffer;
  quote: Buffer;
  quoteText: string;
}

/** The window ends inside the record: read more and parse it again. */
export const NEED_MORE = 0;
/** No record left in the file. */
export const END_OF_DATA = 1;
export type CsvParse = typeof NEED_MORE | typeof END_OF_DATA | { fields: string[] | null /* null: blank line */; end: number };

export class CsvPartition extends StatefulSourcePartition<Record<string, string>, number> {
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

export function toRecord(header: string[], fields: string[]): Record<string, string> {
  const row: Record<string, string> = {};
  for (let i = 0; i < header.length; i++) {
    const key = header[i]!;
    // A `__proto__` column must become an own property, not the prototype.
    if (key === "__proto__") Object.defineProperty(row, key, { value: fields[i]!, enumerable: true, writable: true, configurable: true });
    else row[key] = fields[i]!;
  }
  return row;
}

export function startsWith(data: Buffer, at: number, seq: Buffer): boolean {
  if (at + seq.length > data.length) return false;
  for (let k = 0; k < seq.length; k++) if (data[at + k] !== seq[k]) return false;
  return true;
}

/** Index of the first delimiter, CR or LF at or after `from` (or `data.length`). */
export function scanUnquoted(data: Buffer, from: number, delimiter: Buffer): number {
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
export function parseCsvRecord(data: Buffer, start: number, atEof: boolean, dialect: CsvDialect): CsvParse {
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
export function lineEnd(data: Buffer, i: number, atEof: boolean): number | typeof NEED_MORE {
  if (data[i] === LF) return i + 1;
  if (i + 1 < data.length) return data[i + 1] === LF ? i + 2 : i + 1;
  return atEof ? i + 1 : NEED_MORE;
}
