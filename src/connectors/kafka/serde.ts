// Pure per-message (de)serialisation helpers behind the kop serde operators. They stay synchronous when the user's
// (de)serialiser is, so a synchronous pipeline creates no Promise per message.
import { describe } from "../../errors.js";
import { isPromiseLike, type Awaitable } from "../../types.js";
import { asSinkMessage } from "./message.js";
import type {
  Bytes, KafkaDeserializer, KafkaError, KafkaErrorCode, KafkaSerializer, KafkaSinkMessage, KafkaSourceMessage, Msg,
  SerializationContext,
} from "./types.js";

/**
 * The message with its key deserialised, or a `KEY_DESERIALIZATION` {@link KafkaError} carrying the original message
 * if the deserialiser throws or rejects.
 */
export function deserializeKey<K, V>(
  msg: KafkaSourceMessage<Bytes, V>, deserializer: KafkaDeserializer<K>,
): Awaitable<KafkaSourceMessage<K, V> | KafkaError<Bytes, V>> {
  return attempt<K, KafkaSourceMessage<K, V> | KafkaError<Bytes, V>>(
    () => deserializer(msg.key, context(msg, "key")),
    (key): KafkaSourceMessage<K, V> => ({ ...msg, key }),
    (err) => deserializationError("KEY_DESERIALIZATION", err, msg),
  );
}

/** Like {@link deserializeKey}, for the value (`VALUE_DESERIALIZATION`). */
export function deserializeValue<K, V>(
  msg: KafkaSourceMessage<K, Bytes>, deserializer: KafkaDeserializer<V>,
): Awaitable<KafkaSourceMessage<K, V> | KafkaError<K, Bytes>> {
  return attempt<V, KafkaSourceMessage<K, V> | KafkaError<K, Bytes>>(
    () => deserializer(msg.value, context(msg, "value")),
    (value): KafkaSourceMessage<K, V> => ({ ...msg, value }),
    (err) => deserializationError("VALUE_DESERIALIZATION", err, msg),
  );
}

/** Key first, then value; the first failure gives a {@link KafkaError} with the original message. */
export function deserialize<K, V>(
  msg: KafkaSourceMessage, keyDeserializer: KafkaDeserializer<K>, valDeserializer: KafkaDeserializer<V>,
): Awaitable<KafkaSourceMessage<K, V> | KafkaError> {
  return attempt<K, KafkaSourceMessage<K, V> | KafkaError>(
    () => keyDeserializer(msg.key, context(msg, "key")),
    (key) => attempt<V, KafkaSourceMessage<K, V> | KafkaError>(
      () => valDeserializer(msg.value, context(msg, "value")),
      (value): KafkaSourceMessage<K, V> => ({ ...msg, key, value }),
      (err) => deserializationError("VALUE_DESERIALIZATION", err, msg),
    ),
    (err) => deserializationError("KEY_DESERIALIZATION", err, msg),
  );
}

/** The sink message (source messages go through `toSink`) with its key serialised; a throw propagates. */
export function serializeKey<K, V>(msg: Msg<K, V>, serializer: KafkaSerializer<K>): Awaitable<KafkaSinkMessage<Buffer, V>> {
  const sinkMsg = asSinkMessage(msg);
  return then(serializer(sinkMsg.key, context(sinkMsg, "key")), (key) => ({ ...sinkMsg, key }));
}

/** Like {@link serializeKey}, for the value. */
export function serializeValue<K, V>(msg: Msg<K, V>, serializer: KafkaSerializer<V>): Awaitable<KafkaSinkMessage<K, Buffer>> {
  const sinkMsg = asSinkMessage(msg);
  return then(serializer(sinkMsg.value, context(sinkMsg, "value")), (value) => ({ ...sinkMsg, value }));
}

/** Key first, then value; a throw propagates. */
export function serialize<K, V>(
  msg: Msg<K, V>, keySerializer: KafkaSerializer<K>, valSerializer: KafkaSerializer<V>,
): Awaitable<KafkaSinkMessage<Buffer, Buffer>> {
  const sinkMsg = asSinkMessage(msg);
  return then(keySerializer(sinkMsg.key, context(sinkMsg, "key")), (key) =>
    then(valSerializer(sinkMsg.value, context(sinkMsg, "value")), (value) => ({ ...sinkMsg, key, value })));
}

function context(msg: Msg<unknown, unknown>, field: "key" | "value"): SerializationContext {
  // A sink message may have no topic yet (the sink supplies it): the context then says "".
  return { topic: msg.topic ?? "", field, headers: msg.headers ?? [] };
}

function deserializationError<K, V>(code: KafkaErrorCode, cause: unknown, msg: KafkaSourceMessage<K, V>): KafkaError<K, V> {
  return { err: { code, message: describe(cause), cause }, msg };
}

/** `onOk(run())`, or `onErr` of what it threw or rejected with; synchronous when `run` is. */
function attempt<T, R>(run: () => Awaitable<T>, onOk: (value: T) => Awaitable<R>, onErr: (err: unknown) => Awaitable<R>): Awaitable<R> {
  let result: Awaitable<T>;
  try {
    result = run();
  } catch (err) {
    return onErr(err);
  }
  return isPromiseLike(result) ? Promise.resolve(result).then(onOk, onErr) : onOk(result);
}

/** `f(value)`, after awaiting `value` only if it is a Promise. */
function then<T, R>(value: Awaitable<T>, f: (v: T) => Awaitable<R>): Awaitable<R> {
  return isPromiseLike(value) ? Promise.resolve(value).then(f) : f(value);
}
