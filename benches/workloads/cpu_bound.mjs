// The CPU-bound scaling workload (benches/scaling.mjs): integers 0 … N−1 from the same two
// generated partitions as `stateless` (1,000 items per poll), a map that spends ≈ 20 µs of
// integer arithmetic per item, and a sink digest. Nothing is routed between workers, so with two
// workers each one works on its own partition and the ideal speed-up is 2×.
import { pathToFileURL } from "node:url";
import { statelessPart } from "./common.mjs";

/** Rounds of the mixing loop per item: ≈ 1.7 ns each on the 2-core reference machine, ≈ 20 µs per item. */
export const CPU_ITERS = 12_000;
export const CPU_N = 200_000;

/**
 * A chain of `iters` dependent multiply/xor/shift rounds seeded by x (nothing for the compiler to
 * skip or vectorise). Returns a uint32. `iters` is deliberately not a default parameter: with
 * `iters = CPU_ITERS` this loop ran at half speed once V8 inlined it into weir's per-item loop
 * (≈ 40 µs instead of 20 µs per item), while a bare loop calling it was unaffected.
 */
export function spin(x, iters) {
  let h = (x ^ 0x9e3779b9) | 0;
  for (let i = 0; i < iters; i++) h = (Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) + i) | 0;
  return h >>> 0;
}

/** Partition `part` (0 or 1) of the input: the same integers as the stateless workload. */
export const cpuPart = statelessPart;

/** Digest of the sink: item count and Σ spin(x) mod 2^32 (additive across workers). */
export class CpuDigest {
  constructor() { this.count = 0; this.hash = 0; }
  addBatch(items) {
    let h = this.hash;
    for (let i = 0; i < items.length; i++) h = (h + items[i]) >>> 0;
    this.hash = h;
    this.count += items.length;
  }
  fields() { return { count: String(this.count), hash: String(this.hash) }; }
}

export const cpuChecksum = (fields) => `count=${fields.count};hash=${fields.hash}`;

/** Merges the digest fields of several workers. */
export function mergeCpuFields(list) {
  let count = 0n, hash = 0n;
  for (const f of list) { count += BigInt(f.count); hash += BigInt(f.hash); }
  return { count: String(count), hash: String(hash % (1n << 32n)) };
}

/** Σ spin(x) mod 2^32 over from ≤ x < to, on this thread, with the time it took. */
export function spinRange(from, to, iters = CPU_ITERS) {
  const t0 = performance.now();
  let h = 0;
  for (let x = from; x < to; x++) h = (h + spin(x, iters)) >>> 0;
  return { fields: { count: String(Math.max(0, to - from)), hash: String(h) }, seconds: (performance.now() - t0) / 1000 };
}

/** The digest a correct run of n items produces, computed here on one thread (also the calibration). */
export function expectedCpu(n, iters = CPU_ITERS) {
  return spinRange(0, n, iters);
}

// Bare-loop baseline for scaling.mjs, one process per range:
//   node benches/workloads/cpu_bound.mjs <from> <to> [iters]   → {"workload":"cpu-bare","seconds":…,"digest":{…}}
if (process.argv[1] && pathToFileURL(process.argv[1]).href === import.meta.url) {
  const [from, to, iters] = process.argv.slice(2).map(Number);
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) throw new Error("usage: cpu_bound.mjs <from> <to> [iters]");
  const r = spinRange(from, to, Number.isSafeInteger(iters) ? iters : CPU_ITERS);
  process.stdout.write(JSON.stringify({ workload: "cpu-bare", from, to, seconds: r.seconds, digest: r.fields }) + "\n");
}
