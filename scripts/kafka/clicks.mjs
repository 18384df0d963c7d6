// Demo data for examples/kafka-windowed.ts: produce clicks to the input topic, print the counts topic.
//
//   node scripts/kafka/clicks.mjs produce [count]   creates both topics if missing (input: 3 partitions), then
//                                                   produces `count` (default 200) clicks of 4 users, keyed by
//                                                   user, stamped over the last count × 50 ms, in time order
//   node scripts/kafka/clicks.mjs consume           prints every message of the counts topic so far, then exits
//
// Brokers and topics come from WEIR_KAFKA_BROKERS (default 127.0.0.1:9092, comma-separated), WEIR_KAFKA_IN_TOPIC
// (default clicks) and WEIR_KAFKA_OUT_TOPIC (default click-counts), as in the example.
import kafkajs from "kafkajs";

const brokers = (process.env.WEIR_KAFKA_BROKERS || "127.0.0.1:9092").split(",");
const inTopic = process.env.WEIR_KAFKA_IN_TOPIC || "clicks";
const outTopic = process.env.WEIR_KAFKA_OUT_TOPIC || "click-counts";
const USERS = ["ana", "ben", "cy", "dee"];
const SPACING_MS = 50;

const kafka = new kafkajs.Kafka({ brokers, clientId: "weir-clicks", logLevel: kafkajs.logLevel.NOTHING });

async function ensureTopics() {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const topics = [{ topic: inTopic, numPartitions: 3 }, { topic: outTopic, numPartitions: 1 }]
      .filter(({ topic }) => !existing.has(topic))
      .map((t) => ({ ...t, replicationFactor: 1 }));
    if (topics.length > 0) await admin.createTopics({ topics, waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
}

async function produce(count) {
  await ensureTopics();
  const start = Date.now() - count * SPACING_MS;
  const messages = Array.from({ length: count }, (_, i) => {
    const user = USERS[(i * 7 + (i >> 2)) % USERS.length];
    return { key: user, value: JSON.stringify({ user, at: new Date(start + i * SPACING_MS).toISOString() }) };
  });
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic: inTopic, messages });
  } finally {
    await producer.disconnect();
  }
  console.log(`produced ${count} clicks to '${inTopic}' on ${brokers.join(",")}`);
}

async function consume() {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(outTopic).finally(() => admin.disconnect());
  const remaining = new Map(ends.map((p) => [p.partition, Number(p.high)]));
  for (const [partition, high] of remaining) if (high === 0) remaining.delete(partition);
  if (remaining.size === 0) return console.log(`'${outTopic}' is empty`);
  const consumer = kafka.consumer({ groupId: `weir-clicks-${process.pid}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: outTopic, fromBeginning: true });
  await new Promise((resolve, reject) => {
    consumer.run({
      eachMessage: async ({ partition, message }) => {
        console.log(String(message.value));
        if (Number(message.offset) + 1 >= (remaining.get(partition) ?? Infinity)) remaining.delete(partition);
        if (remaining.size === 0) resolve();
      },
    }).catch(reject);
  });
  await consumer.disconnect();
}

const [command, arg] = process.argv.slice(2);
if (command === "produce") await produce(arg === undefined ? 200 : Number(arg));
else if (command === "consume") await consume();
else {
  console.error("usage: node scripts/kafka/clicks.mjs produce [count] | consume");
  process.exitCode = 2;
}
