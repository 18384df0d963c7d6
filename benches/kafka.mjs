#!/usr/bin/env node
// Kafka → weir → Kafka end-to-end throughput benchmark.
//
//   node benches/kafka.mjs            # standalone: prints a markdown table (+ BENCH_OUT=file for JSON)
//   npm run bench                     # run.mjs calls runKafka() at the end (BENCH_KAFKA=0 skips it)
//
// What it does, all against one single-node KRaft broker it starts itself (scripts/kafka/broker.mjs) and stops
// again, also when something fails:
//   1. generates N JSON events of ≈ 100 bytes with a fixed-seed LCG, keyed by user, half to each of the
//      2 partitions of the input topic (partition = index mod 2);
//   2. produces them with kafkajs (requests of 1,000 messages, one in flight, acks = all: about the shape of weir's
//      KafkaSink, which sends each batch it gets in requests of ≤ 512 KiB, one after another), timed: the raw produce
//      rate (runs 2 … BENCH_RUNS go to scratch topics that are deleted again);
//   3. consumes the input topic with one plain kafkajs consumer, BENCH_RUNS times: the raw consume rate;
//   4. runs workloads/kafka_flow.ts through the CLI with `-w 1` and `-w 2`, interleaved, BENCH_RUNS times each,
//      each run into a fresh 2-partition output topic: kop.input (tail: false) → JSON.parse → enrich →
//      JSON.stringify → kop.output. Measured from spawning the process to its exit (start-up, group joins and the
//      final acknowledgements included), with CPU seconds and peak RSS of the weir process (GNU time, as in run.mjs)
//      and the broker's CPU seconds over the same interval (from /proc);
//   5. reads every output topic back and checks it holds exactly N messages, N distinct event ids, and the expected
//      checksum (Σ crc32(key ‖ value) mod 2³², the values computed here with the same `enrich` as the flow).
// Messages/s = N ÷ wall seconds; medians over the runs.
//
// Environment: BENCH_RUNS (3), BENCH_SCALE (1; multiplies N), BENCH_KAFKA_N (N itself, overrides the scale;
// default 500,000), BENCH_TIMEOUT_S (600 per weir run), BENCH_OUT (JSON results, standalone only).
// Needs dist/cli.js (npm run build), Java 11+ and, once, Maven for the broker's jars.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { crc32 } from "node:zlib";
import kafkajs from "kafkajs";
import { startBroker } from "../scripts/kafka/broker.mjs";
import { measure } from "./run.mjs";
import { BASE_MS, draw, lcgNext } from "./workloads/common.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const FLOW = "benches/workloads/kafka_flow.ts";
export const KAFKA_N = 500_000;
const PARTITIONS = 2;
const SEED = 20_240_601;
/** Messages per produce request of the raw kafkajs producer: one weir source batch (the source's default batchSize). */
const RAW_REQUEST_MESSAGES = 1000;
const KINDS = ["view", "click", "add_to_cart", "purchase"];

