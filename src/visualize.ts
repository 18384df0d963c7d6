//! Pictures of a dataflow's structure (API.md §11): a rendered model with every port link resolved, as JSON, Mermaid or PlantUML.
import { Dataflow, type StepNode, type Stream } from "./dataflow.js";
import { invalidArgument } from "./errors.js";
import { typeOf } from "./runtime/guard.js";

/** A port with the ports and streams feeding it resolved to flow-unique ids. */
export interface RenderedPort {
  typ: "RenderedPort";
  portName: string;
  /** `<stepId>.<portName>`. */
  portId: string;
  /** For an input port, the ports its streams come from in the step's scope (a custom operator's substeps see its input
   * ports); for an output port of a step with substeps, the inner port that feeds it; otherwise empty. */
  fromPortIds: string[];
  /** The ids of those streams, in the same order. */
  fromStreamIds: string[];
}

/** A step with its ports resolved; built-in operators have no substeps. */
export interface RenderedOperator {
  typ: "RenderedOperator";
  opType: string;
  stepName: string;
  stepId: string;
  inpPorts: RenderedPort[];
  outPorts: RenderedPort[];
  substeps: RenderedOperator[];
}

export interface RenderedDataflow {
  typ: "RenderedDataflow";
  flowId: string;
  substeps: RenderedOperator[];
}

/**
 * The dataflow as a tree of steps whose port links are resolved: connect each `portId` to its `fromPortIds`.
 *
 * @example
 * const rendered = toRendered(flow);
 * rendered.substeps.map((s) => s.stepId); // ["f.inp", "f.double", "f.out"]
 */
export function toRendered(flow: Dataflow): RenderedDataflow {
  if (!(flow instanceof Dataflow)) throw invalidArgument(`visualize: 'flow' must be a Dataflow, got ${typeOf(flow)}`);
  const links = new Links();
  return { typ: "RenderedDataflow", flowId: flow.flowId, substeps: flow._stepTree.map((node) => renderStep(node, links)) };
}

/** `toRendered(flow)` as indented JSON. */
export function toJson(flow: Dataflow): string {
  return JSON.stringify(toRendered(flow), null, 2);
}

/**
 * A Mermaid flowchart of the top-level steps (substeps are not shown).
 *
 * @example
 * console.log(toMermaid(flow));
 * // flowchart TD
 * // subgraph "f (Dataflow)"
 * // f.inp["inp (input)"]
 * // f.double["double (map)"]
 * // f.inp -- "down → up" --> f.double
 * // …
 * // end
 */
export function toMermaid(flow: Dataflow): string {
  const rendered = toRendered(flow);
  const portById = new Map<string, { port: RenderedPort; step: RenderedOperator }>();
  for (const step of rendered.substeps) {
    for (const port of [...step.inpPorts, ...step.outPorts]) portById.set(port.portId, { port, step });
  }
  const lines = ["flowchart TD", `subgraph "${rendered.flowId} (Dataflow)"`];
  for (const step of rendered.substeps) {
    lines.push(`${step.stepId}["${step.stepName} (${step.opType})"]`);
    for (const port of step.inpPorts) {
      for (const fromPortId of port.fromPortIds) {
        const from = portById.get(fromPortId);
        if (from) lines.push(`${from.step.stepId} -- "${from.port.portName} → ${port.portName}" --> ${step.stepId}`);
      }
    }
  }
  lines.push("end");
  return lines.join("\n");
}

/**
 * A PlantUML component diagram, laid out as Bytewax does: a component per step with its ports and incoming links;
 * with `recursive`, custom operators also contain their substeps.
 */
export function toPlantuml(flow: Dataflow, recursive = false): string {
  const rendered = toRendered(flow);
  const lines = ["@startuml"];
  for (const step of rendered.substeps) lines.push(...plantumlStep(step, recursive));
  lines.push("@enduml");
  return lines.join("\n");
}

