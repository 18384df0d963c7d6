// The per-message (de)serialisation helpers behind kop's serde operators; the last test reads a poison message
// from the test broker.
import { describe, expect, inject, test } from "vitest";
import * as serde from "../src/connectors/kafka/serde.js";
import { isKafkaError, toSink } from "../src/connectors/kafka/message.js";
import { KafkaSource } from "../src/connectors/kafka/source.js";
import type { KafkaError, KafkaSourceMessage } from "../src/connectors/kafka/types.js";
import { createTopic, produce, readAllParts, uniqueTopic } from "./kafka.helpers.js";

const msg: KafkaSourceMessage = {
  key: Buffer.from("k"), value: Buffer.from('{"n":1}'), topic: "t", partition: 0, offset: 5, timestamp: new Date(0),
  headers: [["h", Buffer.from("x")]],
};
const utf8 = (b: Buffer | null) => (b === null ? null : b.toString("utf8"));
const json = (b: Buffer | null) => JSON.parse(String(b)) as unknown;
const fail = (): never => {
  throw new TypeError("bad bytes");
};

describe("deserialising", () => {
  test("keys and values are replaced, everything else kept; synchronous stays synchronous", () => {
    expect(serde.deserializeKey(msg, utf8)).toEqual({ ...msg, key: "k" });
    expect(serde.deserializeValue(msg, json)).toEqual({ ...msg, value: { n: 1 } });
    expect(serde.deserialize(msg, utf8, json)).toEqual({ ...msg, key: "k", value: { n: 1 } });
  });

  test("the deserialiser sees topic, field and headers", () => {
    const seen: unknown[] = [];
    serde.deserialize(msg, (_b, ctx) => seen.push(ctx), (_b, ctx) => seen.push(ctx));
    expect(seen).toEqual([
      { topic: "t", field: "key", headers: msg.headers },
      { topic: "t", field: "value", headers: msg.headers },
    ]);
  });

  test("a throwing deserialiser gives a KafkaError with the original message, key tried first", () => {
    const keyErr = serde.deserialize(msg, fail, fail) as KafkaError;
    expect(isKafkaError(keyErr)).toBe(true);
    expect(keyErr.err).toMatchObject({ code: "KEY_DESERIALIZATION", message: "TypeError: bad bytes" });
    expect(keyErr.err.cause).toBeInstanceOf(TypeError);
    expect(keyErr.msg).toBe(msg);
    expect((serde.deserialize(msg, utf8, fail) as KafkaError).err.code).toBe("VALUE_DESERIALIZATION");
    expect((serde.deserializeValue(msg, fail) as KafkaError).msg).toBe(msg);
    expect((serde.deserializeKey(msg, fail) as KafkaError).err.code).toBe("KEY_DESERIALIZATION");
  });

  test("async deserialisers: resolved values and rejections", async () => {
    expect(await serde.deserialize(msg, async (b) => utf8(b), async (b) => json(b))).toEqual({ ...msg, key: "k", value: { n: 1 } });
    const err = (await serde.deserialize(msg, async (b) => utf8(b), async () => Promise.reject(new Error("nope")))) as KafkaError;
    expect(err.err).toMatchObject({ code: "VALUE_DESERIALIZATION", message: "Error: nope" });
  });
});

describe("serialising", () => {
  test("source messages become sink messages; keys then values are serialised", () => {
    const parsed = { ...msg, key: "k", value: { n: 1 } };
    const out = serde.serialize(parsed, (k) => Buffer.from(k), (v) => Buffer.from(JSON.stringify(v)));
    expect(out).toEqual({ key: Buffer.from("k"), value: Buffer.from('{"n":1}'), headers: msg.headers });
    expect(serde.serializeKey(parsed, (k) => Buffer.from(k.toUpperCase()))).toEqual({ ...toSink(parsed), key: Buffer.from("K") });
    expect(serde.serializeValue({ key: null, value: 3, topic: "o" }, (v) => Buffer.from(String(v)))).toEqual({ key: null, value: Buffer.from("3"), topic: "o" });
  });

  test("a throwing serialiser throws (the operator turns it into CALLBACK_ERROR)", async () => {
    expect(() => serde.serializeKey({ key: 1, value: null }, fail)).toThrow("bad bytes");
    await expect(serde.serializeValue({ key: 1, value: null }, async () => fail())).rejects.toThrow("bad bytes");
  });
});

test("a poison message read from Kafka becomes a KafkaError between good messages", async () => {
  const brokers = inject("kafkaBrokers");
  const topic = uniqueTopic("poison");
  await createTopic(brokers, topic, 1);
  await produce(brokers, topic, [{ value: '{"ok":1}' }, { value: "{not json" }, { value: '{"ok":2}' }]);
  const [items] = [...(await readAllParts(new KafkaSource(brokers, [topic], { tail: false }))).values()];
  const results = await Promise.all((items as KafkaSourceMessage[]).map((m) => serde.deserializeValue(m, json)));
  expect(results.map((r) => (isKafkaError(r) ? r.err.code : r.value))).toEqual([{ ok: 1 }, "VALUE_DESERIALIZATION", { ok: 2 }]);
  const poison = results[1] as KafkaError;
  expect(poison.msg).toMatchObject({ offset: 1, value: Buffer.from("{not json") });
  expect(poison.err.message).toMatch(/SyntaxError/);
});
