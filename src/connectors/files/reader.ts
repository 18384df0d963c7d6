// Local-file connectors: Reading: a file handle plus a growing window of bytes, read in chunks at explicit positions (so seeking is free).
import * as fsp from "node:fs/promises";
import { StatefulSourcePartition } from "../../inputs.js";

export const CHUNK_BYTES = 64 * 1024;
export const LF = 0x0a;
export const CR = 0x0d;

export class FileChunks {
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

export class LinePartition extends StatefulSourcePartition<string, number> {
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
