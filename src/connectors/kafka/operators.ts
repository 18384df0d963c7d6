// The `kop` operators (API.md §6): Kafka input/output split into oks and errs, and (de)serialisation steps.
// Each is a custom operator of type `kafka.<name>` composed of built-ins, with Bytewax's substep names.
import type { Dataflow, Stream } from "../../dataflow.js";
import { operator } from "../../dataflow.js";
// The module is the `op` namespace (API.md §1: `op` is also importable as the module `weir/operators`).
import * as op from "../../operators.js";
import { asSinkMessage, isKafkaError } from "./message.js";
import * as serde from "./serde.js";
import { KafkaSink } from "./sink.js";
import { KafkaSource } from "./source.js";
import type {
  Bytes, KafkaDeserializer, KafkaError, KafkaSerializer, KafkaSinkMessage, KafkaSinkOptions, KafkaSourceOptions, Msg, SrcMsg,
} from "./types.js";

/** The two outputs of a Kafka operator that can fail per message: good messages and {@link KafkaError}s. */
export type KafkaOpOut<X, E> = { readonly oks: Stream<X>; readonly errs: Stream<E> };

/** Options of {@link input}: a {@link KafkaSource}'s, except `raiseOnErrors` (errors always go to `errs`). */
export type KafkaInputOptions = { brokers: string[]; topics: string[] } & Omit<KafkaSourceOptions, "raiseOnErrors">;
/** Options of {@link output}. */
export type KafkaOutputOptions = { brokers: string[]; topic: string } & KafkaSinkOptions;

const UP = ["up"];

/** Splits messages from errors; `branch` keeps each side's order. */
function splitErrors<X, E>(stepId: string, up: Stream<X | E>): { oks: Stream<X>; errs: Stream<E> } {
  const { trues, falses } = op.branch(stepId, up, (item: X | E): item is E => isKafkaError(item));
  return { oks: falses as Stream<X>, errs: trues };
}

const inputOp = operator("kafka.input", (_fullStepId: string, flow: Dataflow, opts: KafkaInputOptions) => {
  const { brokers, topics, ...sourceOpts } = opts;
  const source = new KafkaSource(brokers, topics, { ...sourceOpts, raiseOnErrors: false });
  return splitErrors<SrcMsg<Bytes, Bytes>, KafkaError>("split_err", op.input("kafka_input", flow, source));
});

const outputOp = operator("kafka.output", (_fullStepId: string, up: Stream<Msg<Bytes, Bytes>>, opts: KafkaOutputOptions) => {
  const { brokers, topic, ...sinkOpts } = opts;
  const sink = new KafkaSink(brokers, topic, sinkOpts);
  op.output("kafka_output", op.map("to_sink", up, (msg) => asSinkMessage(msg)), sink);
}, UP);

const deserializeKeyOp = operator("kafka.deserializeKey",
  (_fullStepId: string, up: Stream<SrcMsg<Bytes, unknown>>, deserializer: KafkaDeserializer<unknown>) =>
    splitErrors<SrcMsg<unknown, unknown>, KafkaError<Bytes, unknown>>("split_err",
      op.map("map", up, (msg) => serde.deserializeKey(msg, deserializer))), UP);

const deserializeValueOp = operator("kafka.deserializeValue",
  (_fullStepId: string, up: Stream<SrcMsg<unknown, Bytes>>, deserializer: KafkaDeserializer<unknown>) =>
    splitErrors<SrcMsg<unknown, unknown>, KafkaError<unknown, Bytes>>("split_err",
      op.map("map", up, (msg) => serde.deserializeValue(msg, deserializer))), UP);

const deserializeOp = operator("kafka.deserialize",
  (_fullStepId: string, up: Stream<SrcMsg<Bytes, Bytes>>,
    opts: { keyDeserializer: KafkaDeserializer<unknown>; valDeserializer: KafkaDeserializer<unknown> }) =>
    splitErrors<SrcMsg<unknown, unknown>, KafkaError>("split_err",
      op.map("map", up, (msg) => serde.deserialize(msg, opts.keyDeserializer, opts.valDeserializer))), UP);

const serializeKeyOp = operator("kafka.serializeKey",
  (_fullStepId: string, up: Stream<Msg<unknown, unknown>>, serializer: KafkaSerializer<unknown>) =>
    op.map("map", up, (msg) => serde.serializeKey(msg, serializer)), UP);

const serializeValueOp = operator("kafka.serializeValue",
  (_fullStepId: string, up: Stream<Msg<unknown, unknown>>, serializer: KafkaSerializer<unknown>) =>
    op.map("map", up, (msg) => serde.serializeValue(msg, serializer)), UP);

