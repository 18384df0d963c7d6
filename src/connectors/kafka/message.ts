// Converting messages between kafkajs's shapes and weir's plain objects, and telling items apart.
import type { IHeaders, KafkaMessage, Message } from "kafkajs";
import type { KafkaError, KafkaErrorCode, KafkaSinkMessage, KafkaSourceMessage, Msg } from "./types.js";

const ERROR_CODES: ReadonlySet<string> = new Set<KafkaErrorCode>(["CONSUMER", "KEY_DESERIALIZATION", "VALUE_DESERIALIZATION"]);

/**
 * True for the error items of a Kafka source or of the deserialising operators.
 *
 * @example
 * const { trues: errs, falses: oks } = op.branch("split", items, isKafkaError);
 */
export function isKafkaError(x: unknown): x is KafkaError<unknown, unknown> {
  if (typeof x !== "object" || x === null) return false;
  const err = (x as { err?: unknown }).err;
  return typeof err === "object" && err !== null
    && ERROR_CODES.has((err as { code?: unknown }).code as string)
    && typeof (err as { message?: unknown }).message === "string";
}

/** True for messages read from Kafka (they carry an offset), false for messages meant for a sink. */
export function isSourceMessage<K, V>(msg: Msg<K, V>): msg is KafkaSourceMessage<K, V> {
  return typeof (msg as { offset?: unknown }).offset === "number";
}

/**
 * The sink message that re-publishes a source message: key, value and headers are kept; topic, partition and
 * timestamp are left to the sink.
 */
export function toSink<K, V>(msg: KafkaSourceMessage<K, V>): KafkaSinkMessage<K, V> {
  return { key: msg.key, value: msg.value, headers: msg.headers };
}

/** {@link toSink} for source messages; sink messages pass unchanged. */
export function asSinkMessage<K, V>(msg: Msg<K, V>): KafkaSinkMessage<K, V> {
  return isSourceMessage(msg) ? toSink(msg) : msg;
}

/** A kafkajs record as weir's source message. */
export function fromKafkajsMessage(topic: string, partition: number, m: KafkaMessage): KafkaSourceMessage {
  return {
    key: m.key,
    value: m.value,
    topic,
    partition,
    offset: Number(m.offset),
    timestamp: new Date(Number(m.timestamp)),
    headers: m.headers === undefined ? [] : headerPairs(m.headers),
  };
}

/** kafkajs decodes headers into an object (a repeated key becomes an array); weir exposes pairs. */
function headerPairs(headers: IHeaders): [string, Buffer][] {
  const pairs: [string, Buffer][] = [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) pairs.push([name, toBuffer(v)]);
    else pairs.push([name, toBuffer(value)]);
  }
  return pairs;
}

function toBuffer(v: Buffer | string): Buffer {
  return typeof v === "string" ? Buffer.from(v) : v;
}

/**
 * A weir sink message as a kafkajs message, or a string saying why it cannot be one. Header pairs become kafkajs's
 * header object, so repeated names are grouped (their relative order is kept).
 */
export function toKafkajsMessage(msg: KafkaSinkMessage<unknown, unknown>): Message | string {
  if (typeof msg !== "object" || msg === null) return `expected a KafkaSinkMessage object, got ${typeof msg}`;
  const { key, value } = msg;
  if (!isBytesLike(key)) return `key must be a Buffer, a string or null (serialise it first, e.g. with kop.serializeKey), got ${typeof key}`;
  if (!isBytesLike(value)) return `value must be a Buffer, a string or null (serialise it first, e.g. with kop.serializeValue), got ${typeof value}`;
  const out: Message = { key: key ?? null, value: value ?? null };
  if (msg.partition !== undefined && msg.partition !== null) {
    if (!Number.isInteger(msg.partition) || msg.partition < 0) return `partition must be a non-negative integer, got ${String(msg.partition)}`;
    out.partition = msg.partition;
  }
  if (msg.timestamp !== undefined && msg.timestamp !== null) {
    const ms = msg.timestamp instanceof Date ? msg.timestamp.getTime() : NaN;
    if (!Number.isFinite(ms)) return `timestamp must be a valid Date`;
    out.timestamp = String(ms);
  }
  if (msg.headers !== undefined && msg.headers !== null) {
    if (!Array.isArray(msg.headers)) return `headers must be an array of [name, value] pairs`;
    const headers: IHeaders = {};
    for (const pair of msg.headers) {
      if (!Array.isArray(pair) || typeof pair[0] !== "string" || !isBytesLike(pair[1]) || pair[1] === null) {
        return `each header must be a [string, Buffer | string] pair`;
      }
      const [name, v] = pair;
      const prev = headers[name];
      headers[name] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    out.headers = headers;
  }
  return out;
}

function isBytesLike(x: unknown): x is Buffer | string | null | undefined {
  return x === null || x === undefined || typeof x === "string" || Buffer.isBuffer(x);
}
