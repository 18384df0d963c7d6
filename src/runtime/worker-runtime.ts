// One worker's side of a run: answers the engine's dispatch calls by running user code over batches,
// routes what each node emits, and keeps the first error.
import { AbortExecution } from "../inputs.js";
import { WeirError } from "../errors.js";
import type { Dataflow, Step } from "../dataflow.js";
import { isPromiseLike, type Awaitable } from "../types.js";
import { encodeBatch, decodeBatch } from "./codec.js";
import { stash, unstash } from "./handles.js";
import { keyHash } from "./keyhash.js";
import { checkKeyed } from "./guard.js";
import { BATCH, EOF, EPOCH_CLOSED, FLAG_EOF, FLAG_FAILED, FLAG_PENDING, POLL, WAKE, type NativeWorker, type PlanSpec } from "./native.js";
import { planFlow, type Edge, type PlannedNode } from "./plan.js";
import { createNode, type NodeRuntime } from "./nodes.js";
import { assignPartitions } from "./partitions.js";
import { andThen, forEachInOrder } from "./awaitable.js";
import type { WorkerRecovery } from "./recovery-state.js";

/** The reply under construction for one dispatch call: `[wakeAtMs | -1, flags, token, (port, dest, payload)*]`. */
export type Reply = (number | Buffer)[];

export interface WorkerInfo {
  workerIndex: number;
  workerCount: number;
  /** Workers stepped by this JS thread (their batches can stay un-encoded). */
  localWorkers: ReadonlySet<number>;
}

export interface RunHooks {
  /** A completion arrived: the stepping loop should step again. */
  wake(): void;
  /** Called on AbortExecution: stop every source of the execution, without snapshotting the unfinished epoch. */
  abortExecution(): void;
  /** Whether sources were told to stop (drain signal or AbortExecution): EOF logic is skipped. */
  draining(): boolean;
  /** Whether the stop is an AbortExecution: then the unfinished epoch is neither snapshotted nor counted as closed. */
  abortingExecution(): boolean;
}

export class WorkerRuntime {
  readonly nodes: NodeRuntime[];
  readonly planned: PlannedNode[];
  failure: unknown = undefined;
  aborted = false;
  /** The engine finished this worker's dataflow. */
  eof = false;
  lastClosedEpoch = 0;
  #nextToken = 1;
  /** Per node: the call in progress, so a node's calls never overlap and outputs keep order. */
  readonly #busy: (Promise<void> | undefined)[];
  #worker: NativeWorker | undefined;

  /** Per node: every epoch before this one is closed at the node (sources: not tracked). */
  readonly #closedBefore: number[];

  /** Set before `prepare()` when the run has a recovery store. */
  recovery: WorkerRecovery | undefined;

  constructor(readonly flow: Dataflow, readonly info: WorkerInfo, readonly hooks: RunHooks) {
    this.planned = planFlow(flow);
    this.nodes = this.planned.map((p) => createNode(p, this));
    this.#busy = this.nodes.map(() => undefined);
    this.#closedBefore = this.planned.map((p) => (p.steps[0]!.def.kind === "input" ? Infinity : 0));
  }

  /** The first epoch of this execution. */
  get firstEpoch(): number {
    return (this.recovery?.point.resumeEpoch ?? 0) + 1;
  }

