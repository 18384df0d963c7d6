// Console output (API.md §6): one line per item on standard output.
import { once } from "node:events";
import { inspect } from "node:util";
import { DynamicSink, StatelessSinkPartition } from "../outputs.js";
import type { Awaitable } from "../types.js";

/**
 * Writes each item and a `\n` to standard output: strings as they are, anything else through
 * `util.inspect(x, { depth: null, breakLength: Infinity })`. Every worker writes the items it holds; a batch is written with one call,
 * so lines never split, but lines of different workers interleave. At-least-once with recovery.
 *
 * @example
 * op.output("print", op.map("fmt", counts, ([word, n]) => `${word}: ${n}`), new StdOutSink());
 */
export class StdOutSink<X = unknown> extends DynamicSink<X> {
  build(_stepId: string, _workerIndex: number, _workerCount: number): StatelessSinkPartition<X> {
    return new StdOutPartition<X>();
  }
}

class StdOutPartition<X> extends StatelessSinkPartition<X> {
  writeBatch(items: X[]): Awaitable<void> {
    if (items.length === 0) return;
    let text = "";
    for (const item of items) text += (typeof item === "string" ? item : inspect(item, { depth: null, breakLength: Infinity })) + "\n";
    // Wait only when the stream asks for it, so a full pipe slows the flow down instead of buffering without bound.
    if (!process.stdout.write(text)) return once(process.stdout, "drain").then(() => undefined);
  }
}
