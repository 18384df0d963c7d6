//! Session windows: runs of values separated by less than a gap of inactivity, merging when a value bridges two
//! (API.md §4).
import { invalidArgument } from "../errors.js";
import { type WindowMetadata, windowMetadata } from "./metadata.js";
import { MAX_MS, addMs, isDurationMs, show, subMs } from "./time.js";
import { Windower, type WindowerLogic } from "./windower.js";

/** The window id reported on `late` for values too late for any session (sessions cannot tell which). */
export const LATE_SESSION_ID = -1;

/**
 * Sessions of values at most `gapMs` apart (`gapMs ≥ 0`, whole ms, or `Infinity`). Ids count from 0 per key; a
 * value that bridges two sessions merges the later-opening one into the earlier (see `mergedIds`). `closeTime`
 * is inclusive; a session closes once the watermark passes `closeTime + gapMs`, and at EOF. A key's session
 * state is never dropped, so ids are never reused.
 *
 * @example
 * new SessionWindower({ gapMs: 30 * 60_000 });   // a session ends after 30 minutes of inactivity
 */
export class SessionWindower extends Windower<unknown> {
  readonly gapMs: number;

  constructor(opts: { gapMs: number }) {
    super();
    if (typeof opts !== "object" || opts === null) {
      throw invalidArgument(`SessionWindower: expected an options object { gapMs }, got ${show(opts)}`);
    }
    if (!isDurationMs(opts.gapMs, true)) {
      throw invalidArgument(`SessionWindower: option 'gapMs' must be a non-negative whole number of ms or Infinity, got ${show(opts.gapMs)}`);
    }
    this.gapMs = opts.gapMs;
  }

  build(resumeState: unknown): WindowerLogic<SessionWindowerState> {
    return new SessionWindowerLogic(this.gapMs, resumeState);
  }
}

/** One live session; exported for tests of `findMerges`. */
export interface Session {
  readonly id: number;
  openMs: number;
  closeMs: number;
  /** Ids merged into this session, transitively. */
  readonly mergedIds: number[];
}

/** Snapshot: sessions in creation order as `[id, openMs, closeMs, mergedIds]`, and merges not yet reported. */
export interface SessionWindowerState {
  nextId: number;
  sessions: [id: number, openMs: number, closeMs: number, mergedIds: number[]][];
  merges: [originalId: number, targetId: number][];
}

/**
 * Merges sessions (stably sorted by open time) that start within `gapMs` of the previous one's close into it,
 * in place: merged sessions are removed from `sessions`, whose order is otherwise kept. Returns the merges as
 * `[originalId, targetId]`.
 */
export function findMerges(sessions: Session[], gapMs: number): [number, number][] {
  if (sessions.length < 2) return [];
  const byOpen = [...sessions].sort((a, b) => a.openMs - b.openMs);
  const merges: [number, number][] = [];
  const mergedAway = new Set<Session>();
  let previous = byOpen[0] as Session;
  for (const session of byOpen.slice(1)) {
    if (session.openMs <= addMs(previous.closeMs, gapMs)) {
      if (session.closeMs > previous.closeMs) previous.closeMs = session.closeMs;
      previous.mergedIds.push(session.id, ...session.mergedIds);
      merges.push([session.id, previous.id]);
      mergedAway.add(session);
    } else {
      previous = session;
    }
  }
  if (mergedAway.size > 0) removeWhere(sessions, (s) => mergedAway.has(s));
  return merges;
}

function removeWhere<T>(items: T[], pred: (item: T) => boolean): T[] {
  const removed: T[] = [];
  let kept = 0;
  for (const item of items) {
    if (pred(item)) removed.push(item);
    else items[kept++] = item;
  }
  items.length = kept;
  return removed;
}

/** The logic of `SessionWindower`; exported (not from the package) for tests. */
export class SessionWindowerLogic implements WindowerLogic<SessionWindowerState> {
  readonly #gapMs: number;
  // Live sessions in creation order.
  readonly #sessions: Session[] = [];
  #merges: [number, number][] = [];
  #nextId = 0;

  constructor(gapMs: number, resume: unknown) {
    this.#gapMs = gapMs;
    if (resume !== undefined) this.#restore(resume);
  }

  /** Live sessions in creation order (for tests; do not mutate). */
  get sessions(): readonly Session[] {
    return this.#sessions;
  }

  openFor(ts: Date): number[] {
    const tsMs = ts.getTime();
    const gapMs = this.#gapMs;
    for (const session of this.#sessions) {
      if (session.openMs <= tsMs && tsMs <= session.closeMs) return [session.id];
      // 0 < openTime − ts ≤ gap, and 0 < ts − closeTime ≤ gap, without subtracting (exact at the range ends).
      if (tsMs < session.openMs && session.openMs <= addMs(tsMs, gapMs)) {
        session.openMs = tsMs;
        this.#merges.push(...findMerges(this.#sessions, gapMs));
        return [session.id];
      }
      if (tsMs > session.closeMs && tsMs <= addMs(session.closeMs, gapMs)) {
        session.closeMs = tsMs;
        this.#merges.push(...findMerges(this.#sessions, gapMs));
        return [session.id];
      }
    }
    const id = this.#nextId++;
    this.#sessions.push({ id, openMs: tsMs, closeMs: tsMs, mergedIds: [] });
    return [id];
  }

  lateFor(_ts: Date): number[] {
    return [LATE_SESSION_ID];
  }

  merged(): [number, number][] {
    const merges = this.#merges;
    this.#merges = [];
    return merges;
  }

  closeFor(watermark: Date): [number, WindowMetadata][] {
    const watermarkMs = watermark.getTime();
    // The end of time closes everything, even sessions within the gap of UTC_MAX and infinite gaps.
    const endOfTime = watermarkMs >= MAX_MS;
    const closeBeforeMs = subMs(watermarkMs, this.#gapMs);
    const closed = removeWhere(this.#sessions, (s) => endOfTime || s.closeMs < closeBeforeMs);
    return closed.map((s) => [s.id, windowMetadata(s.openMs, s.closeMs, s.mergedIds)]);
  }

  notifyAt(): Date | undefined {
    if (this.#sessions.length === 0) return undefined;
    let earliestCloseMs = Infinity;
    for (const s of this.#sessions) if (s.closeMs < earliestCloseMs) earliestCloseMs = s.closeMs;
    return new Date(addMs(earliestCloseMs, this.#gapMs));
  }

  /** Never: were the state dropped, ids would restart at 0 and repeat downstream. */
  isEmpty(): boolean {
    return false;
  }

  snapshot(): SessionWindowerState {
    return {
      nextId: this.#nextId,
      sessions: this.#sessions.map((s) => [s.id, s.openMs, s.closeMs, [...s.mergedIds]]),
      merges: this.#merges.map(([original, target]) => [original, target]),
    };
  }

  #restore(resume: unknown): void {
    const state = resume as Partial<SessionWindowerState> | null;
    const valid = Number.isSafeInteger(state?.nextId) && Array.isArray(state?.sessions) && Array.isArray(state?.merges);
    if (!valid) throw new TypeError(`SessionWindower: invalid resume state ${show(resume)}`);
    const { nextId, sessions, merges } = state as SessionWindowerState;
    this.#nextId = nextId;
    for (const [id, openMs, closeMs, mergedIds] of sessions) this.#sessions.push({ id, openMs, closeMs, mergedIds: [...mergedIds] });
    this.#merges = merges.map(([original, target]) => [original, target]);
  }
}