  /** After a node closed `epoch`: once every node of this worker has, snapshot sources and write the epoch. */
  private afterEpochClosed(node: number, epoch: number): Awaitable<void> {
    // An AbortExecution's unfinished epoch closes in the engine, but counts for nothing (API.md §8).
    if (this.hooks.abortingExecution()) return;
    this.#closedBefore[node] = Math.max(this.#closedBefore[node]!, epoch + 1);
    const closed = Math.min(...this.#closedBefore) - 1;
    if (closed > this.lastClosedEpoch) this.lastClosedEpoch = closed;
    const rec = this.recovery;
    if (!rec || closed <= rec.lastWritten) return;
    return andThen(forEachInOrder(this.nodes, (n) => n.snapshotPartitions?.()), () => rec.flush(closed));
  }

  /** Per node with fixed partitions: the partitions this worker can reach. */
  async listParts(): Promise<Record<number, string[]>> {
    const lists: Record<number, string[]> = {};
    for (const [i, n] of this.nodes.entries()) if (n.listParts) lists[i] = await n.listParts();
    return lists;
  }

  /** Builds partitions and sinks (may await user code), given every worker's `listParts()`. */
  async prepare(listsByWorker: Record<number, string[]>[]): Promise<void> {
    for (const [i, n] of this.nodes.entries()) {
      const owners = n.listParts ? assignPartitions(listsByWorker.map((l) => l[i] ?? [])) : undefined;
      await n.prepare(owners);
    }
  }

  planSpec(epochIntervalMs: number, firstEpoch: number): PlanSpec {
    return {
      epochIntervalMs,
      firstEpoch,
      nodes: this.planned.map((p) => {
        const first = p.steps[0]!;
        const isSource = first.def.kind === "input";
        return {
          kind: isSource ? "source" : "operator",
          name: p.steps.map((s) => s.stepId).join("+"),
          inputs: p.inputs.map((i) => ({ fromNode: i.fromNode, fromPort: i.fromPort, exchange: i.router !== null })),
          outputs: p.engineOutputs,
          notifyEpochs: !isSource,
        };
      }),
    };
  }

  /** The run's epoch length (set by `attach`). */
  epochIntervalMs = 0;

  attach(worker: NativeWorker, epochIntervalMs: number): void {
    this.#worker = worker;
    this.epochIntervalMs = epochIntervalMs;
    try {
      worker.build(this.planSpec(epochIntervalMs, this.firstEpoch), (kind, node, port, epoch, payload) => this.dispatch(kind, node, port, epoch, payload));
    } catch (e) {
      throw new WeirError("INTERNAL", `weir internal error: the engine rejected the dataflow of '${this.flow.flowId}': ${(e as Error).message}`, { cause: e });
    }
  }

  fail(err: unknown): void {
    if (err instanceof AbortExecution) {
      this.aborted = true;
      this.hooks.abortExecution();
      return;
    }
    if (this.failure === undefined) {
      this.failure = err instanceof WeirError ? err : new WeirError("INTERNAL", `weir internal error: ${String((err as Error)?.message ?? err)}`, { cause: err });
      if (err instanceof WeirError && err.workerIndex === undefined) {
        (err as { workerIndex?: number }).workerIndex = this.info.workerIndex;
      }
    }
  }

  dispatch(kind: number, node: number, port: number, epoch: number, payload: number | Buffer | null | undefined): Reply {
    const reply: Reply = [-1, 0, 0];
    if (this.failure !== undefined) {
      reply[1] = FLAG_FAILED;
      return reply;
    }
    const rt = this.nodes[node]!;
    const work = (): Awaitable<void> => {
      switch (kind) {
        case POLL: return rt.poll!(epoch, reply);
        case BATCH: {
          const items = typeof payload === "number" ? unstash(payload) : decodeBatch(payload as Buffer, rt.stepId);
          return rt.onBatch(port, epoch, items, reply);
        }
        case WAKE: return rt.onWake(epoch, reply);
        case EPOCH_CLOSED:
          return andThen(rt.onEpochClosed(epoch, reply), () => this.afterEpochClosed(node, epoch));
        case EOF: return rt.onEof(epoch, reply);
        default: throw new Error(`unknown dispatch kind ${kind}`);
      }
    };
    const busy = this.#busy[node];
    let result: Awaitable<void>;
    try {
      result = busy ? busy.then(work) : work();
    } catch (e) {
      this.fail(e);
      reply[1] = (reply[1] as number) | (this.failure !== undefined ? FLAG_FAILED : 0);
      return this.finish(rt, reply);
    }
    if (!isPromiseLike(result)) return this.finish(rt, reply);
    // Pending: the engine holds the epoch open until complete(token).
    const token = this.#nextToken++;
    const done: Promise<void> = Promise.resolve(result).then(
      () => undefined,
      (e) => { this.fail(e); },
    ).then(() => {
      if (this.#busy[node] === done) this.#busy[node] = undefined;
      const final = this.finish(rt, reply);
      if (this.failure !== undefined) final[1] = (final[1] as number) | FLAG_FAILED;
      try {
        this.#worker?.complete(node, token, final);
      } catch {
        // The worker was closed (the run ended): nothing is waiting for this reply.
      }
      this.hooks.wake();
    });
    this.#busy[node] = done;
    return [-1, FLAG_PENDING, token];
  }

  private finish(rt: NodeRuntime, reply: Reply): Reply {
    const wake = rt.wakeAtMs();
    reply[0] = wake ?? -1;
    if (rt.eof) reply[1] = (reply[1] as number) | FLAG_EOF;
    return reply;
  }

  /** Sends `items` out of logical port `port` of node `from` to every consumer edge. */
  emit(from: PlannedNode, port: number, items: unknown[], reply: Reply): void {
    if (items.length === 0) return;
    for (const edge of from.outEdges[port]!) this.emitEdge(edge, items, reply);
  }

  private emitEdge(edge: Edge, items: unknown[], reply: Reply): void {
    const { workerIndex, workerCount } = this.info;
    if (edge.router === null || workerCount === 1) {
      reply.push(edge.enginePort, workerIndex, stash(items));
      return;
    }
    const perDest: unknown[][] = Array.from({ length: workerCount }, () => []);
    const router = edge.router;
    switch (router.kind) {
      case "key":
        for (const item of items) perDest[keyHash(checkKeyed(router.stepId, item)[0]) % workerCount]!.push(item);
        break;
      case "random":
        for (const item of items) perDest[Math.floor(Math.random() * workerCount)]!.push(item);
        break;
      case "sinkPartition": {
        const sinkNode = this.nodes[edge.toNode]!;
        for (const item of items) perDest[sinkNode.ownerOf!(checkKeyed(router.stepId, item)[0])]!.push(item);
        break;
      }
    }
    const producer = this.planned.find((p) => p.outEdges.some((es) => es.includes(edge)))!;
    const stepId = producer.steps[producer.steps.length - 1]!.stepId;
    perDest.forEach((batch, dest) => {
      if (batch.length === 0) return;
      reply.push(edge.enginePort, dest, this.info.localWorkers.has(dest) ? stash(batch) : encodeBatch(batch, stepId));
    });
  }

  /** Closes every built partition (once), after the run ended in any way. */
  async close(): Promise<void> {
    for (const n of this.nodes) {
      try {
        await n.close();
      } catch (e) {
        this.fail(e);
      }
    }
    this.recovery?.store.close(); // releases the SQLite files (checkpoints and removes the WAL), so a store can be copied or restored between runs
  }
}

export type { Step };
