import { describe, expect, it, vi } from "vitest";
import { Dataflow, type Stream } from "../src/dataflow.js";
import { WeirError } from "../src/errors.js";
import { enrichCached, TTLCache } from "../src/ttlcache.js";
import { TestingSource, TimeTestingGetter } from "../src/testing/sources.js";
import * as op from "../src/operators.js";

const T0 = new Date("2024-01-01T00:00:00Z");

/** A getter that records its calls and answers `<key>@<call number>`. */
function countingGetter() {
  const calls: unknown[] = [];
  const getter = (key: unknown) => {
    calls.push(key);
    return `${String(key)}@${calls.length}`;
  };
  return { calls, getter };
}

describe("TTLCache", () => {
  it("fetches a key once and serves it from the cache afterwards", () => {
    const { calls, getter } = countingGetter();
    const cache = new TTLCache(getter, () => T0, Infinity);
    expect(cache.get("a")).toBe("a@1");
    expect(cache.get("a")).toBe("a@1");
    expect(cache.get("b")).toBe("b@2");
    expect(calls).toEqual(["a", "b"]);
  });

  it("refetches only when now − fetchedAt > ttlMs", () => {
    const clock = new TimeTestingGetter(T0);
    const { calls, getter } = countingGetter();
    const cache = new TTLCache(getter, clock.get, 1000);
    expect(cache.get("a")).toBe("a@1");
    clock.advance(1000); // exactly ttlMs old: still fresh
    expect(cache.get("a")).toBe("a@1");
    clock.advance(1);
    expect(cache.get("a")).toBe("a@2");
    clock.advance(1000);
    expect(cache.get("a")).toBe("a@2");
    expect(calls).toEqual(["a", "a"]);
  });

  it("with ttlMs 0 refetches whenever the clock moved", () => {
    const clock = new TimeTestingGetter(T0);
    const { getter } = countingGetter();
    const cache = new TTLCache(getter, clock.get, 0);
    expect(cache.get("a")).toBe("a@1");
    expect(cache.get("a")).toBe("a@1");
    clock.advance(1);
    expect(cache.get("a")).toBe("a@2");
  });

  it("samples the clock on every get, so a refetch restarts the key's age", () => {
    const clock = new TimeTestingGetter(T0);
    const nowGetter = vi.fn(clock.get);
    const { getter } = countingGetter();
    const cache = new TTLCache(getter, nowGetter, 10);
    cache.get("a");
    clock.advance(11);
    cache.get("a"); // refetched at T0 + 11
    clock.advance(10);
    expect(cache.get("a")).toBe("a@2");
    expect(nowGetter).toHaveBeenCalledTimes(3);
  });

  it("compares keys by SameValueZero", () => {
    const { calls, getter } = countingGetter();
    const cache = new TTLCache<unknown, string>(getter, () => T0, Infinity);
    cache.get(NaN);
    cache.get(NaN);
    cache.get(0);
    cache.get(-0);
    cache.get("1");
    cache.get(1);
    const key = { id: 1 };
    cache.get(key);
    cache.get(key);
    cache.get({ id: 1 }); // another object: another key
    expect(calls).toEqual([NaN, 0, "1", 1, key, { id: 1 }]);
  });

  it("caches undefined and null values like any other", () => {
    const getter = vi.fn((_key: string) => undefined);
    const cache = new TTLCache(getter, () => T0, Infinity);
    expect(cache.get("a")).toBeUndefined();
    expect(cache.get("a")).toBeUndefined();
    expect(getter).toHaveBeenCalledTimes(1);
  });

  it("remove forgets a key, and is a no-op for an absent key", () => {
    const { calls, getter } = countingGetter();
    const cache = new TTLCache(getter, () => T0, Infinity);
    cache.get("a");
    cache.remove("a");
    expect(cache.get("a")).toBe("a@2");
    expect(() => cache.remove("never")).not.toThrow();
    expect(calls).toEqual(["a", "a"]);
  });

  it("caches a Promise as such, so concurrent gets share one fetch", async () => {
    let resolve!: (v: number) => void;
    const getter = vi.fn((_key: string) => new Promise<number>((r) => { resolve = r; }));
    const cache = new TTLCache(getter, () => T0, Infinity);
    const first = cache.get("a");
    const second = cache.get("a");
    expect(second).toBe(first);
    resolve(42);
    expect(await first).toBe(42);
    expect(cache.get("a")).toBe(first);
    expect(getter).toHaveBeenCalledTimes(1);
  });

  it("evicts a Promise that rejects, so the next get fetches again", async () => {
    let attempt = 0;
    const getter = vi.fn((key: string) => (++attempt === 1 ? Promise.reject(new Error("down")) : Promise.resolve(`${key} ok`)));
    const cache = new TTLCache(getter, () => T0, Infinity);
    const failed = cache.get("a");
    await expect(failed).rejects.toThrow("down");
    await Promise.resolve(); // let the eviction run
    expect(await cache.get("a")).toBe("a ok");
    expect(await cache.get("a")).toBe("a ok");
    expect(getter).toHaveBeenCalledTimes(2);
  });

  it("does not evict a newer entry when an older Promise rejects", async () => {
    const clock = new TimeTestingGetter(T0);
    let rejectOld!: (e: Error) => void;
    const fresh = Promise.resolve("fresh");
    const getter = vi.fn()
      .mockImplementationOnce(() => new Promise((_r, rej) => { rejectOld = rej; }))
      .mockImplementationOnce(() => fresh);
    const cache = new TTLCache<string, Promise<string>>(getter, clock.get, 10);
    const old = cache.get("a");
    clock.advance(11);
    expect(cache.get("a")).toBe(fresh);
    rejectOld(new Error("late failure"));
    await expect(old).rejects.toThrow("late failure");
    expect(cache.get("a")).toBe(fresh);
  });

  it("an unawaited rejected Promise does not surface as an unhandled rejection", async () => {
    const unhandled = vi.fn();
    process.on("unhandledRejection", unhandled);
    try {
      const cache = new TTLCache((_k: string) => Promise.reject(new Error("ignored")), () => T0, Infinity);
      cache.get("a");
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off("unhandledRejection", unhandled);
    }
  });

  it("keeps a stale value when a refetch throws, and propagates the error", () => {
    const clock = new TimeTestingGetter(T0);
    let fail = false;
    const cache = new TTLCache((key: string) => {
      if (fail) throw new Error("boom");
      return `${key}!`;
    }, clock.get, 5);
    expect(cache.get("a")).toBe("a!");
    clock.advance(6);
    fail = true;
    expect(() => cache.get("a")).toThrow("boom");
    fail = false;
    expect(cache.get("a")).toBe("a!");
  });

  it("rejects bad constructor arguments with INVALID_ARGUMENT", () => {
    const ok = (k: string) => k;
    for (const make of [
      () => new TTLCache(undefined as unknown as typeof ok, () => T0, 1),
      () => new TTLCache(ok, "now" as unknown as () => Date, 1),
      () => new TTLCache(ok, () => T0, -1),
      () => new TTLCache(ok, () => T0, NaN),
      () => new TTLCache(ok, () => T0, "1" as unknown as number),
    ]) {
      expect(make).toThrow(WeirError);
      try {
        make();
      } catch (e) {
        expect((e as WeirError).code).toBe("INVALID_ARGUMENT");
      }
    }
  });

  it("a nowGetter returning an invalid Date is INVALID_RETURN", () => {
    const cache = new TTLCache((k: string) => k, () => new Date(NaN), 1);
    expect(() => cache.get("a")).toThrow(expect.objectContaining({ code: "INVALID_RETURN" }));
  });
});

