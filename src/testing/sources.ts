// Test inputs and outputs (API.md §7): an iterable source with EOF/ABORT/PAUSE sentinels, an array sink, a settable clock, a poller.
import { setTimeout as sleep } from "node:timers/promises";
import { invalidArgument } from "../errors.js";
import { AbortExecution, FixedPartitionedSource, StatefulSourcePartition } from "../inputs.js";
import { DynamicSink, StatelessSinkPartition } from "../outputs.js";
import { isPromiseLike, type Awaitable, type Nullish } from "../types.js";

declare const sentinelBrand: unique symbol;

/** A control element for `TestingSource`: `TestingSource.EOF()`, `.ABORT()` or `.PAUSE(ms)`. Opaque. */
export interface TestingSentinel {
  readonly kind: "EOF" | "ABORT" | "PAUSE";
  readonly [sentinelBrand]: true;
}

class Sentinel {
  /** An ABORT fires once per object, so a rerun in the same process goes past it. */
  triggered = false;
  constructor(readonly kind: TestingSentinel["kind"], readonly forMs = 0) {}
}

function isSentinel(x: unknown): x is TestingSentinel {
  return x instanceof Sentinel;
}

/**
 * Emits the elements of `items`, `batchSize` (default 1) per batch, from one partition named `"iterable"`. The state is the index of
 * the next element, sentinels included; a resumed run skips that many elements of a fresh iterator (a half-consumed generator is not
 * rewound, so prefer arrays). Sentinels end the batch they are met in:
 * - `EOF()`: the next poll returns `null`; a continuation resumes after it.
 * - `ABORT()`: the next poll throws `AbortExecution`; the resume position is at it, and a rerun in the same process skips it.
 * - `PAUSE(ms)`: `nextAwake` becomes now + `ms`.
 *
 * @example
 * const s = op.input("inp", flow, new TestingSource([1, 2, TestingSource.EOF(), 3]));
 */
export class TestingSource<X> extends FixedPartitionedSource<X, number> {
  readonly #items: Iterable<X | TestingSentinel>;
  readonly #batchSize: number;

  constructor(items: Iterable<X | TestingSentinel>, batchSize = 1) {
    super();
    if (items == null || typeof (items as Partial<Iterable<unknown>>)[Symbol.iterator] !== "function") {
      throw invalidArgument(`TestingSource: 'items' must be iterable`);
    }
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) throw invalidArgument(`TestingSource: 'batchSize' must be a positive integer; got ${String(batchSize)}`);
    this.#items = items;
    this.#batchSize = batchSize;
  }

  /** Ends the batch; the next poll is EOF, and a continuation (a resumed run) starts after it. */
  static EOF(): TestingSentinel {
    return new Sentinel("EOF") as unknown as TestingSentinel;
  }

  /** Ends the batch; the next poll aborts the execution, once per sentinel object. Single-process `run`/`runMain` only. */
  static ABORT(): TestingSentinel {
    return new Sentinel("ABORT") as unknown as TestingSentinel;
  }

  /** Ends the batch and asks not to be polled for `forMs` ms. */
  static PAUSE(forMs: number): TestingSentinel {
    if (typeof forMs !== "number" || !(forMs >= 0)) throw invalidArgument(`TestingSource.PAUSE: 'forMs' must be a number >= 0; got ${String(forMs)}`);
    return new Sentinel("PAUSE", forMs) as unknown as TestingSentinel;
  }

  listParts(): string[] {
    return ["iterable"];
  }

  buildPart(_stepId: string, _forPart: string, resumeState: number | undefined): StatefulSourcePartition<X, number> {
    return new TestingPartition<X>(this.#items, this.#batchSize, resumeState ?? 0);
  }
}

class TestingPartition<X> extends StatefulSourcePartition<X, number> {
  readonly #it: Iterator<X | TestingSentinel>;
  readonly #batchSize: number;
  /** Index of the next element of the iterable. */
  #index: number;
  #awakeAt: Date | undefined;
  /** What the next poll does after a sentinel ended the batch. */
  #then: "eof" | "abort" | undefined;
  #exhausted = false;