function plantumlStep(step: RenderedOperator, recursive: boolean): string[] {
  const inner: string[] = [];
  for (const port of step.inpPorts) inner.push(`portin ${port.portId}`);
  for (const port of step.outPorts) inner.push(`portout ${port.portId}`);
  for (const port of step.inpPorts) inner.push(...plantumlLinks(port));
  if (recursive) {
    for (const substep of step.substeps) inner.push(...plantumlStep(substep, recursive));
    // Then link the inner outputs to the step's own outputs.
    for (const port of step.outPorts) inner.push(...plantumlLinks(port));
  }
  return [
    `component ${step.stepId} [`,
    `    ${step.stepId} (${step.opType})`,
    "]",
    `component ${step.stepId} {`,
    ...inner.map((line) => `    ${line}`),
    "}",
  ];
}

function plantumlLinks(port: RenderedPort): string[] {
  return port.fromPortIds.map((fromPortId, i) => `${fromPortId} --> ${port.portId} : ${port.fromStreamIds[i]}`);
}

/**
 * Where streams come from. A stream's id is its producing port's id (custom operators re-identify their ports), except
 * for the streams built-ins return, which keep their hidden internal id: those resolve by their producing primitive.
 */
class Links {
  /** Every port id rendered so far. */
  readonly #portIds = new Set<string>();
  /** Built-in output ports by the primitive step and port that actually produce their items. */
  readonly #builtinOutputs = new Map<string, string>();

  addInputPort(portId: string): void {
    this.#portIds.add(portId);
  }

  addOutputPort(node: StepNode, stream: Stream<unknown>, portId: string): void {
    this.#portIds.add(portId);
    if (node.builtin) this.#builtinOutputs.set(producerKey(stream), portId);
  }

  /** The port a consumed stream comes from, in the scope that consumes it. */
  resolve(stream: Stream<unknown>): string {
    if (this.#portIds.has(stream.streamId)) return stream.streamId;
    return this.#builtinOutputs.get(producerKey(stream)) ?? stream.streamId;
  }
}

function producerKey(stream: Stream<unknown>): string {
  return `${stream._producer.step.index}:${stream._producer.port}`;
}

function renderStep(node: StepNode, links: Links): RenderedOperator {
  const inpPorts = node.inputs.map(({ portName, streams }): RenderedPort => {
    const fromIds = streams.map((s) => links.resolve(s));
    return port(node, portName, fromIds, fromIds);
  });
  for (const p of inpPorts) links.addInputPort(p.portId);
  for (const out of node.outputs) links.addOutputPort(node, out.stream, portIdOf(node, out.portName));

  const substeps = node.substeps.map((substep) => renderStep(substep, links));
  const innerSources = substeps.length > 0 ? innerOutputSources(node, inpPorts, substeps) : undefined;
  const outPorts = node.outputs.map(({ portName, stream }): RenderedPort => {
    const from = innerSources?.get(producerKey(stream));
    return port(node, portName, from ? [from] : [], from ? [from] : []);
  });
  return { typ: "RenderedOperator", opType: node.opType, stepName: node.stepName, stepId: node.stepId, inpPorts, outPorts, substeps };
}

/**
 * Inside a custom operator, the port that produces each primitive output: its own input ports (a builder may return an
 * input unchanged), then its substeps' output ports in definition order, later ones winning.
 */
function innerOutputSources(node: StepNode, inpPorts: RenderedPort[], substeps: RenderedOperator[]): Map<string, string> {
  const sources = new Map<string, string>();
  node.inputs.forEach(({ streams }, i) => {
    for (const s of streams) sources.set(producerKey(s), inpPorts[i]!.portId);
  });
  node.substeps.forEach((substep, i) => {
    substep.outputs.forEach(({ stream }, j) => sources.set(producerKey(stream), substeps[i]!.outPorts[j]!.portId));
  });
  return sources;
}

function portIdOf(node: StepNode, portName: string): string {
  return `${node.stepId}.${portName}`;
}

function port(node: StepNode, portName: string, fromPortIds: string[], fromStreamIds: string[]): RenderedPort {
  return { typ: "RenderedPort", portName, portId: portIdOf(node, portName), fromPortIds, fromStreamIds: [...fromStreamIds] };
}
