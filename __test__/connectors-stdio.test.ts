import { EventEmitter } from "node:events";
import { inspect } from "node:util";
import { afterEach, describe, expect, it, vi } from "vitest";
import { StdOutSink } from "../src/connectors/stdio.js";

function captureStdout(returns = true) {
  const chunks: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation(((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return returns;
  }) as typeof process.stdout.write);
  return { chunks, spy };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("StdOutSink (ported from Bytewax test_stdio.py)", () => {
  it("test_std_output: writes each string and a newline", async () => {
    const { chunks } = captureStdout();
    const part = await new StdOutSink<string>().build("test_df.out", 0, 1);
    await part.writeBatch(["a"]);
    await part.writeBatch(["b"]);
    expect(chunks.join("")).toBe("a\nb\n");
  });
});

describe("StdOutSink", () => {
  it("writes a whole batch with one write call", async () => {
    const { chunks, spy } = captureStdout();
    const part = await new StdOutSink<string>().build("s", 0, 1);
    await part.writeBatch(["x", "", "y\tz"]);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(chunks).toEqual(["x\n\ny\tz\n"]);
  });

  it("writes nothing for an empty batch", async () => {
    const { spy } = captureStdout();
    const part = await new StdOutSink().build("s", 0, 1);
    await part.writeBatch([]);
    expect(spy).not.toHaveBeenCalled();
  });

  it("formats non-strings with util.inspect(x, { depth: null, breakLength: Infinity })", async () => {
    const { chunks } = captureStdout();
    const part = await new StdOutSink().build("s", 0, 1);
    const deep = { a: { b: { c: { d: { e: [1, 2, 3] } } } } };
    const spec = (x: unknown): string => inspect(x, { depth: null, breakLength: Infinity });
    await part.writeBatch([42, ["k", 1.5], deep, new Map([["x", new Set([1])]]), null, undefined, 7n]);
    expect(chunks.join("")).toBe(
      "42\n" +
      "[ 'k', 1.5 ]\n" +
      spec(deep) + "\n" +
      "Map(1) { 'x' => Set(1) { 1 } }\n" +
      "null\n" +
      "undefined\n" +
      "7n\n",
    );
  });

  it("prints up to three nested levels on one line", async () => {
    const { chunks } = captureStdout();
    const part = await new StdOutSink().build("s", 0, 1);
    await part.writeBatch([{ a: { b: [1, "x"] }, long: "y".repeat(200) }]);
    expect(chunks).toEqual([`{ a: { b: [ 1, 'x' ] }, long: '${"y".repeat(200)}' }\n`]);
  });

  it("builds a partition on every worker", async () => {
    const { chunks } = captureStdout();
    const sink = new StdOutSink<string>();
    const parts = await Promise.all([0, 1, 2].map((w) => sink.build("s", w, 3)));
    for (const [w, part] of parts.entries()) await part.writeBatch([`w${w}`]);
    expect(chunks).toEqual(["w0\n", "w1\n", "w2\n"]);
  });

  it("waits for 'drain' when stdout's buffer is full", async () => {
    captureStdout(false);
    const part = await new StdOutSink<string>().build("s", 0, 1);
    let done = false;
    const pending = Promise.resolve(part.writeBatch(["slow"])).then(() => { done = true; });
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    (process.stdout as unknown as EventEmitter).emit("drain");
    await pending;
    expect(done).toBe(true);
  });

  it("returns synchronously when the write went through", async () => {
    captureStdout(true);
    const part = await new StdOutSink<string>().build("s", 0, 1);
    expect(part.writeBatch(["fast"])).toBeUndefined();
  });
});