  constructor(items: Iterable<X | TestingSentinel>, batchSize: number, start: number) {
    super();
    this.#it = items[Symbol.iterator]();
    this.#batchSize = batchSize;
    for (let skipped = 0; skipped < start; skipped++) if (this.#it.next().done) break;
    this.#index = start;
  }

  nextBatch(): X[] | null {
    if (this.#then === "abort") throw new AbortExecution("TestingSource.ABORT() reached");
    if (this.#then === "eof" || this.#exhausted) return null;
    this.#awakeAt = undefined;
    const batch: X[] = [];
    while (batch.length < this.#batchSize) {
      const next = this.#it.next();
      if (next.done) {
        this.#exhausted = true;
        break;
      }
      const element = next.value;
      if (!isSentinel(element)) {
        this.#index++;
        batch.push(element);
        continue;
      }
      const item = element as unknown as Sentinel;
      if (item.kind === "ABORT") {
        if (item.triggered) {
          this.#index++;
          continue;
        }
        // The index stays at the sentinel: a resume starts here and skips it, now triggered.
        item.triggered = true;
        this.#then = "abort";
        break;
      }
      this.#index++;
      if (item.kind === "EOF") this.#then = "eof";
      else this.#awakeAt = new Date(Date.now() + item.forMs);
      break;
    }
    return batch.length === 0 && this.#exhausted ? null : batch;
  }

  override nextAwake(): Date | Nullish {
    return this.#awakeAt;
  }

  snapshot(): number {
    return this.#index;
  }
}

/**
 * Pushes every item written to it onto `out`, in the thread that runs the flow (with `run`, all local workers; with `runModule`, pass
 * `collect: true`). It never clears `out`.
 *
 * @example
 * const out: number[] = [];
 * op.output("out", s, new TestingSink(out));
 */
export class TestingSink<X> extends DynamicSink<X> {
  /** The array items are pushed onto (the engine also finds it here to forward `runModule({ collect: true })` results). */
  readonly out: X[];

  constructor(out: X[]) {
    super();
    if (!Array.isArray(out)) throw invalidArgument(`TestingSink: 'out' must be an array`);
    this.out = out;
  }

  build(_stepId: string, _workerIndex: number, _workerCount: number): StatelessSinkPartition<X> {
    return new ArraySinkPartition(this.out);
  }
}

class ArraySinkPartition<X> extends StatelessSinkPartition<X> {
  constructor(readonly out: X[]) {
    super();
  }

  writeBatch(items: X[]): void {
    for (const item of items) this.out.push(item);
  }
}

/**
 * A clock for tests: `get` is bound, so `nowGetter: clock.get` works; `advance(ms)` moves `now` forward.
 *
 * @example
 * const clock = new TimeTestingGetter(new Date("2024-01-01T00:00:00Z"));
 * clock.advance(5_000); // clock.get() is now 00:00:05
 */
export class TimeTestingGetter {
  now: Date;
  readonly get = (): Date => this.now;

  constructor(now: Date) {
    this.now = now;
  }

  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }
}

/**
 * Polls `part` until it returns a non-empty batch (resolving with its items) or EOF (resolving with `null`); rejects with an `Error`
 * named `"TimeoutError"` after `timeoutMs`. Between empty polls it yields to the event loop for 1 ms.
 *
 * @example
 * expect(await pollNextBatch(part)).toEqual(["one1"]);
 */
export async function pollNextBatch<X>(part: { nextBatch(): Awaitable<Iterable<X> | null> }, timeoutMs = 5000): Promise<X[] | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await settleBefore(part.nextBatch(), deadline, timeoutMs);
    if (batch === null) return null;
    const items = Array.from(batch);
    if (items.length > 0) return items;
    if (Date.now() >= deadline) throw timeoutError(timeoutMs);
    await sleep(1);
  }
}

async function settleBefore<T>(value: Awaitable<T>, deadline: number, timeoutMs: number): Promise<T> {
  if (!isPromiseLike(value)) return value;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(timeoutError(timeoutMs)), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([value, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function timeoutError(timeoutMs: number): Error {
  const err = new Error(`no batch within ${timeoutMs} ms`);
  err.name = "TimeoutError";
  return err;
}
