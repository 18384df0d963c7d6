// Property test: random keyed, out-of-order, timestamped values (many exactly on window edges, some at the ends
// of time) and random windower parameters, through WindowDriver with an EventClock (constant nowGetter) and
// collectWindow's logic, against a brute-force model written from API.md §4's definitions:
//
// - watermark after a value = max over the key's values so far of (ts − wait), saturating; only EOF reaches
//   UTC_MAX (the driver stops item watermarks at UTC_MAX − 1). A value is late iff ts < that watermark.
// - ordered: a value is played at the first of its key's activations whose watermark reaches its timestamp
//   (stable timestamp order within one), else at EOF; unordered: in its own activation, in arrival order.
// - sliding/tumbling: a value is in every window i with alignTo + i·offset ≤ ts < alignTo + i·offset + length,
//   found by testing the definition over a range of ids in BigInt arithmetic; a window closes at the first of
//   its key's activations (from its first value's) whose watermark reaches its close time, else at EOF.
// - sessions: the sessions are the single-linkage clusters of the played timestamps with threshold gapMs; a
//   session closes at the first activation (from its last value's) where closeTime < watermark − gap.
//
// Compared: every emitted event, in order (unordered sessions: ids are checked structurally), `notifyAt()` after
// every call, and the discard flags. Runs with random timers and snapshot/restore round trips, sync or async.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPromiseLike, type Awaitable } from "../src/types.js";
import { EventClock } from "../src/windowing/clock.js";
import type { WindowDriverConfig, WindowLogic, WindowLogicBuilder } from "../src/windowing/driver.js";
import { collectLogic } from "../src/windowing/logics.js";
import type { WindowMetadata } from "../src/windowing/metadata.js";
import { SessionWindower } from "../src/windowing/session.js";
import { SlidingWindower, TumblingWindower } from "../src/windowing/sliding.js";
import { MAX_MS, MIN_MS } from "../src/windowing/time.js";
import type { Windower } from "../src/windowing/windower.js";
import { type Emitted, type Phase, runWindows } from "./windowing-harness.js";

const SOAK = Boolean(process.env.WEIR_SOAK);
const NUM_RUNS = SOAK ? 25_000 : 1_000;
const SEED = 0x5eed_4;
const T0 = Date.UTC(2024, 0, 1);
const LAST_ITEM_WATERMARK = MAX_MS - 1;
const KEYS = ["a", "b", "c"];

type Kind = "sliding" | "tumbling" | "session";

interface Params {
  kind: Kind;
  lengthMs: number;
  offsetMs: number;
  gapMs: number;
  alignMs: number;
  waitMs: number;
  ordered: boolean;
  async: boolean;
}

interface Val {
  key: string;
  tsMs: number;
  idx: number;
}

interface Case {
  params: Params;
  batches: [string, Val][][];
  notifyAfter: boolean[];
  restoreAfter: boolean[];
}

// ---------------------------------------------------------------------------------------------------------
// generators

const withOffset = (p: Omit<Params, "offsetMs">, offsetMs: number): Params =>
  ({ ...p, offsetMs: p.kind === "tumbling" ? p.lengthMs : offsetMs });
const clamp = (ms: number) => Math.min(MAX_MS, Math.max(MIN_MS, ms));

const nearParams: fc.Arbitrary<Params> = fc.record({
  kind: fc.constantFrom<Kind>("sliding", "tumbling", "session", "session"),
  lengthMs: fc.integer({ min: 1, max: 40 }),
  offsetFraction: fc.double({ min: 0.1, max: 1, noNaN: true }),
  gapMs: fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 15 }) }, { weight: 1, arbitrary: fc.constant(Infinity) }),
  alignMs: fc.integer({ min: T0 - 50, max: T0 + 50 }),
  waitMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 200 }), fc.constant(Infinity)),
  ordered: fc.boolean(),
  async: fc.boolean(),
}).map(({ offsetFraction, ...p }) => withOffset(p, Math.max(1, Math.ceil(p.lengthMs * offsetFraction))));

