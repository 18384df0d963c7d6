// weir flows of the three benchmark workloads (the twins of bytewax_flows.py).
//
//   node dist/cli.js run 'benches/workloads/weir_flows.ts:wordcount(3000000)' -w 1
//   node dist/cli.js run 'benches/workloads/weir_flows.ts:wordcount(3000000)' -w 2
//   node dist/cli.js run 'benches/workloads/weir_flows.ts:wordcount(3000000)' -w 1 -i 0 -a "127.0.0.1:p0;127.0.0.1:p1"   # and -i 1
//
// Input is a FixedPartitionedSource with partitions "0" and "1" whose nextBatch() generates the
// partition's next 1,000 items (common.mjs, the same data as common.py). Every worker's sink
// partition digests what it receives and prints one JSON line from close() (`partial: true`, with
// its worker index and count); the runner adds the digests of all workers.
//
// Each worker thread imports this module, so `seconds` (from this module's first evaluation in the
// thread to the sink's close()) excludes process start-up and is informational; the runner's
// wall-clock time includes everything.
//
// Each export also takes an optional second argument `{ resultFile }`: the result lines are then
// appended to that file instead of stdout (used by __test__/bench-smoke.test.ts).
const T0 = performance.now();

import { appendFileSync } from "node:fs";
import { Dataflow, op, type Stream, FixedPartitionedSource, StatefulSourcePartition, DynamicSink, StatelessSinkPartition } from "weir";
import * as win from "weir/windowing";
import { PART_FACTORIES, PARTS, DIGESTS, SINK_WRITERS, resultLine, BASE_MS, WINDOW_MS } from "./common.mjs";

type Workload = "stateless" | "wordcount" | "windowed";
type Event = [key: string, tsMs: number];
export interface BenchOptions {
  /** Append result lines to this file instead of writing them to stdout. */
  resultFile?: string;
}
interface Gen { nextBatch(): unknown[] | null }
interface Digest { fields(): Record<string, string> }

const ENGINE = "weir";

class GenPartition extends StatefulSourcePartition<unknown, null> {
  constructor(private readonly gen: Gen) { super(); }
  nextBatch(): unknown[] | null { return this.gen.nextBatch(); } // null = EOF
  snapshot(): null { return null; } // recovery is not used by the benchmark
}

/** Two fixed partitions, each generating its items 1,000 per poll. */
class GenSource extends FixedPartitionedSource<unknown, null> {
  constructor(private readonly workload: Workload, private readonly n: number) { super(); }
  listParts(): string[] { return [...PARTS]; }
  buildPart(_stepId: string, forPart: string): GenPartition {
    return new GenPartition((PART_FACTORIES as Record<Workload, (n: number, p: number) => Gen>)[this.workload](this.n, Number(forPart)));
  }
}

class DigestPartition extends StatelessSinkPartition<unknown> {
  private readonly digest: Digest;
  private readonly write: (digest: Digest, items: unknown[]) => void;
  constructor(
    private readonly workload: Workload, private readonly n: number, private readonly worker: number,
    private readonly workers: number, private readonly opts: BenchOptions,
  ) {
    super();
    this.digest = new (DIGESTS as Record<Workload, new () => Digest>)[workload]();
    this.write = (SINK_WRITERS as Record<Workload, (d: Digest, items: unknown[]) => void>)[workload];
  }
  writeBatch(items: unknown[]): void { this.write(this.digest, items); }
  close(): void {
    const line = resultLine({
      engine: ENGINE, workload: this.workload, n: this.n, seconds: (performance.now() - T0) / 1000,
      digest: this.digest, partial: true, worker: this.worker, workers: this.workers,
    }) + "\n";
    if (this.opts.resultFile) appendFileSync(this.opts.resultFile, line);
    else process.stdout.write(line);
  }
}

/** Every worker digests what it receives and reports it at close(). */
class DigestSink extends DynamicSink<unknown> {
  constructor(private readonly workload: Workload, private readonly n: number, private readonly opts: BenchOptions) { super(); }
  build(_stepId: string, workerIndex: number, workerCount: number): DigestPartition {
    return new DigestPartition(this.workload, this.n, workerIndex, workerCount, this.opts);
  }
}

function checkN(n: unknown): number {
  if (!Number.isSafeInteger(n) || (n as number) < 0) throw new TypeError(`n must be a non-negative integer, got ${String(n)}`);
  return n as number;
}

/** integers → map(x·2) → filter(x mod 3 ≠ 0) → sink (count, exact sum). */
export function stateless(n: number, opts: BenchOptions = {}): Dataflow {
  n = checkN(n);
  const flow = new Dataflow("bench_stateless");
  const inp = op.input("inp", flow, new GenSource("stateless", n)) as Stream<number>;
  const doubled = op.map("double", inp, (x: number) => x * 2);
  const kept = op.filter("not_div3", doubled, (x: number) => x % 3 !== 0);
  op.output("out", kept, new DigestSink("stateless", n, opts));
  return flow;
}

/** lines → flatMap(split) → countFinal(word) → sink of [word, count]. */
export function wordcount(n: number, opts: BenchOptions = {}): Dataflow {
  n = checkN(n);
  const flow = new Dataflow("bench_wordcount");
  const lines = op.input("inp", flow, new GenSource("wordcount", n)) as Stream<string>;
  // Python's str.split() splits on runs of whitespace; the generated lines have single spaces only.
  const words = op.flatMap("split", lines, (line: string) => line.split(" "));
  const counts = op.countFinal("count", words, (w: string) => w);
  op.output("out", counts, new DigestSink("wordcount", n, opts));
  return flow;
}

/** [key, tsMs] events → countWindow(tumbling 10 s, EventClock wait 0, frozen now) → sink of `down`. */
export function windowed(n: number, opts: BenchOptions = {}): Dataflow {
  n = checkN(n);
  const flow = new Dataflow("bench_windowed");
  const events = op.input("inp", flow, new GenSource("windowed", n)) as Stream<Event>;
  const base = new Date(BASE_MS);
  const clock = new win.EventClock<Event>({
    tsGetter: (ev) => new Date(ev[1]),
    waitForSystemDurationMs: 0,
    nowGetter: () => base,
    toSystemUtc: () => null,
  });
  const windower = new win.TumblingWindower({ lengthMs: WINDOW_MS, alignTo: base });
  const out = win.countWindow("count", events, clock, windower, (ev) => ev[0]);
  op.output("out", out.down, new DigestSink("windowed", n, opts));
  return flow;
}
