//! `TTLCache` and `op.enrichCached` (API.md §3.2): enrich items from a lookup cached per worker.
import { addPrimitive, expectStream, scopeFor, type BatchFn, type Stream } from "./dataflow.js";
import { invalidArgument, WeirError } from "./errors.js";
import { andThen, mapAll } from "./runtime/awaitable.js";
import { guard, guardSync, typeOf } from "./runtime/guard.js";
import { isPromiseLike, type Awaitable } from "./types.js";

interface CacheEntry<DV> {
  readonly fetchedAtMs: number;
  readonly value: DV;
}

/**
 * A cache that fetches values with `vGetter` when absent or older than `ttlMs` (by `nowGetter`). Keys compare by
 * SameValueZero (as `Map` keys). A Promise returned by `vGetter` is cached as such, so concurrent gets share one
 * fetch, and is evicted if it rejects, so the next get fetches again.
 *
 * @example
 * const cache = new TTLCache((code: string) => lookUpIcon(code), () => new Date(), 60_000);
 * cache.get("dog_ico"); // fetched once, then served from the cache for a minute
 */
export class TTLCache<DK, DV> {
  readonly #vGetter: (key: DK) => DV;
  readonly #nowGetter: () => Date;
  readonly #ttlMs: number;
  readonly #entries = new Map<DK, CacheEntry<DV>>();

  constructor(vGetter: (key: DK) => DV, nowGetter: () => Date, ttlMs: number) {
    if (typeof vGetter !== "function") throw invalidArgument(`TTLCache: 'vGetter' must be a function, got ${typeOf(vGetter)}`);
    if (typeof nowGetter !== "function") throw invalidArgument(`TTLCache: 'nowGetter' must be a function, got ${typeOf(nowGetter)}`);
    checkTtl("TTLCache", ttlMs);
    this.#vGetter = vGetter;
    this.#nowGetter = nowGetter;
    this.#ttlMs = ttlMs;
  }

  /** The cached value for `key`, fetched first when absent or when `now − fetchedAt > ttlMs`. */
  get(key: DK): DV {
    const nowMs = validNowMs(this.#nowGetter(), "TTLCache: 'nowGetter'");
    const cached = this.#entries.get(key);
    if (cached !== undefined && !(nowMs - cached.fetchedAtMs > this.#ttlMs)) return cached.value;
    // A throwing getter leaves any stale entry in place, as Bytewax does.
    const value = this.#vGetter(key);
    const entry: CacheEntry<DV> = { fetchedAtMs: nowMs, value };
    this.#entries.set(key, entry);
    if (isPromiseLike(value)) {
      // Also marks the Promise handled: a rejection nobody awaits must not crash the process.
      value.then(undefined, () => {
        if (this.#entries.get(key) === entry) this.#entries.delete(key);
      });
    }
    return value;
  }

  /** Forgets `key`'s value, so the next `get` fetches it; a no-op when absent. */
  remove(key: DK): void {
    this.#entries.delete(key);
  }
}

/**
 * Calls `mapper(cache, item)` for every item and emits its result. Each worker keeps one `TTLCache(getter, clock, ttlMs)`,
 * whose clock samples `nowGetter` once per batch. `getter` is called synchronously; a Promise it returns is cached as the
 * value. The cache is not snapshotted.
 *
 * @example
 * const withUrls = op.enrichCached("with_url", users, (code: string) => iconUrls.get(code),
 *   (cache, user: User) => ({ ...user, iconUrl: cache.get(user.iconCode) }), 60_000);
 */
export function enrichCached<X, DK, DV, Y>(
  stepId: string, up: Stream<X>, getter: (key: DK) => DV, mapper: (cache: TTLCache<DK, DV>, item: X) => Awaitable<Y>,
  ttlMs = Infinity, nowGetter: () => Date = () => new Date(),
): Stream<Y> {
  const s = expectStream(up, stepId, "enrichCached");
  const scope = scopeFor([s], stepId, "enrichCached");
  const id = scope.builtinStepId ?? `${scope.id}.${stepId}`;
  const fetch = guard(id, "getter", getter) as (key: DK) => DV;
  const f = guard(id, "mapper", mapper);
  const now = guardSync(id, "nowGetter", nowGetter);
  checkTtl(`step '${id}' (enrichCached)`, ttlMs);

  // One cache per worker; its clock reads the instant sampled for the worker's current batch.
  const workers = new Map<number, { clock: { now: Date }; cache: TTLCache<DK, DV> }>();
  const fn: BatchFn = (items, ctx, emit) => {
    const batchNow = new Date(validNowMs(now(), `'nowGetter' in step '${id}'`, id));
    let worker = workers.get(ctx.workerIndex);
    if (worker === undefined) {
      const clock = { now: batchNow };
      worker = { clock, cache: new TTLCache(fetch, () => clock.now, ttlMs) };
      workers.set(ctx.workerIndex, worker);
    }
    worker.clock.now = batchNow;
    const cache = worker.cache;
    return andThen(mapAll(items as X[], (x) => f(cache, x)), (ys) => {
      for (const y of ys) emit(0, y);
    });
  };
  return addPrimitive(scope, stepId, "enrichCached", { kind: "transform", outputs: 1, fn }, [s], ["down"],
    [{ portName: "up", streams: [s] }])[0] as Stream<Y>;
}

function checkTtl(where: string, ttlMs: unknown): asserts ttlMs is number {
  if (typeof ttlMs !== "number" || !(ttlMs >= 0)) {
    throw invalidArgument(`${where}: 'ttlMs' must be a number ≥ 0 (or Infinity), got ${typeof ttlMs === "number" ? ttlMs : typeOf(ttlMs)}`);
  }
}

/** The instant `now` as ms, or INVALID_RETURN when it is not a valid Date. */
function validNowMs(now: unknown, what: string, stepId?: string): number {
  const ms = now instanceof Date ? now.getTime() : NaN;
  if (Number.isNaN(ms)) {
    const cause = new TypeError(`${what} must return a valid Date, got ${now instanceof Date ? "an invalid Date" : typeOf(now)}`);
    throw new WeirError("INVALID_RETURN", cause.message, stepId === undefined ? { cause } : { cause, stepId });
  }
  return ms;
}
