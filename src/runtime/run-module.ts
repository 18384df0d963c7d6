// runModule: one worker_threads Worker per local timely worker, so user code uses every core (API.md §8.1).
import { Worker } from "node:worker_threads";
import { WeirError } from "../errors.js";
import { rebuildError, type ErrorCopy } from "./errors-transfer.js";
import { moduleUrl } from "./load-flow.js";
import { native } from "./native.js";
import { checkOptions, createFabric, interrupted, type RunOptions, type RunResult } from "./run.js";
import type { ThreadData } from "./thread-entry.js";

/**
 * A worker's young generation: 96 MB (32 MB semi-spaces) instead of V8's 16 MB semi-spaces. A worker keeps a polled
 * round of items (up to 8,192) and its derived objects alive while it processes them; with small semi-spaces many of
 * them survive a scavenge or two and are promoted, to die in the old generation. Measured on the windowed benchmark at
 * one worker: scavenges 158 → 91, mark-compacts 5 → 2, ≈ 8 % less wall time; neutral on the other workloads
 * (benches/RESULTS.md). Costs up to ≈ 64 MB more RSS per worker while the heap is busy.
 */
const WORKER_RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 96 };

export interface RunModuleOptions extends RunOptions {
  exportName?: string;
  args?: unknown[];
  collect?: boolean;
}

const GRACE_MS = 5_000;

interface Thread {
  worker: Worker;
  /** Settles when the thread has exited. */
  exit: Promise<void>;
}

/** Waits for a thread to end on its own, terminating it after `graceMs`. */
async function exited(t: Thread, graceMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(() => void t.worker.terminate().then(() => resolve(), () => resolve()), graceMs);
  });
  await Promise.race([t.exit, grace]);
  clearTimeout(timer);
}

type ThreadOutcome = { ok: true; result: RunResult & { collected?: unknown[][] } } | { ok: false; error: unknown };

export async function runModule(module: string | URL, opts: RunModuleOptions = {}): Promise<RunResult & { collected?: unknown[][] }> {
  const o = checkOptions(new (await import("../dataflow.js")).Dataflow("check"), opts);
  if (opts.signal?.aborted) throw interrupted(opts.signal);
  const url = moduleUrl(module);
  const fabric = await createFabric(o);
  const threads: Thread[] = [];
  const onAbort = () => native.abortFabric(fabric);
  const onDrain = () => native.drainFabric(fabric);
  opts.signal?.addEventListener("abort", onAbort);
  opts.drainSignal?.addEventListener("abort", onDrain);
  if (opts.drainSignal?.aborted) onDrain();
  try {
    const outcomes = await Promise.all(Array.from({ length: o.workers }, (_, localIndex) => {
      const data: ThreadData = {
        fabric, localIndex, url, exportName: opts.exportName, args: opts.args ?? [], epochIntervalMs: o.epochIntervalMs, collect: opts.collect === true,
        recovery: opts.recovery ? { dbDir: opts.recovery.dbDir, backupIntervalMs: opts.recovery.backupIntervalMs } : undefined,
      };
      const t = new Worker(new URL("./thread-entry.js", import.meta.url), { workerData: data, resourceLimits: WORKER_RESOURCE_LIMITS });
      threads.push({ worker: t, exit: new Promise((resolve) => t.once("exit", () => resolve())) });
      return new Promise<ThreadOutcome>((resolve) => {
        let settled = false;
        t.on("message", (m: ThreadOutcome) => {
          settled = true;
          if (!m.ok) {
            native.abortFabric(fabric);
            m = { ok: false, error: rebuildError(m.error as ErrorCopy) };
          }
          resolve(m);
        });
        t.on("error", (e) => {
          native.abortFabric(fabric);
          if (!settled) resolve({ ok: false, error: e });
        });
        t.on("exit", (code) => {
          if (!settled) {
            native.abortFabric(fabric);
            resolve({ ok: false, error: new WeirError("INTERNAL", `worker thread ${localIndex} exited with code ${code} before finishing`) });
          }
        });
        // A thread stuck in user code after an abort is terminated after the grace period.
        opts.signal?.addEventListener("abort", () => setTimeout(() => void t.terminate(), GRACE_MS).unref());
      });
    }));
    if (opts.signal?.aborted) throw interrupted(opts.signal);
    const failed = outcomes.find((x): x is { ok: false; error: unknown } => !x.ok);
    if (failed) {
      const err = failed.error;
      throw err instanceof WeirError ? err : new WeirError("INTERNAL", `weir internal error: ${String((err as Error)?.message ?? err)}`, { cause: err });
    }
    const results = outcomes.map((x) => (x as { ok: true; result: RunResult & { collected?: unknown[][] } }).result);
    const out: RunResult & { collected?: unknown[][] } = {
      aborted: results.some((r) => r.aborted) || opts.drainSignal?.aborted === true,
      lastClosedEpoch: Math.max(0, ...results.map((r) => r.lastClosedEpoch)),
    };
    if (opts.collect) {
      const sinks = Math.max(0, ...results.map((r) => r.collected?.length ?? 0));
      out.collected = Array.from({ length: sinks }, (_, i) => results.flatMap((r) => r.collected?.[i] ?? []));
    }
    return out;
  } finally {
    opts.signal?.removeEventListener("abort", onAbort);
    opts.drainSignal?.removeEventListener("abort", onDrain);
    // Let threads end on their own so what they wrote to stdout is flushed; terminate stragglers.
    await Promise.all(threads.map((t) => exited(t, GRACE_MS)));
    native.releaseFabric(fabric);
  }
}