describe("op.enrichCached at definition time", () => {
  const items = () => {
    const flow = new Dataflow("f");
    return op.input("inp", flow, new TestingSource(["a", "b"]));
  };

  it("is one visible enrichCached step with ports up and down", () => {
    const inp = items();
    const out: Stream<string> = enrichCached("enrich", inp, (k: string) => k.length, (cache, x) => `${x}:${cache.get(x)}`);
    expect(out.streamId).toBe("f.enrich.down");
    const node = out.flow()._stepTree.find((n) => n.stepId === "f.enrich")!;
    expect(node.opType).toBe("enrichCached");
    expect(node.inputs.map((p) => p.portName)).toEqual(["up"]);
    expect(node.outputs.map((p) => p.portName)).toEqual(["down"]);
  });

  it("checks its arguments", () => {
    const inp = items();
    const getter = (k: string) => k;
    const mapper = (_c: TTLCache<string, string>, x: string) => x;
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as WeirError).code;
      }
      return "no error";
    };
    expect(code(() => enrichCached("e1", "nope" as unknown as Stream<string>, getter, mapper))).toBe("INVALID_ARGUMENT");
    expect(code(() => enrichCached("e2", inp, undefined as unknown as typeof getter, mapper))).toBe("INVALID_ARGUMENT");
    expect(code(() => enrichCached("e3", inp, getter, 3 as unknown as typeof mapper))).toBe("INVALID_ARGUMENT");
    expect(code(() => enrichCached("e4", inp, getter, mapper, -5))).toBe("INVALID_ARGUMENT");
    expect(code(() => enrichCached("e5", inp, getter, mapper, 10, "soon" as unknown as () => Date))).toBe("INVALID_ARGUMENT");
    expect(code(() => enrichCached("bad.id", inp, getter, mapper))).toBe("INVALID_ID");
    enrichCached("ok", inp, getter, mapper);
    expect(code(() => enrichCached("ok", inp, getter, mapper))).toBe("DUPLICATE_STEP");
    // A rejected definition leaves no step behind.
    expect(inp.flow()._stepTree.map((n) => n.stepName)).toEqual(["inp", "ok"]);
  });
});

