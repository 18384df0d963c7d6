// Stopping runs (API.md §8): signal → INTERRUPTED, drainSignal → resolves aborted; the event loop stays free.
import { describe, expect, it } from "vitest";
import { Dataflow, op, run, TestingSink, WeirError } from "../src/index.js";
import { RandomMetricSource } from "../src/connectors/demo.js";

function endless(out: unknown[]) {
  const flow = new Dataflow("f");
  const s = op.input("inp", flow, new RandomMetricSource("m", { intervalMs: 1, nextRandom: () => 1 }));
  op.output("out", s, new TestingSink(out));
  return flow;
}

describe("run control", () => {
  it("an aborted signal rejects with INTERRUPTED and the signal's reason", async () => {
    const ac = new AbortController();
    const out: unknown[] = [];
    const p = run(endless(out), { signal: ac.signal, workers: 2 });
    // Interrupt once items flow (start-up takes longer on a loaded machine).
    const started = setInterval(() => {
      if (out.length > 0) {
        clearInterval(started);
        ac.abort(new Error("stop now"));
      }
    }, 5);
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: "INTERRUPTED" });
    expect(((err as WeirError).cause as Error).message).toBe("stop now");
    expect(out.length).toBeGreaterThan(0);
  });

  it("a drain signal stops the sources and resolves with aborted: true", async () => {
    const ac = new AbortController();
    const out: unknown[] = [];
    const p = run(endless(out), { drainSignal: ac.signal, epochIntervalMs: 10 });
    const started = setInterval(() => {
      if (out.length > 0) {
        clearInterval(started);
        ac.abort();
      }
    }, 5);
    await expect(p).resolves.toMatchObject({ aborted: true });
    const n = out.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(out.length).toBe(n);
  });

  it("timers keep running on the event loop while a run is busy", async () => {
    const ac = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const p = run(endless([]), { drainSignal: ac.signal });
    await new Promise((r) => setTimeout(r, 200));
    ac.abort();
    await p;
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(10);
  });

  it("an already aborted signal rejects at once", async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(run(endless([]), { signal: ac.signal })).rejects.toMatchObject({ code: "INTERRUPTED" });
  });
});
