// Errors crossing a JS thread: a best-effort copy rebuilt as a WeirError in the receiving isolate (API.md §8.1).
import { WeirError, type WeirErrorCode } from "../errors.js";

export interface ErrorCopy {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  stepId?: string;
  workerIndex?: number;
  props?: Record<string, unknown>;
  cause?: ErrorCopy | { value: unknown };
}

export function copyError(e: unknown, depth = 0): ErrorCopy | { value: unknown } {
  if (!(e instanceof Error)) {
    try {
      structuredClone(e);
      return { value: e };
    } catch {
      return { value: String(e) };
    }
  }
  const out: ErrorCopy = { name: e.name, message: e.message };
  if (e.stack) out.stack = e.stack;
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k === "cause") continue;
    try {
      props[k] = structuredClone(v);
    } catch {
      // not cloneable: dropped
    }
  }
  out.props = props;
  if (e.cause !== undefined && depth < 8) out.cause = copyError(e.cause, depth + 1);
  return out;
}

export function rebuildError(c: ErrorCopy | { value: unknown }): unknown {
  if ("value" in c) return c.value;
  const cause = c.cause === undefined ? undefined : rebuildError(c.cause);
  const props = c.props ?? {};
  let e: Error;
  if (c.name === "WeirError" && typeof props.code === "string") {
    e = new WeirError(props.code as WeirErrorCode, c.message, {
      cause,
      ...(typeof props.stepId === "string" ? { stepId: props.stepId } : {}),
      ...(typeof props.workerIndex === "number" ? { workerIndex: props.workerIndex } : {}),
    });
  } else {
    e = cause === undefined ? new Error(c.message) : new Error(c.message, { cause });
    Object.defineProperty(e, "name", { value: c.name, configurable: true, writable: true });
    for (const [k, v] of Object.entries(props)) (e as unknown as Record<string, unknown>)[k] = v;
  }
  if (c.stack) e.stack = c.stack;
  return e;
}