// Near the ends of the Date range, with huge lengths, gaps and waits. Offsets ≥ 2 keep window ids exact.
const farParams: fc.Arbitrary<Params> = fc.record({
  kind: fc.constantFrom<Kind>("sliding", "tumbling", "session"),
  lengthMs: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.constantFrom(2 ** 40, 2 ** 52, 8.64e15, Number.MAX_SAFE_INTEGER)),
  offsetFraction: fc.constantFrom(1, 0.5, 0.34, 0.25),
  gapMs: fc.constantFrom(0, 7, 2 ** 50, Number.MAX_SAFE_INTEGER, Infinity),
  alignMs: fc.constantFrom(MIN_MS, MIN_MS + 3, 0, T0, MAX_MS - 3, MAX_MS),
  waitMs: fc.constantFrom(0, 5, 2 ** 52, Infinity),
  ordered: fc.boolean(),
  async: fc.boolean(),
}).map(({ offsetFraction, ...p }) => withOffset(p, Math.max(2, Math.ceil(p.lengthMs * offsetFraction))));

// Sliding: a 160 ms span around alignTo plus window edges (k·offset, k·offset + length, ±1 ms). Sessions: a
// span of a few gaps plus exact multiples of the gap (±1 ms), so values often bridge sessions and merge them.
function timestamps(p: Params, far: boolean): fc.Arbitrary<number> {
  const session = p.kind === "session";
  const step = session ? (Number.isFinite(p.gapMs) ? Math.max(1, p.gapMs) : 10) : p.offsetMs;
  const base = session && !far ? T0 : p.alignMs;
  const edge = fc.record({ k: fc.integer(session ? { min: 0, max: 6 } : { min: -4, max: 8 }), d: fc.constantFrom(-1, 0, 0, 1), plusLength: fc.boolean() })
    .map(({ k, d, plusLength }) => clamp(base + k * step + (plusLength && !session ? p.lengthMs : 0) + d));
  const raw = far
    ? fc.oneof(fc.integer({ min: MIN_MS, max: MIN_MS + 60 }), fc.integer({ min: MAX_MS - 60, max: MAX_MS }),
      fc.constantFrom(MIN_MS, MAX_MS, 0, T0))
    : session ? fc.integer({ min: T0 - step, max: T0 + 7 * step }) : fc.integer({ min: T0 - 30, max: T0 + 130 });
  return fc.oneof(raw, edge);
}

function caseFor(params: Params, far: boolean): fc.Arbitrary<Case> {
  const item = (keyCount: number) => fc.record({ key: fc.constantFrom(...KEYS.slice(0, keyCount)), tsMs: timestamps(params, far) });
  return fc.record({
    items: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 30 }))
      .chain(([keyCount, n]) => fc.array(item(keyCount), { minLength: n, maxLength: n })),
    cuts: fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
    notifyAfter: fc.array(fc.boolean(), { minLength: 31, maxLength: 31 }),
    restoreAfter: fc.array(fc.boolean(), { minLength: 31, maxLength: 31 }),
  }).map(({ items, cuts, notifyAfter, restoreAfter }) => {
    const batches: [string, Val][][] = [];
    let batch: [string, Val][] = [];
    items.forEach(({ key, tsMs }, idx) => {
      batch.push([key, { key, tsMs, idx }]);
      if (cuts[idx] || idx === items.length - 1) {
        batches.push(batch);
        batch = [];
      }
    });
    return { params, batches, notifyAfter, restoreAfter };
  });
}

const cases = fc.oneof(
  { weight: 4, arbitrary: nearParams.chain((p) => caseFor(p, false)) },
  { weight: 1, arbitrary: farParams.chain((p) => caseFor(p, true)) },
);

// ---------------------------------------------------------------------------------------------------------
// the system under test

function windowerFor(p: Params): Windower<unknown> {
  const alignTo = new Date(p.alignMs);
  if (p.kind === "session") return new SessionWindower({ gapMs: p.gapMs });
  if (p.kind === "tumbling") return new TumblingWindower({ lengthMs: p.lengthMs, alignTo });
  return new SlidingWindower({ lengthMs: p.lengthMs, offsetMs: p.offsetMs, alignTo });
}

