// examples/kafka-windowed.ts against the suite's broker: clicks in, per-user tumbling-window counts out, read back.
// The example imports "weir" (the built package), so it runs with dist's `run` and `runModule`.
import { describe, expect, inject, it } from "vitest";
import { run, runModule } from "../dist/index.js";
import { KafkaSource } from "../dist/connectors/kafka/index.js";
import type { KafkaSourceMessage } from "../dist/connectors/kafka/index.js";
import { flow, type KafkaWindowedOptions, type WindowCount } from "../examples/kafka-windowed.js";
import { createTopic, produce, readAllParts, uniqueTopic } from "./kafka.helpers.js";

const brokers = inject("kafkaBrokers");
const example = new URL("../examples/kafka-windowed.ts", import.meta.url);

const USERS = ["ana", "ben", "cy", "dee", "eve"];
const T0 = Date.parse("2024-06-01T12:00:00Z");
const WINDOW_MS = 10_000;
const CLICKS = 150;

/** Deterministic clicks 400 ms apart in event time; each user's clicks are keyed, so they share a partition. */
function clicks(): { user: string; at: number }[] {
  return Array.from({ length: CLICKS }, (_, i) => ({ user: USERS[(i * 3 + Math.floor(i / 7)) % USERS.length]!, at: T0 + i * 400 }));
}

/** "user window-start" → count, computed independently of weir. */
function expectedCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { user, at } of clicks()) {
    const key = `${user} ${new Date(Math.floor(at / WINDOW_MS) * WINDOW_MS).toISOString()}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

async function setUp(label: string): Promise<Required<Pick<KafkaWindowedOptions, "brokers" | "inTopic" | "outTopic">>> {
  const inTopic = uniqueTopic(`${label}-in`);
  const outTopic = uniqueTopic(`${label}-out`);
  await createTopic(brokers, inTopic, 3);
  await createTopic(brokers, outTopic, 2);
  await produce(brokers, inTopic, [
    ...clicks().map(({ user, at }) => ({ key: user, value: JSON.stringify({ user, at: new Date(at).toISOString() }) })),
    // Not a click: the flow reports it on stderr and counts nothing for it.
    { key: "ana", value: "not json" },
  ]);
  return { brokers, inTopic, outTopic };
}

async function readCounts(outTopic: string): Promise<WindowCount[]> {
  const parts = await readAllParts(new KafkaSource(brokers, [outTopic], { tail: false }) as never);
  return [...parts.values()].flat().map((m) => {
    const msg = m as KafkaSourceMessage;
    const value = JSON.parse(String(msg.value)) as WindowCount;
    expect(String(msg.key)).toBe(value.user);
    return value;
  });
}

function checkCounts(got: WindowCount[]): void {
  // One message per user and window (no duplicates), with the right counts and window bounds.
  const byWindow = new Map(got.map((c) => [`${c.user} ${c.windowStart}`, c.count]));
  expect(byWindow.size).toBe(got.length);
  expect(byWindow).toEqual(expectedCounts());
  for (const c of got) expect(Date.parse(c.windowEnd) - Date.parse(c.windowStart)).toBe(WINDOW_MS);
  expect(got.reduce((n, c) => n + c.count, 0)).toBe(CLICKS);
}

// Wait 60 s: far more than a run takes, so the (real) system time elapsing during the run never turns a click
// late, whatever the scheduling; windows close as later clicks move the watermark, the rest at EOF (tail: false).
const OPTIONS = { windowMs: WINDOW_MS, waitMs: 60_000, tail: false };

describe.each([1, 2])("examples/kafka-windowed.ts with %i worker(s)", (workers) => {
  it("counts clicks per user and window, topic to topic (run)", async () => {
    const topics = await setUp(`win-run-${workers}`);
    const result = await run(flow({ ...topics, ...OPTIONS }), { workers, epochIntervalMs: 200 });
    expect(result.aborted).toBe(false);
    checkCounts(await readCounts(topics.outTopic));
  });
});

it("examples/kafka-windowed.ts with 2 worker threads (runModule)", async () => {
  const topics = await setUp("win-threads");
  const result = await runModule(example, { workers: 2, exportName: "flow", args: [{ ...topics, ...OPTIONS }], epochIntervalMs: 200 });
  expect(result.aborted).toBe(false);
  checkCounts(await readCounts(topics.outTopic));
});
