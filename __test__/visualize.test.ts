// Definition-only tests: nothing runs. The first cases port Bytewax 0.21.1's test_visualize.py; weir's `map` is a
// built-in, so it renders with no substeps and its output port lists no inner sources.
import { describe, expect, it } from "vitest";
import { Dataflow, operator, type KeyedStream, type Stream } from "../src/dataflow.js";
import { WeirError } from "../src/errors.js";
import { join } from "../src/join.js";
import * as op from "../src/operators.js";
import { TestingSink, TestingSource } from "../src/testing/sources.js";
import { toJson, toMermaid, toPlantuml, toRendered, type RenderedPort } from "../src/visualize.js";

const port = (portName: string, portId: string, from: string[] = []): RenderedPort =>
  ({ typ: "RenderedPort", portName, portId, fromPortIds: from, fromStreamIds: from });

function linearFlow(): Dataflow {
  const flow = new Dataflow("test_df");
  const s = op.input("inp", flow, new TestingSource([1, 2, 3]));
  const added = op.map("add_one", s, (x) => x + 1);
  op.output("out", added, new TestingSink<number>([]));
  return flow;
}

function nonlinearFlow(): Dataflow {
  const flow = new Dataflow("test_df");
  const nums = op.input("nums", flow, new TestingSource([1, 2, 3]));
  const ones = op.map("add_one", nums, (x) => x + 1);
  const twos = op.map("add_two", nums, (x) => x + 2);
  op.output("out_one", ones, new TestingSink<number>([]));
  op.output("out_two", twos, new TestingSink<number>([]));
  return flow;
}

function multistreamFlow(): Dataflow {
  const flow = new Dataflow("test_df");
  const ones = op.input("ones", flow, new TestingSource([2, 3, 4]));
  const twos = op.input("twos", flow, new TestingSource([3, 4, 5]));
  const s = op.merge("merge", ones, twos);
  op.output("out", s, new TestingSink<number>([]));
  return flow;
}

describe("toJson (Bytewax test_visualize cases)", () => {
  it("linear", () => {
    expect(JSON.parse(toJson(linearFlow()))).toEqual({
      typ: "RenderedDataflow",
      flowId: "test_df",
      substeps: [
        { typ: "RenderedOperator", opType: "input", stepName: "inp", stepId: "test_df.inp",
          inpPorts: [], outPorts: [port("down", "test_df.inp.down")], substeps: [] },
        { typ: "RenderedOperator", opType: "map", stepName: "add_one", stepId: "test_df.add_one",
          inpPorts: [port("up", "test_df.add_one.up", ["test_df.inp.down"])], outPorts: [port("down", "test_df.add_one.down")], substeps: [] },
        { typ: "RenderedOperator", opType: "output", stepName: "out", stepId: "test_df.out",
          inpPorts: [port("up", "test_df.out.up", ["test_df.add_one.down"])], outPorts: [], substeps: [] },
      ],
    });
  });

  it("nonlinear", () => {
    const rendered = JSON.parse(toJson(nonlinearFlow()));
    expect(rendered.substeps.map((s: { stepId: string; inpPorts: RenderedPort[] }) => [s.stepId, s.inpPorts.map((p) => p.fromPortIds)])).toEqual([
      ["test_df.nums", []],
      ["test_df.add_one", [["test_df.nums.down"]]],
      ["test_df.add_two", [["test_df.nums.down"]]],
      ["test_df.out_one", [["test_df.add_one.down"]]],
      ["test_df.out_two", [["test_df.add_two.down"]]],
    ]);
    expect(rendered.substeps[4]).toEqual({
      typ: "RenderedOperator", opType: "output", stepName: "out_two", stepId: "test_df.out_two",
      inpPorts: [port("up", "test_df.out_two.up", ["test_df.add_two.down"])], outPorts: [], substeps: [],
    });
  });

  it("multistream input", () => {
    expect(toRendered(multistreamFlow()).substeps[2]).toEqual({
      typ: "RenderedOperator", opType: "merge", stepName: "merge", stepId: "test_df.merge",
      inpPorts: [port("ups", "test_df.merge.ups", ["test_df.ones.down", "test_df.twos.down"])],
      outPorts: [port("down", "test_df.merge.down")], substeps: [],
    });
  });

  it("is JSON.stringify(toRendered(flow), null, 2) with typ first", () => {
    const flow = linearFlow();
    const json = toJson(flow);
    expect(json).toBe(JSON.stringify(toRendered(flow), null, 2));
    expect(json.split("\n").slice(0, 4)).toEqual(["{", '  "typ": "RenderedDataflow",', '  "flowId": "test_df",', '  "substeps": [']);
    expect(Object.keys(toRendered(flow).substeps[1]!)).toEqual(["typ", "opType", "stepName", "stepId", "inpPorts", "outPorts", "substeps"]);
    expect(Object.keys(toRendered(flow).substeps[1]!.inpPorts[0]!)).toEqual(["typ", "portName", "portId", "fromPortIds", "fromStreamIds"]);
  });
});

