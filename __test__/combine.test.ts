// Combine steps (pre-aggregation on each worker before routing, flushed at every epoch close; today
// countFinal's): results must not depend on where epochs close, on the worker count, or on how many
// distinct keys a worker holds (a full combiner passes its keys on early).
import { describe, expect, it } from "vitest";
import { Dataflow, op, run, TestingSink, TestingSource } from "../src/index.js";

async function countWords(words: string[], opts: { workers: number; epochIntervalMs: number; batch: number; asyncKey?: boolean }) {
  const flow = new Dataflow("combine_df");
  const out: [string, number][] = [];
  const s = op.input("inp", flow, new TestingSource(words, opts.batch));
  const key = opts.asyncKey ? async (w: string) => w : (w: string) => w;
  op.output("out", op.countFinal("count", s, key), new TestingSink(out));
  await run(flow, { workers: opts.workers, epochIntervalMs: opts.epochIntervalMs });
  return new Map(out);
}

function expectedCounts(words: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const w of words) m.set(w, (m.get(w) ?? 0) + 1);
  return m;
}

describe("countFinal's combiner", () => {
  // Seeded words over a small vocabulary, so each key occurs in many batches and epochs.
  const words: string[] = [];
  let x = 7;
  for (let i = 0; i < 5000; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    words.push(`w${(x >>> 16) % 37}`);
  }

  it.each([
    { workers: 1, epochIntervalMs: 0, batch: 10 },
    { workers: 2, epochIntervalMs: 0, batch: 10 },
    { workers: 2, epochIntervalMs: 60_000, batch: 100 },
    { workers: 3, epochIntervalMs: 1, batch: 33 },
    { workers: 2, epochIntervalMs: 0, batch: 50, asyncKey: true },
  ])("counts every word exactly once: %o", async (opts) => {
    expect(await countWords(words, opts)).toEqual(expectedCounts(words));
  });

  it("passes keys on before the epoch closes once it holds 65,536 distinct keys, and still counts right", async () => {
    const many = Array.from({ length: 70_000 }, (_, i) => `k${i % 69_000}`);
    const got = await countWords(many, { workers: 2, epochIntervalMs: 60_000, batch: 1000 });
    expect(got.size).toBe(69_000);
    expect(got).toEqual(expectedCounts(many));
  });
});
