// What every worker does before its dataflow starts: agree on partitions and on the resume point.
import type { RecoveryConfig } from "../recovery.js";
import type { NativeWorker } from "./native.js";
import { gatherAll } from "./partitions.js";
import { openStore, storeError, WorkerRecovery, type ResumePoint } from "./recovery-state.js";
import type { WorkerRuntime } from "./worker-runtime.js";

interface Contribution {
  parts: Record<number, string[]>;
  /** Worker 0's reading of the store: the point every worker resumes from. */
  resume: ResumePoint | null;
}

/** Lists partitions, opens the store, gathers both across the cluster, restores state and builds partitions. */
export async function prepareWorkers(workers: readonly NativeWorker[], runtimes: readonly WorkerRuntime[], recovery: RecoveryConfig | undefined): Promise<void> {
  const stores = recovery ? runtimes.map(() => openStore(recovery.dbDir)) : [];
  const contributions: Contribution[] = [];
  for (const [i, rt] of runtimes.entries()) {
    let resume: ResumePoint | null = null;
    if (recovery && rt.info.workerIndex === 0) {
      try {
        resume = stores[i]!.resumeInfo();
        stores[i]!.beginExecution(resume.ex, resume.resumeEpoch, rt.info.workerCount);
      } catch (e) {
        throw storeError(e);
      }
    }
    contributions.push({ parts: await rt.listParts(), resume });
  }
  const all = (await gatherAll(workers, contributions))[0] as Contribution[];
  const point = all[0]!.resume;
  for (const [i, rt] of runtimes.entries()) {
    if (recovery && point) rt.recovery = new WorkerRecovery(stores[i]!, point, rt.info.workerIndex, rt.info.workerCount, recovery.backupIntervalMs);
    await rt.prepare(all.map((c) => c.parts));
  }
}
