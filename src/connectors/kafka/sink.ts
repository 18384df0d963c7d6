// KafkaSink: a dynamic sink producing every worker's messages with a kafkajs producer (API.md §6).
import kafkajs from "kafkajs";
import type { Message, Producer } from "kafkajs";
import { WeirError, describe, invalidArgument } from "../../errors.js";
import { DynamicSink, StatelessSinkPartition } from "../../outputs.js";
import { clientConfig, producerConfig } from "./config.js";
import { toKafkajsMessage } from "./message.js";
import type { KafkaSinkMessage, KafkaSinkOptions } from "./types.js";
import { stringList } from "./validation.js";

/**
 * Kafka checks each partition's record batch against the broker's `message.max.bytes` (1 MiB by default), and kafkajs
 * puts all of a request's messages for a partition in one batch; so a weir batch is sent in requests of at most this
 * many estimated bytes, one after another (which also keeps their order).
 */
const MAX_REQUEST_BYTES = 512 * 1024;
/** A record's framing (offsets, lengths, timestamp deltas), generously. */
const RECORD_OVERHEAD_BYTES = 64;

/**
 * Produces each {@link KafkaSinkMessage} to `msg.topic ?? topic` (neither is a `SINK_ERROR`). `writeBatch` resolves once
 * every message of the batch is acknowledged (`acks: -1` by default), so delivery is at-least-once. Keys, values and
 * header values must be Buffers, strings or null.
 *
 * @example
 * op.output("out", op.map("to_msg", words, (w) => ({ key: null, value: Buffer.from(w) })),
 *   new KafkaSink(["127.0.0.1:9092"], "words"));
 */
export class KafkaSink extends DynamicSink<KafkaSinkMessage> {
  readonly #brokers: string[];
  readonly #topic: string | null;
  readonly #opts: KafkaSinkOptions;

  constructor(brokers: string[], topic: string | null, opts: KafkaSinkOptions = {}) {
    super();
    this.#brokers = stringList("KafkaSink", "brokers", brokers);
    if (topic !== null && (typeof topic !== "string" || topic.length === 0)) {
      throw invalidArgument(`KafkaSink: 'topic' must be a non-empty string or null, got ${describe(topic)}`);
    }
    this.#topic = topic;
    this.#opts = opts;
  }

  /** Connects one producer per worker. */
  async build(stepId: string, _workerIndex: number, _workerCount: number): Promise<KafkaSinkPartition> {
    const kafka = new kafkajs.Kafka(clientConfig(this.#brokers, this.#opts.addConfig));
    const producer = kafka.producer(producerConfig(this.#opts.producerConfig));
    try {
      await producer.connect();
    } catch (err) {
      await producer.disconnect().catch(() => {});
      throw new WeirError("SINK_ERROR", `KafkaSink in step '${stepId}' could not connect to ${this.#brokers.join(",")}: ${describe(err)}`,
        { cause: err, stepId });
    }
    return new KafkaSinkPartition(stepId, producer, this.#topic);
  }
}

/** One worker's producer. */
export class KafkaSinkPartition extends StatelessSinkPartition<KafkaSinkMessage> {
  readonly #stepId: string;
  readonly #producer: Producer;
  readonly #defaultTopic: string | null;

  constructor(stepId: string, producer: Producer, defaultTopic: string | null) {
    super();
    this.#stepId = stepId;
    this.#producer = producer;
    this.#defaultTopic = defaultTopic;
  }

  /** Sends the batch in order and resolves when all of it is acknowledged. */
  async writeBatch(items: KafkaSinkMessage[]): Promise<void> {
    const requests = this.#toRequests(items);
    for (const topicMessages of requests) {
      try {
        await this.#producer.sendBatch({ topicMessages });
      } catch (err) {
        throw this.#sinkError(`could not produce to Kafka: ${describe(err)}`, err);
      }
    }
  }

  async close(): Promise<void> {
    await this.#producer.disconnect();
  }

  /** Checks and converts every message before anything is sent, then groups them into size-capped requests. */
  #toRequests(items: KafkaSinkMessage[]): { topic: string; messages: Message[] }[][] {
    const requests: { topic: string; messages: Message[] }[][] = [];
    let current = new Map<string, Message[]>();
    let currentBytes = 0;
    const flush = () => {
      if (current.size > 0) requests.push([...current].map(([topic, messages]) => ({ topic, messages })));
      current = new Map();
      currentBytes = 0;
    };
    for (const item of items) {
      const message = toKafkajsMessage(item);
      if (typeof message === "string") throw this.#sinkError(`got an invalid message: ${message}`);
      const topic = item.topic ?? this.#defaultTopic;
      if (topic === null || topic === undefined) {
        throw this.#sinkError("got a message without a topic, and the KafkaSink has no default topic");
      }
      if (typeof topic !== "string" || topic.length === 0) throw this.#sinkError(`got a message whose topic is not a non-empty string: ${describe(topic)}`);
      const bytes = approximateBytes(message);
      if (currentBytes + bytes > MAX_REQUEST_BYTES) flush();
      let messages = current.get(topic);
      if (messages === undefined) current.set(topic, (messages = []));
      messages.push(message);
      currentBytes += bytes;
    }
    flush();
    return requests;
  }

  #sinkError(what: string, cause?: unknown): WeirError {
    return new WeirError("SINK_ERROR", `KafkaSink in step '${this.#stepId}' ${what}`,
      cause === undefined ? { stepId: this.#stepId } : { cause, stepId: this.#stepId });
  }
}

function approximateBytes(m: Message): number {
  let bytes = RECORD_OVERHEAD_BYTES + byteLength(m.key) + byteLength(m.value);
  if (m.headers) {
    for (const name in m.headers) {
      const v = m.headers[name];
      for (const one of Array.isArray(v) ? v : [v]) bytes += name.length + byteLength(one) + 8;
    }
  }
  return bytes;
}

function byteLength(x: Buffer | string | null | undefined): number {
  if (x === null || x === undefined) return 0;
  return typeof x === "string" ? Buffer.byteLength(x) : x.length;
}
