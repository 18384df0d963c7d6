//! `op.join` (API.md §3.2) and `JoinState`, the per-key join table that `joinWindow` reuses per window.
import { builtin, expectStream, type KeyedStream, type Stream } from "./dataflow.js";
import { invalidArgument } from "./errors.js";
// A cycle with operators.ts (which re-exports `join`), used only at definition time, after both modules loaded.
import { map, merge } from "./operators.js";
import { checkKeyed, typeOf } from "./runtime/guard.js";
import { statefulBatch, StatefulBatchLogic, type LogicResult } from "./stateful.js";

/** What a side keeps per key: its first value, its latest value, or all values in arrival order. */
export type JoinInsertMode = "first" | "last" | "product";
/** When rows are emitted: once every side has a value, at EOF (or window close), or after every value. */
export type JoinEmitMode = "complete" | "final" | "running";
/** One keyed stream per element of `T`. */
export type Sides<T extends unknown[]> = { [I in keyof T]: KeyedStream<T[I]> };
/** A join row: side *i*'s value, or `undefined` when that side has none. */
export type JoinRow<T extends unknown[]> = { [I in keyof T]: T[I] | undefined };

export interface JoinOptions {
  /** Default `"last"`. */
  insertMode?: JoinInsertMode;
  /** Default `"complete"` (`joinWindow`: `"final"`). */
  emitMode?: JoinEmitMode;
}

/** A `JoinState` as stored by recovery: the values kept per side, in arrival order. */
export interface JoinSnapshot {
  seen: unknown[][];
}

export const JOIN_INSERT_MODES: readonly JoinInsertMode[] = ["first", "last", "product"];
export const JOIN_EMIT_MODES: readonly JoinEmitMode[] = ["complete", "final", "running"];

/**
 * The values one key (or one window) has seen on each side of a join, kept according to an insert mode.
 * Pure and synchronous: the stateful step and the window logic decide when to emit and discard.
 *
 * @example
 * const state = new JoinState(2, "product");
 * state.insert(0, 1); state.insert(1, 3); state.insert(1, 4);
 * state.rows(); // [[1, 3], [1, 4]]
 */
export class JoinState {
  readonly insertMode: JoinInsertMode;
  #seen: unknown[][];

  /** An empty state, or one restored from `resume` (padded or cut to `sideCount` sides). */
  constructor(sideCount: number, insertMode: JoinInsertMode, resume?: JoinSnapshot) {
    if (!Number.isSafeInteger(sideCount) || sideCount < 1) throw new RangeError(`JoinState: 'sideCount' must be an integer ≥ 1, got ${sideCount}`);
    if (!JOIN_INSERT_MODES.includes(insertMode)) throw new RangeError(`JoinState: unknown insert mode ${JSON.stringify(insertMode)}`);
    this.insertMode = insertMode;
    this.#seen = Array.from({ length: sideCount }, (_, side) => [...(resume?.seen[side] ?? [])]);
  }

  get sideCount(): number {
    return this.#seen.length;
  }

  /** Records `value` on `side` by the insert mode. */
  insert(side: number, value: unknown): void {
    const values = this.#seen[side];
    if (values === undefined || !Number.isInteger(side)) throw new RangeError(`JoinState: no side ${side} among ${this.#seen.length}`);
    if (this.insertMode === "product") values.push(value);
    else if (this.insertMode === "last") this.#seen[side] = [value];
    else if (values.length === 0) values.push(value);
  }

  /** Merges the state of window `original` into this one (the merge target): `first` keeps this state's values where set,
   * `last` prefers the original's, `product` appends the original's values to this state's. */
  mergeFrom(original: JoinState): void {
    if (original.#seen.length !== this.#seen.length) {
      throw new RangeError(`JoinState: cannot merge ${original.#seen.length} sides into ${this.#seen.length}`);
    }
    this.#seen = this.#seen.map((ours, side) => {
      const theirs = original.#seen[side]!;
      if (this.insertMode === "product") return [...ours, ...theirs];
      if (this.insertMode === "first") return ours.length > 0 ? ours : [...theirs];
      return theirs.length > 0 ? [...theirs] : ours;
    });
  }

  /** Every side has at least one value. */
  isComplete(): boolean {
    return this.#seen.every((values) => values.length > 0);
  }

  /** No side has a value. */
  isEmpty(): boolean {
    return this.#seen.every((values) => values.length === 0);
  }

  /** The cartesian product over sides in side order, earlier values first; an empty side contributes one `undefined`. */
  rows(): unknown[][] {
    let rows: unknown[][] = [[]];
    for (const values of this.#seen) {
      const choices = values.length > 0 ? values : [undefined];
      const next: unknown[][] = [];
      for (const row of rows) for (const value of choices) next.push([...row, value]);
      rows = next;
    }
    return rows;
  }

  /** Forgets every side's values. */
  clear(): void {
    this.#seen = this.#seen.map(() => []);
  }

  /**
   * The rows an insert or merge emits under `emitMode`: `running` the current rows; `complete` the rows once every side is
   * set, clearing the state; `final` none (emit `rows()` at EOF or window close instead).
   */
  emitAfterUpdate(emitMode: JoinEmitMode): unknown[][] {
    if (emitMode === "running") return this.rows();
    if (emitMode === "complete" && this.isComplete()) {
      const rows = this.rows();
      this.clear();
      return rows;
    }
    return [];
  }

  /** A copy of the kept values; `new JoinState(n, mode, snapshot)` restores it. */
  snapshot(): JoinSnapshot {
    return { seen: this.#seen.map((values) => [...values]) };
  }
}

