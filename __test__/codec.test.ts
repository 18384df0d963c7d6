// The exchange codec (src/runtime/codec.ts): every batch must come back as v8.serialize would bring it
// back (API.md §1), whether it took the columnar fast path or fell back to v8.
import v8 from "node:v8";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeBatch, encodeBatch } from "../src/runtime/codec.js";

const roundTrip = (items: unknown[]) => decodeBatch(encodeBatch(items, "s"), "s");
const viaV8 = (items: unknown[]) => v8.deserialize(v8.serialize(items)) as unknown[];

// Values the fast path takes: strings (any UTF-16, lone surrogates included), numbers (−0, NaN, ±Infinity),
// booleans, null, undefined, Dates (also invalid), holey arrays and plain objects (odd keys included).
const leaf = fc.oneof(
  fc.string({ unit: "binary" }), fc.string(), fc.double(), fc.integer(), fc.constantFrom(-0, NaN, Infinity, -Infinity),
  fc.boolean(), fc.constant(null), fc.constant(undefined), fc.date({ noInvalidDate: false }),
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof({ depthSize: "small" }, leaf, tie("array"), tie("object")),
  array: fc.sparseArray(tie("tree"), { maxLength: 6 }),
  object: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("__proto__", "0", "10", "-1", "1.5")), tie("tree"), { maxKeys: 5 }),
}));

describe("exchange codec", () => {
  it("round-trips 2,000 random batches exactly as v8.serialize does (fixed seed)", () => {
    fc.assert(fc.property(fc.array(tree, { maxLength: 20 }), (items) => {
      const bytes = encodeBatch(items, "s");
      expect([0x01, 0x02]).toContain(bytes[0]); // took a fast path (keyed if every item happens to be a [string, value] pair)
      // toStrictEqual tells holes from undefined and -0 from 0.
      expect(decodeBatch(bytes, "s")).toStrictEqual(viaV8(items));
    }), { numRuns: 2000, seed: 20261125 });
  });

  it("round-trips 1,000 random keyed batches ([key, value] pairs) through the keyed format (fixed seed)", () => {
    // Few distinct keys, so keys repeat; values often hold their item's key or another item's.
    const key = fc.constantFrom("a", "b", "", "é€", "\ud800", "k".repeat(40));
    const value = fc.oneof(tree, key, fc.tuple(key, tree), fc.record({ id: key, v: tree }));
    fc.assert(fc.property(fc.array(fc.tuple(key, value), { minLength: 1, maxLength: 20 }), (items) => {
      const bytes = encodeBatch(items, "s");
      expect(bytes[0]).toBe(0x02);
      expect(decodeBatch(bytes, "s")).toStrictEqual(viaV8(items));
    }), { numRuns: 1000, seed: 20261126 });
  });

  it("a batch that stops being keyed part-way, or whose pairs have holes, takes the plain format and round-trips", () => {
    // eslint-disable-next-line no-sparse-arrays
    for (const items of [[["k", 1], ["k", 2], "not a pair"], [["k", 1], ["k", 2, 3]], [["k", 1], [1, "k"]], [["k", 1], ["k", ,]]]) {
      const bytes = encodeBatch(items, "s");
      expect(bytes[0]).toBe(0x01);
      expect(decodeBatch(bytes, "s")).toStrictEqual(viaV8(items));
    }
    // A non-plain value inside a pair sends the whole batch through v8, as for plain batches.
    const withMap = [["k", new Map([[1, 2]])]];
    expect(encodeBatch(withMap, "s")[0]).toBe(0xff);
    expect(roundTrip(withMap)).toStrictEqual(viaV8(withMap));
  });

  it("a keyed batch writes each distinct key's text once", () => {
    const keyText = "a-rather-long-key-".repeat(8);
    const one = encodeBatch([[keyText, 1]], "s").length;
    const many = encodeBatch(Array.from({ length: 100 }, (_, i) => [keyText, i]), "s").length;
    // 99 more items cost their tags, numbers and key indexes (≈ 13 bytes each), not 99 more copies of the key.
    expect(many - one).toBeLessThan(99 * 20);
    expect(roundTrip([[keyText, [keyText, 1]], [keyText, keyText]])).toStrictEqual([[keyText, [keyText, 1]], [keyText, keyText]]);
  });

  it("keeps holes, -0, NaN, lone surrogates, invalid Dates, and __proto__ and constructor keys", () => {
    const obj = JSON.parse('{"__proto__": 5, "a": [1]}');
    // eslint-disable-next-line no-sparse-arrays
    const items = [[1, , 3], -0, NaN, "\ud800x\udfff", new Date(NaN), obj, "é€😀", { 2: "b", 1: "a", z: undefined }, { constructor: 1 }];
    const back = roundTrip(items);
    // (toStrictEqual compares `constructor` properties by identity: check that object apart)
    expect(back.slice(0, -1)).toStrictEqual(viaV8(items).slice(0, -1));
    expect(back[8]).toEqual({ constructor: 1 });
    expect(Object.getPrototypeOf(back[5])).toBe(Object.prototype);
    expect(Object.keys(back[5] as object)).toEqual(["__proto__", "a"]);
  });

  it("falls back to v8 for the whole batch when any item is not plain data, and still round-trips", () => {
    class Point { constructor(readonly x: number) {} }
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    for (const odd of [new Map([["k", 1]]), new Set([1]), 10n, new Uint8Array([1, 2]), cyclic, /re/g]) {
      const items = ["plain", odd];
      const bytes = encodeBatch(items, "s");
      expect(bytes[0]).toBe(0xff);
      expect(decodeBatch(bytes, "s")).toStrictEqual(viaV8(items));
    }
    // A class instance comes back as a plain object, as with v8.serialize.
    expect(roundTrip([new Point(1)])).toStrictEqual(viaV8([new Point(1)]));
  });

  it("an item v8 cannot serialise either is a SERIALIZATION error naming the step", () => {
    expect(() => encodeBatch([() => 1], "flow.step")).toThrow(expect.objectContaining({ code: "SERIALIZATION", stepId: "flow.step" }));
    expect(() => encodeBatch([Symbol("s")], "flow.step")).toThrow(expect.objectContaining({ code: "SERIALIZATION" }));
  });

  it("handles large batches (column growth) and a received Buffer at an odd offset", () => {
    const items = Array.from({ length: 20_000 }, (_, i) => [`key${i % 1000}`, [`key${i % 1000}`, 1_700_000_000_000 + i], { n: i / 3 }]);
    const bytes = encodeBatch(items, "s");
    const shifted = Buffer.alloc(bytes.length + 3);
    bytes.copy(shifted, 3);
    expect(decodeBatch(shifted.subarray(3), "s")).toStrictEqual(items);
  });
});
