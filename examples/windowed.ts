// Average temperature per sensor and minute: `npx weir run examples/windowed.ts -w 2`.
//
// Reads examples/sensors.csv (time,sensor,celsius), keys readings by sensor and folds them into one-minute
// tumbling windows of event time (the `time` column). Readings that arrive after their window closed go to the
// `late` stream and are printed as such.
import { fileURLToPath } from "node:url";
import { Dataflow, op } from "weir";
import { CSVSource } from "weir/connectors/files";
import { StdOutSink } from "weir/connectors/stdio";
import * as win from "weir/windowing";

interface Reading {
  time: Date;
  sensor: string;
  celsius: number;
}

interface Avg {
  sum: number;
  count: number;
}

const csv = fileURLToPath(new URL("./sensors.csv", import.meta.url));
const ALIGN_TO = new Date("2024-06-01T00:00:00Z");
const LENGTH_MS = 60_000;

export const flow = new Dataflow("windowed");
const rows = op.input("readings", flow, new CSVSource(csv));
const readings = op.map("parse", rows, (row: Record<string, string>): Reading =>
  ({ time: new Date(row.time!), sensor: row.sensor!, celsius: Number(row.celsius) }));
const bySensor = op.keyOn("by_sensor", readings, (r: Reading) => r.sensor);

// Event time from the reading; the watermark trails the newest timestamp seen by 10 s (plus the system time
// elapsed since, which is negligible when reading a file), so readings up to 10 s out of order still count.
const clock = new win.EventClock<Reading>({ tsGetter: (r) => r.time, waitForSystemDurationMs: 10_000 });
const minutes = new win.TumblingWindower({ lengthMs: LENGTH_MS, alignTo: ALIGN_TO });

const averages = win.foldWindow("avg", bySensor, clock, minutes,
  (): Avg => ({ sum: 0, count: 0 }),
  (acc: Avg, r: Reading): Avg => ({ sum: acc.sum + r.celsius, count: acc.count + 1 }),
  (a: Avg, b: Avg): Avg => ({ sum: a.sum + b.sum, count: a.count + b.count }));

// Window `id` of a tumbling windower starts at alignTo + id × length.
const minuteOf = (id: number) => new Date(ALIGN_TO.getTime() + id * LENGTH_MS).toISOString().slice(11, 16);

const lines = op.map("format", averages.down, ([sensor, [id, { sum, count }]]) =>
  `${sensor.padEnd(7)} ${minuteOf(id)}  avg ${(sum / count).toFixed(2)} °C over ${count} readings`);
op.output("print", lines, new StdOutSink());

const late = op.map("format_late", averages.late, ([sensor, [id, r]]) =>
  `${sensor.padEnd(7)} ${minuteOf(id)}  late reading ${r.celsius} °C at ${r.time.toISOString().slice(11, 19)} (window already closed)`);
op.output("print_late", late, new StdOutSink());
