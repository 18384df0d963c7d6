// The weir flow of the CPU-bound scaling benchmark (benches/scaling.mjs):
//
//   node dist/cli.js run 'benches/workloads/weir_scaling.ts:cpuBound(200000)' -w 1      # then -w 2
//
// Two fixed partitions generate 0 … n−1 (1,000 items per poll) → map(spin: ≈ 20 µs of arithmetic)
// → a dynamic sink whose partition on every worker prints one JSON line from close():
//   {"engine":"weir","workload":"cpu","n":…,"iters":…,"seconds":…,"checksum":"count=…;hash=…",
//    "digest":{…},"partial":true,"worker":i,"workers":W}
// `cpuBound(n, { iters, resultFile })`: `iters` changes the work per item (default CPU_ITERS), and
// `resultFile` appends the lines to a file instead of stdout (used by the smoke test).
const T0 = performance.now();

import { appendFileSync } from "node:fs";
import { Dataflow, op, type Stream, FixedPartitionedSource, StatefulSourcePartition, DynamicSink, StatelessSinkPartition } from "weir";
import { PARTS } from "./common.mjs";
import { CPU_ITERS, CpuDigest, cpuChecksum, cpuPart, spin } from "./cpu_bound.mjs";

export interface CpuOptions {
  iters?: number;
  resultFile?: string;
}
interface Gen { nextBatch(): number[] | null }

class GenPartition extends StatefulSourcePartition<number, null> {
  constructor(private readonly gen: Gen) { super(); }
  nextBatch(): number[] | null { return this.gen.nextBatch(); }
  snapshot(): null { return null; }
}

class GenSource extends FixedPartitionedSource<number, null> {
  constructor(private readonly n: number) { super(); }
  listParts(): string[] { return [...PARTS]; }
  buildPart(_stepId: string, forPart: string): GenPartition {
    return new GenPartition((cpuPart as (n: number, p: number) => Gen)(this.n, Number(forPart)));
  }
}

class DigestPartition extends StatelessSinkPartition<number> {
  private readonly digest = new CpuDigest();
  constructor(private readonly n: number, private readonly iters: number, private readonly worker: number,
    private readonly workers: number, private readonly resultFile: string | undefined) { super(); }
  writeBatch(items: number[]): void { this.digest.addBatch(items); }
  close(): void {
    const fields = this.digest.fields();
    const line = JSON.stringify({
      engine: "weir", workload: "cpu", n: this.n, iters: this.iters, seconds: (performance.now() - T0) / 1000,
      checksum: cpuChecksum(fields), digest: fields, partial: true, worker: this.worker, workers: this.workers,
    }) + "\n";
    if (this.resultFile) appendFileSync(this.resultFile, line);
    else process.stdout.write(line);
  }
}

class DigestSink extends DynamicSink<number> {
  constructor(private readonly n: number, private readonly iters: number, private readonly resultFile: string | undefined) { super(); }
  build(_stepId: string, workerIndex: number, workerCount: number): DigestPartition {
    return new DigestPartition(this.n, this.iters, workerIndex, workerCount, this.resultFile);
  }
}

export function cpuBound(n: number, opts: CpuOptions = {}): Dataflow {
  if (!Number.isSafeInteger(n) || n < 0) throw new TypeError(`n must be a non-negative integer, got ${String(n)}`);
  const iters = opts.iters ?? CPU_ITERS;
  const flow = new Dataflow("bench_cpu");
  const inp = op.input("inp", flow, new GenSource(n)) as Stream<number>;
  const spun = op.map("spin", inp, (x: number) => spin(x, iters) as number);
  op.output("out", spun, new DigestSink(n, iters, opts.resultFile));
  return flow;
}
