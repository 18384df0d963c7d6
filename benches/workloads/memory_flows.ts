// Flows of the memory benchmark (benches/memory.mjs): state held per live key.
//
//   node dist/cli.js run 'benches/workloads/memory_flows.ts:keys("count", 1000000)'
//
// One fixed partition yields `keys` items, key i once each ("k<i>"), 1,000 per poll, then EOF; every key's state stays
// live until EOF. "count": countFinal (one accumulator per key). "window": countWindow, tumbling 10 s, EventClock wait 0,
// frozen now (per key: a clock, a windower, one open window and its count). "stateful": statefulMap keeping the last value.
// The sink counts what it receives and prints `{"items": n}` from close().
import { Dataflow, DynamicSink, FixedPartitionedSource, op, StatefulSourcePartition, StatelessSinkPartition, type Stream } from "weir";
import * as win from "weir/windowing";

const BASE_MS = Date.UTC(2024, 0, 1);
type Kind = "count" | "window" | "stateful";

class KeysPartition extends StatefulSourcePartition<[string, number], number> {
  constructor(private next: number, private readonly end: number) { super(); }
  nextBatch(): [string, number][] | null {
    if (this.next >= this.end) return null;
    const out: [string, number][] = [];
    for (const stop = Math.min(this.end, this.next + 1000); this.next < stop; this.next++) out.push([`k${this.next}`, BASE_MS + this.next]);
    return out;
  }
  snapshot(): number { return this.next; }
}

class KeysSource extends FixedPartitionedSource<[string, number], number> {
  constructor(private readonly n: number) { super(); }
  listParts(): string[] { return ["0"]; }
  buildPart(_step: string, _part: string, resume?: number): KeysPartition { return new KeysPartition(resume ?? 0, this.n); }
}

class CountingSink extends DynamicSink<unknown> {
  build(): StatelessSinkPartition<unknown> {
    let n = 0;
    return new (class extends StatelessSinkPartition<unknown> {
      writeBatch(items: unknown[]): void { n += items.length; }
      close(): void { process.stdout.write(`${JSON.stringify({ items: n })}\n`); }
    })();
  }
}

export function keys(kind: Kind, n: number): Dataflow {
  const flow = new Dataflow("bench_memory");
  const s = op.input("inp", flow, new KeysSource(n)) as Stream<[string, number]>;
  let out: Stream<unknown>;
  if (kind === "count") {
    out = op.countFinal("count", s, (e: [string, number]) => e[0]);
  } else if (kind === "window") {
    const base = new Date(BASE_MS);
    const clock = new win.EventClock<[string, number]>({ tsGetter: (e) => new Date(BASE_MS + (e[1] - BASE_MS) % 1000), waitForSystemDurationMs: 0, nowGetter: () => base, toSystemUtc: () => null });
    out = win.countWindow("count", s, clock, new win.TumblingWindower({ lengthMs: 10_000, alignTo: base }), (e) => e[0]).down;
  } else {
    out = op.statefulMap("last", s, (_st: number | undefined, v: number) => [v, v] as [number, number]);
  }
  op.output("out", out, new CountingSink());
  return flow;
}
