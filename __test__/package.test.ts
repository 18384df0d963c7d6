// The package contract: another project depends on a checkout, imports every module path and runs the CLI.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), "weir-consumer-"));
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", type: "module", private: true }));
  execFileSync("npm", ["install", root, "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: dir, stdio: "pipe" });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("a project that depends on weir", () => {
  it("imports every module path of API.md §1", () => {
    const paths = ["weir", "weir/operators", "weir/windowing", "weir/inputs", "weir/outputs", "weir/testing", "weir/recovery",
      "weir/visualize", "weir/connectors/files", "weir/connectors/stdio", "weir/connectors/demo", "weir/connectors/kafka",
      "weir/connectors/kafka/operators"];
    const script = `for (const p of ${JSON.stringify(paths)}) await import(p);
      const a = (await import("weir/inputs")).AbortExecution, b = (await import("weir/outputs")).AbortExecution;
      if (a !== b) throw new Error("two AbortExecution classes");
      console.log("ok");`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: dir, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe("ok");
  });

  it("runs a TypeScript flow with the CLI from node_modules/.bin", () => {
    writeFileSync(path.join(dir, "flow.ts"), `import { Dataflow, op, TestingSource } from "weir";
import { StdOutSink } from "weir/connectors/stdio";
export const flow = new Dataflow("consumer");
op.output("out", op.map("m", op.input("inp", flow, new TestingSource([1, 2, 3])), (x: number) => "item " + x), new StdOutSink());
`);
    const r = spawnSync(path.join(dir, "node_modules", ".bin", "weir"), ["run", "flow.ts", "-w", "2"], { cwd: dir, encoding: "utf8" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split("\n").sort()).toEqual(["item 1", "item 2", "item 3"]);
  });
});
