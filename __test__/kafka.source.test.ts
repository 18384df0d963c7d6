// KafkaSource against the shared test broker, driven partition by partition as the engine would.
import { describe, expect, inject, test } from "vitest";
import { KafkaSource, type KafkaSourceItem } from "../src/connectors/kafka/source.js";
import { OFFSET_BEGINNING, OFFSET_END, type KafkaSourceMessage } from "../src/connectors/kafka/types.js";
import { isKafkaError } from "../src/connectors/kafka/message.js";
import { WeirError } from "../src/errors.js";
import { createTopic, drain, produce, readAllParts, seededRandom, sleep, testClient, uniqueTopic } from "./kafka.helpers.js";

const brokers = inject("kafkaBrokers");

function values(items: KafkaSourceItem[]): string[] {
  return items.map((m) => {
    if (isKafkaError(m)) throw new Error(`unexpected error item: ${m.err.message}`);
    return String((m as KafkaSourceMessage).value);
  });
}

/** n messages `v0..v<n-1>` into one partition. */
async function singlePartitionTopic(label: string, n: number): Promise<string> {
  const topic = uniqueTopic(label);
  await createTopic(brokers, topic, 1);
  await produce(brokers, topic, Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `v${i}` })));
  return topic;
}

describe("construction", () => {
  test("a string for brokers or topics is INVALID_ARGUMENT", () => {
    expect(() => new KafkaSource("127.0.0.1:9092" as unknown as string[], ["t"])).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => new KafkaSource(brokers, "t" as unknown as string[])).toThrow(/must be an array of strings, not a string/);
  });

  test("bad options are INVALID_ARGUMENT", () => {
    for (const opts of [{ batchSize: 0 }, { batchSize: 1.5 }, { startingOffset: -3 }, { tail: "no" as unknown as boolean }]) {
      expect(() => new KafkaSource(brokers, ["t"], opts)).toThrow(expect.objectContaining({ name: "WeirError", code: "INVALID_ARGUMENT" }));
    }
  });
});

describe("partitions", () => {
  test("one partition per topic partition, named <partition>-<topic>", async () => {
    const a = uniqueTopic("parts-a");
    const b = uniqueTopic("parts-b");
    await createTopic(brokers, a, 3);
    await createTopic(brokers, b, 1);
    expect(await new KafkaSource(brokers, [a, b]).listParts()).toEqual([`0-${a}`, `1-${a}`, `2-${a}`, `0-${b}`]);
  });

  test("a missing topic fails listParts with SOURCE_ERROR naming it", async () => {
    const present = uniqueTopic("present");
    await createTopic(brokers, present, 1);
    const missing = uniqueTopic("missing");
    const err = await new KafkaSource(brokers, [present, missing]).listParts().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeirError);
    expect(err).toMatchObject({ code: "SOURCE_ERROR" });
    expect((err as Error).message).toContain(`'${missing}' not found`);
    expect((err as Error).message).not.toContain(`'${present}'`);
  });

  test("a partition of another topic is refused by buildPart", async () => {
    const topic = await singlePartitionTopic("foreign", 1);
    const err = await new KafkaSource(brokers, [topic]).buildPart("f.in", "0-other", undefined).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "SOURCE_ERROR", stepId: "f.in" });
  });
});

