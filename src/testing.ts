// Testing tools (API.md §7).
import type { Dataflow } from "./dataflow.js";
import type { RecoveryConfig } from "./recovery.js";
import { run, type RunResult } from "./runtime/run.js";
export { TestingSource, TestingSink, TimeTestingGetter, pollNextBatch, type TestingSentinel } from "./testing/sources.js";

export interface RunMainOptions {
  epochIntervalMs?: number;
  recovery?: RecoveryConfig;
  signal?: AbortSignal;
}

/** Runs the flow on one worker on this thread. */
export function runMain(flow: Dataflow, opts: RunMainOptions = {}): Promise<RunResult> {
  return run(flow, { ...opts, workers: 1 });
}

/** Runs `workerCountPerProc` workers on this thread, alone (`addresses: []`) or as process `procId` of a cluster. */
export function clusterMain(
  flow: Dataflow, opts: RunMainOptions & { addresses: string[]; procId: number; workerCountPerProc?: number },
): Promise<RunResult> {
  const { addresses, procId, workerCountPerProc, ...rest } = opts;
  return run(flow, { ...rest, workers: workerCountPerProc ?? 1, addresses, procId });
}
