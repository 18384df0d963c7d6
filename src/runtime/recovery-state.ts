// One worker's side of recovery: the state it restored, and the snapshots it writes at each epoch close.
import v8 from "node:v8";
import { WeirError, type WeirErrorCode } from "../errors.js";
import { native } from "./native.js";

type NativeStore = InstanceType<typeof native.NativeStore>;

/** Maps a store error (`CODE: message`) onto a WeirError. */
export function storeError(e: unknown): WeirError {
  const message = (e as Error)?.message ?? String(e);
  const m = /^(RECOVERY_[A-Z_]+|INTERNAL): (.*)$/s.exec(message);
  return new WeirError((m?.[1] ?? "INTERNAL") as WeirErrorCode, m?.[2] ?? message, { cause: e });
}

export function openStore(dbDir: string): NativeStore {
  try {
    return native.NativeStore.open(dbDir);
  } catch (e) {
    throw storeError(e);
  }
}

/** Where this execution starts, agreed by all workers (worker 0's reading of the store). */
export interface ResumePoint {
  ex: number;
  resumeEpoch: number;
}

export class WorkerRecovery {
  /** Restored state by step id, then key (partition name for sources and sinks). */
  readonly restored = new Map<string, Map<string, unknown>>();
  #rows: { stepId: string; key: string; ser: Buffer | null }[] = [];
  #written = 0;
  #history: { epoch: number; at: number }[] = [];
  #collected = 0;

  constructor(
    readonly store: NativeStore, readonly point: ResumePoint, readonly workerIndex: number, readonly workerCount: number,
    readonly backupIntervalMs: number,
  ) {
    this.#written = point.resumeEpoch;
    let rows;
    try {
      rows = store.load(point.resumeEpoch);
    } catch (e) {
      throw storeError(e);
    }
    for (const r of rows) {
      let state: unknown;
      try {
        state = v8.deserialize(r.ser);
      } catch (e) {
        throw new WeirError("SERIALIZATION", `could not restore the state of '${r.stateKey}' in step '${r.stepId}'`, { cause: e, stepId: r.stepId });
      }
      let byKey = this.restored.get(r.stepId);
      if (!byKey) this.restored.set(r.stepId, (byKey = new Map()));
      byKey.set(r.stateKey, state);
    }
  }

  /** Records the state of `key` in `stepId` as of the epoch being closed (`undefined`: deleted). */
  record(stepId: string, key: string, state: unknown, deleted = false): void {
    let ser: Buffer | null = null;
    if (!deleted) {
      try {
        ser = v8.serialize(state);
      } catch (e) {
        throw new WeirError("SERIALIZATION", `could not snapshot the state of '${key}' in step '${stepId}': ${(e as Error).message}`, { cause: e, stepId });
      }
    }
    this.#rows.push({ stepId, key, ser });
  }

  get lastWritten(): number {
    return this.#written;
  }

  /** Writes everything recorded as the state at the end of `epoch`, then this worker's front. */
  flush(epoch: number): void {
    if (epoch <= this.#written) return;
    const rows = this.#rows;
    this.#rows = [];
    try {
      this.store.write(this.point.ex, this.workerIndex, epoch, rows.map((r) => r.stepId), rows.map((r) => r.key), rows.map((r) => r.ser), Date.now());
    } catch (e) {
      throw storeError(e);
    }
    this.#written = epoch;
    this.#history.push({ epoch, at: Date.now() });
    if (this.workerIndex === 0) this.collectGarbage();
  }

  /** Deletes versions superseded more than `backupIntervalMs` ago (worker 0 does it for the cluster). */
  private collectGarbage(): void {
    const all = this.store.completedByAll(this.point.ex, this.workerCount);
    if (all === null) return;
    const cutoff = Date.now() - this.backupIntervalMs;
    const old = this.#history.filter((h) => h.at <= cutoff && h.epoch <= all);
    const before = old.length > 0 ? old[old.length - 1]!.epoch : 0;
    if (before <= this.#collected) return;
    this.#history = this.#history.filter((h) => h.epoch >= before);
    this.store.collectGarbage(before);
    this.#collected = before;
  }
}
