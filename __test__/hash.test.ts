// The key hash must match the engine's (crates/engine/src/hash.rs) on the same vectors.
import { expect, it } from "vitest";
import { keyHash } from "../src/runtime/keyhash.js";

it("FNV-1a over UTF-16 code units matches the shared vectors", () => {
  expect(keyHash("")).toBe(0x811c9dc5);
  expect(keyHash("a")).toBe(0xe40c292c);
  expect(keyHash("hello")).toBe(0x4f9f2cab);
  expect(keyHash("é€😀")).toBe(0x0c5e230d);
});
