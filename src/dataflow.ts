// Dataflow, Stream and custom operators (API.md §2): the graph users build, checked at definition time.
import { WeirError, invalidArgument } from "./errors.js";
import type { Source } from "./inputs.js";
import type { Sink } from "./outputs.js";
import type { KernelSpec } from "./runtime/kernels.js";
import type { Awaitable } from "./types.js";

/** What a primitive step does; the runtime compiles these into engine nodes (see runtime/plan.ts). */
export type StepKind =
  | { kind: "input"; source: Source<unknown> }
  | { kind: "output"; sink: Sink<unknown> }
  /** Stateless work over a batch: returns the items for each output port (fused when chained). */
  | { kind: "transform"; outputs: number; fn: BatchFn }
  /** A one-output stateless step as a loop over the batch returning the output batch (the fast path). */
  /** `spec`: a per-item step the runtime may compile together with its neighbours (runtime/kernels.ts). */
  | { kind: "kernel"; kernel: Kernel; spec?: KernelSpec }
  /** Pre-aggregation before routing (one instance per worker): absorbs batches, gives partial results at each epoch close. */
  | { kind: "combine"; create: () => Combiner }
  | { kind: "merge" }
  | { kind: "redistribute" }
  | { kind: "stateful"; builder: (resume: unknown) => unknown };

/** A stateless batch function: `emit(port, item)` for every output item. May return a Promise. */
export type BatchFn = (items: unknown[], ctx: BatchContext, emit: (port: number, item: unknown) => void) => unknown;

/** A one-output stateless batch function: returns the output items (or a Promise of them). */
export type Kernel = (items: unknown[], ctx: BatchContext) => unknown[] | Promise<unknown[]>;

/** A combine step's per-worker state (see StepKind "combine"). */
export interface Combiner {
  /** Absorbs a batch (in order; calls never overlap). */
  add(items: unknown[], ctx: BatchContext): Awaitable<void>;
  /** It holds enough that its results should move on before the epoch closes (bounds memory). */
  readonly full: boolean;
  /** Its results so far, leaving it empty. */
  take(): unknown[];
}

export interface BatchContext {
  readonly epoch: number;
  readonly workerIndex: number;
  readonly workerCount: number;
}

/** A primitive step of the graph, as the runtime sees it. */
export interface Step {
  readonly index: number;
  /** Full id used in errors: the user's operator call (innermost custom operator, never a built-in's internals). */
  readonly stepId: string;
  readonly opType: string;
  readonly def: StepKind;
  readonly inputs: Stream<unknown>[];
  readonly outputs: Stream<unknown>[];
}

/** A node of the user-visible step tree (for visualisation): built-ins and custom operators. */
export interface StepNode {
  readonly stepId: string;
  readonly stepName: string;
  readonly opType: string;
  readonly inputs: { portName: string; streams: Stream<unknown>[] }[];
  readonly outputs: { portName: string; stream: Stream<unknown> }[];
  readonly substeps: StepNode[];
  /** Built-ins hide their internals. */
  readonly builtin: boolean;
}

interface Scope {
  readonly flow: Dataflow;
  readonly id: string;
  readonly children: Map<string, StepNode>;
  readonly nodes: StepNode[];
  /** Inside a built-in: primitive steps are attributed to this step id and hidden. */
  readonly builtinStepId?: string;
  /** The scope a built-in was called in: its input streams live there. */
  readonly parent?: Scope;
}

export class Dataflow {
  readonly flowId: string;
  /** @internal primitive steps in definition (hence topological) order */
  readonly _steps: Step[] = [];
  /** @internal the top-level scope */
  readonly _root: Scope;
  /** @internal set while a run uses this flow */
  _running = false;

  constructor(flowId: string) {
    checkId(flowId, "flowId");
    this.flowId = flowId;
    this._root = { flow: this, id: flowId, children: new Map(), nodes: [] };
  }

  /** @internal the user-visible step tree */
  get _stepTree(): readonly StepNode[] {
    return this._root.nodes;
  }
}

export class Stream<T> {
  readonly streamId: string;
  /** @internal */
  readonly _scope: Scope;
  /** @internal the primitive step and port that produce the items */
  readonly _producer: { step: Step; port: number };

  /** @internal */
  constructor(streamId: string, scope: Scope, producer: { step: Step; port: number }) {
    this.streamId = streamId;
    this._scope = scope;
    this._producer = producer;
  }

  flow(): Dataflow {
    return this._scope.flow;
  }

  /** `s.then(f, id, ...args)` is `f(id, s, ...args)`, for chaining. Awaiting a Stream is an error. */
  then<A extends unknown[], R>(opFn: (stepId: string, up: Stream<T>, ...args: A) => R, stepId: string, ...args: A): R {
    if (typeof stepId !== "string" && typeof opFn === "function" && opFn.length <= 2) {
      // Called by `await` with (resolve, reject): reject instead of hanging.
      const reject = stepId as unknown as ((e: unknown) => void) | undefined;
      const err = invalidArgument(`a Stream ('${this.streamId}') is not awaitable; pass it to an operator instead`);
      if (typeof reject === "function") {
        reject(err);
        return undefined as R;
      }
    }
    return opFn(stepId, this, ...args);
  }

