// Building flows (API.md §2): Bytewax 0.21.1's pytests/test_dataflow.py. Python's TypeError/ValueError/AssertionError at
// definition time are weir's WeirError codes INVALID_ID and INVALID_ARGUMENT.
import { describe, expect, it } from "vitest";
import { Dataflow, op, operator, runMain, Stream, TestingSink, TestingSource } from "../src/index.js";
import { toRendered } from "../src/visualize.js";

describe("pytests/test_dataflow.py", () => {
  it("test_operator_with_non_generic_streams: a builder returning its input re-identifies it as port down", () => {
    const testOp = operator("test_op", (_stepId: string, up: Stream<unknown>) => up);
    const flow = new Dataflow("test_df");
    const inp = op.input("inp", flow, new TestingSource([]));
    const down = testOp("test_op", inp);
    expect(down).toBeInstanceOf(Stream);
    expect(down.streamId).toBe("test_df.test_op.down");
  });

  it("test_operator_with_optional_argument", () => {
    const testOp = operator("test_op", (_stepId: string, up: Stream<string>, config?: Record<string, string>) => {
      void config;
      return up;
    });
    const flow = new Dataflow("test_df");
    const inp = op.input("inp", flow, new TestingSource<string>([]));
    expect(testOp("test_op", inp).streamId).toBe("test_df.test_op.down");
    expect(testOp("test_op2", inp, { a: "b" }).streamId).toBe("test_df.test_op2.down");
  });

  it("test_operator_with_named_downstreams: an object of streams gives one output port per field", () => {
    const testOp = operator("test_op", (_stepId: string, up: Stream<number>) => ({ a: up, b: up }));
    const flow = new Dataflow("test_df");
    const inp = op.input("inp", flow, new TestingSource<number>([]));
    const out = testOp("test_op", inp);
    expect(out.a.streamId).toBe("test_df.test_op.a");
    expect(out.b.streamId).toBe("test_df.test_op.b");
    const step = toRendered(flow).substeps.find((s) => s.stepId === "test_df.test_op")!;
    expect(step.outPorts.map((p) => p.portName)).toEqual(["a", "b"]);
  });

  it("test_operator_with_non_generic_downstreams", () => {
    const testOp = operator("test_op", (_stepId: string, up: Stream<unknown>) => ({ a: up, b: up }));
    const flow = new Dataflow("test_df");
    const inp = op.input("inp", flow, new TestingSource([]));
    const out = testOp("test_op", inp);
    expect([out.a.streamId, out.b.streamId]).toEqual(["test_df.test_op.a", "test_df.test_op.b"]);
  });

  // Bytewax re-scopes only top-level Stream arguments, so a list of streams trips "inconsistent stream scoping". weir re-scopes
  // Stream[] arguments too (API.md §2), so the same builder works; the scoping check still catches a stream that reaches the
  // builder another way (here through a closure), which is INVALID_ARGUMENT.
  it("test_raises_on_nested_stream (adapted: Stream[] arguments are re-scoped; a captured outer stream is rejected)", async () => {
    const testOp = operator("test_op", (_stepId: string, up: Stream<number>, notAllowed: Stream<number>[]) =>
      op.merge("merge", up, ...notAllowed));
    const flow = new Dataflow("test_df");
    const inp1 = op.input("inp1", flow, new TestingSource([1]));
    const inp2 = op.input("inp2", flow, new TestingSource([2]));
    const merged = testOp("test_op", inp1, [inp2]);
    const out: number[] = [];
    op.output("out", merged, new TestingSink(out));
    await runMain(flow);
    expect(out.sort()).toEqual([1, 2]);

    const captured = op.input("inp3", flow, new TestingSource([3]));
    const leaky = operator("leaky", (_stepId: string, up: Stream<number>) => op.merge("merge", up, captured));
    expect(() => leaky("leaky", inp1)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("test_then: s.then(f, id, ...args) is f(id, s, ...args)", async () => {
    const out: number[] = [];
    const flow = new Dataflow("test_df");
    op.input("inp", flow, new TestingSource([0, 1, 2]))
      .then(op.map, "add_one", (x: number) => x + 1)
      .then(op.output, "out", new TestingSink(out));
    await runMain(flow);
    expect(out).toEqual([1, 2, 3]);
  });

  it("test_step_id_check_str: a non-string step id is INVALID_ID", () => {
    const flow = new Dataflow("test_df");
    expect(() => op.input(1 as unknown as string, flow, new TestingSource([]))).toThrow(expect.objectContaining({ code: "INVALID_ID" }));
  });

  it("test_step_id_check_periods: a step id with a period is INVALID_ID", () => {
    const flow = new Dataflow("test_df");
    expect(() => op.input("1.5", flow, new TestingSource([]))).toThrow(expect.objectContaining({ code: "INVALID_ID" }));
    expect(() => new Dataflow("a.b")).toThrow(expect.objectContaining({ code: "INVALID_ID" }));
  });

  it("test_check_non_stream: a non-Stream upstream is INVALID_ARGUMENT", () => {
    expect(() => op.map("map", 1 as never, (x: number) => x)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("test_check_non_stream_vararg: non-Stream arguments to merge are INVALID_ARGUMENT", () => {
    expect(() => op.merge("map", 1 as never, 2 as never, 3 as never)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });
});

describe("weir's additions to the definition-time checks (API.md §2)", () => {
  it("streams of two different dataflows cannot meet", () => {
    const a = op.input("inp", new Dataflow("a"), new TestingSource([1]));
    const b = op.input("inp", new Dataflow("b"), new TestingSource([2]));
    expect(() => op.merge("m", a, b)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("merge with no streams is INVALID_ARGUMENT", () => {
    expect(() => op.merge("m")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("awaiting a Stream rejects with INVALID_ARGUMENT", async () => {
    const s = op.input("inp", new Dataflow("test_df"), new TestingSource([1]));
    await expect((async () => await (s as unknown as Promise<unknown>))()).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("input ports of a custom operator are named by portNames, else arg<i>", () => {
    const two = operator("two", (_id: string, a: Stream<number>, _n: number, b: Stream<number>) => op.merge("m", a, b), ["left", "n", "right"]);
    const dflt = operator("dflt", (_id: string, a: Stream<number>, b: Stream<number>) => op.merge("m", a, b));
    const flow = new Dataflow("test_df");
    const x = op.input("x", flow, new TestingSource([1]));
    const y = op.input("y", flow, new TestingSource([2]));
    two("two", x, 5, y);
    dflt("dflt", x, y);
    const steps = toRendered(flow).substeps;
    expect(steps.find((s) => s.stepName === "two")!.inpPorts.map((p) => p.portName)).toEqual(["left", "right"]);
    expect(steps.find((s) => s.stepName === "dflt")!.inpPorts.map((p) => p.portName)).toEqual(["arg0", "arg1"]);
    expect(steps.find((s) => s.stepName === "two")!.substeps.map((s) => s.stepId)).toEqual(["test_df.two.m"]);
  });
});
