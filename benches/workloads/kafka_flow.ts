// The weir flow of the Kafka → weir → Kafka benchmark (benches/kafka.mjs):
//
//   node dist/cli.js run 'benches/workloads/kafka_flow.ts:kafkaFlow({"brokers":["127.0.0.1:<port>"],"inTopic":"in","outTopic":"out"})' -w 2
//
// kop.input (tail: false: every partition ends at its high watermark, so the run ends by itself)
//   → kop.deserializeValue (JSON.parse)
//   → op.map "enrich" (a light per-event transform, `enrich` below; the key is kept)
//   → kop.serializeValue (JSON.stringify)
//   → kop.output to `outTopic`.
// Consumer and deserialisation errors are not expected here: `op.raises` fails the run on the first one, so a run that
// exits 0 has passed every message through. benches/kafka.mjs then reads `outTopic` back and checks its count and
// checksum against its own copy of `enrich`.
import { Dataflow, op } from "weir";
import { kop, type Bytes, type KafkaSinkMessage, type SrcMsg } from "weir/connectors/kafka";

export interface KafkaFlowOptions {
  brokers: string[];
  inTopic: string;
  outTopic: string;
  /** The source's `batchSize` (messages per poll per partition; weir's default 1000). */
  batchSize?: number;
}

/** An input event as benches/kafka.mjs produces it (≈ 100 bytes of JSON). */
export interface ClickEvent {
  id: number;
  user: string;
  kind: string;
  page: string;
  amount: number;
  ts: number;
}

/** The output event. benches/kafka.mjs has the same function (`enrich`) to compute the expected checksum. */
export interface EnrichedEvent {
  id: number;
  user: string;
  kind: string;
  page: string;
  cents: number;
  big: boolean;
  minute: number;
}

export function enrich(e: ClickEvent): EnrichedEvent {
  return {
    id: e.id, user: e.user, kind: e.kind, page: e.page,
    cents: Math.round(e.amount * 100), big: e.amount >= 500, minute: Math.floor(e.ts / 60_000),
  };
}

const parse = (b: Bytes): ClickEvent => JSON.parse(String(b)) as ClickEvent;
const stringify = (v: EnrichedEvent): Buffer => Buffer.from(JSON.stringify(v));

export function kafkaFlow(opts: KafkaFlowOptions): Dataflow {
  const { brokers, inTopic, outTopic, batchSize } = opts;
  const flow = new Dataflow("bench_kafka");
  const input = kop.input("in", flow, { brokers, topics: [inTopic], tail: false, ...(batchSize ? { batchSize } : {}) });
  const parsed = kop.deserializeValue("parse", input.oks, parse);
  op.raises("no_errors", op.merge("errors", input.errs, parsed.errs));
  const enriched = op.map("enrich", parsed.oks,
    (m: SrcMsg<Bytes, ClickEvent>): KafkaSinkMessage<Bytes, EnrichedEvent> => ({ key: m.key, value: enrich(m.value) }));
  const out = kop.serializeValue("serialize", enriched, stringify);
  kop.output("out", out, { brokers, topic: outTopic });
  return flow;
}
