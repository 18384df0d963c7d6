// Stateless per-item steps as batch loops ("kernels"), and the compiler that fuses a chain of them
// into one generated loop: no intermediate arrays, and one call site per user callback, so V8 sees
// each callback monomorphic and can inline it (API.md §12 lets a chain run item by item).
import { callbackError, WeirError } from "../errors.js";
import { isPromiseLike, type Awaitable } from "../types.js";
import type { BatchContext, Kernel } from "../dataflow.js";

/** The per-item shapes the compiler knows; each is one `fn` call per item. */
export type KernelShape = "map" | "filter" | "filterMap" | "flatMap" | "keyOn";

/** A stateless per-item step the runtime may fuse with its neighbours. */
export interface KernelSpec {
  readonly shape: KernelShape;
  /** Full step id, for errors. */
  readonly stepId: string;
  /** The callback's name in errors ("mapper", "predicate", "key"). */
  readonly callback: string;
  readonly fn: (x: unknown) => unknown;
  /**
   * Adds what item `x` with result `r` contributes to `out` (nothing, `x`, `r`, the items of `r`,
   * `[r, x]`), or throws the step's error for a result of the wrong type.
   */
  readonly take: (x: unknown, r: unknown, out: unknown[]) => void;
}

/**
 * One step's loop over a batch. Throws and rejections become CALLBACK_ERROR naming the step and
 * callback. From the first Promise on, the remaining calls are made at once and awaited in order.
 */
export function kernelLoop(spec: KernelSpec): Kernel {
  const { stepId, callback, fn: f, take } = spec;
  const wrap = (e: unknown): never => {
    throw callbackError(stepId, callback, e);
  };
  return (items: unknown[]) => {
    const out: unknown[] = [];
    const n = items.length;
    let i = 0;
    try {
      for (; i < n; i++) {
        const r = f(items[i]);
        if (isPromiseLike(r)) return finishAsync(items, i, r, f, take, out, wrap);
        take(items[i], r, out);
      }
    } catch (e) {
      if (e instanceof WeirError) throw e;
      wrap(e);
    }
    return out;
  };
}

function finishAsync(
  xs: unknown[], first: number, r: PromiseLike<unknown>, f: (x: unknown) => unknown,
  take: (x: unknown, r: unknown, out: unknown[]) => void, out: unknown[], wrap: (e: unknown) => never,
): Promise<unknown[]> {
  const pending: unknown[] = [r];
  for (let j = first + 1; j < xs.length; j++) {
    try {
      pending.push(f(xs[j]));
    } catch (e) {
      pending.push(Promise.reject(e));
    }
  }
  return Promise.all(pending).then((rs) => {
    for (let k = 0; k < rs.length; k++) take(xs[first + k], rs[k], out);
    return out;
  }, wrap);
}

const IS_PROMISE = (r: string) => `${r} !== null && (typeof ${r} === "object" || typeof ${r} === "function") && typeof ${r}.then === "function"`;

/** A compiled chain: appends its output for `items` to `into` when given (else to a new array) and returns it. */
export type FusedKernel = (items: unknown[], ctx: BatchContext, into?: unknown[]) => unknown[] | Promise<unknown[]>;

/**
 * Compiles `specs` (a chain, in order) into one kernel. The generated loop takes each item through
 * every step; when a callback returns a Promise it stops there, and the rest of the batch (that
 * item from its next step on, then everything not yet started) continues through the per-step
 * loops, in order.
 */
