// KafkaSink against the shared test broker; what it writes is read back with KafkaSource.
import { describe, expect, inject, test } from "vitest";
import { KafkaSink } from "../src/connectors/kafka/sink.js";
import { KafkaSource } from "../src/connectors/kafka/source.js";
import { toSink } from "../src/connectors/kafka/message.js";
import type { KafkaSinkMessage, KafkaSourceMessage } from "../src/connectors/kafka/types.js";
import { createTopic, deleteTopic, readAllParts, uniqueTopic } from "./kafka.helpers.js";

const brokers = inject("kafkaBrokers");

async function readTopic(topic: string): Promise<KafkaSourceMessage[]> {
  const parts = await readAllParts(new KafkaSource(brokers, [topic], { tail: false }));
  return [...parts.values()].flat() as KafkaSourceMessage[];
}

async function write(sink: KafkaSink, batches: KafkaSinkMessage[][]): Promise<void> {
  const part = await sink.build("f.out", 0, 1);
  try {
    for (const batch of batches) await part.writeBatch(batch);
  } finally {
    await part.close();
  }
}

describe("construction", () => {
  test("bad arguments are INVALID_ARGUMENT", () => {
    expect(() => new KafkaSink("127.0.0.1:9092" as unknown as string[], "t")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => new KafkaSink(brokers, "")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => new KafkaSink(brokers, null)).not.toThrow();
  });
});

describe("writing", () => {
  test("keys, values, headers, partitions and timestamps round-trip", async () => {
    const topic = uniqueTopic("roundtrip");
    await createTopic(brokers, topic, 2);
    const timestamp = new Date(Date.UTC(2023, 5, 6, 7, 8, 9, 10));
    await write(new KafkaSink(brokers, topic), [[
      { key: Buffer.from("k1"), value: Buffer.from("v1"), partition: 1, timestamp,
        headers: [["a", Buffer.from("1")], ["b", "two"], ["a", Buffer.from("3")]] },
      { key: null, value: Buffer.from([0, 255, 1]), partition: 0 },
      { key: "string-key" as unknown as Buffer, value: null, partition: 1 },
    ]]);
    const got = await readTopic(topic);
    const p1 = got.filter((m) => m.partition === 1);
    expect(p1[0]).toMatchObject({
      key: Buffer.from("k1"), value: Buffer.from("v1"), timestamp,
      headers: [["a", Buffer.from("1")], ["a", Buffer.from("3")], ["b", Buffer.from("two")]],
    });
    expect(p1[1]).toMatchObject({ key: Buffer.from("string-key"), value: null, headers: [] });
    expect(got.filter((m) => m.partition === 0)).toMatchObject([{ key: null, value: Buffer.from([0, 255, 1]) }]);
  });

  test("msg.topic wins over the sink's topic, and a null sink topic needs it", async () => {
    const fallback = uniqueTopic("fallback");
    const explicit = uniqueTopic("explicit");
    await createTopic(brokers, fallback, 1);
    await createTopic(brokers, explicit, 1);
    await write(new KafkaSink(brokers, fallback), [[
      { key: null, value: Buffer.from("to-fallback") },
      { key: null, value: Buffer.from("to-explicit"), topic: explicit },
    ]]);
    await write(new KafkaSink(brokers, null), [[{ key: null, value: Buffer.from("again"), topic: explicit }]]);
    expect((await readTopic(fallback)).map((m) => String(m.value))).toEqual(["to-fallback"]);
    expect((await readTopic(explicit)).map((m) => String(m.value))).toEqual(["to-explicit", "again"]);
  });

  test("a message without any topic is a SINK_ERROR and nothing of the batch is sent", async () => {
    const topic = uniqueTopic("no-topic");
    await createTopic(brokers, topic, 1);
    const part = await new KafkaSink(brokers, null).build("f.out", 0, 1);
    try {
      const err = await Promise.resolve(part.writeBatch([
        { key: null, value: Buffer.from("fine"), topic },
        { key: null, value: Buffer.from("lost") },
      ])).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: "WeirError", code: "SINK_ERROR", stepId: "f.out" });
      expect((err as Error).message).toMatch(/without a topic/);
    } finally {
      await part.close();
    }
    expect(await readTopic(topic)).toEqual([]);
  });

  test("an unserialised value is a SINK_ERROR with a hint", async () => {
    const part = await new KafkaSink(brokers, uniqueTopic("unserialised")).build("f.out", 0, 1);
    try {
      const err = await Promise.resolve(part.writeBatch([{ key: null, value: { a: 1 } as unknown as Buffer }])).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "SINK_ERROR" });
      expect((err as Error).message).toMatch(/serializeValue/);
    } finally {
      await part.close();
    }
  });

  test("a request retried after another topic's partition failed does not write the succeeded partition twice", async () => {
    // kafkajs retries a whole produce request when any partition in it fails, so a partition that succeeded the first
    // time is sent again; only an idempotent producer lets the broker drop the repeat. Deleting a topic the producer
    // has cached metadata for makes its partition fail once (UNKNOWN_TOPIC_OR_PARTITION, retriable) while the
    // other topic's partition, in the same request, succeeds.
    const kept = uniqueTopic("idem-kept");
    const deleted = uniqueTopic("idem-deleted");
    await createTopic(brokers, kept, 1);
    await createTopic(brokers, deleted, 1);
    const both = (n: number): KafkaSinkMessage[] => [
      { key: null, value: Buffer.from(`kept-${n}`), topic: kept },
      { key: null, value: Buffer.from(`deleted-${n}`), topic: deleted },
    ];
    const part = await new KafkaSink(brokers, null).build("f.out", 0, 1);
    try {
      await part.writeBatch(both(0));
      await deleteTopic(brokers, deleted);
      await part.writeBatch(both(1));
    } finally {
      await part.close();
    }
    expect((await readTopic(kept)).map((m) => String(m.value))).toEqual(["kept-0", "kept-1"]);
  });

  test("a large batch is split into requests the broker accepts, in order", async () => {
    const topic = uniqueTopic("large");
    await createTopic(brokers, topic, 1);
    const big = Buffer.alloc(1000, "x");
    const batch = Array.from({ length: 5000 }, (_, i) => ({ key: Buffer.from(String(i)), value: big }));
    await write(new KafkaSink(brokers, topic), [batch]);
    const got = await readTopic(topic);
    expect(got.map((m) => String(m.key))).toEqual(batch.map((_, i) => String(i)));
  });

  test("source messages re-published with toSink keep key, value and headers", async () => {
    const from = uniqueTopic("copy-from");
    const to = uniqueTopic("copy-to");
    await createTopic(brokers, from, 1);
    await createTopic(brokers, to, 1);
    await write(new KafkaSink(brokers, from), [[
      { key: Buffer.from("k"), value: Buffer.from("v"), headers: [["h", Buffer.from("x")]] },
    ]]);
    const original = await readTopic(from);
    await write(new KafkaSink(brokers, to), [original.map(toSink)]);
    const copied = await readTopic(to);
    expect(copied).toHaveLength(1);
    expect(copied[0]).toMatchObject({ key: Buffer.from("k"), value: Buffer.from("v"), headers: [["h", Buffer.from("x")]], topic: to });
  });
});
