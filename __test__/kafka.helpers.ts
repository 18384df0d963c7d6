// Shared helpers of the Kafka tests: unique topics, raw producing, and driving source partitions by hand.
import kafkajs from "kafkajs";
import type { Message } from "kafkajs";
import type { StatefulSourcePartition } from "../src/inputs.js";
import type { KafkaSource, KafkaSourceItem } from "../src/connectors/kafka/source.js";

let topicCounter = 0;
const RUN_ID = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/** A topic name no other test (or earlier run against the same broker) uses. */
export function uniqueTopic(label: string): string {
  return `weir-test-${label}-${RUN_ID}-${++topicCounter}`;
}

function kafka(brokers: string[]) {
  return new kafkajs.Kafka({ brokers, clientId: "weir-test", logLevel: kafkajs.logLevel.NOTHING, retry: { initialRetryTime: 50, retries: 8 } });
}

/**
 * Creates a topic and waits until every partition has a leader. On a loaded machine the broker can
 * answer metadata requests before the new topic is hosted, and kafkajs's own wait gives up: poll.
 */
export async function createTopic(brokers: string[], topic: string, numPartitions = 1): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic, numPartitions, replicationFactor: 1 }], waitForLeaders: false });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        const parts = meta.topics[0]?.partitions ?? [];
        if (parts.length === numPartitions && parts.every((p) => p.leader >= 0)) return;
      } catch (e) {
        if (Date.now() > deadline) throw e;
      }
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leaders after 30 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Deletes a topic and waits until the broker no longer lists it. */
export async function deleteTopic(brokers: string[], topic: string): Promise<void> {
  const admin = kafka(brokers).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
    const deadline = Date.now() + 30_000;
    while ((await admin.listTopics()).includes(topic)) {
      if (Date.now() > deadline) throw new Error(`topic ${topic} is still listed 30 s after its deletion`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.disconnect();
  }
}

/** Produces with a plain kafkajs producer (independent of weir's sink), in requests of `chunk` messages. */
export async function produce(brokers: string[], topic: string, messages: Message[], chunk = 2000): Promise<void> {
  const producer = kafka(brokers).producer();
  await producer.connect();
  try {
    for (let i = 0; i < messages.length; i += chunk) {
      await producer.send({ topic, messages: messages.slice(i, i + chunk) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** A kafkajs client for tests that need more (transactions, offsets). */
export function testClient(brokers: string[]) {
  return kafka(brokers);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface DrainOptions<X> {
  /** Stop once this holds for everything read so far. */
  until?: (items: X[]) => boolean;
  /** Fail if neither EOF nor `until` happens within this time. */
  timeoutMs?: number;
  /** Called with each non-empty batch. */
  onBatch?: (batch: X[]) => void;
}

/** Polls a partition like the engine would (no overlapping calls, a short pause after an empty batch). */
export async function drain<X, S>(part: StatefulSourcePartition<X, S>, opts: DrainOptions<X> = {}): Promise<{ items: X[]; eof: boolean }> {
  const items: X[] = [];
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    const batch = await part.nextBatch();
    if (batch === null) return { items, eof: true };
    const arr = [...batch];
    if (arr.length > 0) opts.onBatch?.(arr);
    items.push(...arr);
    if (opts.until?.(items)) return { items, eof: false };
    if (Date.now() > deadline) throw new Error(`drain: timed out after ${items.length} items`);
    if (arr.length === 0) await sleep(2);
  }
}

/** Builds every partition of a source, drains them all to EOF concurrently, closes them; items by partition name. */
export async function readAllParts(source: KafkaSource, stepId = "test.kafka_in"): Promise<Map<string, KafkaSourceItem[]>> {
  const parts = await source.listParts();
  const built = await Promise.all(parts.map(async (name) => [name, await source.buildPart(stepId, name, undefined)] as const));
  try {
    const drained = await Promise.all(built.map(async ([name, part]) => [name, (await drain(part)).items] as const));
    return new Map(drained);
  } finally {
    await Promise.all(built.map(([, part]) => part.close()));
  }
}

export { seededRandom } from "./ports-and-seeds.js";