describe("reading", () => {
  test("multi-partition topics are read completely and in per-partition order", async () => {
    const topic = uniqueTopic("multi");
    await createTopic(brokers, topic, 3);
    const random = seededRandom(42);
    const sent: string[][] = [[], [], []];
    const messages = Array.from({ length: 3000 }, (_, i) => {
      const partition = Math.floor(random() * 3);
      sent[partition]!.push(`m${i}`);
      return { value: `m${i}`, partition };
    });
    await produce(brokers, topic, messages, 500);
    const got = await readAllParts(new KafkaSource(brokers, [topic], { tail: false, batchSize: 100 }));
    for (let p = 0; p < 3; p++) {
      const items = got.get(`${p}-${topic}`)!;
      expect(values(items)).toEqual(sent[p]);
      expect(items.map((m) => (m as KafkaSourceMessage).offset)).toEqual(sent[p]!.map((_, i) => i));
      expect(items.every((m) => (m as KafkaSourceMessage).partition === p && (m as KafkaSourceMessage).topic === topic)).toBe(true);
    }
  });

  test("messages carry key, value, timestamp and headers as Buffers and Dates", async () => {
    const topic = uniqueTopic("fields");
    await createTopic(brokers, topic, 1);
    const timestamp = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
    await produce(brokers, topic, [
      { key: "k", value: "v", timestamp: String(timestamp), headers: { h1: "a", h2: ["b", "c"] } },
      { key: null, value: null },
    ]);
    const [items] = [...(await readAllParts(new KafkaSource(brokers, [topic], { tail: false }))).values()];
    const [first, second] = items as KafkaSourceMessage[];
    expect(first).toEqual({
      key: Buffer.from("k"), value: Buffer.from("v"), topic, partition: 0, offset: 0, timestamp: new Date(timestamp),
      headers: [["h1", Buffer.from("a")], ["h2", Buffer.from("b")], ["h2", Buffer.from("c")]],
    });
    expect(second).toMatchObject({ key: null, value: null, offset: 1, headers: [] });
  });

  test("nextBatch returns at most batchSize messages", async () => {
    const topic = await singlePartitionTopic("batch", 1000);
    const part = await new KafkaSource(brokers, [topic], { tail: false, batchSize: 64 }).buildPart("f.in", `0-${topic}`, undefined);
    const sizes: number[] = [];
    const { items, eof } = await drain(part, { onBatch: (b) => sizes.push(b.length) });
    await part.close();
    expect(eof).toBe(true);
    expect(items).toHaveLength(1000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(64);
  });

  test("tail: false ends at the end offset; an empty partition ends at once", async () => {
    const topic = await singlePartitionTopic("tail-false", 10);
    const part = await new KafkaSource(brokers, [topic], { tail: false }).buildPart("f.in", `0-${topic}`, undefined);
    const { items, eof } = await drain(part);
    expect(eof).toBe(true);
    expect(values(items)).toHaveLength(10);
    expect(part.snapshot()).toBe(10);
    await part.close();

    const empty = uniqueTopic("empty");
    await createTopic(brokers, empty, 1);
    const emptyPart = await new KafkaSource(brokers, [empty], { tail: false }).buildPart("f.in", `0-${empty}`, undefined);
    expect(await emptyPart.nextBatch()).toBeNull();
    await emptyPart.close();
  });

  test("tail: true keeps reading what is produced after the end", async () => {
    const topic = await singlePartitionTopic("tail-true", 5);
    const part = await new KafkaSource(brokers, [topic]).buildPart("f.in", `0-${topic}`, undefined);
    try {
      const first = await drain(part, { until: (xs) => xs.length >= 5 });
      expect(values(first.items)).toEqual(["v0", "v1", "v2", "v3", "v4"]);
      // At the end: only empty batches, never EOF.
      for (let i = 0; i < 20; i++) expect(await part.nextBatch()).toEqual([]);
      await produce(brokers, topic, [{ value: "late" }]);
      const second = await drain(part, { until: (xs) => xs.length >= 1 });
      expect(values(second.items)).toEqual(["late"]);
      expect(part.snapshot()).toBe(6);
    } finally {
      await part.close();
    }
  });

  test("startingOffset: OFFSET_END skips what exists, an explicit offset starts there", async () => {
    const topic = await singlePartitionTopic("start", 20);
    const atEnd = await new KafkaSource(brokers, [topic], { tail: false, startingOffset: OFFSET_END }).buildPart("f.in", `0-${topic}`, undefined);
    expect(await atEnd.nextBatch()).toBeNull();
    expect(atEnd.snapshot()).toBe(20);
    await atEnd.close();

    const fromTen = await new KafkaSource(brokers, [topic], { tail: false, startingOffset: 10 }).buildPart("f.in", `0-${topic}`, undefined);
    expect(values((await drain(fromTen)).items)).toEqual(Array.from({ length: 10 }, (_, i) => `v${i + 10}`));
    await fromTen.close();

    const beyond = await new KafkaSource(brokers, [topic], { tail: false, startingOffset: 1000 }).buildPart("f.in", `0-${topic}`, undefined);
    expect(await beyond.nextBatch()).toBeNull(); // clamped to the end, as Kafka's offset reset would
    await beyond.close();
  });

  test("messages of aborted transactions are skipped and transaction markers do not stop tail: false", async () => {
    const topic = uniqueTopic("txn");
    await createTopic(brokers, topic, 1);
    const producer = testClient(brokers).producer({ transactionalId: `${topic}-tx`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      for (const [vals, commit] of [[["a", "b"], true], [["x", "y"], false], [["c"], true]] as const) {
        const tx = await producer.transaction();
        await tx.send({ topic, messages: vals.map((value) => ({ value })) });
        await (commit ? tx.commit() : tx.abort());
      }
    } finally {
      await producer.disconnect();
    }
    const part = await new KafkaSource(brokers, [topic], { tail: false }).buildPart("f.in", `0-${topic}`, undefined);
    const { items, eof } = await drain(part);
    await part.close();
    expect(eof).toBe(true);
    expect(values(items)).toEqual(["a", "b", "c"]);
    expect(part.snapshot()).toBe(8); // a b marker x y marker c marker
  });
});

describe("recovery state", () => {
  test("resuming from snapshots reads nothing twice and skips nothing", async () => {
    const topic = await singlePartitionTopic("resume", 2000);
    const source = new KafkaSource(brokers, [topic], { tail: false, batchSize: 97 });
    const random = seededRandom(7);
    const seen: string[] = [];
    let state: number | undefined;
    for (let round = 0; round < 50; round++) {
      const part = await source.buildPart("f.in", `0-${topic}`, state);
      // Stop after a random number of batches, as a crash after an epoch close would.
      const stopAfter = 1 + Math.floor(random() * 6);
      let batches = 0;
      const { eof, items } = await drain(part, { onBatch: () => batches++, until: () => batches >= stopAfter });
      seen.push(...values(items));
      state = part.snapshot();
      await part.close();
      if (eof) break;
    }
    expect(seen).toEqual(Array.from({ length: 2000 }, (_, i) => `v${i}`));
    expect(state).toBe(2000);
  });

  test("resume state wins over startingOffset", async () => {
    const topic = await singlePartitionTopic("resume-wins", 10);
    const part = await new KafkaSource(brokers, [topic], { tail: false, startingOffset: OFFSET_END }).buildPart("f.in", `0-${topic}`, 4);
    expect(values((await drain(part)).items)).toEqual(["v4", "v5", "v6", "v7", "v8", "v9"]);
    await part.close();
    const begin = await new KafkaSource(brokers, [topic], { tail: false, startingOffset: OFFSET_BEGINNING }).buildPart("f.in", `0-${topic}`, 10);
    expect(await begin.nextBatch()).toBeNull();
    await begin.close();
  });

  test("an invalid resume state is a SOURCE_ERROR", async () => {
    const topic = await singlePartitionTopic("bad-state", 1);
    const err = await new KafkaSource(brokers, [topic]).buildPart("f.in", `0-${topic}`, -5).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "SOURCE_ERROR" });
  });
});