const median = (xs) => {
  const s = xs.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const f2 = (x, d = 2) => (x == null ? "–" : x.toFixed(d));
const fmtRate = (x) => (x == null ? "–" : x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ============================================================ data
/** The same transform as `enrich` in workloads/kafka_flow.ts (this copy computes the expected output). */
export function enrich(e) {
  return {
    id: e.id, user: e.user, kind: e.kind, page: e.page,
    cents: Math.round(e.amount * 100), big: e.amount >= 500, minute: Math.floor(e.ts / 60_000),
  };
}

/**
 * The N input messages (`{ key, value, partition }`, Buffers) and the expected output digest. Event i goes to
 * partition i mod 2; its fields come from a 32-bit LCG with a fixed seed.
 */
export function generate(n) {
  const messages = new Array(n);
  let x = SEED >>> 0;
  let hash = 0;
  let bytes = 0;
  let ts = BASE_MS;
  for (let id = 0; id < n; id++) {
    x = lcgNext(x); const user = `u${String(draw(x, 10_000)).padStart(4, "0")}`;
    x = lcgNext(x); const kind = KINDS[draw(x, KINDS.length)];
    x = lcgNext(x); const page = `/products/${draw(x, 50_000)}`;
    x = lcgNext(x); const amount = draw(x, 65_536) * 100_000 / 65_536 / 100; // 0 … 999.98, fractional
    x = lcgNext(x); ts += draw(x, 20);
    const event = { id, user, kind, page, amount: Math.round(amount * 100) / 100, ts };
    const value = Buffer.from(JSON.stringify(event));
    messages[id] = { key: Buffer.from(user), value, partition: id % PARTITIONS };
    bytes += value.length;
    hash = (hash + crc32(JSON.stringify(enrich(event)), crc32(user))) >>> 0;
  }
  return { messages, expected: { count: n, distinct: n, hash }, avgValueBytes: n > 0 ? bytes / n : 0 };
}

// ============================================================ broker helpers
/** user + sys CPU seconds of a pid so far (null if unreadable). */
function cpuOfPid(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return null;
  }
}
const CLK_TCK = (() => {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const v = Number(r.stdout);
  return r.status === 0 && v > 0 ? v : 100;
})();
const selfCpuS = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
/** b1 − b0 rounded to the clock tick's precision, or null. */
const cpuDelta = (b0, b1) => (b0 != null && b1 != null ? Math.round((b1 - b0) * 1000) / 1000 : null);

async function withAdmin(kafka, fn) {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

async function createTopic(kafka, topic) {
  await withAdmin(kafka, (admin) => admin.createTopics({
    topics: [{ topic, numPartitions: PARTITIONS, replicationFactor: 1 }], waitForLeaders: true,
  }));
}

async function deleteTopic(kafka, topic) {
  await withAdmin(kafka, (admin) => admin.deleteTopics({ topics: [topic], timeout: 10_000 })).catch(() => {});
}

/** Map partition → high watermark. */
async function highWatermarks(kafka, topic) {
  const offsets = await withAdmin(kafka, (admin) => admin.fetchTopicOffsets(topic));
  return new Map(offsets.map((o) => [o.partition, Number(o.high)]));
}

// ============================================================ raw kafkajs
/**
 * Produces `messages` to `topic` in requests of RAW_REQUEST_MESSAGES, one in flight (acks = all, kafkajs's default);
 * returns { seconds, clientCpuS, brokerCpuS }.
 */
async function produceAll(kafka, topic, messages, brokerPid) {
  const producer = kafka.producer();
  await producer.connect();
  try {
    const t0 = performance.now(), c0 = selfCpuS(), b0 = cpuOfPid(brokerPid);
    for (let i = 0; i < messages.length; i += RAW_REQUEST_MESSAGES) {
      await producer.sendBatch({ topicMessages: [{ topic, messages: messages.slice(i, i + RAW_REQUEST_MESSAGES) }] });
    }
    const seconds = (performance.now() - t0) / 1000;
    const b1 = cpuOfPid(brokerPid);
    return { seconds, clientCpuS: selfCpuS() - c0, brokerCpuS: cpuDelta(b0, b1) };
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads `topic` from the beginning to its current high watermarks with one consumer (a fresh group), calling
 * `onMessage(message)` for each when given. Returns { count, seconds (connect → last message), clientCpuS, brokerCpuS }.
 * The consumer uses weir's fetch wait (100 ms) and kafkajs's other defaults.
 */
async function consumeAll(kafka, topic, brokerPid, onMessage) {
  const highs = await highWatermarks(kafka, topic);
  const remaining = new Map([...highs].filter(([, h]) => h > 0));
  const t0 = performance.now(), c0 = selfCpuS(), b0 = cpuOfPid(brokerPid);
  let count = 0;
  if (remaining.size > 0) {
    const consumer = kafka.consumer({ groupId: `bench-${topic}-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise((resolve, reject) => {
        consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (!remaining.has(batch.partition)) return;
            const high = highs.get(batch.partition);
            for (const m of batch.messages) {
              if (Number(m.offset) >= high) break;
              count++;
              if (onMessage) onMessage(m);
            }
            if (batch.messages.length > 0 && Number(batch.lastOffset()) + 1 >= high) remaining.delete(batch.partition);
            if (remaining.size === 0) resolve();
          },
        }).catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const b1 = cpuOfPid(brokerPid);
  return { count, seconds, clientCpuS: selfCpuS() - c0, brokerCpuS: cpuDelta(b0, b1) };
}

/** Reads an output topic back: message count, distinct event ids, Σ crc32(key ‖ value) mod 2³². */
async function verifyOutput(kafka, topic, n, brokerPid) {
  const seen = new Uint8Array(n);
  let distinct = 0, hash = 0, bad = 0;
  const res = await consumeAll(kafka, topic, brokerPid, (m) => {
    hash = (hash + crc32(m.value ?? Buffer.alloc(0), crc32(m.key ?? Buffer.alloc(0)))) >>> 0;
    let id;
    try { id = JSON.parse(m.value.toString("utf8")).id; } catch { id = -1; }
    if (Number.isInteger(id) && id >= 0 && id < n) {
      if (seen[id] === 0) { seen[id] = 1; distinct++; }
    } else {
      bad++;
    }
  });
  return { count: res.count, distinct, hash, bad, seconds: res.seconds };
}

// ============================================================ availability
export function kafkaAvailable() {
  if (!existsSync(path.join(ROOT, "dist", "cli.js"))) return "dist/cli.js not built (npm run build)";
  if (!existsSync(path.join(HERE, "workloads", "kafka_flow.ts"))) return "benches/workloads/kafka_flow.ts missing";
  if (spawnSync("java", ["-version"], { stdio: "ignore" }).error) return "no `java` on PATH (the Kafka broker needs Java 11+)";
  const jars = existsSync(path.join(ROOT, "scripts", "kafka", "lib", ".complete"));
  if (!jars && spawnSync("mvn", ["-v"], { stdio: "ignore" }).error) return "the Kafka broker's jars are missing and there is no `mvn` to fetch them";
  return true;
}

// ============================================================ the benchmark
/**
 * Runs the benchmark (N: `n`, else BENCH_KAFKA_N, else KAFKA_N × `scale`). Returns { n, avgValueBytes, expected, runs, raw, summary, problems, markdown } (JSON-ready).
 */
export async function runKafka({
  runs = 3, scale = 1, n: nGiven = process.env.BENCH_KAFKA_N ? Number(process.env.BENCH_KAFKA_N) : undefined, timeoutS = 600,
  log = (m) => process.stderr.write(`${m}\n`),
} = {}) {
  const n = nGiven ?? Math.max(2000, Math.round((KAFKA_N * scale) / 1000) * 1000);
  const t0 = performance.now();
  const { messages, expected, avgValueBytes } = generate(n);
  log(`kafka: n=${n}, ${PARTITIONS} partitions, values ≈ ${avgValueBytes.toFixed(0)} bytes, generated in ${f2((performance.now() - t0) / 1000)} s; expected count=${expected.count};hash=${expected.hash}`);
  const loadStart = os.loadavg();

  let broker;
  // A last resort if this process exits without reaching `finally` (e.g. run.mjs's SIGINT handler calls
  // process.exit): kill the broker by pid and remove its data. broker.mjs's orphan guard would also stop it.
  const onExit = () => {
    if (!broker) return;
    try { process.kill(broker.pid, "SIGKILL"); } catch { /* gone */ }
    try { rmSync(broker.dataDir, { recursive: true, force: true }); } catch { /* best effort */ }
  };
  process.on("exit", onExit);
  const problems = [];
  const records = [];
  const raw = { produce: [], consume: [] };
  try {
    const tb = performance.now();
    broker = await startBroker();
    const brokerPid = broker.pid;
    log(`kafka: broker ready in ${f2((performance.now() - tb) / 1000)} s (pid ${brokerPid})`);
    const kafka = new kafkajs.Kafka({ brokers: broker.brokers, clientId: "weir-bench", logLevel: kafkajs.logLevel.NOTHING });
    const inTopic = "bench-in";

    // ---- raw produce: run 1 fills the input topic, later runs go to scratch topics
    for (let r = 1; r <= runs; r++) {
      const topic = r === 1 ? inTopic : `bench-produce-${r}`;
      await createTopic(kafka, topic);
      const p = await produceAll(kafka, topic, messages, brokerPid);
      const highs = await highWatermarks(kafka, topic);
      const stored = [...highs.values()].reduce((a, b) => a + b, 0);
      if (stored !== n) problems.push(`kafka: produce run ${r} stored ${stored} messages, expected ${n}`);
      raw.produce.push({ ...p, count: stored });
      log(`[${r}/${runs}] kafkajs produce: ${f2(p.seconds)} s = ${fmtRate(n / p.seconds)} msgs/s, client cpu ${f2(p.clientCpuS)} s, broker cpu ${f2(p.brokerCpuS)} s`);
      if (r > 1) await deleteTopic(kafka, topic);
    }
    const inHighs = await highWatermarks(kafka, inTopic);
    log(`kafka: input topic partitions ${[...inHighs].map(([p, h]) => `${p}:${h}`).join(", ")}`);

    // ---- raw consume of the input topic
    for (let r = 1; r <= runs; r++) {
      const c = await consumeAll(kafka, inTopic, brokerPid);
      if (c.count !== n) problems.push(`kafka: consume run ${r} read ${c.count} messages, expected ${n}`);
      raw.consume.push(c);
      log(`[${r}/${runs}] kafkajs consume: ${f2(c.seconds)} s = ${fmtRate(n / c.seconds)} msgs/s, client cpu ${f2(c.clientCpuS)} s, broker cpu ${f2(c.brokerCpuS)} s`);
    }

    // ---- weir, -w 1 and -w 2 interleaved
    for (let r = 1; r <= runs; r++) {
      for (const workers of [1, 2]) {
        const outTopic = `bench-out-w${workers}-r${r}`;
        await createTopic(kafka, outTopic);
        const args = { brokers: broker.brokers, inTopic, outTopic };
        const cmd = { cmd: process.execPath, args: ["dist/cli.js", "run", `${FLOW}:kafkaFlow(${JSON.stringify(args)})`, "-w", String(workers)] };
        const load1 = os.loadavg()[0];
        const b0 = cpuOfPid(brokerPid);
        const m = await measure([cmd], timeoutS);
        const b1 = cpuOfPid(brokerPid);
        const rec = {
          workers, run: r, ok: m.ok, error: m.error, loadAvg1AtStart: load1, wallS: m.wallS,
          cpuS: m.userS != null && m.sysS != null ? m.userS + m.sysS : null,
          peakRssMiB: m.rssKB != null ? m.rssKB / 1024 : null,
          brokerCpuS: cpuDelta(b0, b1),
          command: `node dist/cli.js run '${FLOW}:kafkaFlow({"brokers":["127.0.0.1:<port>"],"inTopic":"${inTopic}","outTopic":"${outTopic}"})' -w ${workers}`,
        };
        if (m.ok) {
          const v = await verifyOutput(kafka, outTopic, n, brokerPid);
          rec.output = { count: v.count, distinct: v.distinct, hash: v.hash, bad: v.bad };
          const okOut = v.count === expected.count && v.distinct === expected.distinct && v.hash === expected.hash && v.bad === 0;
          if (!okOut) {
            rec.ok = false;
            rec.error = `output topic: count=${v.count} distinct=${v.distinct} hash=${v.hash} bad=${v.bad}, expected count=${n} distinct=${n} hash=${expected.hash}`;
          }
          rec.msgsPerS = n / m.wallS;
        }
        if (!rec.ok) problems.push(`kafka -w ${workers} run ${r}: ${rec.error}`);
        records.push(rec);
        log(rec.ok
          ? `[${r}/${runs}] kafka weir -w ${workers}: ${f2(rec.wallS)} s = ${fmtRate(rec.msgsPerS)} msgs/s, cpu ${f2(rec.cpuS)} s, rss ${rec.peakRssMiB?.toFixed(0)} MiB, broker cpu ${f2(rec.brokerCpuS)} s, load ${load1.toFixed(1)}; output verified`
          : `[${r}/${runs}] kafka weir -w ${workers}: FAILED ${rec.error}`);
        await deleteTopic(kafka, outTopic);
      }
    }
  } catch (err) {
    problems.push(`kafka: ${err instanceof Error ? err.message : String(err)}`);
    log(`kafka: FAILED ${err instanceof Error ? err.stack : err}`);
  } finally {
    if (broker) {
      await broker.stop();
      log(`kafka: broker stopped`);
    }
    broker = undefined;
    process.off("exit", onExit);
  }

  const summary = summarize(n, avgValueBytes, records, raw, runs);
  summary.loadAverage = { start: loadStart, end: os.loadavg() };
  return { n, avgValueBytes, expected, runs: records, raw, summary, problems, markdown: renderKafka(summary, runs) };
}

function summarize(n, avgValueBytes, records, raw, runs) {
  const weir = (workers) => {
    const rs = records.filter((x) => x.workers === workers && x.ok);
    const walls = rs.map((x) => x.wallS);
    return {
      what: `weir -w ${workers}`, runs: rs.length, failed: records.filter((x) => x.workers === workers).length - rs.length,
      wallS: median(walls), minWallS: walls.length ? Math.min(...walls) : null, maxWallS: walls.length ? Math.max(...walls) : null,
      msgsPerS: median(rs.map((x) => x.msgsPerS)), cpuS: median(rs.map((x) => x.cpuS)), peakRssMiB: median(rs.map((x) => x.peakRssMiB)),
      brokerCpuS: median(rs.map((x) => x.brokerCpuS)),
    };
  };
  const rawRow = (what, xs) => {
    const walls = xs.map((x) => x.seconds);
    return {
      what, runs: xs.length, failed: 0, wallS: median(walls), minWallS: walls.length ? Math.min(...walls) : null,
      maxWallS: walls.length ? Math.max(...walls) : null, msgsPerS: median(xs.map((x) => n / x.seconds)),
      cpuS: median(xs.map((x) => x.clientCpuS)), peakRssMiB: null, brokerCpuS: median(xs.map((x) => x.brokerCpuS)),
    };
  };
  return {
    n, partitions: PARTITIONS, avgValueBytes,
    rows: [weir(1), weir(2), rawRow("kafkajs produce", raw.produce), rawRow("kafkajs consume", raw.consume)],
  };
}

/** The markdown table of a summary. */
export function renderKafka(s, runs) {
  const md = [];
  md.push(`Kafka → weir → Kafka (\`benches/kafka.mjs\`): N = ${s.n.toLocaleString("en-US")} JSON messages (values ≈ ${Math.round(s.avgValueBytes)} bytes) in a ${s.partitions}-partition topic on a single-node broker on the same machine; weir = \`kop.input\` (tail: false) → JSON.parse → map → JSON.stringify → \`kop.output\`, CLI, start-up included; output topic read back and verified (count, distinct ids, checksum); median of ${runs}.`);
  md.push("");
  md.push("| what | msgs/s | wall s (median) | min–max s | CPU s | peak RSS MiB | broker CPU s | runs |");
  md.push("|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of s.rows) {
    md.push(`| ${r.what} | ${fmtRate(r.msgsPerS)} | ${f2(r.wallS)} | ${f2(r.minWallS)}–${f2(r.maxWallS)} | ${f2(r.cpuS)} | ${r.peakRssMiB == null ? "–" : r.peakRssMiB.toFixed(0)} | ${f2(r.brokerCpuS)} | ${r.runs}${r.failed ? ` (+${r.failed} failed)` : ""} |`);
  }
  md.push("");
  md.push("weir rows: wall = spawn to exit of `node dist/cli.js run …`; CPU and peak RSS of that process. kafkajs rows: one client in the benchmark process (produce: requests of 1,000 messages, one in flight, acks = all; consume: one consumer for both partitions, fetch wait 100 ms), wall = first request (produce) or connect (consume) to the last acknowledgement / message, CPU = the client process. broker CPU = the broker JVM's user + sys over the same interval.");
  return md.join("\n");
}

// ============================================================ standalone
async function main() {
  const env = process.env;
  const a = kafkaAvailable();
  if (a !== true) throw new Error(a);
  const res = await runKafka({
    runs: Math.max(1, Number(env.BENCH_RUNS ?? 3) | 0),
    scale: Number(env.BENCH_SCALE ?? 1),
    timeoutS: Number(env.BENCH_TIMEOUT_S ?? 600),
  });
  if (env.BENCH_OUT) {
    const machine = { cpuModel: os.cpus()[0]?.model?.trim() ?? null, cores: os.cpus().length, memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10, node: process.version };
    writeFileSync(path.resolve(env.BENCH_OUT), JSON.stringify({ machine, ...res }, null, 2) + "\n");
  }
  process.stdout.write(res.markdown + "\n");
  for (const p of res.problems) process.stderr.write(`${p}\n`);
  process.exit(res.problems.length ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    process.stderr.write(`kafka bench error: ${e.stack || e.message}\n`);
    process.exit(2);
  });
}
