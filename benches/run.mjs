#!/usr/bin/env node
// weir benchmark runner (`npm run bench`).
//
// Runs every engine × workload BENCH_RUNS times (interleaved: run 1 of every
// pair, then run 2, …), checks that all engines agree on each workload's
// checksum, prints a markdown table to stdout and writes benches/results.json.
//
// Environment:
//   BENCH_RUNS=3            runs per engine × workload (median reported; ≥ 1)
//   BENCH_SCALE=1           multiplies every N (e.g. 0.01 for a smoke run)
//   BENCH_ENGINES=a,b       engine ids to run (default: every available engine)
//   BENCH_WORKLOADS=a,b     stateless, wordcount, windowed (default: all)
//   BENCH_TIMEOUT_S=600     per-run timeout
//   BENCH_OUT=path          results file (default benches/results.json)
//   BENCH_PYTHON=python3    interpreter used to create benches/.venv
//   BENCH_NO_GNU_TIME=1     measure CPU/RSS by polling /proc even if GNU time exists
//   BENCH_SCALING=0|1       skip / force the CPU-bound scaling benchmark (scaling.mjs); by default
//                           it runs when weir is built and BENCH_WORKLOADS/BENCH_ENGINES allow weir
//   BENCH_KAFKA=0|1         [kafka.mjs] skip / force the Kafka → weir → Kafka benchmark (starts its own
//                           broker; needs Java); by default as for BENCH_SCALING, skipped if Java is missing
//   BENCH_ENGINE_RS=0|1     [engine-rs.mjs] skip / force the engine crate's criterion benchmark (cargo bench);
//                           by default as for BENCH_SCALING
//
// `node benches/run.mjs --report [results.json]` re-checks and re-renders a
// results file without running anything.
//
// Every program prints JSON lines {engine, workload, n, items, seconds,
// checksum, digest[, partial, worker, workers]} on stdout (see
// workloads/common.mjs). Lines marked `partial` (one per worker) are merged by
// adding their digests. Measured per run, for the whole child (all processes):
// wall-clock from spawn to exit (start-up included; this is the items/s
// figure), user+sys CPU seconds and peak RSS (GNU time if present, else by
// polling /proc). The program's own `seconds` (its timed region) is reported
// too, as "self-timed".
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, accessSync, constants as fsc } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBytewaxVenv, installedBytewaxVersion, BYTEWAX_VERSION } from "./bytewax-venv.mjs";
import { WORKLOADS, UNITS, mergeFields, checksumOf } from "./workloads/common.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const rel = (p) => path.relative(ROOT, p) || ".";

// ============================================================ sizes
// N per workload for each size tier, chosen so one run takes roughly 5–30 s on
// the 2-core reference machine. Engines whose speeds differ by 30–100× cannot
// share one N, so each engine names a tier; checksums are compared among runs
// of the same N, and every N is also checked against node-fused (a
// "reference" run, not part of the statistics).
export const SIZES = {
  python: { stateless: 60_000_000, wordcount: 3_000_000, windowed: 2_500_000 },
  node: { stateless: 1_000_000_000, wordcount: 8_000_000, windowed: 100_000_000 },
  // weir (2026-11-25 evening build: fused kernels, combiners, the columnar codec, merged source rounds):
  // ≈ 105–200 M items/s stateless, 0.6–1.3 M lines/s wordcount, 1.1–1.9 M events/s windowed with 1–2 workers,
  // so ≈ 5–13 s per run (two-worker runs stay above 5 s, where start-up is under 10 %). Stateless stays below
  // 1.07 G items: beyond, x·2 leaves V8's small-integer range and every item becomes a heap number in weir's
  // batches (measured: 12.8 ns/item at 1.2 G against 9.9 at 600 M), which the fused loop never allocates.
  weir: { stateless: 900_000_000, wordcount: 8_000_000, windowed: 10_000_000 },
};

