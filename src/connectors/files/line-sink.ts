// Local-file connectors: Writing
import * as fsp from "node:fs/promises";
import { WeirError } from "../../errors.js";
import { StatefulSinkPartition } from "../../outputs.js";

export class LineSinkPartition extends StatefulSinkPartition<string, number> {
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
