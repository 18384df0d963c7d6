// Which worker builds each partition of a fixed-partitioned source or sink (API.md §5): every worker
// lists what it can reach, the lists are gathered, and every worker computes the same assignment.
import { WeirError } from "../errors.js";
import { setImmediate as immediate } from "node:timers/promises";
import type { NativeWorker } from "./native.js";

/** Least-shared partitions first, each to its least-loaded candidate (ties: the lowest worker index). */
export function assignPartitions(listsByWorker: readonly (readonly string[])[]): Map<string, number> {
  const candidates = new Map<string, number[]>();
  listsByWorker.forEach((parts, worker) => {
    for (const p of new Set(parts)) candidates.set(p, [...(candidates.get(p) ?? []), worker]);
  });
  const order = [...candidates].sort(([a, ca], [b, cb]) => ca.length - cb.length || (a < b ? -1 : a > b ? 1 : 0));
  const load = listsByWorker.map(() => 0);
  const owner = new Map<string, number>();
  for (const [part, workers] of order) {
    let best = workers[0]!;
    for (const w of workers) if (load[w]! < load[best]!) best = w;
    owner.set(part, best);
    load[best]!++;
  }
  return owner;
}

/** Gathers one JSON value from every worker stepped by this thread (all of them, round-robin). */
export async function gatherAll(workers: readonly NativeWorker[], contributions: readonly unknown[]): Promise<unknown[][]> {
  workers.forEach((w, i) => w.startGather(Buffer.from(JSON.stringify(contributions[i]))));
  const results: (unknown[] | undefined)[] = workers.map(() => undefined);
  for (;;) {
    workers.forEach((w, i) => {
      if (results[i] !== undefined) return;
      let r: Buffer[] | null;
      try {
        r = w.stepGather();
      } catch (e) {
        const message = (e as Error).message;
        if (message.startsWith("CLUSTER_ERROR: ")) throw new WeirError("CLUSTER_ERROR", message.slice(15), { cause: e });
        throw new WeirError("INTERRUPTED", `the run stopped while workers agreed on partitions: ${message}`, { cause: e });
      }
      if (r) results[i] = r.map((b) => JSON.parse(b.toString()) as unknown);
    });
    if (results.every((r) => r !== undefined)) return results as unknown[][];
    await immediate();
  }
}