// Every other call of every logic method (and of the builder) returns a Promise.
function alternatelyAsync<V, W, S>(inner: WindowLogicBuilder<V, W, S>): WindowLogicBuilder<V, W, S> {
  let calls = 0;
  const maybe = <R>(result: R): Awaitable<R> => (calls++ % 2 === 0 ? Promise.resolve(result) : result);
  const unwrap = <R>(x: Awaitable<R>): R => {
    if (isPromiseLike(x)) throw new Error("the wrapped logic is synchronous");
    return x;
  };
  class Alternating implements WindowLogic<V, W, S> {
    constructor(readonly inner: WindowLogic<V, W, S>) {}
    onValue(value: V) {
      return maybe(unwrap(this.inner.onValue(value)));
    }
    onMerge(original: this) {
      return maybe(unwrap(this.inner.onMerge(original.inner as never)));
    }
    onClose() {
      return maybe(unwrap(this.inner.onClose()));
    }
    snapshot() {
      return maybe(unwrap(this.inner.snapshot()));
    }
  }
  return (resume) => maybe(new Alternating(unwrap(inner(resume))));
}

interface Observation {
  activation: number;
  phase: Phase;
  key: string;
  notifyAt: number | undefined;
  discard: boolean;
}

async function runDriver(c: Case) {
  const p = c.params;
  const logic = collectLogic<Val>(Array) as WindowLogicBuilder<Val, Val[], unknown>;
  const config: WindowDriverConfig<Val, Val[], unknown> = {
    stepId: "prop.win",
    clock: new EventClock<Val>({ tsGetter: (v) => new Date(v.tsMs), waitForSystemDurationMs: p.waitMs, nowGetter: () => new Date(T0) }),
    windower: windowerFor(p),
    builder: p.async ? alternatelyAsync(logic) : logic,
    ordered: p.ordered,
  };
  const observations: Observation[] = [];
  const emitted = await runWindows(config, c.batches, {
    notifyAfter: (a) => c.notifyAfter[a] === true,
    restoreAfter: (a) => c.restoreAfter[a] === true,
    observe: (activation, phase, key, notifyAt, discard) =>
      observations.push({ activation, phase, key, notifyAt: notifyAt?.getTime(), discard }),
    requireSync: !p.async,
  });
  return { emitted, observations };
}

// ---------------------------------------------------------------------------------------------------------
// the reference model

const BIG_MIN = BigInt(MIN_MS);
const BIG_MAX = BigInt(MAX_MS);
const clampBig = (x: bigint) => (x < BIG_MIN ? MIN_MS : x > BIG_MAX ? MAX_MS : Number(x));
const minus = (ms: number, d: number) => (d === Infinity ? MIN_MS : clampBig(BigInt(ms) - BigInt(d)));
const plus = (ms: number, d: number) => (d === Infinity ? MAX_MS : clampBig(BigInt(ms) + BigInt(d)));

interface Arrival extends Val {
  act: number;
  late: boolean;
  played: number; // activation in which it is played into windows (EOF = batch count)
}

interface ModelWindow {
  id: number | undefined; // unknown for unordered sessions
  openMs: number;
  closeMs: number;
  values: Val[]; // in play order
  firstPlayed: number; // position in the key's play order of its first value
  closeAct: number;
}

interface KeyModel {
  key: string;
  arrivals: Arrival[];
  acts: number[]; // activations with values for this key, ascending
  watermarkAt(activation: number): number;
  windows: ModelWindow[];
  played: Arrival[];
}

/** Ids of the sliding windows containing `ts`, by testing the definition over a generous id range. */
function slidingIds(p: Params, ts: number): number[] {
  const offset = BigInt(p.offsetMs);
  const length = BigInt(p.lengthMs);
  const align = BigInt(p.alignMs);
  const center = (BigInt(ts) - align) / offset;
  const ids: number[] = [];
  for (let id = center - length / offset - 3n; id <= center + 1n; id++) {
    const open = align + id * offset;
    if (open <= BigInt(ts) && BigInt(ts) < open + length) ids.push(Number(id));
  }
  return ids;
}

