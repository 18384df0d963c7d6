// Drives WindowDrivers the way the engine will (API.md §3.1): per activation, keys in ascending order, onBatch
// with each key's values; optional timers and snapshot/restore between activations; onEof for every live key.
import * as v8 from "node:v8";
import { isPromiseLike, type Awaitable } from "../src/types.js";
import { WindowDriver, type WindowDriverConfig, type WindowEvent, type WindowResult } from "../src/windowing/driver.js";
import type { WindowMetadata } from "../src/windowing/metadata.js";

/** A manual system clock (like weir/testing's TimeTestingGetter). */
export class ManualTime {
  now: Date;
  constructor(now: Date) {
    this.now = now;
  }
  advance(ms: number): void {
    this.now = new Date(this.now.getTime() + ms);
  }
  readonly get = (): Date => this.now;
}

export type Phase = "batch" | "notify" | "eof";

export interface Emitted<V, W> {
  activation: number;
  phase: Phase;
  key: string;
  event: WindowEvent<V, W>;
}

export interface RunOptions {
  /** After batch `i`, run `onNotify` for every live key (whether or not it is due). */
  notifyAfter?: (activation: number) => boolean;
  /** After batch `i`, replace every live driver by one restored from a v8 round trip of its snapshot. */
  restoreAfter?: (activation: number) => boolean;
  /** Sees each key's `notifyAt()` and discard flag after each of its calls. */
  observe?: (activation: number, phase: Phase, key: string, notifyAt: Date | undefined, discard: boolean) => void;
  /** Fail if any driver call returns a Promise. */
  requireSync?: boolean;
}

export async function runWindows<V, W, S>(config: WindowDriverConfig<V, W, S>, batches: [string, V][][],
  opts: RunOptions = {}): Promise<Emitted<V, W>[]> {
  const drivers = new Map<string, WindowDriver<V, W, S>>();
  const emitted: Emitted<V, W>[] = [];
  const settle = async <R>(result: Awaitable<R>): Promise<R> => {
    if (opts.requireSync && isPromiseLike(result)) throw new Error("driver returned a Promise with synchronous callbacks");
    return await result;
  };
  const record = (activation: number, phase: Phase, key: string, driver: WindowDriver<V, W, S>, [events, discard]: WindowResult<V, W>) => {
    for (const event of events) emitted.push({ activation, phase, key, event });
    opts.observe?.(activation, phase, key, driver.notifyAt(), discard);
    if (discard) drivers.delete(key);
  };
  const liveKeys = () => [...drivers.keys()].sort();

  for (const [activation, batch] of batches.entries()) {
    const byKey = new Map<string, V[]>();
    for (const [key, value] of batch) {
      const values = byKey.get(key) ?? [];
      values.push(value);
      byKey.set(key, values);
    }
    for (const key of [...byKey.keys()].sort()) {
      let driver = drivers.get(key);
      if (driver === undefined) {
        driver = await settle(WindowDriver.build(config, undefined));
        drivers.set(key, driver);
      }
      record(activation, "batch", key, driver, await settle(driver.onBatch(byKey.get(key) as V[])));
    }
    if (opts.notifyAfter?.(activation)) {
      for (const key of liveKeys()) {
        const driver = drivers.get(key) as WindowDriver<V, W, S>;
        record(activation, "notify", key, driver, await settle(driver.onNotify()));
      }
    }
    if (opts.restoreAfter?.(activation)) {
      for (const key of liveKeys()) {
        const state = v8.deserialize(v8.serialize(await settle((drivers.get(key) as WindowDriver<V, W, S>).snapshot())));
        drivers.set(key, await settle(WindowDriver.build(config, state)));
      }
    }
  }
  for (const key of liveKeys()) {
    const driver = drivers.get(key) as WindowDriver<V, W, S>;
    record(batches.length, "eof", key, driver, await settle(driver.onEof()));
  }
  return emitted;
}

/** Items as the operator's port would carry them: `[key, [windowId, x]]`. */
export function port<V, W>(emitted: Emitted<V, W>[], name: "down"): [string, [number, W]][];
export function port<V, W>(emitted: Emitted<V, W>[], name: "late"): [string, [number, V]][];
export function port<V, W>(emitted: Emitted<V, W>[], name: "meta"): [string, [number, WindowMetadata]][];
export function port<V, W>(emitted: Emitted<V, W>[], name: string): [string, [number, unknown]][] {
  return emitted.filter((e) => e.event[0] === name).map((e) => [e.key, e.event[1]]);
}

/** One batch per item (a TestingSource with batch size 1). */
export function oneByOne<V>(items: [string, V][]): [string, V][][] {
  return items.map((item) => [item]);
}

export function at(base: Date, ms: number): Date {
  return new Date(base.getTime() + ms);
}