// ============================================================ engine registry
// An engine: { id, group, tier, workers, processes, peer?, note,
//   available(ctx) → true | "reason it is skipped",
//   setup?(ctx)    → called once before its first run,
//   commands(workload, n, ctx) → [{ cmd, args, env? }] — one per OS process,
//                                all started together; cwd is the repo root }
// `ctx.ports(k)` gives k free TCP ports on 127.0.0.1 for multi-process engines.
const NODE = process.execPath;
const PY = () => rel(path.join(HERE, ".venv", "bin", "python"));
const FLOWS_PY = "benches/workloads/bytewax_flows.py";
const bytewaxImport = (w, n) => `${FLOWS_PY}:flow('${w}', ${n})`;
const bytewaxAvailable = () => true; // the venv is created by setup()
const bytewaxSetup = () => { ensureBytewaxVenv(); };

// ---- weir -------------------------------------------------------------
// Run once `npm run build` has produced dist/cli.js. benches/workloads/weir_flows.ts exports one
// function per workload — `stateless(n)`, `wordcount(n)`, `windowed(n)` — returning the Dataflow,
// built as in bytewax_flows.py with the helpers of workloads/common.mjs. They use the "weir" tier.
// The CPU-bound scaling benchmark (scaling.mjs) runs after the table when weir is available.
const WEIR_CLI = path.join(ROOT, "dist", "cli.js");
const WEIR_FLOWS = path.join(HERE, "workloads", "weir_flows.ts");
const weirAvailable = () => {
  if (!existsSync(WEIR_CLI)) return "dist/cli.js not built (npm run build)";
  if (!existsSync(WEIR_FLOWS)) return "benches/workloads/weir_flows.ts missing";
  return true;
};
const weirRun = (w, n, extra) => ({ cmd: NODE, args: ["dist/cli.js", "run", `benches/workloads/weir_flows.ts:${w}(${n})`, ...extra] });

export const ENGINES = [
  {
    id: "weir-1w", group: "weir", tier: "weir", workers: 1, processes: 1, peer: "bytewax-1w",
    note: "weir CLI, 1 worker", available: weirAvailable,
    commands: (w, n) => [weirRun(w, n, ["-w", "1"])],
  },
  {
    id: "weir-2w", group: "weir", tier: "weir", workers: 2, processes: 1, peer: "bytewax-2w",
    note: "weir CLI, 2 workers (threads) in one process", available: weirAvailable,
    commands: (w, n) => [weirRun(w, n, ["-w", "2"])],
  },
  {
    id: "weir-2p", group: "weir", tier: "weir", workers: 2, processes: 2, peer: "bytewax-2p",
    note: "weir CLI, 2 processes × 1 worker", available: weirAvailable,
    commands: async (w, n, ctx) => {
      const a = (await ctx.ports(2)).map((p) => `127.0.0.1:${p}`).join(";");
      return [0, 1].map((i) => weirRun(w, n, ["-w", "1", "-i", String(i), "-a", a]));
    },
  },
  // ---- Bytewax 0.21.1 (benches/.venv) ------------------------------------
  {
    id: "bytewax-1w", group: "bytewax", tier: "python", workers: 1, processes: 1,
    note: "bytewax.testing.run_main", available: bytewaxAvailable, setup: bytewaxSetup,
    commands: (w, n) => [{ cmd: PY(), args: [FLOWS_PY, w, String(n)] }],
  },
  {
    id: "bytewax-2w", group: "bytewax", tier: "python", workers: 2, processes: 1,
    note: "python -m bytewax.run -w 2", available: bytewaxAvailable, setup: bytewaxSetup,
    commands: (w, n) => [{ cmd: PY(), args: ["-m", "bytewax.run", bytewaxImport(w, n), "-w", "2"] }],
  },
  {
    id: "bytewax-2p", group: "bytewax", tier: "python", workers: 2, processes: 2,
    note: "python -m bytewax.run -i 0|1 -a …, 1 worker each", available: bytewaxAvailable, setup: bytewaxSetup,
    commands: async (w, n, ctx) => {
      const a = (await ctx.ports(2)).map((p) => `127.0.0.1:${p}`).join(";");
      return [0, 1].map((i) => ({ cmd: PY(), args: ["-m", "bytewax.run", bytewaxImport(w, n), "-i", String(i), "-a", a] }));
    },
  },
  // ---- hand-written single-thread Node baselines ---------------------------
  {
    id: "node-fused", group: "node", tier: "node", workers: 1, processes: 1,
    note: "one inline loop per batch (ceiling)", available: () => true,
    commands: (w, n) => [{ cmd: NODE, args: ["benches/workloads/node-fused.mjs", w, String(n)] }],
  },
  {
    id: "node-staged", group: "node", tier: "node", workers: 1, processes: 1,
    note: "one callback stage per operator over the batch array", available: () => true,
    commands: (w, n) => [{ cmd: NODE, args: ["benches/workloads/node-staged.mjs", w, String(n)] }],
  },
];
const REFERENCE_ENGINE = "node-fused";

