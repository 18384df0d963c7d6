// The stepping loop: steps this thread's workers in time slices and yields to the event loop between them.
import { setImmediate as immediate } from "node:timers/promises";
import { WeirError } from "../errors.js";
import { STEP_BUSY, STEP_FAILED, STEP_FINISHED, STEP_IDLE, type NativeWorker } from "./native.js";
import type { WorkerRuntime } from "./worker-runtime.js";

/** Work per turn of the event loop before yielding, so timers and I/O keep running. */
const SLICE_MS = 4;

/** Wakes the loop early when a Promise of user code settled. */
export class Waker {
  #resolve: (() => void) | undefined;
  wake = (): void => {
    const r = this.#resolve;
    this.#resolve = undefined;
    r?.();
  };
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.#resolve = undefined; resolve(); }, ms);
      this.#resolve = () => { clearTimeout(t); resolve(); };
    });
  }
}

export interface Stepped {
  worker: NativeWorker;
  runtime: WorkerRuntime;
}

/**
 * Steps until every worker finished. `maxIdleMs` bounds a sleep when data may arrive from workers
 * this thread does not step. Throws the first failure.
 */
export async function drive(workers: Stepped[], waker: Waker, maxIdleMs: number, stopped: () => boolean): Promise<void> {
  let active = [...workers];
  while (active.length > 0) {
    const sliceEnd = performance.now() + SLICE_MS;
    let busy = false;
    let idleMs = maxIdleMs;
    do {
      busy = false;
      for (const w of active) {
        const r = w.worker.step();
        if (r === STEP_BUSY) busy = true;
        else if (r === STEP_FINISHED) w.runtime.eof = true;
        else if (r === STEP_FAILED) throw failureOf(w);
        else if (r !== STEP_IDLE) idleMs = Math.min(idleMs, r);
        if (w.runtime.failure !== undefined) throw w.runtime.failure;
      }
      active = active.filter((w) => !w.runtime.eof);
    } while (busy && active.length > 0 && performance.now() < sliceEnd);
    if (stopped()) return;
    if (active.length === 0) break;
    if (busy || idleMs <= 0) await immediate();
    else await waker.wait(Math.max(1, Math.ceil(idleMs)));
  }
}

function failureOf(w: Stepped): unknown {
  if (w.runtime.failure !== undefined) return w.runtime.failure;
  const message = w.worker.failure ?? "unknown failure";
  if (message.startsWith("CLUSTER_ERROR: ")) {
    return new WeirError("CLUSTER_ERROR", `worker ${w.runtime.info.workerIndex}: ${message.slice("CLUSTER_ERROR: ".length)}`, { workerIndex: w.runtime.info.workerIndex });
  }
  return new WeirError("INTERNAL", `weir internal error on worker ${w.runtime.info.workerIndex}: ${message}`);
}