function slidingBounds(p: Params, id: number): [number, number] {
  const open = BigInt(p.alignMs) + BigInt(id) * BigInt(p.offsetMs);
  return [clampBig(open), clampBig(open + BigInt(p.lengthMs))];
}

function modelKey(p: Params, key: string, batches: [string, Val][][]): KeyModel {
  const eof = batches.length;
  const arrivals: Arrival[] = [];
  let max = MIN_MS;
  batches.forEach((batch, act) => {
    for (const [k, v] of batch) {
      if (k !== key) continue;
      max = Math.max(max, minus(v.tsMs, p.waitMs));
      const watermark = Math.min(max, LAST_ITEM_WATERMARK);
      arrivals.push({ ...v, act, late: v.tsMs < watermark, played: -1 });
    }
  });
  const acts = [...new Set(arrivals.map((a) => a.act))].sort((x, y) => x - y);
  const watermarkAt = (activation: number) => {
    let m = MIN_MS;
    for (const a of arrivals) if (a.act <= activation) m = Math.max(m, minus(a.tsMs, p.waitMs));
    return Math.min(m, LAST_ITEM_WATERMARK);
  };
  for (const a of arrivals) {
    if (a.late) continue;
    a.played = p.ordered ? (acts.find((act) => act >= a.act && watermarkAt(act) >= a.tsMs) ?? eof) : a.act;
  }
  const played = arrivals.filter((a) => !a.late)
    .sort((x, y) => x.played - y.played || (p.ordered ? x.tsMs - y.tsMs : 0) || x.idx - y.idx);
  const closeActFrom = (from: number, closes: (watermark: number) => boolean) =>
    acts.find((act) => act >= from && closes(watermarkAt(act))) ?? eof;

  const windows: ModelWindow[] = [];
  if (p.kind === "session") {
    const byTs = [...played].sort((x, y) => x.tsMs - y.tsMs || x.idx - y.idx);
    let cluster: Arrival[] = [];
    const clusters: Arrival[][] = [];
    for (const a of byTs) {
      if (cluster.length > 0 && a.tsMs > plus((cluster[cluster.length - 1] as Arrival).tsMs, p.gapMs)) {
        clusters.push(cluster);
        cluster = [];
      }
      cluster.push(a);
    }
    if (cluster.length > 0) clusters.push(cluster);
    const ordered = clusters.map((members) => {
      const inPlayOrder = played.filter((a) => members.includes(a));
      const closeMs = Math.max(...members.map((a) => a.tsMs));
      return {
        id: undefined as number | undefined,
        openMs: Math.min(...members.map((a) => a.tsMs)),
        closeMs,
        values: inPlayOrder.map(strip),
        firstPlayed: played.indexOf(inPlayOrder[0] as Arrival),
        closeAct: closeActFrom(Math.max(...members.map((a) => a.played)), (wm) => closeMs < minus(wm, p.gapMs)),
      };
    }).sort((x, y) => x.firstPlayed - y.firstPlayed);
    // Ordered play is in timestamp order, so sessions never merge and ids follow creation order.
    if (p.ordered) ordered.forEach((w, i) => (w.id = i));
    windows.push(...ordered);
  } else {
    const byId = new Map<number, ModelWindow>();
    played.forEach((a, position) => {
      for (const id of slidingIds(p, a.tsMs)) {
        let w = byId.get(id);
        if (w === undefined) {
          const [openMs, closeMs] = slidingBounds(p, id);
          w = { id, openMs, closeMs, values: [], firstPlayed: position, closeAct: -1 };
          byId.set(id, w);
          windows.push(w);
        }
        w.values.push(strip(a));
      }
    });
    for (const w of windows) {
      const firstAct = (played[w.firstPlayed] as Arrival).played;
      w.closeAct = closeActFrom(firstAct, (wm) => w.closeMs <= wm);
    }
  }
  return { key, arrivals, acts, watermarkAt, windows, played };
}

