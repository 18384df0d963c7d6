#!/usr/bin/env node
// CPU-bound scaling benchmark: does weir use the second core?
//
//   node benches/scaling.mjs          # standalone: prints a markdown table (+ BENCH_OUT=file for JSON)
//   npm run bench                     # run.mjs calls runScaling() after the engine × workload table
//
// The flow (workloads/weir_scaling.ts, work in workloads/cpu_bound.mjs): 200,000 integers from the
// usual two generated partitions → map doing ≈ 20 µs of integer arithmetic per item → a digest sink.
// Each round runs, one after the other: the same function in a bare loop in 1 process, the bare
// loop split over 2 concurrent processes (N/2 each: the speed-up the machine's cores give at that
// moment, since they are shared), then the weir CLI with `-w 1` and `-w 2` (threads in one
// process). BENCH_RUNS rounds (default 3); every figure is wall-clock from spawn to exit (start-up
// included), medians; speed-up = wall(-w 1) ÷ wall(-w 2). The first bare-loop run (no weir
// involved) gives the checksum (count and Σ spin mod 2³²) every other run must reproduce.
//
// Environment: BENCH_RUNS (3), BENCH_SCALE (1; multiplies N), BENCH_TIMEOUT_S (600), BENCH_OUT.
import { existsSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { measure } from "./run.mjs";
import { CPU_ITERS, CPU_N, cpuChecksum, mergeCpuFields } from "./workloads/cpu_bound.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const FLOW = "benches/workloads/weir_scaling.ts";
const BARE = "benches/workloads/cpu_bound.mjs";
export const SCALING_TARGET = 1.7;

const median = (xs) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f2 = (x, d = 2) => (x == null ? "–" : x.toFixed(d));

export function scalingAvailable() {
  if (!existsSync(path.join(ROOT, "dist", "cli.js"))) return "dist/cli.js not built (npm run build)";
  if (!existsSync(path.join(HERE, "workloads", "weir_scaling.ts"))) return "benches/workloads/weir_scaling.ts missing";
  return true;
}

/** Merges the result lines of one run (one per weir worker or bare-loop process); throws if one is missing. */
function mergeRun(lines, n, workload, parts) {
  const objs = lines.map((l) => { try { return JSON.parse(l); } catch { return null; } }).filter((o) => o && o.workload === workload);
  if (workload === "cpu") {
    const seen = new Set(objs.map((o) => Number(o.worker)));
    if (objs.length !== parts || seen.size !== parts || objs.some((o) => Number(o.workers) !== parts || Number(o.n) !== n)) {
      throw new Error(`expected one result line from each of ${parts} workers, got ${objs.length}`);
    }
  } else if (objs.length !== parts) {
    throw new Error(`expected ${parts} bare-loop result lines, got ${objs.length}`);
  }
  return {
    checksum: cpuChecksum(mergeCpuFields(objs.map((o) => o.digest))),
    selfS: Math.max(...objs.map((o) => Number(o.seconds))),
  };
}

// The four configurations of one round, in the order they run.
const CONFIGS = [
  { id: "bare-1p", label: "bare loop, 1 process", workload: "cpu-bare", parts: 1 },
  { id: "bare-2p", label: "bare loop, 2 processes × N/2", workload: "cpu-bare", parts: 2 },
  { id: "weir-1w", label: "weir CLI -w 1", workload: "cpu", parts: 1 },
  { id: "weir-2w", label: "weir CLI -w 2", workload: "cpu", parts: 2 },
];
function commandsFor(cfg, n) {
  if (cfg.workload === "cpu") {
    return [{ cmd: process.execPath, args: ["dist/cli.js", "run", `${FLOW}:cpuBound(${n})`, "-w", String(cfg.parts)] }];
  }
  const cut = cfg.parts === 1 ? [0, n] : [0, Math.floor(n / 2), n];
  return cut.slice(0, -1).map((from, k) => ({ cmd: process.execPath, args: [BARE, String(from), String(cut[k + 1])] }));
}

/**
 * Runs the benchmark: per round, the bare loop in 1 process and in 2 concurrent processes (what the
 * machine's cores give at that moment), then weir -w 1 and -w 2. Returns { n, iters, runs, summary,
 * problems, markdown } (JSON-ready).
 */
export async function runScaling({ runs = 3, scale = 1, timeoutS = 600, log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  const n = Math.max(2000, Math.round((CPU_N * scale) / 1000) * 1000);
  const iters = CPU_ITERS;
  log(`scaling: n=${n}, ${iters} rounds per item; bare loop 1 vs 2 processes, weir -w 1 vs -w 2; ${runs} round(s)`);
  const records = [];
  const problems = [];
  let expected = null; // from the first bare-loop run: independent of weir
  for (let r = 1; r <= runs; r++) {
    for (const cfg of CONFIGS) {
      const load1 = os.loadavg()[0];
      const commands = commandsFor(cfg, n);
      const m = await measure(commands, timeoutS);
      const rec = {
        config: cfg.id, parts: cfg.parts, ok: m.ok, error: m.error, loadAvg1AtStart: load1, wallS: m.wallS,
        cpuS: m.userS != null && m.sysS != null ? m.userS + m.sysS : null, peakRssMiB: m.rssKB != null ? m.rssKB / 1024 : null,
        command: commands.map((c) => ["node", ...c.args].join(" ")),
      };
      if (m.ok) {
        try {
          Object.assign(rec, mergeRun(m.lines, n, cfg.workload, cfg.parts));
          expected ??= rec.checksum;
          if (rec.checksum !== expected) { rec.ok = false; rec.error = `checksum ${rec.checksum}, expected ${expected}`; }
        } catch (e) { rec.ok = false; rec.error = `bad output: ${e.message}`; }
      }
      if (!rec.ok) problems.push(`scaling ${cfg.id} round ${r}: ${rec.error}`);
      records.push(rec);
      log(rec.ok
        ? `[${r}/${runs}] scaling ${cfg.id}: ${f2(rec.wallS)} s wall, self-timed ${f2(rec.selfS)} s, cpu ${f2(rec.cpuS)} s, rss ${rec.peakRssMiB?.toFixed(0)} MiB, load ${load1.toFixed(1)}`
        : `[${r}/${runs}] scaling ${cfg.id}: FAILED ${rec.error}`);
    }
  }
  const rows = CONFIGS.map((cfg) => {
    const rs = records.filter((x) => x.config === cfg.id && x.ok);
    return {
      config: cfg.id, label: cfg.label, parts: cfg.parts, runs: rs.length, wallS: median(rs.map((x) => x.wallS)), selfS: median(rs.map((x) => x.selfS)),
      cpuS: median(rs.map((x) => x.cpuS)), peakRssMiB: median(rs.map((x) => x.peakRssMiB)),
      minWallS: rs.length ? Math.min(...rs.map((x) => x.wallS)) : null, maxWallS: rs.length ? Math.max(...rs.map((x) => x.wallS)) : null,
      // CPU-seconds per wall-second: ≈ 1 for one thread, ≈ 2 when both cores were really available.
      cpuPerWall: median(rs.map((x) => (x.cpuS != null && x.wallS > 0 ? x.cpuS / x.wallS : null))),
    };
  });
  const row = (id) => rows.find((x) => x.config === id);
  const ratio = (a, b) => (a != null && b != null && b > 0 ? a / b : null);
  const speedup = ratio(row("weir-1w").wallS, row("weir-2w").wallS);
  const ceiling = ratio(row("bare-1p").wallS, row("bare-2p").wallS);
  const summary = {
    n, iters, expected, bareUsPerItem: row("bare-1p").selfS != null ? (row("bare-1p").selfS / n) * 1e6 : null, rows,
    speedup, selfSpeedup: ratio(row("weir-1w").selfS, row("weir-2w").selfS), ceiling, efficiency: ratio(speedup, ceiling),
    overhead1w: ratio(row("weir-1w").wallS, row("bare-1p").wallS),
    target: SCALING_TARGET, meetsTarget: speedup != null && speedup >= SCALING_TARGET,
    loadAvg1: { min: Math.min(...records.map((x) => x.loadAvg1AtStart)), max: Math.max(...records.map((x) => x.loadAvg1AtStart)) },
  };
  return { n, iters, runs: records, summary, problems, markdown: renderScaling(summary, runs) };
}

/** The markdown section of a scaling summary (also used by `run.mjs --report`). */
export function renderScaling(s, runs) {
  const md = [];
  md.push(`CPU-bound scaling (\`benches/scaling.mjs\`): N = ${s.n.toLocaleString("en-US")} items, a map of ${s.iters.toLocaleString("en-US")} arithmetic rounds = ${f2(s.bareUsPerItem, 1)} µs/item (bare loop); every run is a fresh process, start-up included; medians of ${runs} round(s); 1-minute load average ${f2(s.loadAvg1.min, 1)}–${f2(s.loadAvg1.max, 1)} at run starts.`);
  md.push("");
  md.push("| configuration | wall s (median) | min–max s | self-timed s | CPU s | CPU s / wall s | peak RSS MiB | runs |");
  md.push("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const w of s.rows) {
    md.push(`| ${w.label} | ${f2(w.wallS)} | ${f2(w.minWallS)}–${f2(w.maxWallS)} | ${f2(w.selfS)} | ${f2(w.cpuS)} | ${f2(w.cpuPerWall)} | ${w.peakRssMiB == null ? "–" : w.peakRssMiB.toFixed(0)} | ${w.runs} |`);
  }
  md.push("");
  md.push(`weir speed-up -w 2 vs -w 1: **${f2(s.speedup)}×** wall-clock (target ≥ ${s.target}×: ${s.meetsTarget ? "met" : "NOT met"}); ${f2(s.selfSpeedup)}× self-timed (module load to sink close). The machine's own ceiling at the time (bare loop, 1 process ÷ 2 concurrent processes): ${f2(s.ceiling)}×, so weir reached ${s.efficiency == null ? "–" : `${(s.efficiency * 100).toFixed(0)} %`} of it. weir -w 1 takes ${f2(s.overhead1w)}× the bare loop's wall time (start-up included).`);
  return md.join("\n");
}

async function main() {
  const env = process.env;
  const a = scalingAvailable();
  if (a !== true) throw new Error(a);
  const res = await runScaling({
    runs: Math.max(1, Number(env.BENCH_RUNS ?? 3) | 0), scale: Number(env.BENCH_SCALE ?? 1), timeoutS: Number(env.BENCH_TIMEOUT_S ?? 600),
  });
  if (env.BENCH_OUT) {
    writeFileSync(path.resolve(env.BENCH_OUT), JSON.stringify({ machine: { cores: os.cpus().length, node: process.version }, loadAverageEnd: os.loadavg(), ...res }, null, 2) + "\n");
  }
  process.stdout.write(res.markdown + "\n");
  for (const p of res.problems) process.stderr.write(`${p}\n`);
  process.exit(res.problems.length ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`scaling error: ${e.stack || e.message}\n`);
    process.exit(2);
  });
}
