// A broker of this file's own is stopped mid-run: sources and sinks must fail (or report) promptly, never hang.
import { afterAll, beforeAll, expect, test } from "vitest";
import { startBroker, type RunningBroker } from "../scripts/kafka/broker.mjs";
import { KafkaSink } from "../src/connectors/kafka/sink.js";
import { KafkaSource } from "../src/connectors/kafka/source.js";
import { isKafkaError } from "../src/connectors/kafka/message.js";
import { createTopic, drain, produce, uniqueTopic } from "./kafka.helpers.js";

const FAILURE_DEADLINE_MS = 30_000;
let broker: RunningBroker;

beforeAll(async () => {
  broker = await startBroker();
}, 120_000);

afterAll(async () => {
  await broker?.stop();
});

test("stopping the broker fails nextBatch with SOURCE_ERROR and writeBatch with SINK_ERROR within 30 s", async () => {
  const { brokers } = broker;
  const topic = uniqueTopic("broker-stop");
  await createTopic(brokers, topic, 1);
  await produce(brokers, topic, [{ value: "a" }, { value: "b" }]);

  const strict = await new KafkaSource(brokers, [topic]).buildPart("f.in", `0-${topic}`, undefined);
  const lenient = await new KafkaSource(brokers, [topic], { raiseOnErrors: false }).buildPart("f.lenient", `0-${topic}`, undefined);
  const sinkPart = await new KafkaSink(brokers, topic).build("f.out", 0, 1);
  try {
    expect((await drain(strict, { until: (xs) => xs.length >= 2 })).items).toHaveLength(2);
    // A fresh broker under load may report a transient consumer error first: lenient sources hand those out as items.
    const messages = (xs: unknown[]) => xs.filter((x) => !isKafkaError(x));
    expect(messages((await drain(lenient, { until: (xs) => messages(xs).length >= 2 })).items)).toHaveLength(2);
    await sinkPart.writeBatch([{ key: null, value: Buffer.from("c") }]);

    await broker.stop();
    const stoppedAt = Date.now();

    const sinkErr = await Promise.resolve(sinkPart.writeBatch([{ key: null, value: Buffer.from("d") }])).catch((e: unknown) => e);
    expect(sinkErr).toMatchObject({ name: "WeirError", code: "SINK_ERROR", stepId: "f.out" });
    expect(Date.now() - stoppedAt).toBeLessThan(FAILURE_DEADLINE_MS);

    // Whatever was read before the failure may still come out ("c"); then the error, and it stays.
    const sourceErr = await drain(strict, { timeoutMs: FAILURE_DEADLINE_MS }).catch((e: unknown) => e);
    expect(sourceErr).toMatchObject({ name: "WeirError", code: "SOURCE_ERROR", stepId: "f.in" });
    expect((sourceErr as Error).message).toContain(`'0-${topic}'`);
    expect(() => strict.nextBatch()).toThrow(expect.objectContaining({ code: "SOURCE_ERROR" }));
    expect(Date.now() - stoppedAt).toBeLessThan(FAILURE_DEADLINE_MS);

    // raiseOnErrors: false reports the failure as an item and keeps the partition alive.
    const { items } = await drain(lenient, { until: (xs) => xs.some(isKafkaError), timeoutMs: FAILURE_DEADLINE_MS });
    const errorItem = items.find(isKafkaError)!;
    expect(errorItem.err.code).toBe("CONSUMER");
    expect(errorItem.msg).toBeUndefined();
    expect(Date.now() - stoppedAt).toBeLessThan(FAILURE_DEADLINE_MS);
    expect(await lenient.nextBatch()).not.toBeNull();
  } finally {
    const closing = Date.now();
    await Promise.all([strict.close(), lenient.close(), Promise.resolve(sinkPart.close()).catch(() => {})]);
    expect(Date.now() - closing).toBeLessThan(15_000);
  }
}, 90_000);

test("building a partition or a sink against a dead broker fails promptly", async () => {
  await broker.stop(); // idempotent
  const started = Date.now();
  await expect(new KafkaSource(broker.brokers, ["t"]).listParts()).rejects.toMatchObject({ code: "SOURCE_ERROR" });
  await expect(new KafkaSource(broker.brokers, ["t"]).buildPart("f.in", "0-t", undefined)).rejects.toMatchObject({ code: "SOURCE_ERROR", stepId: "f.in" });
  await expect(new KafkaSink(broker.brokers, "t").build("f.out", 0, 1)).rejects.toMatchObject({ code: "SINK_ERROR", stepId: "f.out" });
  expect(Date.now() - started).toBeLessThan(FAILURE_DEADLINE_MS);
}, 60_000);
