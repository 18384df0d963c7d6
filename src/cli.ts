#!/usr/bin/env node
// The `weir` command (API.md §8): run, testing, visualize, recovery init.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { WeirError } from "./errors.js";
import { loadFlow, moduleUrl } from "./runtime/load-flow.js";
import { runModule } from "./runtime/run-module.js";
import { RecoveryConfig } from "./recovery.js";

const USAGE = `usage:
  weir run <file>[:<export>[(<json args>)]] [-w N] [-i ID -a "host:port;host:port"] [-r DIR -s SECS -b SECS]
  weir testing <file>[:<export>[(<json args>)]] -p P [-w N] [-r DIR -s SECS -b SECS]
  weir visualize <file>[:<export>] [-o json|mermaid|plantuml] [-r]
  weir recovery init <dir> <partCount>`;

class UsageError extends Error {}

function parseTarget(target: string | undefined): { file: string; exportName?: string; args: unknown[] } {
  if (!target) throw new UsageError("missing <file>");
  const m = /^(.*?)(?::([A-Za-z_$][\w$]*)(?:\((.*)\))?)?$/s.exec(target);
  if (!m || !m[1]) throw new UsageError(`cannot parse '${target}'`);
  let args: unknown[] = [];
  if (m[3] !== undefined) {
    try {
      args = JSON.parse(`[${m[3]}]`) as unknown[];
    } catch {
      throw new UsageError(`the arguments '(${m[3]})' are not a JSON list`);
    }
  }
  return { file: m[1], ...(m[2] ? { exportName: m[2] } : {}), args };
}

