// A worker_threads Worker running one timely worker of a runModule execution (API.md §8.1).
import { parentPort, workerData } from "node:worker_threads";
import { TestingSink } from "../testing/sources.js";
import { drive, Waker } from "./drive.js";
import { copyError } from "./errors-transfer.js";
import { loadFlow } from "./load-flow.js";
import { native } from "./native.js";
import { checkFlow } from "./plan.js";
import { prepareWorkers } from "./setup.js";
import { RecoveryConfig } from "../recovery.js";
import { WorkerRuntime } from "./worker-runtime.js";

export interface ThreadData {
  fabric: number;
  localIndex: number;
  url: string;
  exportName: string | undefined;
  args: unknown[];
  epochIntervalMs: number;
  collect: boolean;
  recovery: { dbDir: string; backupIntervalMs: number } | undefined;
}

async function main(d: ThreadData) {
  const flow = await loadFlow(d.url, d.exportName, d.args);
  checkFlow(flow);
  const worker = native.NativeWorker.claim(d.fabric, d.localIndex);
  const waker = new Waker();
  const runtime = new WorkerRuntime(flow, { workerIndex: worker.index, workerCount: worker.peers, localWorkers: new Set([worker.index]) },
    {
      wake: waker.wake,
      abortExecution: () => native.abortExecutionFabric(d.fabric),
      draining: () => native.fabricDraining(d.fabric),
      abortingExecution: () => native.fabricAbortingExecution(d.fabric),
    });
  try {
    await prepareWorkers([worker], [runtime], d.recovery ? new RecoveryConfig(d.recovery.dbDir, d.recovery.backupIntervalMs) : undefined);
    runtime.attach(worker, d.epochIntervalMs);
    await drive([{ worker, runtime }], waker, worker.peers > 1 ? 1 : 50, () => false);
  } catch (e) {
    native.abortFabric(d.fabric);
    await runtime.close().catch(() => undefined);
    throw e;
  } finally {
    worker.close();
  }
  await runtime.close();
  if (runtime.failure !== undefined) throw runtime.failure;
  const collected = d.collect
    ? flow._steps.flatMap((s) => (s.def.kind === "output" && s.def.sink instanceof TestingSink ? [s.def.sink.out] : []))
    : undefined;
  return { aborted: runtime.aborted, lastClosedEpoch: runtime.lastClosedEpoch, collected };
}

main(workerData as ThreadData).then(
  (result) => parentPort!.postMessage({ ok: true, result }),
  (e) => parentPort!.postMessage({ ok: false, error: copyError(e) }),
);
