// Running word counts that survive crashes (README.md, "Recovery"):
//
//   mkdir -p demo/db && npx weir recovery init demo/db 2
//   cp examples/wordcount.txt demo/lines.txt
//   npx weir run examples/recovery.ts -r demo/db -s 1          # kill it mid-run, run it again: it resumes
//
// Reads `input` one line every `intervalMs` (a stand-in for a live stream), counts every word as it goes and writes
// `<word> <count so far>` lines to `output` with a FileSink, which on resume truncates to its last snapshot: after any
// number of crashes and resumes, `output` holds exactly the bytes of an uninterrupted run.
import { readFileSync } from "node:fs";
import { Dataflow, FixedPartitionedSource, op, StatefulSourcePartition } from "weir";
import { FileSink } from "weir/connectors/files";

/** One partition per file; its state is the index of the next line, so a resumed run goes on from there. */
class PacedLines extends FixedPartitionedSource<string, number> {
  constructor(private readonly path: string, private readonly intervalMs: number) {
    super();
  }
  listParts(): string[] {
    return [this.path];
  }
  buildPart(_stepId: string, _forPart: string, resumeState: number | undefined): PacedPartition {
    // Read when the partition is built, so a later run also sees lines appended since (a continuation).
    const lines = readFileSync(this.path, "utf8").split("\n").filter((l) => l.length > 0);
    return new PacedPartition(lines, resumeState ?? 0, this.intervalMs);
  }
}

class PacedPartition extends StatefulSourcePartition<string, number> {
  constructor(private readonly lines: string[], private next: number, private readonly intervalMs: number) {
    super();
  }
  nextBatch(): string[] | null {
    return this.next < this.lines.length ? [this.lines[this.next++]!] : null; // null: EOF
  }
  nextAwake(): Date {
    return new Date(Date.now() + this.intervalMs);
  }
  snapshot(): number {
    return this.next; // the position after the last line returned
  }
}

export function flow(input = "demo/lines.txt", output = "demo/counts.txt", intervalMs = 20): Dataflow {
  const flow = new Dataflow("recovery_demo");
  const lines = op.input("lines", flow, new PacedLines(input, intervalMs));
  const words = op.flatMap("split", lines, (line: string) => line.toLowerCase().match(/[a-z']+/g) ?? []);
  const keyed = op.keyOn("key", words, (word: string) => word);
  // The count per word is state: snapshotted at every epoch close, restored on resume.
  const counts = op.statefulMap("count", keyed, (n: number | undefined, _word: string): [number, number] => [(n ?? 0) + 1, (n ?? 0) + 1]);
  const formatted = op.map("format", counts, ([word, n]: [string, number]): [string, string] => ["", `${word} ${n}`]);
  op.output("write", formatted, new FileSink(output));
  return flow;
}
