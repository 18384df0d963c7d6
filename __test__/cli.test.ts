// The `weir` CLI as users run it: TypeScript flows, worker threads, processes, exit codes.
import { describe, expect, it } from "vitest";
import { weir } from "./cli-helpers.js";



const sorted = (s: string) => s.trim().split("\n").sort().join("\n");

describe("weir run", () => {
  it("wordcount gives the same counts with 1 and 2 workers", async () => {
    const one = await weir(["run", "examples/wordcount.ts", "-w", "1"]);
    const two = await weir(["run", "examples/wordcount.ts", "-w", "2"]);
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(one.stdout).toMatch(/^the: \d+$/m);
    expect(sorted(two.stdout)).toBe(sorted(one.stdout));
  });

  it("two processes × two workers on loopback give the same output as one worker", async () => {
    const base = 24_000 + (process.pid % 1000) * 2;
    const addresses = `127.0.0.1:${base};127.0.0.1:${base + 1}`;
    const [p0, p1, single] = await Promise.all([
      weir(["run", "examples/wordcount.ts", "-w", "2", "-i", "0", "-a", addresses]),
      weir(["run", "examples/wordcount.ts", "-w", "2", "-i", "1", "-a", addresses]),
      weir(["run", "examples/wordcount.ts"]),
    ]);
    expect([p0.code, p1.code, single.code]).toEqual([0, 0, 0]);
    expect(sorted(p0.stdout + p1.stdout)).toBe(sorted(single.stdout));
  });

  it("when one process of a cluster fails, the other stops with CLUSTER_ERROR within seconds", async () => {
    const base = 25_000 + (process.pid % 1000) * 2;
    const addresses = `127.0.0.1:${base};127.0.0.1:${base + 1}`;
    const started = Date.now();
    const [healthy, failing] = await Promise.all([
      weir(["run", "__test__/fixtures/flows.ts:failsInOneProcess", "-i", "0", "-a", addresses]),
      weir(["run", "__test__/fixtures/flows.ts:failsInOneProcess", "-i", "1", "-a", addresses], { WEIR_TEST_FAIL: "1" }),
    ]);
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain("CALLBACK_ERROR");
    expect(healthy.code).toBe(1);
    expect(healthy.stderr).toContain("CLUSTER_ERROR");
    expect(healthy.stderr).toContain(`process 1 (127.0.0.1:${base + 1}) disconnected`);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it.each([["1"], ["2"]])("a mapper throwing on item 3 exits 1 with CALLBACK_ERROR, the step id and the cause (-w %s)", async (w) => {
    const r = await weir(["run", "__test__/fixtures/flows.ts:failing", "-w", w]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("CALLBACK_ERROR");
    expect(r.stderr).toContain("failing.double");
    expect(r.stderr).toContain("RangeError: three is not allowed");
  });

  it("weir testing -p 2 runs two local processes that give the same output as one", async () => {
    const [two, one] = await Promise.all([weir(["testing", "examples/wordcount.ts", "-p", "2"]), weir(["run", "examples/wordcount.ts"])]);
    expect(two.code).toBe(0);
    expect(sorted(two.stdout)).toBe(sorted(one.stdout));
  });

  it("a function export with JSON arguments", async () => {
    const r = await weir(["run", "__test__/fixtures/flows.ts:squares(20)", "-w", "2"]);
    expect(r.code).toBe(0);
  });

  it("an export that is not a Dataflow is a usage error (exit 2)", async () => {
    const r = await weir(["run", "__test__/fixtures/flows.ts:notAFlow"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is not a Dataflow");
  });

  it("unknown flags are usage errors (exit 2)", async () => {
    const r = await weir(["run", "examples/wordcount.ts", "--nope"]);
    expect(r.code).toBe(2);
  });
});

describe("weir visualize", () => {
  it("prints a mermaid flowchart", async () => {
    const r = await weir(["visualize", "examples/wordcount.ts"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("flowchart TD");
    expect(r.stdout).toContain('count["count (countFinal)"]');
  });
});