const strip = ({ key, tsMs, idx }: Val): Val => ({ key, tsMs, idx });

function lateIds(p: Params, ts: number): number[] {
  return p.kind === "session" ? [-1] : slidingIds(p, ts);
}

type Ev = [string, [number, unknown]];

/** The events one key emits in one call (batch `act`, or EOF). */
function expectedEvents(p: Params, m: KeyModel, act: number, eof: boolean): Ev[] {
  const events: Ev[] = [];
  if (!eof) {
    for (const a of m.arrivals) {
      if (a.act === act && a.late) for (const id of lateIds(p, a.tsMs)) events.push(["late", [id, strip(a)]]);
    }
  }
  for (const w of m.windows.filter((x) => x.closeAct === act)) {
    events.push(["down", [w.id as number, w.values]]);
    events.push(["meta", [w.id as number, { openTime: new Date(w.openMs), closeTime: new Date(w.closeMs), mergedIds: new Set() }]]);
  }
  return events;
}

/** `notifyAt()` after activation `act`: the earliest open window's close (sessions: + gap) or queued timestamp. */
function expectedNotifyAt(p: Params, m: KeyModel, act: number): number | undefined {
  const candidates: number[] = [];
  const playedBy = m.played.filter((a) => a.played <= act);
  if (p.kind === "session") {
    const byTs = [...playedBy].sort((x, y) => x.tsMs - y.tsMs);
    let start = 0;
    for (let i = 1; i <= byTs.length; i++) {
      if (i === byTs.length || (byTs[i] as Arrival).tsMs > plus((byTs[i - 1] as Arrival).tsMs, p.gapMs)) {
        const partial = byTs.slice(start, i);
        const final = m.windows.find((w) => w.values.some((v) => v.idx === (partial[0] as Arrival).idx)) as ModelWindow;
        if (final.closeAct > act) candidates.push(plus(Math.max(...partial.map((a) => a.tsMs)), p.gapMs));
        start = i;
      }
    }
  } else {
    for (const w of m.windows) {
      if ((m.played[w.firstPlayed] as Arrival).played <= act && w.closeAct > act) candidates.push(w.closeMs);
    }
  }
  if (p.ordered) {
    for (const a of m.arrivals) if (!a.late && a.act <= act && a.played > act) candidates.push(a.tsMs);
  }
  return candidates.length === 0 ? undefined : Math.min(...candidates);
}

// ---------------------------------------------------------------------------------------------------------
// the comparison

function check(c: Case, emitted: Emitted<Val, Val[]>[], observations: Observation[]): void {
  const p = c.params;
  const eofAct = c.batches.length;
  const keys = KEYS.filter((k) => c.batches.some((b) => b.some(([key]) => key === k)));
  const models = new Map(keys.map((k) => [k, modelKey(p, k, c.batches)]));
  const group = (activation: number, phase: Phase, key: string) =>
    emitted.filter((e) => e.activation === activation && e.phase === phase && e.key === key).map((e) => e.event as Ev);

  // Nothing is emitted outside the calls the model expects output from.
  for (const e of emitted) expect(e.phase === "notify" ? e : null).toBeNull();

  const exactIds = p.kind !== "session" || p.ordered;
  for (const [key, m] of models) {
    const calls: [number, Phase][] = [...m.acts.map((a): [number, Phase] => [a, "batch"]), [eofAct, "eof"]];
    for (const [act, phase] of calls) {
      const actual = group(act, phase, key);
      const expected = expectedEvents(p, m, act, phase === "eof");
      if (exactIds) {
        expect(actual, `${key} @${act} ${phase}`).toEqual(expected);
      } else {
        expectSameSessions(actual, expected, `${key} @${act} ${phase}`);
      }
    }
    if (!exactIds) expectIdsPartitioned(emitted.filter((e) => e.key === key).map((e) => e.event as Ev));

    for (const o of observations.filter((x) => x.key === key)) {
      const where = `${key} @${o.activation} ${o.phase}`;
      if (o.phase === "eof") {
        expect(o.discard, where).toBe(p.kind !== "session");
        expect(o.notifyAt, where).toBeUndefined();
      } else {
        expect(o.discard, where).toBe(false);
        expect(o.notifyAt, where).toBe(expectedNotifyAt(p, m, o.activation));
      }
    }
  }
}