  /** @internal a Stream with the same items under another id (custom operator ports) */
  _alias(streamId: string, scope: Scope): Stream<T> {
    return new Stream<T>(streamId, scope, this._producer);
  }
}

export type KeyedStream<V> = Stream<[string, V]>;

export function checkId(id: unknown, what: string): asserts id is string {
  if (typeof id !== "string" || id.length === 0 || id.includes(".")) {
    throw new WeirError("INVALID_ID", `${what} must be a non-empty string without '.', got ${JSON.stringify(id) ?? String(id)}`);
  }
}

// The scope operators defined right now add their steps to (custom operators and built-ins nest).
const scopeStack: Scope[] = [];

function currentScopeFor(streamsOrFlow: (Stream<unknown> | Dataflow)[], stepId: string, opType: string): Scope {
  let scope: Scope | undefined;
  for (const x of streamsOrFlow) {
    // A Dataflow argument means the innermost open scope of that flow (custom operators re-scope it).
    // Inside a built-in, streams of the scope it was called in belong to the built-in's scope.
    const top = scopeStack[0];
    const use = x instanceof Dataflow
      ? (scopeStack.find((open) => open.flow === x) ?? x._root)
      : (top?.builtinStepId !== undefined && top.parent === x._scope ? top : x._scope);
    if (scope && scope !== use) {
      throw invalidArgument(`step '${stepId}' (${opType}) mixes streams from different scopes or dataflows: '${scope.id}' and '${use.id}'`);
    }
    scope = use;
  }
  if (!scope) throw invalidArgument(`step '${stepId}' (${opType}) needs a stream or a dataflow`);
  return scope;
}

/** Checks a stream argument and gives a hint for the output objects users often pass by mistake. */
export function expectStream(x: unknown, stepId: string, opType: string, what = "up"): Stream<unknown> {
  if (x instanceof Stream) return x;
  let hint = "";
  if (x && typeof x === "object") {
    const keys = Object.keys(x);
    if (keys.includes("trues")) hint = " (a BranchOut: pick .trues or .falses)";
    else if (keys.includes("down") && keys.includes("late")) hint = " (a WindowOut: pick .down, .late or .meta)";
    else if (keys.includes("oks")) hint = " (a KafkaOpOut: pick .oks or .errs)";
  }
  throw invalidArgument(`step '${stepId}' (${opType}): '${what}' must be a Stream, got ${describeValue(x)}${hint}`, stepId);
}

function describeValue(x: unknown): string {
  if (x === null) return "null";
  if (typeof x === "object") return (x as object).constructor?.name ?? "object";
  return typeof x;
}

interface OpenStep {
  scope: Scope;
  fullId: string;
}

function openStep(scope: Scope, stepId: unknown, opType: string): OpenStep {
  checkId(stepId, "stepId");
  const existing = scope.children.get(stepId);
  const fullId = `${scope.id}.${stepId}`;
  if (existing) {
    throw new WeirError(
      "DUPLICATE_STEP",
      `step id '${fullId}' is already used by a '${existing.opType}' step; the '${opType}' step needs another id`,
      { stepId: fullId },
    );
  }
  return { scope, fullId };
}

/** @internal adds a primitive step; returns its output streams. */
export function addPrimitive(
  scope: Scope, stepId: string, opType: string, def: StepKind, inputs: Stream<unknown>[], portNames: string[],
  inputPorts: { portName: string; streams: Stream<unknown>[] }[],
): Stream<unknown>[] {
  const flow = scope.flow;
  const hidden = scope.builtinStepId !== undefined;
  const fullId = `${scope.id}.${stepId}`;
  const step: Step = {
    index: flow._steps.length,
    stepId: scope.builtinStepId ?? fullId,
    opType,
    def,
    inputs,
    outputs: [],
  };
  const outs = portNames.map((p, port) => new Stream<unknown>(`${fullId}.${p}`, scope, { step, port }));
  (step.outputs as Stream<unknown>[]).push(...outs);
  flow._steps.push(step);
  if (!hidden) {
    const node: StepNode = {
      stepId: fullId, stepName: stepId, opType, builtin: true, substeps: [],
      inputs: inputPorts, outputs: portNames.map((portName, i) => ({ portName, stream: outs[i]! })),
    };
    scope.children.set(stepId, node);
    scope.nodes.push(node);
  }
  return outs;
}

/** The output ports of what a builder returned: a Stream is `down`; an object's Stream fields are named ports. */
function outputPorts(result: unknown): { portName: string; stream: Stream<unknown> }[] {
  if (result instanceof Stream) return [{ portName: "down", stream: result }];
  if (result && typeof result === "object") {
    return Object.entries(result).flatMap(([portName, v]) => (v instanceof Stream ? [{ portName, stream: v }] : []));
  }
  return [];
}

