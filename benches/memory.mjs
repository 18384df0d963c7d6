#!/usr/bin/env node
// Memory: (1) peak RSS of the three throughput workloads at N and 10·N (a per-item leak would grow with N);
// (2) memory per live key: peak RSS with 100,000 and 1,000,000 live keys of countFinal, countWindow and statefulMap
// (every key's state stays until EOF), bytes per key = ΔRSS ÷ 900,000.
//
//   node benches/memory.mjs        # ≈ 3 min; prints two markdown tables. `weir -w 1` everywhere, GNU time for peak RSS.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "cli.js");

function run(spec) {
  const r = spawnSync("/usr/bin/time", ["-f", "%M %e", process.execPath, cli, "run", spec, "-w", "1"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${spec} failed: ${r.stderr}`);
  const [kib, secs] = r.stderr.trim().split("\n").at(-1).split(" ").map(Number);
  return { rssMiB: kib / 1024, secs };
}

const growth = [
  ["stateless", 90_000_000], ["wordcount", 8_000_000], ["windowed", 10_000_000],
].map(([w, n]) => {
  const small = run(`benches/workloads/weir_flows.ts:${w}(${n / 10})`);
  const big = run(`benches/workloads/weir_flows.ts:${w}(${n})`);
  return `| ${w} | ${n / 10} | ${small.rssMiB.toFixed(0)} | ${n} | ${big.rssMiB.toFixed(0)} | ${((big.rssMiB / small.rssMiB - 1) * 100).toFixed(0)} % |`;
});
console.log("| workload | N | peak RSS MiB | 10·N | peak RSS MiB | growth |\n|---|---:|---:|---:|---:|---:|\n" + growth.join("\n"));

const perKey = ["count", "window", "stateful"].map((kind) => {
  const a = run(`benches/workloads/memory_flows.ts:keys("${kind}", 100000)`);
  const b = run(`benches/workloads/memory_flows.ts:keys("${kind}", 1000000)`);
  const bytes = ((b.rssMiB - a.rssMiB) * 1024 * 1024) / 900_000;
  return `| ${kind} | ${a.rssMiB.toFixed(0)} | ${b.rssMiB.toFixed(0)} | ${bytes.toFixed(0)} |`;
});
console.log("\n| state (1 worker) | peak RSS MiB, 100 k keys | peak RSS MiB, 1 M keys | bytes per live key |\n|---|---:|---:|---:|\n" + perKey.join("\n"));