describe("op.enrichCached batch function", () => {
  // Drives the step's batch function directly, as the runtime would: one call per batch.
  function batchFnOf(out: Stream<unknown>) {
    const def = out._producer.step.def;
    if (def.kind !== "transform") throw new Error(`expected a transform, got ${def.kind}`);
    return (items: unknown[], workerIndex = 0) => {
      const emitted: unknown[] = [];
      const r = def.fn(items, { epoch: 1, workerIndex, workerCount: 2 }, (_port, item) => emitted.push(item));
      return r === undefined ? emitted : Promise.resolve(r).then(() => emitted);
    };
  }

  it("keeps one cache per worker and samples the clock once per batch", () => {
    const clock = new TimeTestingGetter(T0);
    const nowGetter = vi.fn(clock.get);
    const fetched: [string, number][] = [];
    const flow = new Dataflow("f");
    const inp = op.input("inp", flow, new TestingSource<string>([]));
    const out = enrichCached("enrich", inp, (k: string) => {
      fetched.push([k, clock.now.getTime() - T0.getTime()]);
      return k.toUpperCase();
    }, (cache, x: string) => {
      clock.advance(100); // moves the real clock mid-batch: the cache's clock must not see it
      return `${x}=${cache.get(x)}`;
    }, 150, nowGetter);
    const run = batchFnOf(out);

    expect(run(["a", "b", "a"])).toEqual(["a=A", "b=B", "a=A"]);
    expect(nowGetter).toHaveBeenCalledTimes(1);
    // Another worker has its own cache.
    expect(run(["a"], 1)).toEqual(["a=A"]);
    // Worker 0's next batch samples T0 + 400: a and b, fetched at T0 by its clock, are older than 150 ms and refetched once.
    expect(run(["a", "a", "b"])).toEqual(["a=A", "a=A", "b=B"]);
    expect(nowGetter).toHaveBeenCalledTimes(3);
    expect(fetched.map(([k]) => k)).toEqual(["a", "b", "a", "a", "b"]);
  });

  it("supports async mappers, emitting in input order", async () => {
    const flow = new Dataflow("f");
    const inp = op.input("inp", flow, new TestingSource<number>([]));
    const out = enrichCached("enrich", inp, (k: number) => k * 10, async (cache, x: number) => {
      await new Promise((r) => setTimeout(r, 5 - x));
      return cache.get(x) + 1;
    });
    expect(await batchFnOf(out)([1, 2, 3])).toEqual([11, 21, 31]);
  });

  it("wraps getter errors as CALLBACK_ERROR naming 'getter' and the step", () => {
    const flow = new Dataflow("f");
    const inp = op.input("inp", flow, new TestingSource<string>([]));
    const cause = new Error("service down");
    const out = enrichCached("enrich", inp, (_k: string) => { throw cause; }, (cache, x: string) => cache.get(x));
    let err: WeirError | undefined;
    try {
      batchFnOf(out)(["a"]);
    } catch (e) {
      err = e as WeirError;
    }
    expect(err).toBeInstanceOf(WeirError);
    expect(err!.code).toBe("CALLBACK_ERROR");
    expect(err!.stepId).toBe("f.enrich");
    expect(err!.message).toContain("error calling 'getter' in step 'f.enrich'");
    expect(err!.cause).toBe(cause);
  });

  it("a nowGetter returning a Promise or an invalid Date is INVALID_RETURN", () => {
    for (const nowGetter of [() => Promise.resolve(T0) as unknown as Date, () => new Date("nope")]) {
      const flow = new Dataflow("f");
      const inp = op.input("inp", flow, new TestingSource<string>([]));
      const out = enrichCached("enrich", inp, (k: string) => k, (cache, x: string) => cache.get(x), Infinity, nowGetter);
      expect(() => batchFnOf(out)(["a"])).toThrow(expect.objectContaining({ code: "INVALID_RETURN", stepId: "f.enrich" }));
    }
  });
});
