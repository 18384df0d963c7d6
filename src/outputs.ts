// Sinks: the abstract classes user sinks extend (API.md §5).
import type { Awaitable } from "./types.js";
export { AbortExecution } from "./inputs.js";

/** Marker base: extend FixedPartitionedSink or DynamicSink. */
export abstract class Sink<X> {
  /** @internal phantom so that Sink<X> is not structurally `{}` */
  declare protected readonly __sinkItem?: X;
}

export abstract class StatelessSinkPartition<X> {
  abstract writeBatch(items: X[]): Awaitable<void>;
  close(): Awaitable<void> {}
}

export abstract class StatefulSinkPartition<V, S> extends StatelessSinkPartition<V> {
  abstract snapshot(): Awaitable<S>;
}

/** A sink of named partitions; `[key, value]` goes to `sortedParts[mod(partFn(key), N)]`. */
export abstract class FixedPartitionedSink<V, S> extends Sink<[string, V]> {
  abstract listParts(): Awaitable<string[]>;
  partFn(itemKey: string): number {
    return adler32(itemKey);
  }
  abstract buildPart(stepId: string, forPart: string, resumeState: S | undefined): Awaitable<StatefulSinkPartition<V, S>>;
}

/** A sink every worker builds; each worker writes what it holds. */
export abstract class DynamicSink<X> extends Sink<X> {
  abstract build(stepId: string, workerIndex: number, workerCount: number): Awaitable<StatelessSinkPartition<X>>;
}

/** Unsigned Adler-32 of the UTF-8 bytes of `text` (Bytewax's default partition function). */
export function adler32(text: string): number {
  const bytes = Buffer.from(text, "utf8");
  let a = 1;
  let b = 0;
  for (let i = 0; i < bytes.length; i++) {
    a = (a + bytes[i]!) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}