const serializeOp = operator("kafka.serialize",
  (_fullStepId: string, up: Stream<Msg<unknown, unknown>>,
    opts: { keySerializer: KafkaSerializer<unknown>; valSerializer: KafkaSerializer<unknown> }) =>
    op.map("map", up, (msg) => serde.serialize(msg, opts.keySerializer, opts.valSerializer)), UP);

/**
 * Reads Kafka topics: a {@link KafkaSource} with `raiseOnErrors: false`, split into `oks` (messages) and `errs`
 * (consumer errors).
 *
 * @example
 * const { oks, errs } = kop.input("kafka_in", flow, { brokers: ["127.0.0.1:9092"], topics: ["in"] });
 */
export function input(stepId: string, flow: Dataflow, opts: KafkaInputOptions): KafkaOpOut<SrcMsg<Bytes, Bytes>, KafkaError> {
  return inputOp(stepId, flow, opts);
}

/**
 * Writes messages to Kafka with a {@link KafkaSink}; source messages are re-published with `toSink` (key, value and
 * headers kept).
 *
 * @example
 * kop.output("kafka_out", oks, { brokers: ["127.0.0.1:9092"], topic: "out" });
 */
export function output(stepId: string, up: Stream<Msg<Bytes, Bytes>>, opts: KafkaOutputOptions): void {
  outputOp(stepId, up, opts);
}

/**
 * Deserialises keys; a message whose deserialiser throws goes to `errs` as a `KEY_DESERIALIZATION` error carrying
 * the original message.
 *
 * @example
 * const keyed = kop.deserializeKey("key", oks, (b) => (b === null ? null : b.toString("utf8")));
 */
export function deserializeKey<K, V>(stepId: string, up: Stream<SrcMsg<Bytes, V>>, deserializer: KafkaDeserializer<K>,
): KafkaOpOut<SrcMsg<K, V>, KafkaError<Bytes, V>> {
  return deserializeKeyOp(stepId, up as Stream<SrcMsg<Bytes, unknown>>, deserializer) as KafkaOpOut<SrcMsg<K, V>, KafkaError<Bytes, V>>;
}

/**
 * Deserialises values; failures go to `errs` as `VALUE_DESERIALIZATION` errors carrying the original message.
 *
 * @example
 * const parsed = kop.deserializeValue("json", oks, (b) => JSON.parse(String(b)));
 */
export function deserializeValue<K, V>(stepId: string, up: Stream<SrcMsg<K, Bytes>>, deserializer: KafkaDeserializer<V>,
): KafkaOpOut<SrcMsg<K, V>, KafkaError<K, Bytes>> {
  return deserializeValueOp(stepId, up as Stream<SrcMsg<unknown, Bytes>>, deserializer) as KafkaOpOut<SrcMsg<K, V>, KafkaError<K, Bytes>>;
}

/** Deserialises keys, then values; the first failure sends the original message to `errs`. */
export function deserialize<K, V>(stepId: string, up: Stream<SrcMsg<Bytes, Bytes>>,
  opts: { keyDeserializer: KafkaDeserializer<K>; valDeserializer: KafkaDeserializer<V> },
): KafkaOpOut<SrcMsg<K, V>, KafkaError> {
  return deserializeOp(stepId, up, opts) as KafkaOpOut<SrcMsg<K, V>, KafkaError>;
}

/** Serialises keys (source messages become sink messages first); a throwing serialiser fails the run. */
export function serializeKey<K, V>(stepId: string, up: Stream<Msg<K, V>>, serializer: KafkaSerializer<K>): Stream<KafkaSinkMessage<Buffer, V>> {
  return serializeKeyOp(stepId, up as Stream<Msg<unknown, unknown>>, serializer as KafkaSerializer<unknown>) as Stream<KafkaSinkMessage<Buffer, V>>;
}

/** Serialises values (source messages become sink messages first); a throwing serialiser fails the run. */
export function serializeValue<K, V>(stepId: string, up: Stream<Msg<K, V>>, serializer: KafkaSerializer<V>): Stream<KafkaSinkMessage<K, Buffer>> {
  return serializeValueOp(stepId, up as Stream<Msg<unknown, unknown>>, serializer as KafkaSerializer<unknown>) as Stream<KafkaSinkMessage<K, Buffer>>;
}

/**
 * Serialises keys, then values.
 *
 * @example
 * kop.serialize("ser", counts, { keySerializer: (k) => Buffer.from(k), valSerializer: (v) => Buffer.from(JSON.stringify(v)) });
 */
export function serialize<K, V>(stepId: string, up: Stream<Msg<K, V>>,
  opts: { keySerializer: KafkaSerializer<K>; valSerializer: KafkaSerializer<V> },
): Stream<KafkaSinkMessage<Buffer, Buffer>> {
  return serializeOp(stepId, up as Stream<Msg<unknown, unknown>>, opts as {
    keySerializer: KafkaSerializer<unknown>; valSerializer: KafkaSerializer<unknown>;
  });
}
