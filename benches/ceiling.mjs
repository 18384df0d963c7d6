#!/usr/bin/env node
// What can two workers gain over one on *this* machine, for the windowed workload?
//
//   node benches/ceiling.mjs            # ≈ 2 min; prints a markdown table (+ BENCH_OUT=file for JSON)
//
// The CPU-bound scaling benchmark (scaling.mjs) measures the cores with a bare arithmetic loop. The windowed workload
// is different: one weir worker already uses more than one core (V8's GC helper threads run beside it), and that
// help is gone once two workers fill both cores. This benchmark measures the ceiling for the workload itself: per
// round, `weir run windowed(N) -w 1`, then two independent `-w 1` processes of windowed(N/2) at the same time (the same
// total work, nothing exchanged, no coordination: what perfect parallelism would give), then `-w 2` on windowed(N).
// ceiling = wall(1 process) ÷ wall(the pair); speed-up = wall(-w 1) ÷ wall(-w 2); medians of BENCH_RUNS rounds.
//
// Environment: BENCH_RUNS (3), BENCH_SCALE (1; multiplies N = 10 M, the table's windowed N), BENCH_TIMEOUT_S (600),
// BENCH_OUT.
import { writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { measure, mergeLines, SIZES } from "./run.mjs";

const FLOW = "benches/workloads/weir_flows.ts";
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const f2 = (x) => (x == null ? "–" : x.toFixed(2));

const weir = (n, workers) => ({ cmd: process.execPath, args: ["dist/cli.js", "run", `${FLOW}:windowed(${n})`, "-w", String(workers)] });
const CONFIGS = [
  { id: "1w", label: "weir -w 1, N events", commands: (n) => [weir(n, 1)] },
  { id: "pair", label: "2 independent weir -w 1 processes, N/2 events each, at once", commands: (n) => [weir(n / 2, 1), weir(n / 2, 1)] },
  { id: "2w", label: "weir -w 2, N events", commands: (n) => [weir(n, 2)] },
];

async function main() {
  const env = process.env;
  const runs = Math.max(1, Number(env.BENCH_RUNS ?? 3) | 0);
  const n = Math.max(2000, Math.round((SIZES.weir.windowed * Number(env.BENCH_SCALE ?? 1)) / 2000) * 2000);
  const timeoutS = Number(env.BENCH_TIMEOUT_S ?? 600);
  const records = [];
  const problems = [];
  for (let r = 1; r <= runs; r++) {
    for (const cfg of CONFIGS) {
      const load1 = os.loadavg()[0];
      const m = await measure(cfg.commands(n), timeoutS);
      const rec = { config: cfg.id, round: r, ok: m.ok, error: m.error, wallS: m.wallS, cpuS: m.userS != null ? m.userS + m.sysS : null, loadAvg1AtStart: load1 };
      if (m.ok) {
        try {
          // The pair's halves are two separate runs of windowed(N/2), one result line each: checked one by one.
          rec.checksums = cfg.id === "pair"
            ? resultLines(m.lines).map((line) => mergeLines([line], "windowed", n / 2).checksum)
            : [mergeLines(m.lines, "windowed", n).checksum];
          if (rec.checksums.length !== cfg.commands(n).length) throw new Error(`${rec.checksums.length} results`);
        } catch (e) {
          rec.ok = false;
          rec.error = `bad output: ${e.message}`;
        }
      }
      if (!rec.ok) problems.push(`ceiling ${cfg.id} round ${r}: ${rec.error}`);
      records.push(rec);
      process.stderr.write(`[${r}/${runs}] ${cfg.id}: ${rec.ok ? `${f2(rec.wallS)} s wall, cpu ${f2(rec.cpuS)} s, load ${load1.toFixed(1)}` : `FAILED ${rec.error}`}\n`);
    }
  }
  const same1w2w = new Set(records.filter((x) => x.ok && x.config !== "pair").map((x) => x.checksums[0]));
  if (same1w2w.size > 1) problems.push(`-w 1 and -w 2 disagree on the checksum: ${[...same1w2w].join(" vs ")}`);
  const rows = CONFIGS.map((cfg) => {
    const rs = records.filter((x) => x.config === cfg.id && x.ok);
    return { config: cfg.id, label: cfg.label, runs: rs.length, wallS: median(rs.map((x) => x.wallS)), cpuS: median(rs.map((x) => x.cpuS)) };
  });
  const wall = (id) => rows.find((x) => x.config === id).wallS;
  const ceiling = wall("1w") / wall("pair");
  const speedup = wall("1w") / wall("2w");
  const md = [
    `Windowed scaling ceiling (\`benches/ceiling.mjs\`): N = ${n.toLocaleString("en-US")} events; medians of ${runs} round(s); wall-clock from spawn to exit.`,
    "",
    "| configuration | wall s | CPU s | runs |",
    "|---|---:|---:|---:|",
    ...rows.map((w) => `| ${w.label} | ${f2(w.wallS)} | ${f2(w.cpuS)} | ${w.runs} |`),
    "",
    `Ceiling (1 process ÷ the independent pair): **${f2(ceiling)}×**; weir -w 2 vs -w 1: **${f2(speedup)}×** = ${(100 * speedup / ceiling).toFixed(0)} % of the ceiling.`,
  ].join("\n");
  if (env.BENCH_OUT) {
    writeFileSync(path.resolve(env.BENCH_OUT), JSON.stringify({ n, runs: records, rows, ceiling, speedup, machine: { cores: os.cpus().length, node: process.version } }, null, 2) + "\n");
  }
  process.stdout.write(md + "\n");
  for (const p of problems) process.stderr.write(`${p}\n`);
  process.exit(problems.length ? 1 : 0);
}

function resultLines(lines) {
  return lines.filter((l) => { try { return "checksum" in JSON.parse(l); } catch { return false; } });
}

main().catch((e) => {
  process.stderr.write(`ceiling error: ${e.stack || e.message}\n`);
  process.exit(2);
});
