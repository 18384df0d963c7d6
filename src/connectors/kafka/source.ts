// KafkaSource: a fixed-partitioned source with one weir partition per Kafka topic partition (API.md §6).
import kafkajs from "kafkajs";
import type { Admin, Kafka } from "kafkajs";
import { WeirError, describe, invalidArgument } from "../../errors.js";
import { FixedPartitionedSource } from "../../inputs.js";
import { clientConfig } from "./config.js";
import { stringList } from "./validation.js";
import { KafkaSourcePartition, type KafkaSourceItem } from "./source-partition.js";
import { OFFSET_BEGINNING, OFFSET_END, type KafkaSourceOptions } from "./types.js";

export type { KafkaSourceItem } from "./source-partition.js";

/** `<partitionIndex>-<topic>`; topics may contain `-`, partition indexes cannot. */
const PART_NAME = /^(\d+)-(.+)$/s;

/**
 * Reads Kafka topics. Each topic partition is a weir partition named `<partitionIndex>-<topic>`, read by exactly one
 * worker from the offset in weir's recovery state (or `startingOffset`); no consumer-group offsets are committed.
 * Items are {@link KafkaSourceMessage}s with raw `Buffer` keys and values, plus {@link KafkaError}s for consumer errors
 * when `raiseOnErrors` is false (otherwise they fail the run with `SOURCE_ERROR`).
 *
 * @example
 * const flow = new Dataflow("f");
 * const msgs = op.input("in", flow, new KafkaSource(["127.0.0.1:9092"], ["events"], { tail: false }));
 * op.output("out", op.map("val", msgs, (m) => String(m.value)), new StdOutSink());
 */
export class KafkaSource extends FixedPartitionedSource<KafkaSourceItem, number> {
  readonly #brokers: string[];
  readonly #topics: string[];
  readonly #tail: boolean;
  readonly #startingOffset: number;
  readonly #batchSize: number;
  readonly #raiseOnErrors: boolean;
  readonly #opts: KafkaSourceOptions;
  #kafka: Kafka | undefined;