// Unordered sessions: lates exactly; each close as an adjacent down/meta pair; the sessions closing (bounds and
// values) as expected; ids ascending (creation order) within the call.
function expectSameSessions(actual: Ev[], expected: Ev[], where: string): void {
  const lateCount = expected.filter((e) => e[0] === "late").length;
  expect(actual.slice(0, lateCount), where).toEqual(expected.slice(0, lateCount));
  const closes = actual.slice(lateCount);
  expect(closes.length, where).toBe(expected.length - lateCount);
  const shape = (events: Ev[]) => {
    const sessions: { openMs: number; closeMs: number; idxs: number[] }[] = [];
    for (let i = 0; i < events.length; i += 2) {
      const [down, meta] = [events[i] as Ev, events[i + 1] as Ev];
      expect([down[0], meta[0]], where).toEqual(["down", "meta"]);
      const m = meta[1][1] as WindowMetadata;
      sessions.push({
        openMs: m.openTime.getTime(), closeMs: m.closeTime.getTime(),
        idxs: (down[1][1] as Val[]).map((v) => v.idx).sort((x, y) => x - y),
      });
    }
    return sessions.sort((x, y) => x.openMs - y.openMs);
  };
  expect(shape(closes), where).toEqual(shape(expected.slice(lateCount)));
  const ids = closes.filter((e) => e[0] === "meta").map((e) => e[1][0]);
  for (let i = 0; i < closes.length; i += 2) expect((closes[i] as Ev)[1][0], where).toBe((closes[i + 1] as Ev)[1][0]);
  expect(ids, where).toEqual([...ids].sort((x, y) => x - y));
}

// Every session id ever created ends in exactly one meta, as its id or (transitively) merged into it.
function expectIdsPartitioned(events: Ev[]): void {
  const seen: number[] = [];
  for (const [tag, [id, x]] of events) {
    if (tag === "meta") seen.push(id, ...(x as WindowMetadata).mergedIds);
  }
  expect([...seen].sort((a, b) => a - b)).toEqual(seen.map((_, i) => i));
}

describe("WindowDriver against a brute-force model of API.md §4", () => {
  it(`agrees on ${NUM_RUNS} random cases`, async () => {
    await fc.assert(fc.asyncProperty(cases, async (c) => {
      const { emitted, observations } = await runDriver(c);
      check(c, emitted, observations);
    }), { numRuns: NUM_RUNS, seed: SEED });
  }, SOAK ? 600_000 : 60_000);

  it("the model itself: §4's sliding example", () => {
    const p: Params = { kind: "sliding", lengthMs: 10, offsetMs: 5, gapMs: 0, alignMs: 0, waitMs: 0, ordered: true, async: false };
    expect([1, 4, 8, 12, 13, 14, 16].map((ts) => slidingIds(p, ts))).toEqual([[-1, 0], [-1, 0], [0, 1], [1, 2], [1, 2], [1, 2], [2, 3]]);
    const batches = [1, 4, 8, 12, 13, 14, 16, 1].map((tsMs, idx): [string, Val][] => [["k", { key: "k", tsMs, idx }]]);
    const m = modelKey(p, "k", batches);
    expect(m.arrivals.map((a) => a.late)).toEqual([false, false, false, false, false, false, false, true]);
    expect(m.windows.map((w) => [w.id, w.values.map((v) => v.tsMs), w.closeAct])).toEqual([
      [-1, [1, 4], 2], [0, [1, 4, 8], 3], [1, [8, 12, 13, 14], 6], [2, [12, 13, 14, 16], 8], [3, [16], 8],
    ]);
  });
});