describe("toMermaid (Bytewax test_visualize cases)", () => {
  it("linear", () => {
    expect(toMermaid(linearFlow())).toBe([
      "flowchart TD",
      'subgraph "test_df (Dataflow)"',
      'test_df.inp["inp (input)"]',
      'test_df.add_one["add_one (map)"]',
      'test_df.inp -- "down → up" --> test_df.add_one',
      'test_df.out["out (output)"]',
      'test_df.add_one -- "down → up" --> test_df.out',
      "end",
    ].join("\n"));
  });

  it("nonlinear", () => {
    expect(toMermaid(nonlinearFlow())).toBe([
      "flowchart TD",
      'subgraph "test_df (Dataflow)"',
      'test_df.nums["nums (input)"]',
      'test_df.add_one["add_one (map)"]',
      'test_df.nums -- "down → up" --> test_df.add_one',
      'test_df.add_two["add_two (map)"]',
      'test_df.nums -- "down → up" --> test_df.add_two',
      'test_df.out_one["out_one (output)"]',
      'test_df.add_one -- "down → up" --> test_df.out_one',
      'test_df.out_two["out_two (output)"]',
      'test_df.add_two -- "down → up" --> test_df.out_two',
      "end",
    ].join("\n"));
  });

  it("multistream input", () => {
    expect(toMermaid(multistreamFlow())).toBe([
      "flowchart TD",
      'subgraph "test_df (Dataflow)"',
      'test_df.ones["ones (input)"]',
      'test_df.twos["twos (input)"]',
      'test_df.merge["merge (merge)"]',
      'test_df.ones -- "down → ups" --> test_df.merge',
      'test_df.twos -- "down → ups" --> test_df.merge',
      'test_df.out["out (output)"]',
      'test_df.merge -- "down → up" --> test_df.out',
      "end",
    ].join("\n"));
  });
});

// A custom operator with two substeps, one output per branch.
const addThenDouble = operator("add_then_double", (_id: string, up: Stream<number>) => {
  const added = op.map("add", up, (x) => x + 1);
  return op.map("double", added, (x) => x * 2);
}, ["up"]);

function customFlow(): Dataflow {
  const flow = new Dataflow("f");
  const inp = op.input("inp", flow, new TestingSource([1, 2, 3]));
  const calc = addThenDouble("calc", inp);
  const { trues, falses } = op.branch("split", calc, (x) => x > 5);
  op.output("big", trues, new TestingSink<number>([]));
  op.output("small", falses, new TestingSink<number>([]));
  return flow;
}