export function fuseKernels(specs: readonly KernelSpec[]): FusedKernel {
  const loops = specs.map(kernelLoop);
  const wrap = (stage: number, e: unknown): unknown => (e instanceof WeirError ? e : callbackError(specs[stage]!.stepId, specs[stage]!.callback, e));

  /** The steps `from…` over `items`, one step after another, awaiting as needed. */
  const runFrom = (from: number, items: unknown[], ctx: BatchContext): Awaitable<unknown[]> => {
    for (let k = from; k < loops.length; k++) {
      const r = loops[k]!(items, ctx);
      if (!Array.isArray(r)) return r.then((next) => runFrom(k + 1, next, ctx));
      items = r;
    }
    return items;
  };
  const append = (out: unknown[], items: unknown[]) => {
    for (let i = 0; i < items.length; i++) out.push(items[i]);
  };
  const helpers = {
    wrap,
    /** Throws step `stage`'s error for result `r` of item `x` (its `take` knows which). */
    bad(stage: number, x: unknown, r: unknown): never {
      specs[stage]!.take(x, r, []);
      throw new Error(`weir internal error: step '${specs[stage]!.stepId}' accepted a result its fused loop rejected`);
    },
    /** flatMap's result as an array (validated by its `take`). */
    arr(stage: number, x: unknown, r: unknown): unknown[] {
      const out: unknown[] = [];
      specs[stage]!.take(x, r, out);
      return out;
    },
    /**
     * Item `x` is waiting at step `stage` for Promise `r`; `rest` lists what is still to do, in
     * order: `[step, items, from]` = the items `from…` of `items` still enter at `step`.
     */
    async bail(out: unknown[], ctx: BatchContext, stage: number, x: unknown, r: PromiseLike<unknown>, rest: [number, unknown[], number][]): Promise<unknown[]> {
      let head: unknown[];
      try {
        const v = await r;
        head = [];
        specs[stage]!.take(x, v, head);
      } catch (e) {
        throw wrap(stage, e);
      }
      append(out, await runFrom(stage + 1, head, ctx));
      for (const [step, items, from] of rest) {
        if (from < items.length) append(out, await runFrom(step, items.slice(from), ctx));
      }
      return out;
    },
  };
  const fns = specs.map((s) => s.fn);
  const src = `"use strict";
${fns.map((_, k) => `const f${k} = F[${k}];`).join("\n")}
return function fusedKernel(xs, ctx, into) {
  const out = into === undefined ? [] : into;
  const n = xs.length;
  let s = 0;
  let i = 0;
  try {
    for (; i < n; i++) {
      const x0 = xs[i];
${stageCode(specs, 0, [["0", "xs", "i"]], "      ")}
    }
  } catch (e) {
    throw H.wrap(s, e);
  }
  return out;
};`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- a per-chain loop is the point: see the file comment
  return new Function("F", "H", src)(fns, helpers) as FusedKernel;
}

/** Code taking `x<k>` through steps k…; `levels` are the enclosing loops (innermost last) as [entry step, array, index]. */
function stageCode(specs: readonly KernelSpec[], k: number, levels: [string, string, string][], ind: string): string {
  if (k === specs.length) return `${ind}out.push(x${k});`;
  const r = `r${k}`;
  const rest = [...levels].reverse().map(([step, arr, idx]) => `[${step}, ${arr}, ${idx} + 1]`).join(", ");
  const bail = `return H.bail(out, ctx, ${k}, x${k}, ${r}, [${rest}]);`;
  const call = `${ind}s = ${k};\n${ind}const ${r} = f${k}(x${k});\n`;
  const next = (value: string) => `${ind}const x${k + 1} = ${value};\n${stageCode(specs, k + 1, levels, ind)}`;
  switch (specs[k]!.shape) {
    case "map":
      return `${call}${ind}if (${IS_PROMISE(r)}) ${bail}\n${next(r)}`;
    case "filter":
      return `${call}${ind}if (${r} !== true) {\n${ind}  if (${r} === false) continue;\n${ind}  if (${IS_PROMISE(r)}) ${bail}\n${ind}  H.bad(${k}, x${k}, ${r});\n${ind}}\n${next(`x${k}`)}`;
    case "filterMap":
      return `${call}${ind}if (${r} === null || ${r} === undefined) continue;\n${ind}if (${IS_PROMISE(r)}) ${bail}\n${next(r)}`;
    case "keyOn":
      return `${call}${ind}if (typeof ${r} !== "string") {\n${ind}  if (${IS_PROMISE(r)}) ${bail}\n${ind}  H.bad(${k}, x${k}, ${r});\n${ind}}\n${next(`[${r}, x${k}]`)}`;
    case "flatMap": {
      const a = `a${k}`;
      const j = `j${k}`;
      const inner = stageCode(specs, k + 1, [...levels, [String(k + 1), a, j]], `${ind}  `);
      return `${call}${ind}if (${IS_PROMISE(r)}) ${bail}\n`
        + `${ind}const ${a} = Array.isArray(${r}) ? ${r} : H.arr(${k}, x${k}, ${r});\n`
        + `${ind}for (let ${j} = 0; ${j} < ${a}.length; ${j}++) {\n${ind}  const x${k + 1} = ${a}[${j}];\n${inner}\n${ind}}`;
    }
  }
}
