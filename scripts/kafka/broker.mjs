// A real single-node Kafka broker (KRaft, combined broker + controller) for weir's tests and for developers.
//
//   import { startBroker } from "../scripts/kafka/broker.mjs";
//   const broker = await startBroker();          // { brokers: ["127.0.0.1:<port>"], pid, dataDir, stop() }
//   ...; await broker.stop();
//
//   node scripts/kafka/broker.mjs start [--port N] [--controller-port N] [--data-dir DIR]   (runs until Ctrl-C)
//   node scripts/kafka/broker.mjs install                                                  (only fetch the jars)
//
// The jars come from Maven Central through ./pom.xml (copied into ./lib, git-ignored). The JVM is the spawned process
// itself, so `pid` is the broker's and stopping by pid stops the broker.
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const KAFKA_DIR = dirname(fileURLToPath(import.meta.url));
const LIB_DIR = join(KAFKA_DIR, "lib");
/** Written after a successful Maven copy, so an interrupted copy is redone. Names what it holds. */
const LIB_COMPLETE_MARKER = join(LIB_DIR, ".complete");
const LIB_CONTENT = "kafka_2.13:3.9.1 reload4j:1.2.25 slf4j-reload4j:1.7.36";
const LOG4J_CONFIG = join(KAFKA_DIR, "log4j.properties");
const ORPHAN_GUARD = join(KAFKA_DIR, "orphan-guard.mjs");
const READY_LINE = /BrokerServer id=\d+\] Transition from STARTING to STARTED/;
const MIN_JAVA_MAJOR = 11;
const DEFAULT_START_TIMEOUT_MS = 90_000;
const STOP_GRACE_MS = 15_000;

const INSTALL_JAVA_HINT =
  "Install a Java runtime, version 17 recommended (Debian/Ubuntu: `apt-get install -y openjdk-17-jre-headless`), and make sure `java` is on PATH.";
const INSTALL_MAVEN_HINT =
  "Install Maven (Debian/Ubuntu: `apt-get install -y maven`) and make sure `mvn` is on PATH; it fetches the broker's jars into scripts/kafka/lib/ once.";

/**
 * Starts a single-node Kafka 3.9 broker (KRaft combined mode) on 127.0.0.1.
 *
 * Formats the KRaft storage on first use of `dataDir`, then runs `java -Xmx512m -cp 'lib/*' kafka.Kafka server.properties`
 * as the spawned process and resolves once the broker logs the transition to STARTED. Without `dataDir` a fresh
 * temporary directory is used and deleted by `stop()`. Ports default to free, non-default ones.
 *
 * @param {{ dataDir?: string, port?: number, controllerPort?: number, startTimeoutMs?: number, killWithParent?: boolean }} [opts]
 *   `killWithParent` (default true) starts a tiny watchdog process that stops the broker if this Node process dies
 *   without calling `stop()`.
 * @returns {Promise<{ brokers: string[], pid: number, dataDir: string, logFile: string, stop(): Promise<void> }>}
 */
export async function startBroker(opts = {}) {
  checkJava();
  ensureJars();
  const ownsDataDir = opts.dataDir === undefined;
  const dataDir = ownsDataDir ? mkdtempSync(join(tmpdir(), "weir-kafka-")) : resolve(opts.dataDir);
  const portsGiven = opts.port !== undefined || opts.controllerPort !== undefined;
  // Free ports can be taken between probing and binding; retry with new ones unless the caller chose them.
  const attempts = portsGiven ? 1 : 3;
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    const controllerPort = opts.controllerPort ?? (await freePort([port]));
    try {
      const broker = await launch({ dataDir, port, controllerPort, timeoutMs: opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
        killWithParent: opts.killWithParent ?? true });
      return {
        ...broker,
        async stop() {
          await broker.stop();
          if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      if (attempt >= attempts || !/Address already in use/.test(String(err))) {
        if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
        throw err;
      }
    }
  }
}

/**
 * Stops a broker started by {@link startBroker} when only its pid is known (e.g. from another process):
 * SIGTERM, then SIGKILL after a grace period. Resolves once the process is gone; a pid that is already gone is fine.
 * @param {number} pid
 * @param {number} [graceMs]
 */
export async function stopBrokerByPid(pid, graceMs = STOP_GRACE_MS) {
  if (!signal(pid, "SIGTERM")) return;
  const deadline = Date.now() + graceMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      signal(pid, "SIGKILL");
      await sleep(200);
      return;
    }
    await sleep(100);
  }
}

