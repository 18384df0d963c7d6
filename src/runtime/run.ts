// run / runMain / clusterMain: every local worker steps on the calling JS thread (API.md §8).
import { Dataflow } from "../dataflow.js";
import { WeirError } from "../errors.js";
import { RecoveryConfig } from "../recovery.js";
import { drive, Waker } from "./drive.js";
import { native, type NativeWorker } from "./native.js";
import { checkFlow } from "./plan.js";
import { prepareWorkers } from "./setup.js";
import { WorkerRuntime, type RunHooks } from "./worker-runtime.js";

export interface RunOptions {
  workers?: number;
  epochIntervalMs?: number;
  recovery?: RecoveryConfig;
  addresses?: string[];
  procId?: number;
  signal?: AbortSignal;
  drainSignal?: AbortSignal;
  connectTimeoutMs?: number;
}

export interface RunResult {
  aborted: boolean;
  /** 0 when no epoch closed. */
  lastClosedEpoch: number;
}

export interface CheckedOptions {
  workers: number;
  epochIntervalMs: number;
  addresses: string[];
  procId: number;
  connectTimeoutMs: number;
}

export function checkOptions(flow: unknown, opts: RunOptions): CheckedOptions {
  if (!(flow instanceof Dataflow)) throw new WeirError("INVALID_CONFIG", `run needs a Dataflow, got ${typeof flow}`);
  const workers = opts.workers ?? 1;
  const epochIntervalMs = opts.epochIntervalMs ?? 10_000;
  const addresses = opts.addresses ?? [];
  const procId = opts.procId ?? 0;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 30_000;
  if (!Number.isInteger(workers) || workers < 1) throw new WeirError("INVALID_CONFIG", `'workers' must be an integer ≥ 1, got ${String(workers)}`);
  if (typeof epochIntervalMs !== "number" || !(epochIntervalMs >= 0)) {
    throw new WeirError("INVALID_CONFIG", `'epochIntervalMs' must be a number ≥ 0, got ${String(epochIntervalMs)}`);
  }
  if (!Array.isArray(addresses) || addresses.some((a) => typeof a !== "string")) {
    throw new WeirError("INVALID_CONFIG", "'addresses' must be an array of \"host:port\" strings");
  }
  if (!Number.isInteger(procId) || procId < 0 || (addresses.length > 0 ? procId >= addresses.length : procId !== 0)) {
    throw new WeirError("INVALID_CONFIG", addresses.length > 0
      ? `'procId' ${String(procId)} is not an index of the ${addresses.length} addresses`
      : `'procId' must be 0 without addresses, got ${String(procId)}`);
  }
  if (opts.recovery !== undefined && !(opts.recovery instanceof RecoveryConfig)) {
    throw new WeirError("INVALID_CONFIG", "'recovery' must be a RecoveryConfig");
  }
  return { workers, epochIntervalMs, addresses, procId, connectTimeoutMs };
}

/** Creates the communication fabric: local threads, or a connected cluster (CLUSTER_ERROR when peers are unreachable). */
export async function createFabric(o: CheckedOptions): Promise<number> {
  if (o.addresses.length === 0) return native.createProcessFabric(o.workers);
  try {
    return (await native.connectClusterFabric(o.workers, o.procId, o.addresses, o.connectTimeoutMs)) as number;
  } catch (e) {
    throw new WeirError("CLUSTER_ERROR", `process ${o.procId} could not join the cluster ${o.addresses.join(";")}: ${(e as Error).message}`, { cause: e });
  }
}

export function interrupted(signal: AbortSignal): WeirError {
  return new WeirError("INTERRUPTED", "the run was interrupted", { cause: signal.reason });
}

export function markRunning(flow: Dataflow): () => void {
  if (flow._running) throw new WeirError("ALREADY_RUNNING", `dataflow '${flow.flowId}' is already running`);
  flow._running = true;
  return () => { flow._running = false; };
}

export async function run(flow: Dataflow, opts: RunOptions = {}): Promise<RunResult> {
  const o = checkOptions(flow, opts);
  checkFlow(flow);
  if (opts.signal?.aborted) throw interrupted(opts.signal);
  const done = markRunning(flow);
  try {
    const fabric = await createFabric(o);
    let workers: NativeWorker[] = [];
    const runtimes: WorkerRuntime[] = [];
    const waker = new Waker();
    let stoppedBy: AbortSignal | undefined;
    const onAbort = () => {
      stoppedBy = opts.signal;
      native.abortFabric(fabric);
      waker.wake();
    };
    const onDrain = () => native.drainFabric(fabric);
    opts.signal?.addEventListener("abort", onAbort);
    opts.drainSignal?.addEventListener("abort", onDrain);
    if (opts.drainSignal?.aborted) onDrain();
    try {
      workers = native.NativeWorker.claimAll(fabric);
      const local = new Set(workers.map((w) => w.index));
      const hooks: RunHooks = {
        wake: waker.wake,
        abortExecution: () => native.abortExecutionFabric(fabric),
        draining: () => native.fabricDraining(fabric),
        abortingExecution: () => native.fabricAbortingExecution(fabric),
      };
      for (const w of workers) runtimes.push(new WorkerRuntime(flow, { workerIndex: w.index, workerCount: w.peers, localWorkers: local }, hooks));
      await prepareWorkers(workers, runtimes, opts.recovery);
      workers.forEach((w, i) => runtimes[i]!.attach(w, o.epochIntervalMs));
      const peersElsewhere = (workers[0]?.peers ?? 1) > workers.length;
      await drive(workers.map((worker, i) => ({ worker, runtime: runtimes[i]! })), waker, peersElsewhere ? 1 : 50, () => stoppedBy !== undefined);
      if (stoppedBy) throw interrupted(stoppedBy);
    } catch (e) {
      native.abortFabric(fabric);
      for (const rt of runtimes) await rt.close().catch(() => undefined);
      throw e;
    } finally {
      opts.signal?.removeEventListener("abort", onAbort);
      opts.drainSignal?.removeEventListener("abort", onDrain);
      for (const w of workers) w.close();
      native.releaseFabric(fabric);
    }
    for (const rt of runtimes) await rt.close();
    const failure = runtimes.find((rt) => rt.failure !== undefined)?.failure;
    if (failure !== undefined) throw failure;
    return {
      aborted: runtimes.some((rt) => rt.aborted) || opts.drainSignal?.aborted === true,
      lastClosedEpoch: Math.max(0, ...runtimes.map((rt) => rt.lastClosedEpoch)),
    };
  } finally {
    done();
  }
}
