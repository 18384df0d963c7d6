// Recovery (API.md §9): where snapshots go. The store itself is the engine's (crates/engine/src/recovery.rs).
import { existsSync, statSync } from "node:fs";
import { WeirError } from "./errors.js";
import { native } from "./runtime/native.js";
import { storeError } from "./runtime/recovery-state.js";

export class RecoveryConfig {
  readonly dbDir: string;
  readonly backupIntervalMs: number;
  constructor(dbDir: string, backupIntervalMs = 0) {
    if (typeof dbDir !== "string" || dbDir.length === 0) throw new WeirError("INVALID_ARGUMENT", "RecoveryConfig: 'dbDir' must be a non-empty path");
    if (typeof backupIntervalMs !== "number" || !(backupIntervalMs >= 0)) {
      throw new WeirError("INVALID_ARGUMENT", `RecoveryConfig: 'backupIntervalMs' must be a number ≥ 0, got ${String(backupIntervalMs)}`);
    }
    this.dbDir = dbDir;
    this.backupIntervalMs = backupIntervalMs;
  }
}

export async function initDbDir(dbDir: string, partCount: number): Promise<void> {
  if (!existsSync(dbDir) || !statSync(dbDir).isDirectory()) {
    throw new WeirError("RECOVERY_DIR_NOT_FOUND", `recovery directory '${dbDir}' does not exist: create it first`);
  }
  if (!Number.isInteger(partCount) || partCount < 1) throw new WeirError("INVALID_ARGUMENT", `'partCount' must be an integer ≥ 1, got ${String(partCount)}`);
  try {
    native.initRecoveryStore(dbDir, partCount);
  } catch (e) {
    throw storeError(e);
  }
}
