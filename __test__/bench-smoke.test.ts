// Smoke test of the benchmark flows (benches/workloads/weir_flows.ts, weir_scaling.ts): each runs
// at a tiny N through runModule with 1 and 2 worker threads, and the merged digests of all workers
// must equal expectations computed here without weir. No Bytewax, no timing.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runModule } from "../dist/index.js";
// @ts-expect-error plain JavaScript module without type declarations
import * as C from "../benches/workloads/common.mjs";
// @ts-expect-error plain JavaScript module without type declarations
import { expectedCpu, mergeCpuFields, cpuChecksum } from "../benches/workloads/cpu_bound.mjs";

const FLOWS = new URL("../benches/workloads/weir_flows.ts", import.meta.url);
const SCALING = new URL("../benches/workloads/weir_scaling.ts", import.meta.url);
const tmp = mkdtempSync(path.join(os.tmpdir(), "weir-bench-smoke-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Fields = Record<string, string>;
interface Line { workload: string; n: number; checksum: string; digest: Fields; partial: boolean; worker: number; workers: number }

let fileNo = 0;
/** Runs one export with `{ resultFile }` and returns the parsed result lines (one per worker). */
async function runLines(url: URL, exportName: string, args: unknown[], workers: number): Promise<Line[]> {
  const resultFile = path.join(tmp, `result-${fileNo++}.jsonl`);
  const opts = { ...(args[1] as object | undefined), resultFile };
  const r = await runModule(url, { workers, exportName, args: [args[0], opts] });
  expect(r.aborted).toBe(false);
  const lines = readFileSync(resultFile, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Line);
  expect(lines.map((l) => l.worker).sort()).toEqual(Array.from({ length: workers }, (_, i) => i));
  for (const l of lines) expect(l).toMatchObject({ partial: true, workers, n: args[0] });
  return lines;
}

// ---- expectations, computed without weir
function statelessExpected(n: number): string {
  const N = BigInt(n), m = (N + 2n) / 3n; // multiples of 3 in [0, n)
  const sum = 2n * (N * (N - 1n) / 2n - 3n * (m * (m - 1n) / 2n));
  return `count=${N - m};sum=${sum}`;
}
function wordcountExpected(n: number): string {
  const counts = new Map<string, number>();
  for (const part of C.makeParts("wordcount", n)) {
    for (let b = part.nextBatch(); b !== null; b = part.nextBatch()) {
      for (const line of b as string[]) for (const w of line.split(" ")) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  const d = new C.WordcountDigest();
  for (const [w, c] of counts) d.add(w, c);
  return C.checksumOf("wordcount", d.fields());
}
/** Wait 0 and frozen system time: no event is late (per key, times only grow), every window closes. */
function windowedExpected(n: number): string {
  const counts = new Map<string, number>();
  for (const part of C.makeParts("windowed", n)) {
    for (let b = part.nextBatch(); b !== null; b = part.nextBatch()) {
      for (const [key, ts] of b as [string, number][]) {
        const k = `${key}\u0000${C.windowIdOf(ts)}`;
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
    }
  }
  const d = new C.WindowedDigest();
  for (const [k, c] of counts) {
    const [key, wid] = k.split("\u0000");
    d.add(key, Number(wid), c);
  }
  return C.checksumOf("windowed", d.fields());
}

const CASES = [
  { workload: "stateless", n: 10_001, expected: statelessExpected },
  { workload: "wordcount", n: 3_001, expected: wordcountExpected },
  // Two 10 s windows per partition (event j at BASE + j ms), so windows close on later items too.
  { workload: "windowed", n: 25_001, expected: windowedExpected },
] as const;

describe.each([1, 2])("benchmark flows with %i worker thread(s)", (workers) => {
  it.each(CASES)("$workload($n) matches the expected checksum", async ({ workload, n, expected }) => {
    const lines = await runLines(FLOWS, workload, [n], workers);
    const merged = C.mergeFields(workload, lines.map((l) => l.digest));
    expect(C.checksumOf(workload, merged)).toBe(expected(n));
    if (workers === 1) expect(lines[0]!.checksum).toBe(expected(n));
  });

  it("cpuBound (scaling flow) matches the bare-loop checksum", async () => {
    const n = 4_321, iters = 50;
    const lines = await runLines(SCALING, "cpuBound", [n, { iters }], workers);
    expect(cpuChecksum(mergeCpuFields(lines.map((l) => l.digest)))).toBe(cpuChecksum(expectedCpu(n, iters).fields));
  });
});

it("the closed-form stateless checksum agrees with a direct computation", () => {
  const n = 7_777;
  const d = new C.StatelessDigest();
  for (const part of C.makeParts("stateless", n)) {
    for (let b = part.nextBatch(); b !== null; b = part.nextBatch()) d.addBatch((b as number[]).map((x) => x * 2).filter((x) => x % 3 !== 0));
  }
  expect(C.checksumOf("stateless", d.fields())).toBe(statelessExpected(n));
});

it("ceiling.mjs runs its three configurations at a tiny N, -w 1 and -w 2 agreeing on the checksum", () => {
  const root = new URL("..", import.meta.url);
  const out = path.join(tmp, "ceiling.json");
  const r = spawnSync(process.execPath, ["benches/ceiling.mjs"], {
    cwd: root, encoding: "utf8", env: { ...process.env, BENCH_RUNS: "1", BENCH_SCALE: "0.001", BENCH_OUT: out }, timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/Ceiling \(1 process ÷ the independent pair\): \*\*\d+\.\d\d×\*\*/);
  const res = JSON.parse(readFileSync(out, "utf8")) as { n: number; runs: { config: string; ok: boolean; checksums: string[] }[] };
  expect(res.n).toBe(10_000);
  expect(res.runs.map((x) => [x.config, x.ok, x.checksums.length])).toEqual([["1w", true, 1], ["pair", true, 2], ["2w", true, 1]]);
  // The pair's halves each ran windowed(N/2): same generator, same checksum as each other.
  const pair = res.runs.find((x) => x.config === "pair")!;
  expect(pair.checksums[0]).toBe(pair.checksums[1]);
  expect(res.runs.find((x) => x.config === "1w")!.checksums[0]).toBe(windowedExpected(10_000));
});

it("the engine benchmark's runner reads criterion's medians", async () => {
  // @ts-expect-error plain JavaScript module without type declarations
  const { parseCriterion, renderEngineBench } = await import("../benches/engine-rs.mjs");
  const sample = [
    "Benchmarking batches/local handles, 1 worker: Analyzing",
    "batches/local handles, 1 worker",
    "                        time:   [2.8340 ms 2.9828 ms 3.2066 ms]",
    "                        thrpt:  [623.71 Melem/s 670.51 Melem/s 705.71 Melem/s]",
    "Found 1 outliers among 10 measurements (10.00%)",
    "exchange/8 KB bytes, every batch to the next worker/2",
    "                        time:   [7.4514 ms 9.4195 ms 10.764 ms]",
    "                        thrpt:  [371.62 Melem/s 424.65 Melem/s 536.81 Melem/s]",
  ].join("\n");
  const rows = parseCriterion(sample) as { name: string; time: string; thrpt: string }[];
  expect(rows).toEqual([
    { name: "batches/local handles, 1 worker", time: "2.9828 ms", thrpt: "670.51 Melem/s" },
    { name: "exchange/8 KB bytes, every batch to the next worker/2", time: "9.4195 ms", thrpt: "424.65 Melem/s" },
  ]);
  expect(renderEngineBench(rows)).toContain("| batches/local handles, 1 worker | 2.9828 ms | 670.51 Melem/s |");
});
