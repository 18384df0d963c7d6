// Flows of the recovery benchmark (benches/recovery.mjs): a wordcount and a windowed count whose sources can seek, so
// a snapshot records a real position (a line or event index), as FileSource or KafkaSource would.
//
//   node dist/cli.js run 'benches/workloads/recovery_flows.ts:wordcount(1000000)'                 # no recovery
//   node dist/cli.js run 'benches/workloads/recovery_flows.ts:wordcount(1000000)' -r DIR -s 1     # snapshots every 1 s
//
// Input: two fixed partitions "0" and "1" of n/2 items each, generated 1,000 per poll from the item's index alone.
// wordcount: lines of 8 words from a 1,000-word vocabulary → flatMap(split) → countFinal(word) (1,000 keys of state).
// windowed: [key, tsMs] events of 1,000 keys (key i only in partition i mod 2), event j of a partition at BASE + j ms →
// countWindow(tumbling 10 s, EventClock wait 0, frozen nowGetter) (1,000 keys of clock, windower and count state).
// Each worker's sink prints one JSON line at close(): `{"worker","items","digest"}`; the digests of all workers add up
// to the same number in every mode, which the benchmark checks.
import { Dataflow, DynamicSink, FixedPartitionedSource, op, StatefulSourcePartition, StatelessSinkPartition, type Stream } from "weir";
import * as win from "weir/windowing";

const BATCH = 1000;
const VOCAB = 1000;
const KEYS = 1000;
const BASE_MS = Date.UTC(2024, 0, 1);

/** A 32-bit integer hash (lowbias32). */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

const WORDS = Array.from({ length: VOCAB }, (_, i) => {
  let w = "";
  for (let h = mix(i + 1), k = 0; k < 3 + (h % 8); k++, h = mix(h)) w += String.fromCharCode(97 + (h % 26));
  return `${w}${i}`;
});

function line(index: number): string {
  const words: string[] = [];
  for (let k = 0, h = mix(index * 8 + 1); k < 8; k++, h = mix(h)) words.push(WORDS[h % VOCAB]!);
  return words.join(" ");
}

class GenPartition extends StatefulSourcePartition<unknown, number> {
  constructor(private readonly make: (j: number) => unknown, private readonly size: number, private next: number) {
    super();
  }
  nextBatch(): unknown[] | null {
    if (this.next >= this.size) return null;
    const end = Math.min(this.size, this.next + BATCH);
    const out = new Array<unknown>(end - this.next);
    for (let j = this.next; j < end; j++) out[j - this.next] = this.make(j);
    this.next = end;
    return out;
  }
  snapshot(): number {
    return this.next;
  }
}

class GenSource extends FixedPartitionedSource<unknown, number> {
  constructor(private readonly n: number, private readonly make: (part: number, j: number) => unknown) {
    super();
  }
  listParts(): string[] {
    return ["0", "1"];
  }
  buildPart(_stepId: string, forPart: string, resume: number | undefined): GenPartition {
    const part = Number(forPart);
    const size = Math.floor(this.n / 2) + (part < this.n % 2 ? 1 : 0);
    return new GenPartition((j) => this.make(part, j), size, resume ?? 0);
  }
}

class DigestPartition extends StatelessSinkPartition<unknown> {
  items = 0;
  digest = 0;
  constructor(private readonly worker: number, private readonly fold: (item: unknown) => number) {
    super();
  }
  writeBatch(items: unknown[]): void {
    this.items += items.length;
    for (const x of items) this.digest = (this.digest + this.fold(x)) >>> 0;
  }
  close(): void {
    process.stdout.write(JSON.stringify({ worker: this.worker, items: this.items, digest: this.digest }) + "\n");
  }
}

class DigestSink extends DynamicSink<unknown> {
  constructor(private readonly fold: (item: unknown) => number) {
    super();
  }
  build(_stepId: string, workerIndex: number): DigestPartition {
    return new DigestPartition(workerIndex, this.fold);
  }
}

function strHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export function wordcount(n: number): Dataflow {
  const flow = new Dataflow("rbench_wordcount");
  const lines = op.input("inp", flow, new GenSource(n, (part, j) => line(j * 2 + part))) as Stream<string>;
  const words = op.flatMap("split", lines, (l: string) => l.split(" "));
  const counts = op.countFinal("count", words, (w: string) => w);
  op.output("out", counts, new DigestSink((x) => mix(strHash((x as [string, number])[0]) ^ (x as [string, number])[1])));
  return flow;
}

type Event = [key: string, tsMs: number];

export function windowed(n: number): Dataflow {
  const flow = new Dataflow("rbench_windowed");
  const keysOf = [0, 1].map((p) => Array.from({ length: KEYS / 2 }, (_, i) => `key${i * 2 + p}`));
  const events = op.input("inp", flow, new GenSource(n, (part, j): Event => [keysOf[part]![mix(j + part * 7919) % (KEYS / 2)]!, BASE_MS + j])) as Stream<Event>;
  const base = new Date(BASE_MS);
  const clock = new win.EventClock<Event>({ tsGetter: (e) => new Date(e[1]), waitForSystemDurationMs: 0, nowGetter: () => base, toSystemUtc: () => null });
  const out = win.countWindow("count", events, clock, new win.TumblingWindower({ lengthMs: 10_000, alignTo: base }), (e) => e[0]);
  op.output("out", out.down, new DigestSink((x) => {
    const [k, [id, c]] = x as [string, [number, number]];
    return mix(strHash(k) ^ mix(id + 1) ^ c);
  }));
  return flow;
}
