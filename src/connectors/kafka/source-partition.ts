// One weir source partition reading exactly one Kafka topic partition through kafkajs.
//
// kafkajs has no manual partition assignment (its issue #373): a consumer joins a group, and the group decides what
// it reads, from the group's committed offsets, pushing messages through `run()`. weir needs the opposite: a fixed
// partition, its own position (recovery state), and pull (`nextBatch`). The bridge:
//
// 1. Private group. Each weir partition gets a consumer in a consumer group of its own (random id), whose custom
//    assigner (partition-assigner.ts) gives its only member exactly this topic partition. Nothing is ever committed.
// 2. Seek after join. On every group join (the first one, and any re-join after a lost session) the consumer seeks to
//    the next offset to fetch, so the group's (absent) offsets never matter. kafkajs applies a seek before the next
//    fetch, so no message is read from anywhere else.
// 3. Push to pull. `eachBatch` only appends kafkajs's batch to a queue; `nextBatch` converts and hands out at most
//    `batchSize` messages from it and never waits.
// 4. Bounded memory. Above MAX_BUFFERED_MESSAGES or MAX_BUFFERED_BYTES the partition is paused (kafkajs keeps
//    heartbeating while paused) and resumed once `nextBatch` has drained the queue below half of that. The queue
//    therefore holds at most the limit plus one fetch (`maxBytesPerPartition`, 1 MiB by default).
// 5. Position. The snapshot is the offset after the last message handed out. Batches kafkajs consumes without
//    delivering (transaction markers, aborted transactions) advance it through END_BATCH_PROCESS events, in order.
// 6. End. With `tail: false` the partition ends once the queue is empty and the position has reached the high
//    watermark of the latest fetch (or, before any fetch, the one read when the partition was built).
import { randomUUID } from "node:crypto";
import type { Batch, Consumer, ConsumerConfig, Kafka, KafkaMessage } from "kafkajs";
import { WeirError, describe } from "../../errors.js";
import { StatefulSourcePartition } from "../../inputs.js";
import { consumerConfig } from "./config.js";
import { fromKafkajsMessage } from "./message.js";
import { fixedPartitionAssigner } from "./partition-assigner.js";
import type { KafkaError, KafkaSourceMessage } from "./types.js";

/** What a Kafka source emits: messages, and (with `raiseOnErrors: false`) consumer errors. */
export type KafkaSourceItem = KafkaSourceMessage | KafkaError;

/** Pause fetching above this many queued messages... */
const MAX_BUFFERED_MESSAGES = 20_000;
/** ...or above this many queued key + value bytes. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;
/** How long `close()` waits for kafkajs to leave the group before giving up on a dead broker. */
const CLOSE_TIMEOUT_MS = 10_000;
/** Back-off between restarts of a crashed consumer when errors are items (`raiseOnErrors: false`). */
const RESTART_DELAY_MS = { first: 1_000, max: 30_000 };
/**
 * Errors of the private group's coordinator that only mean "not ready yet" (a fresh broker loading its offsets topic, a
 * coordinator moving). The group is weir's mechanism, not the user's, so these are not consumer errors: kafkajs restarts the
 * consumer, up to this many times per partition, before they count as failures.
 */
const TRANSIENT_COORDINATOR_ERRORS = new Set(["GROUP_LOAD_IN_PROGRESS", "GROUP_COORDINATOR_NOT_AVAILABLE", "NOT_COORDINATOR_FOR_GROUP"]);
const MAX_COORDINATOR_RESTARTS = 20;

type QueueEntry =
  | { kind: "messages"; messages: KafkaMessage[]; next: number; endOffset: number; highWatermark: number }
  | { kind: "error"; error: unknown };

/** Everything a partition needs, resolved by KafkaSource.buildPart. */
export interface KafkaSourcePartitionInit {
  kafka: Kafka;
  stepId: string;
  partName: string;
  topic: string;
  partition: number;
  /** The next offset to read. */
  startOffset: number;
  /** The partition's high watermark when it was built. */
  highWatermark: number;
  tail: boolean;
  batchSize: number;
  raiseOnErrors: boolean;
  consumerConfig: Partial<ConsumerConfig>;
}