describe("flow control", () => {
  test("a partition not polled for a while pauses and then delivers everything in order", async () => {
    const n = 60_000; // above the 20,000-message buffer limit, so fetching must pause and resume
    const topic = uniqueTopic("pause");
    await createTopic(brokers, topic, 1);
    // 100-byte values: a fetch (1 MiB a partition) then holds about 10,000 of them, so the limit is crossed mid-stream.
    const value = (i: number) => String(i).padStart(100, "0");
    await produce(brokers, topic, Array.from({ length: n }, (_, i) => ({ value: value(i) })), 5000);
    const part = await new KafkaSource(brokers, [topic], { tail: false }).buildPart("f.in", `0-${topic}`, undefined);
    await sleep(1500);
    const { items, eof } = await drain(part, { timeoutMs: 60_000 });
    await part.close();
    expect(eof).toBe(true);
    const got = values(items);
    expect(got).toHaveLength(n);
    expect(got.every((v, i) => v === value(i))).toBe(true);
  });

  test("a lost group session is rejoined at the right offset", async () => {
    const topic = await singlePartitionTopic("rejoin", 300);
    // The broker's minimum session timeout is 6 s; block this thread longer so the broker drops the member.
    const source = new KafkaSource(brokers, [topic], { batchSize: 50, consumerConfig: { sessionTimeout: 6000, heartbeatInterval: 500 } });
    const part = await source.buildPart("f.in", `0-${topic}`, undefined);
    try {
      const first = await drain(part, { until: (xs) => xs.length >= 100 });
      const blockUntil = Date.now() + 8000;
      while (Date.now() < blockUntil) { /* a stuck callback */ }
      await produce(brokers, topic, Array.from({ length: 50 }, (_, i) => ({ value: `v${300 + i}` })));
      const rest = await drain(part, { until: (xs) => first.items.length + xs.length >= 350, timeoutMs: 30_000 });
      expect([...values(first.items), ...values(rest.items)]).toEqual(Array.from({ length: 350 }, (_, i) => `v${i}`));
      await sleep(500);
      expect(await part.nextBatch()).toEqual([]);
    } finally {
      await part.close();
    }
  });
});

describe("private consumer groups", () => {
  test("no offsets are committed, and closing (even mid-join) leaves no member behind", async () => {
    const topic = await singlePartitionTopic("groups", 50);
    const read = await new KafkaSource(brokers, [topic], { tail: false }).buildPart("f.groups", `0-${topic}`, undefined);
    expect((await drain(read)).items).toHaveLength(50);
    await read.close();
    // Closed right after build, while the group join is still under way.
    const quick = await new KafkaSource(brokers, [topic], { raiseOnErrors: false }).buildPart("f.groups", `0-${topic}`, undefined);
    await quick.close();
    await sleep(1000);

    const admin = testClient(brokers).admin();
    await admin.connect();
    try {
      const groupIds = (await admin.listGroups()).groups.map((g) => g.groupId).filter((id) => id.includes(topic));
      expect(groupIds.length).toBeGreaterThanOrEqual(1);
      const { groups } = await admin.describeGroups(groupIds);
      for (const g of groups) expect(g.members).toEqual([]);
      for (const groupId of groupIds) {
        const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
        expect(committed.flatMap((t) => t.partitions.map((p) => p.offset))).toEqual(["-1"]);
      }
    } finally {
      await admin.disconnect();
    }
  });
});