/** Throws `INVALID_ARGUMENT` unless both modes are known. */
export function checkJoinModes(opType: string, stepId: string, insertMode: unknown, emitMode: unknown): void {
  if (!JOIN_INSERT_MODES.includes(insertMode as JoinInsertMode)) {
    throw invalidArgument(`step '${stepId}' (${opType}): unknown 'insertMode' ${show(insertMode)}; expected "first", "last" or "product"`);
  }
  if (!JOIN_EMIT_MODES.includes(emitMode as JoinEmitMode)) {
    throw invalidArgument(`step '${stepId}' (${opType}): unknown 'emitMode' ${show(emitMode)}; expected "complete", "final" or "running"`);
  }
}

/**
 * Splits `...sides, opts?` arguments: a trailing plain object whose keys are all in `optionKeys` is the options. Checks that
 * there is at least one side and that each is a Stream (a `BranchOut`/`WindowOut` gets a hint to pick a field).
 */
export function splitSidesAndOptions<O extends object>(
  opType: string, stepId: string, args: readonly unknown[], optionKeys: readonly (keyof O & string)[],
): { sides: Stream<unknown>[]; opts: O } {
  const last = args[args.length - 1];
  let sideArgs = args;
  let opts = {} as O;
  if (isPlainObject(last)) {
    const unknown = Object.keys(last).filter((k) => !(optionKeys as readonly string[]).includes(k));
    const holdsStreams = Object.values(last).some((v) => typeof (v as Stream<unknown> | null)?.streamId === "string");
    if (unknown.length === 0) {
      sideArgs = args.slice(0, -1);
      opts = last as O;
    } else if (!holdsStreams) {
      throw invalidArgument(`step '${stepId}' (${opType}): unknown option(s) ${unknown.map((k) => `'${k}'`).join(", ")}; ` +
        `the options are ${optionKeys.map((k) => `'${k}'`).join(", ")}`);
    }
    // An object of streams is a side passed by mistake: expectStream explains which field to pick.
  }
  if (sideArgs.length === 0) throw invalidArgument(`step '${stepId}' (${opType}) needs at least one side`);
  return { sides: sideArgs.map((s, i) => expectStream(s, stepId, opType, `sides[${i}]`)), opts };
}

/** The stateful half of `op.join`: one `JoinState` per key over `[sideIndex, value]` items. */
class JoinLogic extends StatefulBatchLogic<[number, unknown], unknown[], JoinSnapshot> {
  constructor(private readonly state: JoinState, private readonly emitMode: JoinEmitMode) {
    super();
  }

  onBatch(values: [number, unknown][]): LogicResult<unknown[]> {
    const out: unknown[][] = [];
    for (const [side, value] of values) {
      this.state.insert(side, value);
      for (const row of this.state.emitAfterUpdate(this.emitMode)) out.push(row);
    }
    // `complete` cleared the state when it emitted; a key with nothing pending is dropped (a later value starts afresh).
    return [out, this.emitMode === "complete" && this.state.isEmpty()];
  }

  override onEof(): LogicResult<unknown[]> {
    return this.emitMode === "final" ? [this.state.rows(), StatefulBatchLogic.DISCARD] : [[], StatefulBatchLogic.RETAIN];
  }

  snapshot(): JoinSnapshot {
    return this.state.snapshot();
  }
}

/**
 * Joins keyed streams by key, emitting `[key, row]` where `row[i]` is side *i*'s value (or `undefined`). `insertMode`
 * (default `"last"`) picks what each side keeps per key: its `"first"` value, its `"last"` value, or every value
 * (`"product"`, rows being the cartesian product). `emitMode` (default `"complete"`) emits once every side has a value
 * and then forgets the key; `"final"` emits at EOF; `"running"` emits after every value and keeps state forever.
 *
 * @example
 * const names = op.keyOn("names_by_id", namesInput, (u: User) => u.id);
 * const emails = op.keyOn("emails_by_id", emailsInput, (e: Email) => e.userId);
 * const joined = op.join("join", names, emails);                      // KeyedStream<[User | undefined, Email | undefined]>
 * const running = op.join("running", names, emails, { emitMode: "running" });
 */
export function join<T extends unknown[]>(stepId: string, ...sides: Sides<T>): KeyedStream<JoinRow<T>>;
export function join<T extends unknown[]>(stepId: string, ...sidesThenOpts: [...Sides<T>, JoinOptions]): KeyedStream<JoinRow<T>>;
export function join(stepId: string, ...args: unknown[]): KeyedStream<unknown[]> {
  const { sides, opts } = splitSidesAndOptions<JoinOptions>("join", stepId, args, ["insertMode", "emitMode"]);
  const insertMode = opts.insertMode === undefined ? "last" : opts.insertMode;
  const emitMode = opts.emitMode === undefined ? "complete" : opts.emitMode;
  checkJoinModes("join", stepId, insertMode, emitMode);
  return builtin("join", stepId, sides, (id) => {
    // The key check names the join step, not the hidden labelling step.
    const labelled = sides.map((side, i) =>
      map(`label_${i}`, side, (item): [string, [number, unknown]] => {
        const [key, value] = checkKeyed(id, item);
        return [key, [i, value]];
      }));
    const merged = merge("merge", ...labelled);
    return statefulBatch("join", merged, (resume: JoinSnapshot | undefined) =>
      new JoinLogic(new JoinState(sides.length, insertMode, resume), emitMode));
  }, [{ portName: "sides", streams: sides }]) as KeyedStream<unknown[]>;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  if (x === null || typeof x !== "object") return false;
  const proto = Object.getPrototypeOf(x) as unknown;
  return proto === Object.prototype || proto === null;
}

function show(x: unknown): string {
  return typeof x === "string" ? JSON.stringify(x) : typeOf(x);
}
