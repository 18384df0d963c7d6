// Compiles a Dataflow's primitive steps into engine nodes: stateless chains are fused into one node,
// and every edge that must move items between workers says how to route them.
import type { Dataflow, Step, Stream } from "../dataflow.js";
import { WeirError } from "../errors.js";
import { FixedPartitionedSink } from "../outputs.js";

/** How a consumer needs its input routed; the producing node computes each item's worker. */
export type Router =
  | { kind: "key"; stepId: string }
  | { kind: "random" }
  | { kind: "sinkPartition"; stepId: string; sink: FixedPartitionedSink<unknown, unknown> };

export interface Edge {
  /** The consuming engine node and its input port. */
  toNode: number;
  toPort: number;
  /** The producer's engine output port for this edge. */
  enginePort: number;
  router: Router | null;
}

export interface PlannedNode {
  index: number;
  /** The steps run by this node, in order (several for a fused stateless chain). */
  steps: Step[];
  inputs: { fromNode: number; fromPort: number; router: Router | null }[];
  /** Per logical output port of the node's last step: the edges it feeds. */
  outEdges: Edge[][];
  engineOutputs: number;
}

const OBSERVERS = new Set(["output", "inspect", "inspectDebug", "raises"]);

function routerFor(step: Step): Router | null {
  switch (step.def.kind) {
    case "stateful":
      return { kind: "key", stepId: step.stepId };
    case "redistribute":
      return { kind: "random" };
    case "output":
      return step.def.sink instanceof FixedPartitionedSink
        ? { kind: "sinkPartition", stepId: step.stepId, sink: step.def.sink as FixedPartitionedSink<unknown, unknown> }
        : null;
    default:
      return null;
  }
}

export function checkFlow(flow: Dataflow): void {
  const steps = flow._steps;
  if (!steps.some((s) => s.def.kind === "input")) {
    throw new WeirError("INVALID_FLOW", `dataflow '${flow.flowId}' has no input step: add op.input(...)`);
  }
  if (!steps.some((s) => OBSERVERS.has(s.opType) || s.def.kind === "output" || s.opType.endsWith(".output"))) {
    throw new WeirError("INVALID_FLOW", `dataflow '${flow.flowId}' has no output step: add op.output(...) or op.inspect(...)`);
  }
}

export function planFlow(flow: Dataflow): PlannedNode[] {
  const steps = flow._steps;
  const consumers = new Map<string, Step[]>(); // "<stepIndex>:<port>" → consuming steps
  const portKey = (s: Stream<unknown>) => `${s._producer.step.index}:${s._producer.port}`;
  for (const step of steps) {
    for (const s of step.inputs) {
      const k = portKey(s);
      consumers.set(k, [...(consumers.get(k) ?? []), step]);
    }
  }
  const nodeOfStep = new Map<number, PlannedNode>();
  const nodes: PlannedNode[] = [];
  for (const step of steps) {
    const up = step.inputs[0];
    // Fuse a stateless step into its producer's node when it is that port's only consumer. Source
    // nodes take stateless steps too, except combiners (a source node sees no epoch closes).
    const stateless = (k: string) => k === "transform" || k === "kernel" || k === "combine";
    if (stateless(step.def.kind) && step.inputs.length === 1 && up) {
      const producer = up._producer.step;
      const node = nodeOfStep.get(producer.index);
      const last = node?.steps[node.steps.length - 1];
      const intoSource = node?.steps[0]!.def.kind === "input";
      const fusable = intoSource ? step.def.kind !== "combine" : stateless(producer.def.kind);
      if (node && last === producer && fusable && producer.outputs.length === 1
        && (consumers.get(portKey(up))?.length ?? 0) === 1) {
        node.steps.push(step);
        nodeOfStep.set(step.index, node);
        continue;
      }
    }
    const node: PlannedNode = { index: nodes.length, steps: [step], inputs: [], outEdges: [], engineOutputs: 0 };
    const router = routerFor(step);
    for (const s of step.inputs) {
      const from = nodeOfStep.get(s._producer.step.index)!;
      node.inputs.push({ fromNode: from.index, fromPort: s._producer.port, router });
    }
    nodes.push(node);
    nodeOfStep.set(step.index, node);
  }
  // Wire each logical output port to its consumers, one engine output per edge.
  for (const node of nodes) {
    const last = node.steps[node.steps.length - 1]!;
    node.outEdges = last.outputs.map(() => []);
  }
  for (const node of nodes) {
    node.inputs.forEach((input, toPort) => {
      const from = nodes[input.fromNode]!;
      from.outEdges[input.fromPort]!.push({ toNode: node.index, toPort, enginePort: from.engineOutputs++, router: input.router });
    });
  }
  // Engine inputs name (producer node, engine port): rewrite fromPort to the engine port.
  for (const node of nodes) {
    node.inputs = node.inputs.map((input, toPort) => {
      const edge = nodes[input.fromNode]!.outEdges[input.fromPort]!.find((e) => e.toNode === node.index && e.toPort === toPort)!;
      return { ...input, fromPort: edge.enginePort };
    });
  }
  return nodes;
}