/** Fetches the broker's jars into scripts/kafka/lib/ with Maven unless they are already there. */
export function ensureJars() {
  if (existsSync(LIB_COMPLETE_MARKER) && readFileSync(LIB_COMPLETE_MARKER, "utf8").trim() === LIB_CONTENT) return;
  const probe = spawnSync("mvn", ["-v"], { stdio: "ignore" });
  if (probe.error) throw new Error(`The Kafka test broker needs its jars, but \`mvn\` was not found. ${INSTALL_MAVEN_HINT}`);
  const build = spawnSync("mvn", ["-B", "-q", "-f", join(KAFKA_DIR, "pom.xml"), "package"], { encoding: "utf8" });
  if (build.status !== 0) {
    throw new Error(`Fetching the Kafka broker jars with Maven failed (exit ${build.status}):\n${tail(build.stdout + build.stderr, 30)}`);
  }
  writeFileSync(LIB_COMPLETE_MARKER, LIB_CONTENT + "\n");
}

function checkJava() {
  const probe = spawnSync("java", ["-version"], { encoding: "utf8" });
  if (probe.error) throw new Error(`The Kafka test broker needs Java, but \`java\` was not found. ${INSTALL_JAVA_HINT}`);
  const match = /version "(\d+)(?:\.(\d+))?/.exec(probe.stderr + probe.stdout);
  const major = match ? (match[1] === "1" ? Number(match[2]) : Number(match[1])) : 0;
  if (major < MIN_JAVA_MAJOR) {
    throw new Error(`The Kafka test broker needs Java ${MIN_JAVA_MAJOR} or newer, found: ${(probe.stderr || probe.stdout).split("\n")[0]}. ${INSTALL_JAVA_HINT}`);
  }
}

async function launch({ dataDir, port, controllerPort, timeoutMs, killWithParent }) {
  const logsDir = join(dataDir, "logs");
  mkdirSync(logsDir, { recursive: true });
  const propsFile = join(dataDir, "server.properties");
  writeFileSync(propsFile, serverProperties({ dataDir, port, controllerPort }));
  formatStorage(dataDir, propsFile);

  const logFile = join(logsDir, "server.log");
  const consoleFile = join(logsDir, "console.log");
  const logStart = existsSync(logFile) ? readFileSync(logFile).length : 0;
  const consoleFd = openSync(consoleFile, "a");
  const child = spawn("java", [...jvmArgs(logsDir), "kafka.Kafka", propsFile], {
    cwd: KAFKA_DIR,
    stdio: ["ignore", consoleFd, consoleFd],
  });
  closeSync(consoleFd);
  const exited = new Promise((resolveExit) => child.once("exit", (code, sig) => resolveExit({ code, sig })));
  child.once("error", () => {}); // surfaces as an exit; spawn errors were excluded by checkJava
  const guard = killWithParent ? startOrphanGuard(child.pid) : undefined;

  let stopping;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }
      guard?.kill("SIGTERM");
    })();
    return stopping;
  };

  try {
    await waitForReady({ logFile, logStart, consoleFile, exited, timeoutMs });
  } catch (err) {
    await stop();
    throw err;
  }
  return { brokers: [`127.0.0.1:${port}`], pid: child.pid, dataDir, logFile, stop };
}

function jvmArgs(logsDir) {
  return [
    "-Xmx512m",
    "-Djava.awt.headless=true",
    `-Dkafka.logs.dir=${logsDir}`,
    `-Dlog4j.configuration=${pathToFileURL(LOG4J_CONFIG).href}`,
    "-cp",
    join(LIB_DIR, "*"),
  ];
}

function serverProperties({ dataDir, port, controllerPort }) {
  return [
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
    `log.dirs=${join(dataDir, "kraft-logs")}`,
    "num.partitions=1",
    // A single node: internal topics must not wait for replicas that will never exist.
    "offsets.topic.replication.factor=1",
    "offsets.topic.num.partitions=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "min.insync.replicas=1",
    // Consumers join at once instead of after the default 3 s grace period.
    "group.initial.rebalance.delay.ms=0",
    "",
  ].join("\n");
}