describe("custom operators", () => {
  it("render their substeps, with links resolved through the operator's ports", () => {
    const calc = toRendered(customFlow()).substeps[1]!;
    expect(calc).toEqual({
      typ: "RenderedOperator", opType: "add_then_double", stepName: "calc", stepId: "f.calc",
      inpPorts: [port("up", "f.calc.up", ["f.inp.down"])],
      outPorts: [port("down", "f.calc.down", ["f.calc.double.down"])],
      substeps: [
        { typ: "RenderedOperator", opType: "map", stepName: "add", stepId: "f.calc.add",
          inpPorts: [port("up", "f.calc.add.up", ["f.calc.up"])], outPorts: [port("down", "f.calc.add.down")], substeps: [] },
        { typ: "RenderedOperator", opType: "map", stepName: "double", stepId: "f.calc.double",
          inpPorts: [port("up", "f.calc.double.up", ["f.calc.add.down"])], outPorts: [port("down", "f.calc.double.down")], substeps: [] },
      ],
    });
  });

  it("downstream steps link to the operator's output port, and named output ports keep their names", () => {
    const [, , split, big, small] = toRendered(customFlow()).substeps;
    expect(split!.inpPorts).toEqual([port("up", "f.split.up", ["f.calc.down"])]);
    expect(split!.outPorts).toEqual([port("trues", "f.split.trues"), port("falses", "f.split.falses")]);
    expect(big!.inpPorts[0]!.fromPortIds).toEqual(["f.split.trues"]);
    expect(small!.inpPorts[0]!.fromPortIds).toEqual(["f.split.falses"]);
  });

  it("mermaid shows only top-level steps", () => {
    expect(toMermaid(customFlow())).toBe([
      "flowchart TD",
      'subgraph "f (Dataflow)"',
      'f.inp["inp (input)"]',
      'f.calc["calc (add_then_double)"]',
      'f.inp -- "down → up" --> f.calc',
      'f.split["split (branch)"]',
      'f.calc -- "down → up" --> f.split',
      'f.big["big (output)"]',
      'f.split -- "trues → up" --> f.big',
      'f.small["small (output)"]',
      'f.split -- "falses → up" --> f.small',
      "end",
    ].join("\n"));
  });

  it("an operator returning its input unchanged, having no substeps, lists no inner source", () => {
    const passThrough = operator("pass", (_id: string, up: Stream<number>) => up, ["up"]);
    const flow = new Dataflow("f");
    const inp = op.input("inp", flow, new TestingSource([1]));
    const passed = passThrough("pass", inp);
    op.output("out", passed, new TestingSink<number>([]));
    op.output("direct", inp, new TestingSink<number>([]));
    const [, pass, out, direct] = toRendered(flow).substeps;
    expect(pass!.inpPorts).toEqual([port("up", "f.pass.up", ["f.inp.down"])]);
    expect(pass!.outPorts).toEqual([port("down", "f.pass.down")]);
    expect(pass!.substeps).toEqual([]);
    expect(out!.inpPorts[0]!.fromPortIds).toEqual(["f.pass.down"]);
    expect(direct!.inpPorts[0]!.fromPortIds).toEqual(["f.inp.down"]);
  });

  it("nested operators resolve each level through its own ports", () => {
    const inner = operator("inner", (_id: string, up: Stream<number>) => op.map("m", up, (x) => -x), ["up"]);
    const outer = operator("outer", (_id: string, up: Stream<number>) => inner("in", op.map("pre", up, (x) => x * 10)), ["up"]);
    const flow = new Dataflow("f");
    const inp = op.input("inp", flow, new TestingSource([1]));
    op.output("out", outer("o", inp), new TestingSink<number>([]));
    const [, o, out] = toRendered(flow).substeps;
    expect(o!.outPorts).toEqual([port("down", "f.o.down", ["f.o.in.down"])]);
    const [pre, inn] = o!.substeps;
    expect(pre!.inpPorts[0]!.fromPortIds).toEqual(["f.o.up"]);
    expect(inn!.inpPorts).toEqual([port("up", "f.o.in.up", ["f.o.pre.down"])]);
    expect(inn!.outPorts).toEqual([port("down", "f.o.in.down", ["f.o.in.m.down"])]);
    expect(inn!.substeps[0]!.inpPorts[0]!.fromPortIds).toEqual(["f.o.in.up"]);
    expect(out!.inpPorts[0]!.fromPortIds).toEqual(["f.o.down"]);
  });
});

describe("built-in operators", () => {
  function joinFlow(): Dataflow {
    const flow = new Dataflow("f");
    const a = op.input("a", flow, new TestingSource<[string, number]>([]));
    const b = op.input("b", flow, new TestingSource<[string, string]>([]));
    const folded = op.foldFinal("fold", a as KeyedStream<number>, () => 0, (acc, x) => acc + x);
    const joined = join("join", folded, b as KeyedStream<string>, { emitMode: "final" });
    op.output("out", joined, new TestingSink<unknown>([]));
    return flow;
  }

  it("render atomically, with no substeps and links to their own ports", () => {
    const [, , fold, joined, out] = toRendered(joinFlow()).substeps;
    expect(fold).toEqual({
      typ: "RenderedOperator", opType: "foldFinal", stepName: "fold", stepId: "f.fold",
      inpPorts: [port("up", "f.fold.up", ["f.a.down"])], outPorts: [port("down", "f.fold.down")], substeps: [],
    });
    expect(joined).toEqual({
      typ: "RenderedOperator", opType: "join", stepName: "join", stepId: "f.join",
      inpPorts: [port("sides", "f.join.sides", ["f.fold.down", "f.b.down"])], outPorts: [port("down", "f.join.down")], substeps: [],
    });
    expect(out!.inpPorts).toEqual([port("up", "f.out.up", ["f.join.down"])]);
  });

  it("mermaid: one edge per incoming stream", () => {
    expect(toMermaid(joinFlow())).toBe([
      "flowchart TD",
      'subgraph "f (Dataflow)"',
      'f.a["a (input)"]',
      'f.b["b (input)"]',
      'f.fold["fold (foldFinal)"]',
      'f.a -- "down → up" --> f.fold',
      'f.join["join (join)"]',
      'f.fold -- "down → sides" --> f.join',
      'f.b -- "down → sides" --> f.join',
      'f.out["out (output)"]',
      'f.join -- "down → up" --> f.out',
      "end",
    ].join("\n"));
  });

  it("inside a custom operator, still atomic", () => {
    const totals = operator("totals", (_id: string, up: KeyedStream<number>) => op.reduceFinal("sum", up, (x, y) => x + y), ["up"]);
    const flow = new Dataflow("f");
    const inp = op.input("inp", flow, new TestingSource<[string, number]>([]));
    op.output("out", totals("t", inp as KeyedStream<number>), new TestingSink<unknown>([]));
    const [, t, out] = toRendered(flow).substeps;
    expect(t!.substeps.map((s) => [s.stepId, s.substeps.length])).toEqual([["f.t.sum", 0]]);
    expect(t!.substeps[0]!.inpPorts[0]!.fromPortIds).toEqual(["f.t.up"]);
    expect(t!.outPorts).toEqual([port("down", "f.t.down", ["f.t.sum.down"])]);
    expect(out!.inpPorts[0]!.fromPortIds).toEqual(["f.t.down"]);
  });
});