/**
 * @internal Defines a built-in operator composed of other operators: its internals run as
 * primitive steps attributed to `stepId` and never show in ids, errors or visualisations.
 * Input ports default to one port `up` holding `ups`.
 */
export function builtin<R>(
  opType: string, stepId: string, ups: Stream<unknown> | (Stream<unknown> | Dataflow)[],
  body: (scopeId: string) => R,
  inputPorts?: { portName: string; streams: Stream<unknown>[] }[],
): R {
  const upList = Array.isArray(ups) ? ups : [ups];
  const parent = currentScopeFor(upList, String(stepId), opType);
  const { fullId } = openStep(parent, stepId, opType);
  const inner: Scope = {
    flow: parent.flow, id: fullId, children: new Map(), nodes: [], parent,
    builtinStepId: parent.builtinStepId ?? fullId,
  };
  scopeStack.unshift(inner);
  let result: R;
  try {
    result = body(fullId);
  } finally {
    scopeStack.shift();
  }
  // The built-in's outputs are its own ports, in the scope it was called in.
  const outputs = outputPorts(result).map(({ portName, stream }) => ({ portName, stream: stream._alias(`${fullId}.${portName}`, parent) }));
  const aliased: R = result instanceof Stream
    ? (outputs[0]!.stream as R)
    : result && typeof result === "object"
      ? ({ ...result, ...Object.fromEntries(outputs.map((o) => [o.portName, o.stream])) } as R)
      : result;
  const streams = upList.filter((x): x is Stream<unknown> => x instanceof Stream);
  const node: StepNode = {
    stepId: fullId, stepName: stepId, opType, builtin: true, substeps: [],
    inputs: inputPorts ?? (streams.length > 0 ? [{ portName: "up", streams }] : []),
    outputs,
  };
  parent.children.set(stepId, node);
  if (parent.builtinStepId === undefined) parent.nodes.push(node);
  return aliased;
}

/** @internal the step id errors of a step name: its full id, or the enclosing built-in's. */
export function errorStepId(up: Stream<unknown> | Dataflow, stepId: string): string {
  const scope = currentScopeFor([up], String(stepId), "step");
  return scope.builtinStepId ?? `${scope.id}.${stepId}`;
}

/** @internal the scope a primitive called with these streams belongs to, after checking its id. */
export function scopeFor(ups: (Stream<unknown> | Dataflow)[], stepId: unknown, opType: string): Scope {
  const scope = currentScopeFor(ups, String(stepId), opType);
  openStep(scope, stepId, opType);
  return scope;
}

/**
 * Defines a custom operator. The builder receives the full step id and its arguments, with every
 * Stream re-scoped into the new scope; operators it calls become substeps.
 */
export function operator<A extends unknown[], R extends Stream<any> | void | Record<string, Stream<any>>>(
  opType: string, builder: (fullStepId: string, ...args: A) => R, portNames?: string[],
): (stepId: string, ...args: A) => R {
  return (stepId: string, ...args: A): R => {
    const ups = args.flatMap((a) => (a instanceof Stream || a instanceof Dataflow ? [a] : Array.isArray(a) ? a.filter((x) => x instanceof Stream) : []));
    const parent = currentScopeFor(ups.length > 0 ? ups : [], String(stepId), opType);
    const { fullId } = openStep(parent, stepId, opType);
    const inner: Scope = { flow: parent.flow, id: fullId, children: new Map(), nodes: [], ...(parent.builtinStepId ? { builtinStepId: parent.builtinStepId } : {}) };
    const inputs: { portName: string; streams: Stream<unknown>[] }[] = [];
    const rescoped = args.map((a, i) => {
      const portName = portNames?.[i] ?? `arg${i}`;
      if (a instanceof Stream) {
        inputs.push({ portName, streams: [a] });
        return a._alias(`${fullId}.${portName}`, inner);
      }
      if (Array.isArray(a) && a.length > 0 && a.every((x) => x instanceof Stream)) {
        inputs.push({ portName, streams: a });
        return a.map((s: Stream<unknown>) => s._alias(`${fullId}.${portName}`, inner));
      }
      return a;
    }) as A;
    scopeStack.unshift(inner);
    let result: R;
    try {
      result = builder(fullId, ...rescoped);
    } finally {
      scopeStack.shift();
    }
    const outs: { portName: string; stream: Stream<unknown> }[] = [];
    let ret: unknown = result;
    if (result instanceof Stream) {
      const s = result._alias(`${fullId}.down`, parent);
      outs.push({ portName: "down", stream: s });
      ret = s;
    } else if (result && typeof result === "object") {
      const obj: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(result)) {
        if (v instanceof Stream) {
          const s = v._alias(`${fullId}.${k}`, parent);
          outs.push({ portName: k, stream: s });
          obj[k] = s;
        } else obj[k] = v;
      }
      ret = obj;
    }
    if (parent.builtinStepId === undefined) {
      const node: StepNode = { stepId: fullId, stepName: stepId, opType, builtin: false, inputs, outputs: outs, substeps: inner.nodes };
      parent.children.set(stepId, node);
      parent.nodes.push(node);
    }
    return ret as R;
  };
}
