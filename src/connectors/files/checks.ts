// Local-file connectors: Option checks and small helpers
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { WeirError, describe, invalidArgument } from "../../errors.js";
import { isPromiseLike } from "../../types.js";

/** Calls `getFsId` once, when first needed (a file source's directory may not exist on every worker), and checks its result. */
export class LazyFsId {
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

export function defaultFsId(dir: string): string {
  return "0x" + fs.statSync(dir).dev.toString(16);
}

export function checkGetFsId(cls: string, getFsId: ((dir: string) => string) | undefined): (dir: string) => string {
  if (getFsId === undefined) return defaultFsId;
  if (typeof getFsId !== "function") throw invalidArgument(`${cls}: 'getFsId' must be a function`);
  return getFsId;
}

export function checkPath(cls: string, name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw invalidArgument(`${cls}: '${name}' must be a non-empty string`);
  return value;
}

export function checkBatchSize(cls: string, batchSize: number | undefined): number {
  const size = batchSize ?? 1000;
  if (!Number.isSafeInteger(size) || size < 1) throw invalidArgument(`${cls}: 'batchSize' must be a positive integer; got ${String(size)}`);
  return size;
}

export function checkEnd(cls: string, end: string | undefined): string {
  const value = end ?? "\n";
  if (typeof value !== "string") throw invalidArgument(`${cls}: 'end' must be a string`);
  return value;
}

export function checkCsvChar(name: string, value: unknown): string {
  if (typeof value !== "string" || [...value].length !== 1 || value === "\n" || value === "\r") {
    throw invalidArgument(`CSVSource: '${name}' must be one character other than CR or LF; got ${JSON.stringify(value)}`);
  }
  return value;
}

export function checkOffset(stepId: string, code: "SOURCE_ERROR" | "SINK_ERROR", resumeState: unknown): number {
  if (resumeState === undefined) return 0;
  if (typeof resumeState !== "number" || !Number.isSafeInteger(resumeState) || resumeState < 0) {
    throw new WeirError(code, `step '${stepId}': resume state ${String(resumeState)} is not a byte offset`, { stepId });
  }
  return resumeState;
}

export function partPath(stepId: string, cls: string, forPart: string): string {
  const sep = forPart.indexOf("::");
  if (sep < 0) throw new WeirError("SOURCE_ERROR", `${cls} in step '${stepId}': partition '${forPart}' is not '<fsId>::<path>'`, { stepId });
  return forPart.slice(sep + 2);
}

export function checkPartPath(stepId: string, cls: string, forPart: string, expected: string): void {
  if (partPath(stepId, cls, forPart) !== expected) {
    throw new WeirError("SOURCE_ERROR", `${cls} in step '${stepId}' reads '${expected}'; it can't build partition '${forPart}'`, { stepId });
  }
}

export function nameFiles(fileNamer: (i: number, fileCount: number) => string, fileCount: number): string[] {
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

export async function isFile(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isFile();
  } catch {
    return false;
  }
}

export async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fsp.stat(p)).isDirectory();
  } catch {
    return false;
  }
}