describe("toPlantuml (Bytewax's layout)", () => {
  it("one component per top-level step with its ports and incoming links", () => {
    expect(toPlantuml(linearFlow())).toBe([
      "@startuml",
      "component test_df.inp [",
      "    test_df.inp (input)",
      "]",
      "component test_df.inp {",
      "    portout test_df.inp.down",
      "}",
      "component test_df.add_one [",
      "    test_df.add_one (map)",
      "]",
      "component test_df.add_one {",
      "    portin test_df.add_one.up",
      "    portout test_df.add_one.down",
      "    test_df.inp.down --> test_df.add_one.up : test_df.inp.down",
      "}",
      "component test_df.out [",
      "    test_df.out (output)",
      "]",
      "component test_df.out {",
      "    portin test_df.out.up",
      "    test_df.add_one.down --> test_df.out.up : test_df.add_one.down",
      "}",
      "@enduml",
    ].join("\n"));
  });

  it("recursive nests substeps and links inner outputs to the operator's outputs", () => {
    const flow = new Dataflow("f");
    op.output("out", addThenDouble("calc", op.input("inp", flow, new TestingSource([1]))), new TestingSink<number>([]));
    const calcLines = [
      "component f.calc [",
      "    f.calc (add_then_double)",
      "]",
      "component f.calc {",
      "    portin f.calc.up",
      "    portout f.calc.down",
      "    f.inp.down --> f.calc.up : f.inp.down",
    ];
    const recursive = toPlantuml(flow, true).split("\n");
    expect(recursive.slice(7, 14)).toEqual(calcLines);
    expect(recursive.slice(14, 34)).toEqual([
      "    component f.calc.add [",
      "        f.calc.add (map)",
      "    ]",
      "    component f.calc.add {",
      "        portin f.calc.add.up",
      "        portout f.calc.add.down",
      "        f.calc.up --> f.calc.add.up : f.calc.up",
      "    }",
      "    component f.calc.double [",
      "        f.calc.double (map)",
      "    ]",
      "    component f.calc.double {",
      "        portin f.calc.double.up",
      "        portout f.calc.double.down",
      "        f.calc.add.down --> f.calc.double.up : f.calc.add.down",
      "    }",
      "    f.calc.double.down --> f.calc.down : f.calc.double.down",
      "}",
      "component f.out [",
      "    f.out (output)",
    ]);
    const flat = toPlantuml(flow).split("\n");
    expect(flat.slice(7, 15)).toEqual([...calcLines, "}"]);
    expect(flat.join("\n")).not.toContain("f.calc.add");
  });
});

describe("argument checks", () => {
  it("a non-Dataflow is INVALID_ARGUMENT", () => {
    for (const f of [toRendered, toJson, toMermaid, toPlantuml]) {
      expect(() => f({} as Dataflow)).toThrow(WeirError);
      expect(() => f({} as Dataflow)).toThrow(/must be a Dataflow/);
    }
  });

  it("an empty flow renders an empty diagram", () => {
    const flow = new Dataflow("empty");
    expect(toRendered(flow)).toEqual({ typ: "RenderedDataflow", flowId: "empty", substeps: [] });
    expect(toMermaid(flow)).toBe('flowchart TD\nsubgraph "empty (Dataflow)"\nend');
    expect(toPlantuml(flow)).toBe("@startuml\n@enduml");
  });
});
