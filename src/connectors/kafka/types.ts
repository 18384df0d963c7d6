// The shapes weir's Kafka connector exchanges with user code (API.md §6): messages, errors, options, serde callbacks.
import type { ConsumerConfig, KafkaConfig, ProducerConfig } from "kafkajs";
import type { Awaitable } from "../../types.js";

/** Start each partition at its earliest retained offset. */
export const OFFSET_BEGINNING = -2;
/** Start each partition at its end: only messages produced after the partition is built are read. */
export const OFFSET_END = -1;

/** A raw key or value as Kafka stores it. */
export type Bytes = Buffer | null;

/** A message read by {@link KafkaSource}. `timestamp` is the record's timestamp (create or log-append time). */
export interface KafkaSourceMessage<K = Bytes, V = Bytes> {
  key: K;
  value: V;
  topic: string;
  partition: number;
  offset: number;
  timestamp: Date;
  /** In record order; a key may repeat. */
  headers: [string, Buffer][];
}

/**
 * A message for {@link KafkaSink}. `topic` defaults to the sink's topic; `partition` to the producer's partitioner
 * (by key); `timestamp` to the produce time. Keys and values must be serialised (Buffer or string) or null.
 */
export interface KafkaSinkMessage<K = Bytes, V = Bytes> {
  key: K;
  value: V;
  topic?: string;
  partition?: number;
  timestamp?: Date;
  headers?: [string, Buffer | string][];
}

/** Why a {@link KafkaError} was produced. */
export type KafkaErrorCode = "CONSUMER" | "KEY_DESERIALIZATION" | "VALUE_DESERIALIZATION";

/**
 * An error item: a consumer error when `raiseOnErrors` is false (no `msg`), or a message a deserialiser rejected
 * (`msg` is the message as it was before the failing step).
 */
export interface KafkaError<K = Bytes, V = Bytes> {
  err: { code: KafkaErrorCode; message: string; cause?: unknown };
  msg?: KafkaSourceMessage<K, V>;
}

/** Options of {@link KafkaSource}. */
export interface KafkaSourceOptions {
  /** Keep waiting for new messages at the end of a partition (default true); false ends each partition there. */
  tail?: boolean;
  /** `OFFSET_BEGINNING` (default), `OFFSET_END` or an offset; recovery state wins over it. */
  startingOffset?: number;
  /** At most this many messages per `nextBatch` (default 1000). */
  batchSize?: number;
  /** kafkajs client config, overriding weir's defaults (`brokers` always comes from the constructor). */
  addConfig?: Partial<KafkaConfig>;
  /** kafkajs consumer config, overriding weir's defaults; `groupId` and `partitionAssigners` are weir's own. */
  consumerConfig?: Partial<ConsumerConfig>;
  /** Fail the run on consumer errors (default true); false emits them as {@link KafkaError} items and keeps going. */
  raiseOnErrors?: boolean;
}

/** Options of {@link KafkaSink}. */
export interface KafkaSinkOptions {
  /** kafkajs client config, overriding weir's defaults (`brokers` always comes from the constructor). */
  addConfig?: Partial<KafkaConfig>;
  /** kafkajs producer config, overriding weir's defaults. */
  producerConfig?: Partial<ProducerConfig>;
}

/** What a (de)serialiser is told about the data it converts. */
export interface SerializationContext {
  topic: string;
  field: "key" | "value";
  headers: [string, Buffer | string][];
}

/** Turns a raw key or value into `O`; throwing (or rejecting) makes the message a {@link KafkaError}. */
export type KafkaDeserializer<O> = (data: Bytes, ctx: SerializationContext) => Awaitable<O>;
/** Turns `I` into bytes for Kafka; throwing (or rejecting) fails the run (`CALLBACK_ERROR`). */
export type KafkaSerializer<I> = (data: I, ctx: SerializationContext) => Awaitable<Buffer>;

/** A source message or a sink message, as the serialising operators accept. */
export type Msg<K, V> = KafkaSourceMessage<K, V> | KafkaSinkMessage<K, V>;
/** Short for {@link KafkaSourceMessage}. */
export type SrcMsg<K, V> = KafkaSourceMessage<K, V>;
