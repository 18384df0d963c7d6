// Sources: the abstract classes user sources extend (API.md §5). The engine drives them; see runtime/sources.ts.
import type { Awaitable, Nullish } from "./types.js";

/** Marker base: extend FixedPartitionedSource or DynamicSource. */
export abstract class Source<X> {
  /** @internal phantom so that Source<X> is not structurally `{}` */
  declare protected readonly __sourceItem?: X;
}

export abstract class StatelessSourcePartition<X> {
  /** A batch of items; `[]` when nothing is ready yet; `null` at EOF. MUST NOT block. */
  abstract nextBatch(): Awaitable<Iterable<X> | null>;
  /** When to poll next; nullish: at once after a non-empty batch, else after a short back-off. */
  nextAwake(): Awaitable<Date | Nullish> {
    return undefined;
  }
  close(): Awaitable<void> {}
}

export abstract class StatefulSourcePartition<X, S> extends StatelessSourcePartition<X> {
  /** The position after the last returned item (taken at epoch close with recovery). */
  abstract snapshot(): Awaitable<S>;
}

/** A source made of named partitions, each read on exactly one worker. */
export abstract class FixedPartitionedSource<X, S> extends Source<X> {
  /** The partitions this worker can reach. */
  abstract listParts(): Awaitable<string[]>;
  abstract buildPart(stepId: string, forPart: string, resumeState: S | undefined): Awaitable<StatefulSourcePartition<X, S>>;
}

/** A source that every worker builds; each worker MUST read disjoint data. */
export abstract class DynamicSource<X> extends Source<X> {
  abstract build(stepId: string, workerIndex: number, workerCount: number): Awaitable<StatelessSourcePartition<X>>;
}

/** Throw from a source (or sink) method to stop the execution; the run resolves with `aborted: true`. */
export class AbortExecution extends Error {
  override name = "AbortExecution";
}

export interface AsyncIterableSourceOptions {
  batchSize?: number;
  batchTimeoutMs?: number;
}

/** Adapts generators, Node streams and any (async) iterable into a dynamic source. */
export class AsyncIterableSource<X> extends DynamicSource<X> {
  readonly #factory: (workerIndex: number, workerCount: number) => AsyncIterable<X> | Iterable<X>;
  readonly #batchSize: number;
  readonly #batchTimeoutMs: number;

  constructor(factory: (workerIndex: number, workerCount: number) => AsyncIterable<X> | Iterable<X>, opts: AsyncIterableSourceOptions = {}) {
    super();
    this.#factory = factory;
    this.#batchSize = opts.batchSize ?? 1000;
    this.#batchTimeoutMs = opts.batchTimeoutMs ?? 10;
  }

  build(_stepId: string, workerIndex: number, workerCount: number): StatelessSourcePartition<X> {
    return new AsyncIterablePartition(this.#factory(workerIndex, workerCount), this.#batchSize, this.#batchTimeoutMs);
  }
}

class AsyncIterablePartition<X> extends StatelessSourcePartition<X> {
  readonly #it: AsyncIterator<X> | Iterator<X>;
  readonly #batchSize: number;
  readonly #batchTimeoutMs: number;
  /** The one `next()` in flight: weir reads ahead but never overlaps calls. */
  #pending: Promise<IteratorResult<X>> | undefined;
  #done = false;

  constructor(iterable: AsyncIterable<X> | Iterable<X>, batchSize: number, batchTimeoutMs: number) {
    super();
    const asyncIt = (iterable as AsyncIterable<X>)[Symbol.asyncIterator];
    this.#it = asyncIt ? asyncIt.call(iterable) : (iterable as Iterable<X>)[Symbol.iterator]();
    this.#batchSize = batchSize;
    this.#batchTimeoutMs = batchTimeoutMs;
  }

  async nextBatch(): Promise<X[] | null> {
    if (this.#done) return null;
    const batch: X[] = [];
    const deadline = Date.now() + this.#batchTimeoutMs;
    while (batch.length < this.#batchSize) {
      this.#pending ??= Promise.resolve(this.#it.next());
      const remaining = deadline - Date.now();
      const res = batch.length === 0 && remaining > 0
        ? await raceTimeout(this.#pending, remaining)
        : await raceTimeout(this.#pending, Math.max(0, remaining));
      if (res === TIMEOUT) break;
      this.#pending = undefined;
      if (res.done) {
        this.#done = true;
        return batch.length > 0 ? batch : null;
      }
      batch.push(res.value);
    }
    return batch;
  }

  async close(): Promise<void> {
    this.#done = true;
    await this.#it.return?.();
  }
}

const TIMEOUT: unique symbol = Symbol("timeout");
async function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<typeof TIMEOUT>((resolve) => { timer = setTimeout(() => resolve(TIMEOUT), ms); });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}