export class KafkaSourcePartition extends StatefulSourcePartition<KafkaSourceItem, number> {
  readonly #init: KafkaSourcePartitionInit;
  /** Offset after the last message handed out: the snapshot. */
  #position: number;
  /** Offset after the last message queued: where the consumer must (re)start fetching. */
  #fetchPosition: number;
  #highWatermark: number;
  readonly #queue: QueueEntry[] = [];
  #bufferedMessages = 0;
  #bufferedBytes = 0;
  #paused = false;
  #consumer: Consumer | undefined;
  #stopping: Promise<void> | undefined;
  /** With raiseOnErrors: the error that failed this partition, thrown by every later nextBatch. */
  #failure: WeirError | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #restartDelayMs = RESTART_DELAY_MS.first;
  #coordinatorRestarts = 0;
  #closed = false;

  constructor(init: KafkaSourcePartitionInit) {
    super();
    this.#init = init;
    this.#position = init.startOffset;
    this.#fetchPosition = init.startOffset;
    this.#highWatermark = init.highWatermark;
  }

  /** Joins the private group and starts fetching, unless a non-tailing partition is already at its end. */
  async start(): Promise<void> {
    if (!this.#init.tail && this.#position >= this.#highWatermark) return;
    try {
      await this.#startConsumer();
    } catch (err) {
      await this.#stopConsumer();
      throw this.#sourceError("could not start its consumer", err);
    }
  }

  nextBatch(): KafkaSourceItem[] | null {
    if (this.#failure) throw this.#failure;
    const { batchSize, topic, partition, raiseOnErrors } = this.#init;
    const out: KafkaSourceItem[] = [];
    while (out.length < batchSize && this.#queue.length > 0) {
      const entry = this.#queue[0]!;
      if (entry.kind === "error") {
        if (out.length > 0) break; // hand out what came before the error first
        this.#queue.shift();
        if (raiseOnErrors) {
          this.#failure = this.#sourceError("failed", entry.error);
          throw this.#failure;
        }
        out.push(consumerErrorItem(entry.error));
        continue;
      }
      const take = Math.min(batchSize - out.length, entry.messages.length - entry.next);
      for (let i = entry.next; i < entry.next + take; i++) {
        const m = entry.messages[i]!;
        out.push(fromKafkajsMessage(topic, partition, m));
        this.#bufferedBytes -= messageBytes(m);
      }
      entry.next += take;
      this.#bufferedMessages -= take;
      if (take > 0) this.#position = (out[out.length - 1] as KafkaSourceMessage).offset + 1;
      if (entry.next === entry.messages.length) {
        this.#queue.shift();
        this.#position = Math.max(this.#position, entry.endOffset);
        this.#highWatermark = entry.highWatermark;
      }
    }
    this.#resumeIfDrained();
    if (out.length > 0) return out;
    if (!this.#init.tail && this.#position >= this.#highWatermark) return null;
    return [];
  }

  snapshot(): number {
    return this.#position;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    await this.#stopConsumer();
    this.#queue.length = 0;
  }

  async #startConsumer(): Promise<void> {
    const { kafka, stepId, partName, topic, partition, raiseOnErrors } = this.#init;
    const userRestart = this.#init.consumerConfig.retry?.restartOnFailure;
    const isCurrent = () => this.#consumer === consumer && !this.#closed;
    const consumer = kafka.consumer(consumerConfig(this.#init.consumerConfig, {
      groupId: `weir-${stepId}-${partName}-${randomUUID()}`,
      partitionAssigners: [fixedPartitionAssigner(topic, partition)],
    }, async (err) => {
      // A closed or replaced consumer must stay down, or it would keep fetching (and the process alive) after close().
      if (!isCurrent()) return false;
      if (isTransientCoordinatorError(err) && this.#coordinatorRestarts < MAX_COORDINATOR_RESTARTS) {
        this.#coordinatorRestarts++;
        return true;
      }
      // With raiseOnErrors the first (other) crash fails the partition.
      if (raiseOnErrors) return false;
      return userRestart === undefined ? true : userRestart(err);
    }));
    this.#consumer = consumer;
    this.#stopping = undefined;
    const { GROUP_JOIN, END_BATCH_PROCESS, CRASH } = consumer.events;
    consumer.on(GROUP_JOIN, () => {
      if (!isCurrent()) return;
      consumer.seek({ topic, partition, offset: String(this.#fetchPosition) });
      // A restarted kafkajs consumer starts unpaused; keep the memory bound.
      if (this.#paused) consumer.pause([{ topic, partitions: [partition] }]);
    });
    consumer.on(END_BATCH_PROCESS, ({ payload }) => {
      // Batches with messages arrive through eachBatch; this catches the ones kafkajs consumed without delivering.
      if (!isCurrent() || payload.batchSize !== 0) return;
      this.#enqueue([], Number(payload.lastOffset) + 1, Number(payload.highWatermark));
    });
    consumer.on(CRASH, ({ payload }) => {
      if (!isCurrent()) return;
      // kafkajs restarts the consumer after a transient coordinator error (see shouldRestart above): nothing to report.
      if (payload.restart && isTransientCoordinatorError(payload.error)) return;
      this.#onCrash(payload.error, payload.restart);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    consumer
      .run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          if (isCurrent()) this.#onBatch(consumer, batch);
        },
      })
      .catch((err: unknown) => {
        if (isCurrent()) this.#onCrash(err, false);
      });
  }

  #onBatch(consumer: Consumer, batch: Batch): void {
    this.#restartDelayMs = RESTART_DELAY_MS.first;
    for (const m of batch.messages) this.#bufferedBytes += messageBytes(m);
    this.#bufferedMessages += batch.messages.length;
    this.#enqueue(batch.messages, Number(batch.lastOffset()) + 1, Number(batch.highWatermark));
    if (!this.#paused && (this.#bufferedMessages >= MAX_BUFFERED_MESSAGES || this.#bufferedBytes >= MAX_BUFFERED_BYTES)) {
      this.#paused = true;
      consumer.pause([{ topic: this.#init.topic, partitions: [this.#init.partition] }]);
    }
  }

  #enqueue(messages: KafkaMessage[], endOffset: number, highWatermark: number): void {
    this.#queue.push({ kind: "messages", messages, next: 0, endOffset, highWatermark });
    this.#fetchPosition = Math.max(this.#fetchPosition, endOffset);
  }

  #resumeIfDrained(): void {
    if (!this.#paused || this.#bufferedMessages > MAX_BUFFERED_MESSAGES / 2 || this.#bufferedBytes > MAX_BUFFERED_BYTES / 2) return;
    this.#paused = false;
    try {
      this.#consumer?.resume([{ topic: this.#init.topic, partitions: [this.#init.partition] }]);
    } catch {
      // The consumer is between crash and restart; the next group join will find it unpaused.
    }
  }

  /**
   * A crashed consumer has disconnected. With raiseOnErrors the error is queued (after the messages before it) and
   * fails the partition; otherwise it becomes an item and the consumer is restarted, by kafkajs for retriable
   * errors, by weir with back-off for the rest.
   */
  #onCrash(error: unknown, restartedByKafkajs: boolean): void {
    this.#queue.push({ kind: "error", error });
    if (this.#init.raiseOnErrors) {
      void this.#stopConsumer();
      return;
    }
    if (restartedByKafkajs) return;
    const delay = this.#restartDelayMs;
    this.#restartDelayMs = Math.min(delay * 2, RESTART_DELAY_MS.max);
    this.#restartTimer = setTimeout(() => void this.#restart(), delay);
  }

  async #restart(): Promise<void> {
    await this.#stopConsumer();
    if (this.#closed) return;
    try {
      await this.#startConsumer();
    } catch (err) {
      if (!this.#closed) this.#onCrash(err, false);
    }
  }

  /** Disconnects the current consumer once, however often it is asked; a dead broker cannot hold close() forever. */
  #stopConsumer(): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined) return Promise.resolve();
    this.#stopping ??= withTimeout(consumer.disconnect(), CLOSE_TIMEOUT_MS)
      // Nothing was committed, so a failed goodbye loses nothing; the broker expires the private group by itself.
      .catch(() => {})
      .finally(() => {
        if (this.#consumer === consumer) this.#consumer = undefined;
      });
    return this.#stopping;
  }

  #sourceError(what: string, cause: unknown): WeirError {
    const { stepId, partName } = this.#init;
    return new WeirError("SOURCE_ERROR", `Kafka source partition '${partName}' in step '${stepId}' ${what}: ${describe(cause)}`, {
      cause,
      stepId,
    });
  }
}

/** Whether `error`, or an error it wraps (kafkajs's `cause` / `originalError`), is a transient coordinator error. */
function isTransientCoordinatorError(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && typeof e === "object" && depth < 8; depth++) {
    const { type, cause, originalError } = e as { type?: unknown; cause?: unknown; originalError?: unknown };
    if (typeof type === "string" && TRANSIENT_COORDINATOR_ERRORS.has(type)) return true;
    e = cause ?? originalError;
  }
  return false;
}

function consumerErrorItem(error: unknown): KafkaError {
  return { err: { code: "CONSUMER", message: describe(error), cause: error } };
}

function messageBytes(m: KafkaMessage): number {
  return (m.key?.length ?? 0) + (m.value?.length ?? 0);
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