function intFlag(value: string | undefined, env: string, name: string, fallback: number): number {
  const raw = value ?? process.env[env];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${name} must be a whole number, got '${raw}'`);
  return n;
}

async function cmdRun(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: {
      "workers-per-process": { type: "string", short: "w" }, "process-id": { type: "string", short: "i" },
      addresses: { type: "string", short: "a" }, "snapshot-interval": { type: "string", short: "s" },
      "recovery-directory": { type: "string", short: "r" }, "backup-interval": { type: "string", short: "b" },
    },
  });
  const target = parseTarget(positionals[0]);
  const workers = intFlag(values["workers-per-process"], "WEIR_WORKERS_PER_PROCESS", "-w", 1);
  if (workers < 1) throw new UsageError("-w must be at least 1");
  const addressesRaw = values.addresses ?? process.env.WEIR_ADDRESSES;
  const procRaw = values["process-id"] ?? process.env.WEIR_PROCESS_ID;
  if (procRaw !== undefined && addressesRaw === undefined) throw new UsageError("-i requires -a");
  if ((values["backup-interval"] ?? process.env.WEIR_RECOVERY_BACKUP_INTERVAL) !== undefined && (values["recovery-directory"] ?? process.env.WEIR_RECOVERY_DIRECTORY) === undefined) {
    throw new UsageError("-b requires -r");
  }
  const recoveryDir = values["recovery-directory"] ?? process.env.WEIR_RECOVERY_DIRECTORY;
  const backupSecs = intFlag(values["backup-interval"], "WEIR_RECOVERY_BACKUP_INTERVAL", "-b", 0);
  const addresses = addressesRaw ? addressesRaw.split(";").filter((a) => a.length > 0) : [];
  const epochSecs = intFlag(values["snapshot-interval"], "WEIR_SNAPSHOT_INTERVAL", "-s", 10);
  const drain = new AbortController();
  const interrupt = new AbortController();
  let signals = 0;
  let exitOnSignal = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    exitOnSignal = sig === "SIGINT" ? 130 : 143;
    if (signals === 1) drain.abort();
    else interrupt.abort(new Error(`second ${sig}`));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await runModule(moduleUrl(target.file), {
      workers, epochIntervalMs: epochSecs * 1000, addresses, procId: procRaw === undefined ? 0 : Number(procRaw),
      args: target.args, drainSignal: drain.signal, signal: interrupt.signal,
      ...(recoveryDir ? { recovery: new RecoveryConfig(recoveryDir, backupSecs * 1000) } : {}),
      ...(target.exportName ? { exportName: target.exportName } : {}),
    });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  return exitOnSignal;
}

async function cmdTesting(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: false,
    options: { processes: { type: "string", short: "p" } },
  });
  const processes = intFlag(values.processes as string | undefined, "WEIR_PROCESSES", "-p", 1);
  if (processes < 1) throw new UsageError("-p must be at least 1");
  const rest = argv.filter((a, i) => !(a === "-p" || a === "--processes" || argv[i - 1] === "-p" || argv[i - 1] === "--processes"));
  const addresses = Array.from({ length: processes }, (_, i) => `localhost:${2101 + i}`).join(";");
  const self = fileURLToPath(import.meta.url);
  // Each child is in its own process group, so a terminal's Ctrl-C reaches only this process, which passes every SIGINT/SIGTERM
  // on to the children once (the first drains them, a second interrupts them) and exits with their code.
  const children = new Set<ReturnType<typeof spawn>>();
  const forward = (sig: NodeJS.Signals) => {
    for (const child of children) child.kill(sig);
  };
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  try {
    const codes = await Promise.all(Array.from({ length: processes }, (_, i) => new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [self, "run", ...rest, "-i", String(i), "-a", addresses], { stdio: "inherit", detached: true });
      children.add(child);
      child.on("exit", (code, signal) => {
        children.delete(child);
        resolve(code ?? (signal === "SIGINT" ? 130 : signal === "SIGTERM" ? 143 : 1));
      });
    })));
    void positionals;
    return codes.find((c) => c !== 0) ?? 0;
  } finally {
    process.off("SIGINT", forward);
    process.off("SIGTERM", forward);
  }
}

async function cmdVisualize(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { output: { type: "string", short: "o" }, recursive: { type: "boolean", short: "r" } },
  });
  const target = parseTarget(positionals[0]);
  const flow = await loadFlow(moduleUrl(target.file), target.exportName, target.args);
  const viz = await import("./visualize.js");
  const format = values.output ?? "mermaid";
  if (format === "json") process.stdout.write(viz.toJson(flow) + "\n");
  else if (format === "mermaid") process.stdout.write(viz.toMermaid(flow) + "\n");
  else if (format === "plantuml") process.stdout.write(viz.toPlantuml(flow, values.recursive === true) + "\n");
  else throw new UsageError(`-o must be json, mermaid or plantuml, got '${format}'`);
  return 0;
}

async function cmdRecovery(argv: string[]): Promise<number> {
  if (argv[0] !== "init" || argv.length !== 3) throw new UsageError("usage: weir recovery init <dir> <partCount>");
  const { initDbDir } = await import("./recovery.js");
  await initDbDir(argv[1]!, Number(argv[2]));
  return 0;
}

function report(e: unknown): void {
  const lines: string[] = [];
  if (e instanceof WeirError) {
    lines.push(`weir: ${e.code}${e.stepId ? ` in step '${e.stepId}'` : ""}: ${e.message}`);
  } else {
    lines.push(`weir: ${String((e as Error)?.stack ?? e)}`);
  }
  let cause = (e as { cause?: unknown })?.cause;
  for (let depth = 0; cause !== undefined && depth < 8; depth++) {
    lines.push(`  caused by: ${cause instanceof Error ? (cause.stack ?? `${cause.name}: ${cause.message}`) : String(cause)}`);
    cause = (cause as { cause?: unknown })?.cause;
  }
  process.stderr.write(lines.join("\n") + "\n");
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "run": return cmdRun(rest);
    case "testing": return cmdTesting(rest);
    case "visualize": return cmdVisualize(rest);
    case "recovery": return cmdRecovery(rest);
    case "-h": case "--help": case "help":
      process.stdout.write(USAGE + "\n");
      return 0;
    default: throw new UsageError(cmd ? `unknown command '${cmd}'` : "missing command");
  }
}

// A closed stdout (e.g. `weir run … | head`) ends the run quietly instead of crashing on EPIPE.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e) => {
    if (e instanceof UsageError || (e as { code?: string })?.code?.startsWith?.("ERR_PARSE_ARGS")) {
      process.stderr.write(`weir: ${(e as Error).message}\n${USAGE}\n`);
      process.exitCode = 2;
    } else if (e instanceof WeirError && e.code === "INVALID_CONFIG" && /is not a Dataflow|must be an ES module/.test(e.message)) {
      report(e);
      process.exitCode = 2;
    } else {
      report(e);
      process.exitCode = 1;
    }
  },
);
