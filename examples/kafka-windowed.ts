// Clicks per user in tumbling event-time windows, from one Kafka topic to another.
//
//   node scripts/kafka/broker.mjs start                       # prints the broker's host:port (keep it running)
//   export WEIR_KAFKA_BROKERS=<host:port>
//   node scripts/kafka/clicks.mjs produce 200                 # creates the topics, produces 200 clicks
//   npx weir run examples/kafka-windowed.ts -w 2              # Ctrl-C to stop (it tails the input topic)
//   node scripts/kafka/clicks.mjs consume                     # prints the counts
//
// Input messages: key = user, value = JSON `{ "user": "ana", "at": "2024-06-01T12:00:03.000Z" }`. Output messages:
// key = user, value = JSON `{ "user", "windowStart", "windowEnd", "count" }`, one per user and window.
// Settings from the environment (defaults in brackets): WEIR_KAFKA_BROKERS [127.0.0.1:9092] (comma-separated),
// WEIR_KAFKA_IN_TOPIC [clicks], WEIR_KAFKA_OUT_TOPIC [click-counts], WEIR_WINDOW_MS [10000], WEIR_WAIT_MS [2000].
// `flow` takes options that win over the environment, e.g. `weir run 'examples/kafka-windowed.ts:flow({"tail":false})'`.
import { Dataflow, op } from "weir";
import { kop, type Bytes, type KafkaSinkMessage, type SrcMsg } from "weir/connectors/kafka";
import * as win from "weir/windowing";

export interface Click {
  user: string;
  /** ISO 8601 event time. */
  at: string;
}

export interface WindowCount {
  user: string;
  windowStart: string;
  windowEnd: string;
  count: number;
}

export interface KafkaWindowedOptions {
  brokers?: string[];
  inTopic?: string;
  outTopic?: string;
  /** Window length (ms); windows are aligned to the Unix epoch. */
  windowMs?: number;
  /** How long (system time) the watermark trails the newest click of a user. */
  waitMs?: number;
  /** Keep reading at the end of the input topic (default true); false: stop there, closing every window. */
  tail?: boolean;
}

/** Parses a click; anything else throws, which sends the message to the `errs` stream. */
function parseClick(value: Bytes): Click {
  const click = JSON.parse(String(value)) as Partial<Click> | null;
  if (typeof click?.user !== "string" || typeof click.at !== "string" || Number.isNaN(Date.parse(click.at))) {
    throw new TypeError(`not a click: ${String(value)}`);
  }
  return { user: click.user, at: click.at };
}

export function flow(opts: KafkaWindowedOptions = {}): Dataflow {
  const env = process.env;
  const brokers = opts.brokers ?? (env.WEIR_KAFKA_BROKERS || "127.0.0.1:9092").split(",");
  const inTopic = opts.inTopic ?? (env.WEIR_KAFKA_IN_TOPIC || "clicks");
  const outTopic = opts.outTopic ?? (env.WEIR_KAFKA_OUT_TOPIC || "click-counts");
  const windowMs = opts.windowMs ?? Number(env.WEIR_WINDOW_MS || 10_000);
  const waitMs = opts.waitMs ?? Number(env.WEIR_WAIT_MS || 2_000);

  const df = new Dataflow("kafka_windowed");
  const input = kop.input("kafka_in", df, { brokers, topics: [inTopic], tail: opts.tail ?? true });
  const clicks = kop.deserializeValue("parse", input.oks, parseClick);
  op.inspect("bad_messages", op.merge("errors", input.errs, clicks.errs), (stepId, err) => {
    console.error(`${stepId}: ${err.err.code}: ${err.err.message}`);
  });

  // The clock is per user: its watermark is the user's newest click time minus `waitMs`, plus the system time
  // elapsed since that click arrived. Timers wake the window step at `toSystemUtc(window end)`, so a quiet
  // user's windows still close: for live clicks (event time ≈ wall time) the watermark reaches a window's end
  // about `waitMs` after it. For old clicks that instant is already past while the watermark still has to
  // catch up with system time; re-check 4 times a second then, rather than at once and again and again.
  const clock = new win.EventClock<SrcMsg<Bytes, Click>>({
    tsGetter: (msg) => new Date(msg.value.at),
    waitForSystemDurationMs: waitMs,
    toSystemUtc: (ts) => new Date(Math.max(ts.getTime() + waitMs, Date.now() + 250)),
  });
  const windower = new win.TumblingWindower({ lengthMs: windowMs, alignTo: new Date(0) });
  const counts = win.countWindow("count", clicks.oks, clock, windower, (msg) => msg.value.user);

  const out = op.map("to_message", counts.down, ([user, [windowId, count]]): KafkaSinkMessage<Buffer, Buffer> => {
    const start = windowId * windowMs;
    const value: WindowCount = {
      user, windowStart: new Date(start).toISOString(), windowEnd: new Date(start + windowMs).toISOString(), count,
    };
    return { key: Buffer.from(user), value: Buffer.from(JSON.stringify(value)) };
  });
  kop.output("kafka_out", out, { brokers, topic: outTopic });

  op.inspect("late", counts.late, (stepId, [user, [, msg]]) => {
    console.error(`${stepId}: late click of ${user} at ${msg.value.at} (offset ${msg.offset} of partition ${msg.partition})`);
  });
  return df;
}
