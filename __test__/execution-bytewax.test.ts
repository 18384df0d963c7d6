// Running flows (API.md §7, §8): Bytewax 0.21.1's pytests/test_execution.py. Its `entry_point` fixture runs each case with
// run_main, cluster_main with one worker and cluster_main with two worker threads; here: runMain and clusterMain with 1 and 2
// workers. The Ctrl-C cases run the CLI on the same flow as Bytewax's test_flows/simple.py and send SIGINT once a line is out.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { clusterMain, Dataflow, op, runMain, TestingSink, TestingSource, WeirError, type RunResult } from "../src/index.js";

const entryPoints: [string, (flow: Dataflow) => Promise<RunResult>][] = [
  ["runMain", (flow) => runMain(flow)],
  ["clusterMain-1thread", (flow) => clusterMain(flow, { addresses: [], procId: 0 })],
  ["clusterMain-2thread", (flow) => clusterMain(flow, { addresses: [], procId: 0, workerCountPerProc: 2 })],
];

describe.each(entryPoints)("pytests/test_execution.py with %s", (_name, entryPoint) => {
  it("test_run", async () => {
    const out: number[] = [];
    const flow = new Dataflow("test_df");
    const s = op.map("add_one", op.input("inp", flow, new TestingSource([0, 1, 2])), (x: number) => x + 1);
    op.output("out", s, new TestingSink(out));
    await expect(entryPoint(flow)).resolves.toEqual({ aborted: false, lastClosedEpoch: expect.any(Number) });
    expect(out.sort()).toEqual([1, 2, 3]);
  });

  it("test_reraises_custom_exception: the run rejects with the user's exception as cause", async () => {
    class CustomException extends Error {
      constructor(readonly msg: string, readonly b: number) {
        super(msg);
        this.name = "CustomException";
      }
    }
    const out: number[] = [];
    const flow = new Dataflow("test_df");
    const s = op.map("explode", op.input("inp", flow, new TestingSource([0, 1, 2])), (x: number) => {
      if (x === 0) throw new CustomException("BOOM", 1);
      return x;
    });
    op.output("out", s, new TestingSink(out));
    const err = await entryPoint(flow).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: "CALLBACK_ERROR", stepId: "test_df.explode" });
    expect((err as WeirError).message).toContain("error calling 'mapper' in step 'test_df.explode'");
    const cause = (err as WeirError).cause;
    expect(cause).toBeInstanceOf(CustomException);
    expect(cause).toMatchObject({ msg: "BOOM", b: 1 });
    expect(out.length).toBeLessThan(3);
  });
});

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "dist", "cli.js");
const flowFile = path.join(root, "__test__", "fixtures", "execution-flows.ts");

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Starts the CLI, waits for `outFile` to hold a line, sends one signal (SIGINT by default), and collects the exit. */
function runAndCtrlC(args: string[], outFile: string, sig: NodeJS.Signals = "SIGINT"): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const started = Date.now();
    let sent = false;
    const poll = setInterval(() => {
      if (sent) return;
      if (Date.now() - started > 20_000) {
        clearInterval(poll);
        child.kill("SIGKILL");
        reject(new Error(`the dataflow wrote no line in time; stderr: ${stderr}`));
        return;
      }
      if (existsSync(outFile) && readFileSync(outFile, "utf8").includes("\n")) {
        sent = true;
        child.kill(sig);
      }
    }, 10);
    const timeout = setTimeout(() => child.kill("SIGKILL"), 40_000);
    child.on("exit", (code, signal) => {
      clearInterval(poll);
      clearTimeout(timeout);
      if (!sent) reject(new Error(`the dataflow exited before the interrupt (code ${code}); stderr: ${stderr}`));
      else resolve({ code, signal, stderr });
    });
  });
}

// 100,000 items instead of Bytewax's 1,000: weir runs an epoch per item in about a millisecond, so 1,000 could all be written
// before the signal arrives on a fast machine.
const N = 100_000;

describe("pytests/test_execution.py: Ctrl-C", () => {
  for (const [name, extra] of [
    ["test_single_worker_can_be_ctrl_c", ["run", "-w", "1"]],
    ["test_manual_cluster_can_be_ctrl_c", ["run", "-w", "2"]],
    ["test_testing_cluster_can_be_ctrl_c", ["testing", "-p", "2", "-w", "2"]],
  ] as const) {
    it(`${name}: SIGINT drains (whole epochs written, in order) and exits 130`, async () => {
      dir = mkdtempSync(path.join(tmpdir(), "weir-ctrl-c-"));
      const outFile = path.join(dir, "out.txt");
      const [cmd, ...flags] = extra;
      const r = await runAndCtrlC([cmd, `${flowFile}:simple(${JSON.stringify(outFile)}, ${N})`, ...flags, "-s", "0"], outFile);
      expect(r.code, r.stderr).toBe(130);
      const lines = readFileSync(outFile, "utf8").split("\n");
      expect(lines.pop()).toBe(""); // the file ends with a whole line
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThan(N);
      expect(lines).toEqual(lines.map((_, i) => String(i)));
    }, 60_000);
  }

  it("weir's addition: SIGTERM drains the same way and exits 143", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "weir-ctrl-c-"));
    const outFile = path.join(dir, "out.txt");
    const r = await runAndCtrlC(["run", `${flowFile}:simple(${JSON.stringify(outFile)}, ${N})`, "-w", "2", "-s", "0"], outFile, "SIGTERM");
    expect(r.code, r.stderr).toBe(143);
    const lines = readFileSync(outFile, "utf8").split("\n");
    expect(lines.pop()).toBe("");
    expect(lines.length).toBeLessThan(N);
    expect(lines).toEqual(lines.map((_, i) => String(i)));
  }, 60_000);
});
