// Demo input (API.md §6): a metronome of random values for local-first examples.
import { WeirError, invalidArgument } from "../errors.js";
import { FixedPartitionedSource, StatefulSourcePartition } from "../inputs.js";
import { isPromiseLike, type Nullish } from "../types.js";

export interface RandomMetricSourceOptions {
  /** Time between values in ms (default 700); the first value comes at once. */
  intervalMs?: number;
  /** How many values to emit before EOF (default `Infinity`). */
  count?: number;
  /** The next value (default a random integer in 0..9). MUST be synchronous. */
  nextRandom?: () => number;
}

/** Recovery state: when the next value is due and how many values were emitted. */
export interface RandomMetricState {
  awakeAt: Date;
  count: number;
}

/**
 * Emits `[metricName, value]` every `intervalMs`, from one partition named `metricName`. The schedule is part of the state, so a
 * resumed run keeps it. To emit several metrics, use several inputs and `merge` them.
 *
 * @example
 * const volts = op.input("volts", flow, new RandomMetricSource("volts", { intervalMs: 1000, count: 10 }));
 */
export class RandomMetricSource extends FixedPartitionedSource<[string, number], RandomMetricState> {
  readonly #metricName: string;
  readonly #intervalMs: number;
  readonly #count: number;
  readonly #nextRandom: () => number;

  constructor(metricName: string, opts: RandomMetricSourceOptions = {}) {
    super();
    if (typeof metricName !== "string") throw invalidArgument(`RandomMetricSource: 'metricName' must be a string`);
    const { intervalMs = 700, count = Infinity, nextRandom = () => Math.floor(Math.random() * 10) } = opts;
    if (typeof intervalMs !== "number" || !(intervalMs >= 0) || !Number.isFinite(intervalMs)) {
      throw invalidArgument(`RandomMetricSource: 'intervalMs' must be a finite number >= 0; got ${String(intervalMs)}`);
    }
    if (count !== Infinity && (!Number.isSafeInteger(count) || count < 0)) {
      throw invalidArgument(`RandomMetricSource: 'count' must be an integer >= 0 or Infinity; got ${String(count)}`);
    }
    if (typeof nextRandom !== "function") throw invalidArgument(`RandomMetricSource: 'nextRandom' must be a function`);
    this.#metricName = metricName;
    this.#intervalMs = intervalMs;
    this.#count = count;
    this.#nextRandom = nextRandom;
  }

  listParts(): string[] {
    return [this.#metricName];
  }

  buildPart(stepId: string, forPart: string, resumeState: RandomMetricState | undefined): StatefulSourcePartition<[string, number], RandomMetricState> {
    const state = resumeState === undefined ? { awakeAt: new Date(), count: 0 } : { awakeAt: new Date(resumeState.awakeAt), count: resumeState.count };
    return new RandomMetricPartition(stepId, forPart, this.#intervalMs, this.#count, this.#nextRandom, state);
  }
}

class RandomMetricPartition extends StatefulSourcePartition<[string, number], RandomMetricState> {
  constructor(
    readonly stepId: string,
    readonly metricName: string,
    readonly intervalMs: number,
    readonly maxCount: number,
    readonly nextRandom: () => number,
    private state: RandomMetricState,
  ) {
    super();
  }

  nextBatch(): [string, number][] | null {
    if (this.state.count >= this.maxCount) return null;
    // Not due yet (e.g. the first poll after a resume): wait for `nextAwake` so the schedule survives.
    if (Date.now() < this.state.awakeAt.getTime()) return [];
    const value: unknown = this.nextRandom();
    if (isPromiseLike(value)) {
      const cause = new TypeError(`'nextRandom' in step '${this.stepId}' returned a Promise; it must be synchronous`);
      throw new WeirError("INVALID_RETURN", cause.message, { cause, stepId: this.stepId });
    }
    this.state = { awakeAt: new Date(this.state.awakeAt.getTime() + this.intervalMs), count: this.state.count + 1 };
    return [[this.metricName, value as number]];
  }

  override nextAwake(): Date | Nullish {
    return this.state.count >= this.maxCount ? undefined : this.state.awakeAt;
  }

  snapshot(): RandomMetricState {
    return { awakeAt: new Date(this.state.awakeAt), count: this.state.count };
  }
}