/** Formats KRaft storage once per data dir; the cluster id is kept beside it so re-formatting is a no-op. */
function formatStorage(dataDir, propsFile) {
  const clusterIdFile = join(dataDir, "cluster.id");
  if (existsSync(join(dataDir, "kraft-logs", "meta.properties"))) return; // formatted already: skip a JVM start
  if (!existsSync(clusterIdFile)) writeFileSync(clusterIdFile, kafkaUuid() + "\n");
  const clusterId = readFileSync(clusterIdFile, "utf8").trim();
  const format = spawnSync(
    "java",
    [...jvmArgs(join(dataDir, "logs")), "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", propsFile, "--ignore-formatted"],
    { cwd: KAFKA_DIR, encoding: "utf8" },
  );
  if (format.status !== 0) {
    throw new Error(`Formatting the Kafka storage in ${dataDir} failed (exit ${format.status}):\n${tail(format.stdout + format.stderr, 30)}`);
  }
}

/** A cluster id as Kafka's `random-uuid` prints it: 16 random bytes, URL-safe base64 without padding. */
function kafkaUuid() {
  return Buffer.from(randomUUID().replaceAll("-", ""), "hex").toString("base64url");
}

async function waitForReady({ logFile, logStart, consoleFile, exited, timeoutMs }) {
  const deadline = Date.now() + timeoutMs;
  let exit;
  exited.then((e) => { exit = e; });
  for (;;) {
    const log = existsSync(logFile) ? readFileSync(logFile).subarray(logStart).toString("utf8") : "";
    if (READY_LINE.test(log)) return;
    if (exit !== undefined || Date.now() > deadline) {
      const why = exit !== undefined ? `exited (code ${exit.code}, signal ${exit.sig})` : `was not ready within ${timeoutMs} ms`;
      const consoleOut = existsSync(consoleFile) ? readFileSync(consoleFile, "utf8") : "";
      throw new Error(`The Kafka broker ${why}. Last lines of ${logFile}:\n${tail(log, 20)}\n${tail(consoleOut, 10)}`);
    }
    await sleep(50);
  }
}

/** A small detached process that stops the broker if this process dies without calling stop(). */
function startOrphanGuard(brokerPid) {
  const guard = spawn(process.execPath, [ORPHAN_GUARD, String(process.pid), String(brokerPid)], {
    detached: true,
    stdio: "ignore",
  });
  guard.unref();
  return guard;
}

/** A port that was free a moment ago on 127.0.0.1, never one of Kafka's defaults nor one in `avoid`. */
async function freePort(avoid = []) {
  for (;;) {
    const port = await new Promise((resolvePort, reject) => {
      const server = createServer();
      server.unref();
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const { port: p } = server.address();
        server.close(() => resolvePort(p));
      });
    });
    if (port !== 9092 && port !== 9093 && !avoid.includes(port)) return port;
  }
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false; // already gone
  }
}

function isAlive(pid) {
  return signal(pid, 0);
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

function tail(text, lines) {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

async function main(argv) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string" },
      "controller-port": { type: "string" },
      "data-dir": { type: "string" },
    },
  });
  const command = positionals[0];
  if (command === "install") {
    ensureJars();
    console.log(`Kafka broker jars are in ${LIB_DIR}`);
    return;
  }
  if (command !== "start") {
    console.error("usage: node scripts/kafka/broker.mjs start [--port N] [--controller-port N] [--data-dir DIR]\n" +
      "       node scripts/kafka/broker.mjs install");
    process.exitCode = 2;
    return;
  }
  // A developer's broker keeps its topics between starts unless told otherwise.
  const dataDir = values["data-dir"] ?? join(KAFKA_DIR, "data", "dev");
  const started = Date.now();
  const broker = await startBroker({
    dataDir,
    port: values.port === undefined ? undefined : Number(values.port),
    controllerPort: values["controller-port"] === undefined ? undefined : Number(values["controller-port"]),
  });
  console.log(broker.brokers.join(","));
  console.error(`Kafka broker ready in ${Date.now() - started} ms (pid ${broker.pid}, data ${dataDir}, log ${broker.logFile}); Ctrl-C stops it.`);
  const shutdown = async () => {
    console.error("stopping the Kafka broker...");
    await broker.stop();
    process.exit(0);
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