  constructor(brokers: string[], topics: string[], opts: KafkaSourceOptions = {}) {
    super();
    this.#brokers = stringList("KafkaSource", "brokers", brokers);
    this.#topics = stringList("KafkaSource", "topics", topics);
    this.#tail = opts.tail ?? true;
    this.#startingOffset = opts.startingOffset ?? OFFSET_BEGINNING;
    this.#batchSize = opts.batchSize ?? 1000;
    this.#raiseOnErrors = opts.raiseOnErrors ?? true;
    if (typeof this.#tail !== "boolean") throw invalidArgument(`KafkaSource: 'tail' must be a boolean, got ${describe(opts.tail)}`);
    if (typeof this.#raiseOnErrors !== "boolean") {
      throw invalidArgument(`KafkaSource: 'raiseOnErrors' must be a boolean, got ${describe(opts.raiseOnErrors)}`);
    }
    if (!Number.isSafeInteger(this.#startingOffset) || this.#startingOffset < OFFSET_BEGINNING) {
      throw invalidArgument(`KafkaSource: 'startingOffset' must be OFFSET_BEGINNING, OFFSET_END or an offset >= 0, got ${describe(opts.startingOffset)}`);
    }
    if (!Number.isSafeInteger(this.#batchSize) || this.#batchSize < 1) {
      throw invalidArgument(`KafkaSource: 'batchSize' must be a positive integer, got ${describe(opts.batchSize)}`);
    }
    this.#opts = opts;
  }

  /** Every partition of every topic; a missing topic is a `SOURCE_ERROR`. */
  async listParts(): Promise<string[]> {
    return this.#withAdmin("could not list the partitions of its topics", undefined, async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing = this.#topics.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        throw new WeirError("SOURCE_ERROR",
          `KafkaSource: topic${missing.length > 1 ? "s" : ""} ${missing.map((t) => `'${t}'`).join(", ")} not found on brokers ${this.#brokers.join(",")}`);
      }
      const { topics } = await admin.fetchTopicMetadata({ topics: this.#topics });
      const byName = new Map(topics.map((t) => [t.name, t.partitions.map((p) => p.partitionId).sort((a, b) => a - b)]));
      return this.#topics.flatMap((topic) => (byName.get(topic) ?? []).map((p) => `${p}-${topic}`));
    });
  }

  /** Resolves the start offset (resume state, else `startingOffset`) against the partition's current range and joins. */
  async buildPart(stepId: string, forPart: string, resumeState: number | undefined): Promise<KafkaSourcePartition> {
    const match = PART_NAME.exec(forPart);
    if (match === null || !this.#topics.includes(match[2]!)) {
      throw new WeirError("SOURCE_ERROR",
        `KafkaSource in step '${stepId}': partition '${forPart}' is not one of topics ${this.#topics.map((t) => `'${t}'`).join(", ")} (resuming with a different set of topics?)`,
        { stepId });
    }
    const partition = Number(match[1]);
    const topic = match[2]!;
    if (resumeState !== undefined && (!Number.isSafeInteger(resumeState) || resumeState < 0)) {
      throw new WeirError("SOURCE_ERROR", `KafkaSource in step '${stepId}': invalid resume state for '${forPart}': ${describe(resumeState)}`, { stepId });
    }
    const range = await this.#withAdmin(`could not read the offsets of '${forPart}'`, stepId, (admin) => retryRetriable(async () => {
      const offsets = await admin.fetchTopicOffsets(topic);
      const found = offsets.find((o) => o.partition === partition);
      if (found === undefined) throw new Error(`topic '${topic}' has no partition ${partition}`);
      return { low: Number(found.low), high: Number(found.high) };
    }));
    const partitionSource = new KafkaSourcePartition({
      kafka: this.#client(),
      stepId,
      partName: forPart,
      topic,
      partition,
      startOffset: startOffset(resumeState ?? this.#startingOffset, range),
      highWatermark: range.high,
      tail: this.#tail,
      batchSize: this.#batchSize,
      raiseOnErrors: this.#raiseOnErrors,
      consumerConfig: this.#opts.consumerConfig ?? {},
    });
    await partitionSource.start();
    return partitionSource;
  }

  #client(): Kafka {
    this.#kafka ??= new kafkajs.Kafka(clientConfig(this.#brokers, this.#opts.addConfig));
    return this.#kafka;
  }

  async #withAdmin<T>(what: string, stepId: string | undefined, fn: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = this.#client().admin();
    try {
      await admin.connect();
      return await fn(admin);
    } catch (err) {
      if (err instanceof WeirError) throw err;
      const where = stepId === undefined ? "KafkaSource" : `KafkaSource in step '${stepId}'`;
      throw new WeirError("SOURCE_ERROR", `${where} ${what}: ${describe(err)}`, stepId === undefined ? { cause: err } : { cause: err, stepId });
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}

/**
 * kafkajs's `fetchTopicOffsets` gives up at once on a retriable broker answer such as NOT_LEADER_FOR_PARTITION (a leader
 * election, or a topic created moments ago): try again a few times before that is a SOURCE_ERROR.
 */
async function retryRetriable<T>(fn: () => Promise<T>, attempts = 6, delayMs = 250): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= attempts || (err as { retriable?: unknown } | null)?.retriable !== true) throw err;
      await new Promise((r) => setTimeout(r, delayMs));
    }
  }
}

/**
 * The offset to start at. Special offsets resolve against the current range; explicit ones are clamped into it, as
 * Kafka's offset reset would (earliest below the range, latest above), so kafkajs never resets (and commits) itself.
 */
function startOffset(requested: number, range: { low: number; high: number }): number {
  if (requested === OFFSET_BEGINNING) return range.low;
  if (requested === OFFSET_END) return range.high;
  return Math.min(Math.max(requested, range.low), range.high);
}