// ============================================================ helpers
const env = process.env;
const list = (s) => (s ? s.split(",").map((x) => x.trim()).filter(Boolean) : null);
const log = (m) => process.stderr.write(`${m}\n`);
const median = (xs) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
function fmtRate(x) {
  if (x == null) return "–";
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e8 ? 0 : x >= 1e7 ? 1 : 2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(x >= 1e5 ? 0 : 1)} k`;
  return x.toFixed(0);
}
const fmtN = (n) => (n >= 1e6 && n % 1e5 === 0 ? `${n / 1e6} M` : n >= 1e3 && n % 100 === 0 ? `${n / 1e3} k` : String(n));
const fmtS = (x) => (x == null ? "–" : x.toFixed(x >= 10 ? 1 : 2));
const fmtRatio = (x) => (x == null ? "–" : x >= 10 ? `${x.toFixed(1)}×` : x >= 0.1 ? `${x.toFixed(2)}×` : `${x.toFixed(3)}×`);

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
async function ports(k) {
  const out = new Set();
  while (out.size < k) out.add(await freePort());
  return [...out];
}

/** A GNU `time` (supports -f/-o), searched on PATH; null if absent (or BENCH_NO_GNU_TIME=1). */
function findGnuTime() {
  if (env.BENCH_NO_GNU_TIME === "1") return null;
  const dirs = (env.PATH || "").split(path.delimiter).filter(Boolean);
  for (const d of dirs) {
    const c = path.join(d, "time");
    try { accessSync(c, fsc.X_OK); } catch { continue; }
    const r = spawnSync(c, ["-f", "%U %S %M", "true"], { encoding: "utf8" });
    if (r.status === 0 && /^\d+(\.\d+)? \d+(\.\d+)? \d+\s*$/.test(r.stderr.trim().split("\n").pop())) return c;
  }
  return null;
}
const GNU_TIME = findGnuTime();
const CLK_TCK = (() => {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const v = Number(r.stdout);
  return r.status === 0 && v > 0 ? v : 100;
})();

/** Samples a pid's CPU ticks and VmHWM from /proc (fallback when GNU time is absent). */
function procSample(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const user = Number(f[11]) / CLK_TCK, sys = Number(f[12]) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return { user, sys, rssKB: m ? Number(m[1]) : null };
  } catch {
    return null;
  }
}

// Process groups of the children being measured (each is started detached, as
// the leader of its own group), stopped if the runner is interrupted.
const RUNNING = new Set();
for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    for (const pid of RUNNING) { try { process.kill(-pid, "SIGKILL"); } catch { /* gone */ } }
    process.exit(130);
  });
}

/**
 * Starts all commands together, waits for all to exit. Returns
 * { ok, wallS, userS, sysS, rssKB (sum of per-process peaks), perProcess, lines, error }.
 */
export function measure(commands, timeoutS) {
  return new Promise((resolve) => {
    const tmp = mkdtempSync(path.join(os.tmpdir(), "weir-bench-"));
    const t0 = process.hrtime.bigint();
    const procs = commands.map((c, i) => {
      const timeFile = path.join(tmp, `time-${i}.txt`);
      const [cmd, args] = GNU_TIME
        ? [GNU_TIME, ["-f", "%U %S %M", "-o", timeFile, c.cmd, ...c.args]]
        : [c.cmd, c.args];
      const child = spawn(cmd, args, {
        cwd: ROOT, env: { ...env, ...(c.env || {}) }, stdio: ["ignore", "pipe", "pipe"], detached: true,
      });
      const p = { child, timeFile, stdout: "", stderr: "", code: null, signal: null, sample: null, done: false, endNs: null };
      child.stdout.setEncoding("utf8").on("data", (d) => { p.stdout += d; });
      child.stderr.setEncoding("utf8").on("data", (d) => { p.stderr = (p.stderr + d).slice(-16384); });
      p.exited = new Promise((res) => {
        child.on("error", (e) => { p.stderr += `\n${e.message}`; p.code = -1; p.done = true; p.endNs = process.hrtime.bigint(); res(); });
        child.on("close", (code, signal) => { p.code = code; p.signal = signal; p.done = true; p.endNs = process.hrtime.bigint(); res(); });
      });
      return p;
    });
    for (const p of procs) if (p.child.pid) RUNNING.add(p.child.pid);
    const killAll = () => {
      for (const p of procs) {
        if (!p.done && p.child.pid) { try { process.kill(-p.child.pid, "SIGKILL"); } catch { /* gone */ } }
      }
    };
    let poller = null;
    if (!GNU_TIME) {
      poller = setInterval(() => {
        for (const p of procs) if (!p.done && p.child.pid) p.sample = procSample(p.child.pid) ?? p.sample;
      }, 50);
    }
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; killAll(); }, timeoutS * 1000);
    // If one process fails, the others (peers of a cluster) would hang: stop them.
    for (const p of procs) p.exited.then(() => { if (p.code !== 0) setTimeout(killAll, 2000).unref(); });
    Promise.all(procs.map((p) => p.exited)).then(() => {
      for (const p of procs) RUNNING.delete(p.child.pid);
      clearTimeout(timer);
      if (poller) clearInterval(poller);
      const wallS = Number(procs.reduce((m, p) => (p.endNs > m ? p.endNs : m), t0) - t0) / 1e9;
      const perProcess = procs.map((p) => {
        let user = null, sys = null, rssKB = null;
        if (GNU_TIME) {
          try {
            const last = readFileSync(p.timeFile, "utf8").trim().split("\n").pop();
            const m = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)$/.exec(last.trim());
            if (m) { user = Number(m[1]); sys = Number(m[2]); rssKB = Number(m[3]); }
          } catch { /* no file: killed before writing */ }
        } else if (p.sample) {
          ({ user, sys, rssKB } = p.sample);
        }
        return { code: p.code, signal: p.signal, wallS: Number(p.endNs - t0) / 1e9, userS: user, sysS: sys, rssKB };
      });
      rmSync(tmp, { recursive: true, force: true });
      const sum = (k) => (perProcess.every((x) => x[k] != null) ? perProcess.reduce((s, x) => s + x[k], 0) : null);
      const failed = procs.filter((p) => p.code !== 0);
      const error = timedOut
        ? `timed out after ${timeoutS} s`
        : failed.length
          ? failed.map((p) => `exit ${p.code ?? p.signal}: ${p.stderr.trim().split("\n").slice(-15).join("\n")}`).join("\n---\n")
          : null;
      resolve({
        ok: !error, error, wallS, userS: sum("userS"), sysS: sum("sysS"), rssKB: sum("rssKB"), perProcess,
        lines: procs.flatMap((p) => p.stdout.split("\n").filter((l) => l.trim().startsWith("{"))),
      });
    });
  });
}

/** Merges the JSON result lines of one run into { checksum, selfS } or throws. */
export function mergeLines(lines, workload, n) {
  const objs = [];
  for (const l of lines) {
    let o;
    try { o = JSON.parse(l); } catch { continue; }
    if (o && typeof o === "object" && "checksum" in o) objs.push(o);
  }
  if (objs.length === 0) throw new Error("no result line on stdout");
  for (const o of objs) {
    if (o.workload !== workload) throw new Error(`result line for workload ${o.workload}, expected ${workload}`);
    if (o.n !== undefined && Number(o.n) !== n) throw new Error(`result line for n=${o.n}, expected ${n}`);
  }
  const selfS = Math.max(...objs.map((o) => Number(o.seconds)).filter(Number.isFinite));
  const partial = objs.filter((o) => o.partial);
  if (partial.length === 0) {
    if (objs.length !== 1) throw new Error(`${objs.length} non-partial result lines`);
    return { checksum: objs[0].checksum, selfS, lines: 1 };
  }
  if (partial.length !== objs.length) throw new Error("mixed partial and whole result lines");
  const workers = Number(partial[0].workers);
  const seen = new Set(partial.map((o) => Number(o.worker)));
  if (partial.some((o) => Number(o.workers) !== workers) || seen.size !== partial.length || seen.size !== workers) {
    throw new Error(`partial lines from workers [${[...seen]}] of ${workers}`);
  }
  const fields = mergeFields(workload, partial.map((o) => o.digest));
  return { checksum: checksumOf(workload, fields), selfS, lines: partial.length };
}

/** Invariants every correct checksum satisfies (independent of any engine). */
function expectedParts(workload, n) {
  if (workload === "stateless") {
    const N = BigInt(n), m = (N + 2n) / 3n; // multiples of 3 in [0, n)
    const sum = 2n * (N * (N - 1n) / 2n - 3n * (m * (m - 1n) / 2n));
    return { count: String(N - m), sum: String(sum) };
  }
  if (workload === "wordcount") return { total: String(8 * n) };
  return { total: String(n) };
}
function checkInvariants(workload, n, checksum) {
  const got = Object.fromEntries(checksum.split(";").map((kv) => kv.split("=")));
  return Object.entries(expectedParts(workload, n)).filter(([k, v]) => got[k] !== v).map(([k, v]) => `${k}=${got[k]} (expected ${v})`);
}

function machineInfo() {
  const cmdVersion = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: "utf8" });
    return r.status === 0 ? (r.stdout || r.stderr).trim().split("\n")[0] : null;
  };
  const venvPy = path.join(HERE, ".venv", "bin", "python");
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model?.trim() ?? null,
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    python: existsSync(venvPy) ? cmdVersion(venvPy, ["--version"]) : cmdVersion("python3", ["--version"]),
    bytewax: installedBytewaxVersion(),
    rustc: cmdVersion("rustc", ["--version"]),
    resourceMeasurement: GNU_TIME ? "GNU time (-f '%U %S %M')" : "/proc polling every 50 ms",
  };
}

// ============================================================ analysis
/**
 * Checks and summarises run records. `engines`: [{ id, workers, processes }]
 * in table order. Returns { problems, checks, summary, ratios, markdown }.
 */
function analyze(records, engines, wantW, runs) {
  for (const rec of records) {
    // (Re)derive the contention flag: a single-threaded program whose CPU time
    // falls well short of its wall time was waiting for a core.
    const e = engines.find((x) => x.id === rec.engine);
    if (rec.ok && rec.cpuS != null && rec.wallS > 0) {
      rec.cpuPerWall = rec.cpuS / rec.wallS;
      rec.contended = !!e && e.workers === 1 && e.processes === 1 && rec.cpuPerWall < 0.9;
    }
  }
  const nOf = (id, w) => records.find((x) => x.engine === id && x.workload === w && !x.reference)?.n ?? null;
  // ---- checks
  const problems = [];
  for (const rec of records) if (!rec.ok) problems.push(`${rec.workload} ${rec.engine}${rec.reference ? " (reference)" : ""}: ${rec.error}`);
  const groups = new Map();
  for (const rec of records.filter((x) => x.ok)) {
    const k = `${rec.workload}|${rec.n}`;
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k).push(rec);
  }
  const checks = [];
  for (const recs of groups.values()) {
    const { workload, n } = recs[0];
    const distinct = [...new Set(recs.map((x) => x.checksum))];
    const bad = checkInvariants(workload, n, distinct[0]);
    const agree = distinct.length === 1 && bad.length === 0;
    checks.push({ workload, n, checksum: distinct.length === 1 ? distinct[0] : null, engines: [...new Set(recs.map((x) => x.engine))], agree });
    if (distinct.length > 1) {
      problems.push(`CHECKSUM MISMATCH ${workload} n=${n}:\n` + distinct.map((c) => `  ${c}  ← ${[...new Set(recs.filter((x) => x.checksum === c).map((x) => x.engine))].join(", ")}`).join("\n"));
    } else if (bad.length) {
      problems.push(`CHECKSUM WRONG ${workload} n=${n}: ${bad.join(", ")} (all of ${checks.at(-1).engines.join(", ")})`);
    }
  }

  // ---- summary
  const summary = [];
  for (const w of wantW) {
    for (const e of engines) {
      const rs = records.filter((x) => x.engine === e.id && x.workload === w && !x.reference && x.ok);
      const all = records.filter((x) => x.engine === e.id && x.workload === w && !x.reference);
      summary.push({
        workload: w, engine: e.id, group: e.group, n: nOf(e.id, w), runs: rs.length, failed: all.length - rs.length,
        contendedRuns: rs.filter((x) => x.contended).length,
        itemsPerS: median(rs.map((x) => x.itemsPerS)), wallS: median(rs.map((x) => x.wallS)),
        selfItemsPerS: median(rs.map((x) => x.selfItemsPerS)), cpuS: median(rs.map((x) => x.cpuS)),
        peakRssMiB: median(rs.map((x) => x.peakRssMiB)),
        spread: rs.length > 1 ? (Math.max(...rs.map((x) => x.itemsPerS)) / Math.min(...rs.map((x) => x.itemsPerS))) - 1 : null,
      });
    }
  }
  const rate = (w, id) => summary.find((s) => s.workload === w && s.engine === id)?.itemsPerS ?? null;
  const div = (a, b) => (a != null && b != null && b > 0 ? a / b : null);
  const ratios = [];
  for (const w of wantW) {
    for (const e of ENGINES.filter((x) => x.group === "weir")) {
      const r = rate(w, e.id);
      ratios.push({
        workload: w, engine: e.id, pending: r == null,
        vsBytewax1w: div(r, rate(w, "bytewax-1w")), peer: e.peer, vsPeer: div(r, rate(w, e.peer)),
        vsNodeFused: div(r, rate(w, "node-fused")), vsNodeStaged: div(r, rate(w, "node-staged")),
      });
    }
  }

  // ---- markdown
  const md = [];
  md.push(`| workload | engine | N | items/s | wall s | self-timed items/s | CPU s | peak RSS MiB | runs | spread |`);
  md.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const s of summary) {
    md.push(`| ${s.workload} | ${s.engine} | ${s.n == null ? "–" : fmtN(s.n)} | ${fmtRate(s.itemsPerS)} | ${fmtS(s.wallS)} | ${fmtRate(s.selfItemsPerS)} | ${fmtS(s.cpuS)} | ${s.peakRssMiB == null ? "–" : s.peakRssMiB.toFixed(0)} | ${s.runs}${s.failed ? ` (+${s.failed} failed)` : ""}${s.contendedRuns ? ` (${s.contendedRuns}c)` : ""} | ${s.spread == null ? "–" : `${(s.spread * 100).toFixed(0)} %`} |`);
  }
  md.push("");
  md.push("| workload | weir engine | ÷ bytewax-1w | ÷ same-shape Bytewax | ÷ node-fused | ÷ node-staged |");
  md.push("|---|---|---:|---:|---:|---:|");
  for (const r of ratios) {
    md.push(r.pending
      ? `| ${r.workload} | ${r.engine} | pending | pending | pending | pending |`
      : `| ${r.workload} | ${r.engine} | ${fmtRatio(r.vsBytewax1w)} | ${fmtRatio(r.vsPeer)} (${r.peer}) | ${fmtRatio(r.vsNodeFused)} | ${fmtRatio(r.vsNodeStaged)} |`);
  }
  md.push("");
  md.push(`items/s = N / wall-clock of the whole run (spawn to exit, all processes; start-up included); units: ${wantW.map((w) => `${w} = ${UNITS[w]}`).join(", ")}. Medians of ${runs} run(s). CPU = user+sys of the child process(es); peak RSS summed over processes. spread = max/min − 1 of items/s. (Nc) = N runs of a single-threaded engine with CPU < 0.9 × wall (it waited for a core: the machine was busy).`);

  return { problems, checks, summary, ratios, markdown: md.join("\n") };
}

// ============================================================ main
/** `--report [file]`: re-checks and re-renders an existing results file (no runs). */
async function report(file) {
  const d = JSON.parse(readFileSync(file, "utf8"));
  const a = analyze(d.runs, d.config.engines, d.config.workloads, d.config.runs);
  if (d.scaling) {
    const { renderScaling } = await import("./scaling.mjs");
    a.markdown += `\n\n${renderScaling(d.scaling.summary, d.config.runs)}`;
    a.problems.push(...d.scaling.problems);
  }
  // [kafka.mjs] re-render the Kafka section too
  if (d.kafka) { a.markdown += `\n\n${(await import("./kafka.mjs")).renderKafka(d.kafka.summary, d.config.runs)}`; a.problems.push(...d.kafka.problems); }
  if (d.engineRs) { a.markdown += `\n\n${(await import("./engine-rs.mjs")).renderEngineBench(d.engineRs.rows)}`; a.problems.push(...d.engineRs.problems); }
  Object.assign(d, { ok: a.problems.length === 0, checks: a.checks, summary: a.summary, ratios: a.ratios, problems: a.problems, markdown: a.markdown });
  writeFileSync(file, JSON.stringify(d, null, 2) + "\n");
  process.stdout.write(a.markdown + "\n");
  for (const p of a.problems) log(p);
  process.exit(a.problems.length ? 1 : 0);
}

async function main() {
  const ri = process.argv.indexOf("--report");
  if (ri >= 0) return report(path.resolve(process.argv[ri + 1] ?? path.join(HERE, "results.json")));
  const runs = Math.max(1, Number(env.BENCH_RUNS ?? 3) | 0);
  const scale = Number(env.BENCH_SCALE ?? 1);
  if (!(scale > 0)) throw new Error(`BENCH_SCALE must be > 0 (got ${env.BENCH_SCALE})`);
  const timeoutS = Number(env.BENCH_TIMEOUT_S ?? 600);
  const outFile = env.BENCH_OUT ? path.resolve(env.BENCH_OUT) : path.join(HERE, "results.json");
  const wantW = list(env.BENCH_WORKLOADS) ?? WORKLOADS;
  for (const w of wantW) if (!WORKLOADS.includes(w)) throw new Error(`unknown workload ${w} (have ${WORKLOADS})`);
  const wantE = list(env.BENCH_ENGINES);
  for (const e of wantE ?? []) if (!ENGINES.some((x) => x.id === e)) throw new Error(`unknown engine ${e} (have ${ENGINES.map((x) => x.id)})`);
  const ctx = { ports };

  const engines = [];
  const skipped = [];
  for (const e of ENGINES) {
    if (wantE && !wantE.includes(e.id)) continue;
    const a = e.available(ctx);
    if (a === true) engines.push(e);
    else if (wantE) throw new Error(`engine ${e.id} requested but unavailable: ${a}`);
    else { skipped.push({ engine: e.id, reason: a }); log(`skip ${e.id}: ${a}`); }
  }
  const nFor = (e, w) => {
    const base = SIZES[e.tier]?.[w];
    if (!base) throw new Error(`no size for tier ${e.tier} / ${w}`);
    return Math.max(2000, Math.round((base * scale) / 1000) * 1000);
  };
  const setupDone = new Set();
  const setup = (e) => { if (e.setup && !setupDone.has(e.setup)) { e.setup(ctx); setupDone.add(e.setup); } };

  const startedAt = new Date();
  const loadStart = os.loadavg();
  const records = [];
  const runOne = async (e, w, n, label, reference = false) => {
    setup(e);
    const load1 = os.loadavg()[0];
    const commands = await e.commands(w, n, ctx);
    const m = await measure(commands, timeoutS);
    const rec = {
      engine: e.id, workload: w, n, reference, ok: m.ok, error: m.error, loadAvg1AtStart: load1,
      wallS: m.wallS, userS: m.userS, sysS: m.sysS, cpuS: m.userS != null && m.sysS != null ? m.userS + m.sysS : null,
      peakRssMiB: m.rssKB != null ? m.rssKB / 1024 : null, perProcess: m.perProcess,
      command: commands.map((c) => [c.cmd === NODE ? "node" : c.cmd, ...c.args].join(" ")),
    };
    if (m.ok) {
      try {
        Object.assign(rec, mergeLines(m.lines, w, n));
        rec.itemsPerS = n / m.wallS;
        rec.selfItemsPerS = rec.selfS > 0 ? n / rec.selfS : null;
      } catch (err) { rec.ok = false; rec.error = `bad output: ${err.message}`; }
    }
    records.push(rec);
    log(rec.ok
      ? `${label} ${w} ${e.id} n=${fmtN(n)}: ${fmtS(rec.wallS)} s, ${fmtRate(rec.itemsPerS)} ${UNITS[w]}/s, cpu ${fmtS(rec.cpuS)} s, rss ${rec.peakRssMiB?.toFixed(0)} MiB, ${rec.checksum}`
      : `${label} ${w} ${e.id} n=${fmtN(n)}: FAILED ${rec.error}`);
    return rec;
  };

  log(`weir bench: ${runs} run(s), scale ${scale}, engines ${engines.map((e) => e.id).join(", ")}, workloads ${wantW.join(", ")}`);
  // Reference runs: every (workload, N) not otherwise run by node-fused.
  const ref = ENGINES.find((e) => e.id === REFERENCE_ENGINE);
  const pairs = new Map();
  for (const w of wantW) for (const e of engines) pairs.set(`${w}|${nFor(e, w)}`, { w, n: nFor(e, w) });
  for (const { w, n } of pairs.values()) {
    const covered = engines.some((e) => e.id === REFERENCE_ENGINE && nFor(e, w) === n);
    if (!covered) await runOne(ref, w, n, "[ref]", true);
  }
  for (let r = 1; r <= runs; r++) {
    for (const w of wantW) for (const e of engines) await runOne(e, w, nFor(e, w), `[${r}/${runs}]`);
  }

  const analysis = analyze(records, engines, wantW, runs);
  const { problems, checks, summary, ratios } = analysis;
  let { markdown } = analysis;

  // Optional sections after the table, each with an env switch: "0" skips, "1" forces (and fails if unavailable); by
  // default they run when neither engines nor workloads were narrowed to exclude weir.
  const wantSection = (flag) => env[flag] === "1"
    || (env[flag] !== "0" && !env.BENCH_WORKLOADS && (!wantE || wantE.some((id) => id.startsWith("weir-"))));
  const section = async (flag, name, available, runIt) => {
    if (!wantSection(flag)) return null;
    const a = available();
    if (a !== true) {
      if (env[flag] === "1") throw new Error(`${name} benchmark requested but unavailable: ${a}`);
      log(`skip ${name} benchmark: ${a}`);
      return null;
    }
    const res = await runIt();
    problems.push(...res.problems);
    markdown += `\n\n${res.markdown}`;
    return res;
  };
  // CPU-bound scaling (-w 1 vs -w 2); BENCH_SCALING.
  const scalingMod = await import("./scaling.mjs");
  const scaling = await section("BENCH_SCALING", "scaling", scalingMod.scalingAvailable, () => scalingMod.runScaling({ runs, scale, timeoutS, log }));
  // [kafka.mjs] Kafka → weir → Kafka end to end (own broker); BENCH_KAFKA.
  const kafkaMod = await import("./kafka.mjs");
  const kafka = await section("BENCH_KAFKA", "kafka", kafkaMod.kafkaAvailable, () => kafkaMod.runKafka({ runs, scale, timeoutS, log }));
  // The engine crate alone (criterion, no JavaScript); BENCH_ENGINE_RS.
  const engineMod = await import("./engine-rs.mjs");
  const engineRs = await section("BENCH_ENGINE_RS", "engine", engineMod.engineBenchAvailable, () => engineMod.runEngineBench({ log }));

  const ok = problems.length === 0;
  const results = {
    schema: 1, ok, startedAt: startedAt.toISOString(), finishedAt: new Date().toISOString(),
    machine: machineInfo(), loadAverage: { start: loadStart, end: os.loadavg() },
    config: { runs, scale, timeoutS, engines: engines.map((e) => ({ id: e.id, group: e.group, tier: e.tier, workers: e.workers, processes: e.processes, note: e.note })), skipped, workloads: wantW, sizes: SIZES, bytewaxVersion: BYTEWAX_VERSION },
    checks, summary, ratios, problems, runs: records, scaling, markdown,
    kafka, // [kafka.mjs]
    engineRs,
  };
  writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n");
  process.stdout.write(markdown + "\n");
  log(`wrote ${rel(outFile)}`);
  if (!ok) {
    log("\n!!!!!!!! BENCHMARK FAILED !!!!!!!!");
    for (const p of problems) log(p);
    process.exit(1);
  }
  log(`checksums agree: ${checks.map((c) => `${c.workload}@${fmtN(c.n)} (${c.engines.length} engines)`).join(", ")}`);
}

// Only as the entry point: scaling.mjs imports measure() from this module.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    log(`bench error: ${e.stack || e.message}`);
    process.exit(2);
  });
}
