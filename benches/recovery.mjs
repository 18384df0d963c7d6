#!/usr/bin/env node
// The throughput cost of recovery: the same flows without a store and with snapshots every 10 s and every 1 s.
//
//   node benches/recovery.mjs                      # both workloads, all modes, median of 3 (≈ 9 min)
//   RBENCH_SCALE=0.1 RBENCH_RUNS=1 node benches/recovery.mjs      # smoke run
//   RBENCH_WORKLOADS=wordcount RBENCH_WORKERS=2 node benches/recovery.mjs
//
// Every run is a fresh `node dist/cli.js run benches/workloads/recovery_flows.ts:<workload>(N) [-w W] -s S [-r DIR]`
// process (a fresh two-partition store for each run with recovery), timed from spawn to exit. Modes:
//   none      -s 10, no store (the default epoch length, nothing written)
//   epochs-1s -s 1, no store (separates the cost of shorter epochs from the cost of writing snapshots)
//   snap-10s  -s 10 -r DIR
//   snap-1s   -s 1 -r DIR
// The sinks' digests must agree across modes (snapshotting must not change the output). Prints a markdown table:
// items/s = N ÷ median wall-clock seconds; "vs none" = median wall ÷ median wall of `none` − 1; CPU = user + sys of the
// process (GNU time), median; store KiB = the store's files after the run (WAL included), median; spread = slowest ÷
// fastest wall − 1.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "cli.js");
const flows = path.join(root, "benches", "workloads", "recovery_flows.ts");

const RUNS = Number(process.env.RBENCH_RUNS ?? 3);
const SCALE = Number(process.env.RBENCH_SCALE ?? 1);
const WORKERS = Number(process.env.RBENCH_WORKERS ?? 1);
const SIZES = { wordcount: 12_000_000, windowed: 12_000_000 }; // ≈ 20 s per run on one core: two snapshots at -s 10, twenty at -s 1
const WORKLOADS = (process.env.RBENCH_WORKLOADS ?? "wordcount,windowed").split(",");
const MODES = [
  { name: "none", args: ["-s", "10"], store: false },
  { name: "epochs-1s", args: ["-s", "1"], store: false },
  { name: "snap-10s", args: ["-s", "10"], store: true },
  { name: "snap-1s", args: ["-s", "1"], store: true },
];

// CPU seconds (user + sys) and peak RSS come from GNU time when it is there: CPU time is less disturbed than wall-clock
// time by other work on a shared machine.
const GNU_TIME = ["/usr/bin/time", "/bin/time"].find((t) => existsSync(t) && process.env.RBENCH_NO_GNU_TIME !== "1");
const TIME_TAG = "RBENCH_TIME";

function weir(args, cwd) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const argv = GNU_TIME ? [GNU_TIME, "-f", `${TIME_TAG} %U %S %M`, process.execPath, cli, ...args] : [process.execPath, cli, ...args];
    const child = spawn(argv[0], argv.slice(1), { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) return reject(new Error(`weir ${args.join(" ")} exited ${code}:\n${stderr}`));
      const t = new RegExp(`${TIME_TAG} ([\\d.]+) ([\\d.]+) (\\d+)`).exec(stderr);
      resolve({ seconds, stdout, cpu: t ? Number(t[1]) + Number(t[2]) : undefined, rssMiB: t ? Number(t[3]) / 1024 : undefined });
    });
  });
}

function dirBytes(dir) {
  return readdirSync(dir).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmtRate = (x) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${Math.round(x / 1e3)} k`);
const fmtN = (x) => (x >= 1e6 ? `${x / 1e6} M` : `${x / 1e3} k`);

async function main() {
  const work = mkdtempSync(path.join(tmpdir(), "weir-rbench-"));
  const rows = [];
  try {
    for (const workload of WORKLOADS) {
      const n = Math.max(1000, Math.round(SIZES[workload] * SCALE));
      let expected;
      const byMode = new Map(MODES.map((m) => [m.name, { seconds: [], cpu: [], rss: [], storeBytes: [] }]));
      // Interleave modes run by run, so drifting machine load affects every mode alike.
      for (let r = 0; r < RUNS; r++) {
        for (const mode of MODES) {
          const args = ["run", `${flows}:${workload}(${n})`, "-w", String(WORKERS), ...mode.args];
          let store;
          if (mode.store) {
            store = mkdtempSync(path.join(work, "store-"));
            await weir(["recovery", "init", store, "2"], work);
            args.push("-r", store);
          }
          const { seconds, stdout, cpu, rssMiB } = await weir(args, work);
          const parts = stdout.trim().split("\n").map((l) => JSON.parse(l));
          const digest = parts.reduce((s, p) => (s + p.digest) >>> 0, 0) + ":" + parts.reduce((s, p) => s + p.items, 0);
          if (expected === undefined) expected = digest;
          else if (digest !== expected) throw new Error(`${workload} ${mode.name}: digest ${digest}, expected ${expected}`);
          const m = byMode.get(mode.name);
          m.seconds.push(seconds);
          if (cpu !== undefined) m.cpu.push(cpu);
          if (rssMiB !== undefined) m.rss.push(rssMiB);
          if (store) {
            m.storeBytes.push(dirBytes(store));
            rmSync(store, { recursive: true, force: true });
          }
          process.stderr.write(`${workload} ${mode.name} run ${r + 1}/${RUNS}: ${seconds.toFixed(2)} s${cpu === undefined ? "" : `, CPU ${cpu.toFixed(2)} s`}\n`);
        }
      }
      const base = median(byMode.get("none").seconds);
      const baseCpu = byMode.get("none").cpu.length ? median(byMode.get("none").cpu) : undefined;
      for (const mode of MODES) {
        const m = byMode.get(mode.name);
        const wall = median(m.seconds);
        const spread = Math.max(...m.seconds) / Math.min(...m.seconds) - 1;
        const cpu = m.cpu.length ? median(m.cpu) : undefined;
        rows.push({
          workload, mode: mode.name, n, itemsPerSec: n / wall, wall, vsNone: wall / base - 1, spread, cpu,
          cpuVsNone: cpu !== undefined && baseCpu !== undefined ? cpu / baseCpu - 1 : undefined,
          rss: m.rss.length ? median(m.rss) : undefined,
          storeKiB: m.storeBytes.length ? median(m.storeBytes) / 1024 : undefined,
        });
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const pct = (x) => (x === undefined ? "–" : `${x >= 0 ? "+" : ""}${(x * 100).toFixed(0)} %`);
  const out = [
    `| workload | mode | N | items/s | wall s | vs none | CPU s | CPU vs none | peak RSS MiB | store KiB | spread |`,
    `|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|`,
    ...rows.map((r) => `| ${r.workload} | ${r.mode} | ${fmtN(r.n)} | ${fmtRate(r.itemsPerSec)} | ${r.wall.toFixed(2)} | `
      + `${r.mode === "none" ? "–" : pct(r.vsNone)} | ${r.cpu === undefined ? "–" : r.cpu.toFixed(2)} | `
      + `${r.mode === "none" ? "–" : pct(r.cpuVsNone)} | ${r.rss === undefined ? "–" : Math.round(r.rss)} | `
      + `${r.storeKiB === undefined ? "–" : Math.round(r.storeKiB)} | ${(r.spread * 100).toFixed(0)} % |`),
  ];
  console.log(`workers: ${WORKERS}, runs: ${RUNS}, scale: ${SCALE}, node ${process.version}\n`);
  console.log(out.join("\n"));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
