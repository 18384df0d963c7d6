// The engine crate alone (crates/engine/benches/engine.rs, criterion): timely, the exchange and the recovery store
// without JavaScript. `npm run bench` runs it after the Kafka section (BENCH_ENGINE_RS=0 skips it); standalone:
// `npm run bench:engine`.
import { spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export function engineBenchAvailable() {
  const cargo = spawnSync("cargo", ["--version"], { encoding: "utf8" });
  return cargo.status === 0 ? true : "cargo not found (the Rust toolchain builds the engine benchmark)";
}

/** Runs `cargo bench -p weir-engine --features bench`; returns { rows, problems, markdown }. */
export function runEngineBench({ log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  log("engine (Rust, criterion): cargo bench -p weir-engine --features bench");
  return new Promise((resolve) => {
    const child = spawn("cargo", ["bench", "-p", "weir-engine", "--features", "bench"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => { out += d; });
    child.stderr.on("data", (d) => { err += d; });
    child.on("close", (code) => {
      const rows = parseCriterion(out);
      const problems = code === 0 && rows.length > 0 ? [] : [`engine benchmark: cargo bench exited ${code}: ${err.trim().split("\n").slice(-5).join(" | ")}`];
      for (const r of rows) log(`engine ${r.name}: ${r.time} per iteration, ${r.thrpt}`);
      resolve({ rows, problems, markdown: renderEngineBench(rows) });
    });
  });
}

/** criterion prints `<name>` then `time:   [lo median hi]` and `thrpt:  [lo median hi]`; keeps the medians. */
export function parseCriterion(text) {
  const rows = [];
  let name = null;
  for (const line of text.split("\n")) {
    const t = line.trim();
    const time = /^(?:(.+?)\s+)?time:\s+\[\S+ \S+ (\S+ \S+) \S+ \S+\]/.exec(t);
    const thrpt = /^thrpt:\s+\[\S+ \S+ (\S+ \S+) \S+ \S+\]/.exec(t);
    if (time) {
      rows.push({ name: time[1] ?? name, time: time[2], thrpt: null });
    } else if (thrpt && rows.length > 0) {
      rows[rows.length - 1].thrpt = thrpt[1];
    } else if (t.length > 0 && !t.startsWith("Benchmarking") && !t.includes(":") && !/^Found|^\d+ \(|^Warning|^change/.test(t)) {
      name = t;
    }
  }
  return rows.filter((r) => r.name);
}

export function renderEngineBench(rows) {
  const md = ["The engine alone (`crates/engine/benches/engine.rs`, criterion; batches of 1,000 items, 2,000 batches per worker per iteration):", "",
    "| benchmark | time per iteration (median) | throughput (median) |", "|---|---:|---:|"];
  for (const r of rows) md.push(`| ${r.name} | ${r.time} | ${r.thrpt ?? "–"} |`);
  return md.join("\n");
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const res = await runEngineBench();
  process.stdout.write(res.markdown + "\n");
  for (const p of res.problems) process.stderr.write(`${p}\n`);
  process.exit(res.problems.length ? 1 : 0);
}
