// weir's codec for batches that leave a JS thread (exchange between workers and processes).
//
// Items made of strings, numbers, booleans, null, undefined, dense or holey arrays, plain objects and Dates
// (nearly every stream item) take a columnar fast path: one pass writes tags, numbers and lengths into typed
// arrays and every string into one text blob, so encoding and decoding cost a few tens of ns per value
// instead of v8.serialize's few hundred (measured in benches/RESULTS.md). Anything else in a batch (Map, Set,
// BigInt, typed arrays, class instances, nesting deeper than MAX_DEPTH, e.g. a cycle) sends the whole batch
// through v8.serialize, as API.md §1 says. One difference: an object referenced twice in a fast batch
// arrives as two equal copies (v8.serialize keeps the identity).
//
// Keyed batches (every item a `[key: string, value]` pair, what key-routed edges carry) take a variant of the
// fast path: each distinct key is written once per batch and then referenced by index, and a string inside a
// value equal to its item's key (an item keyed by one of its own fields) is a one-tag back-reference. Decoding
// then allocates one string per distinct key instead of one per occurrence, and downstream `Map` lookups reuse
// its cached hash.
import v8 from "node:v8";
import { WeirError } from "../errors.js";

const FAST = 0x01; // v8.serialize output starts with 0xff
const FAST_KEYED = 0x02;
const MAX_DEPTH = 64;

const T_UNDEFINED = 0, T_NULL = 1, T_FALSE = 2, T_TRUE = 3, T_NUMBER = 4, T_STRING = 5, T_ARRAY = 6, T_OBJECT = 7, T_DATE = 8, T_HOLE = 9;
/** Keyed batches only: a string equal to the current item's key. */
const T_ITEM_KEY = 10;
/** In a keyed batch's lens column, a key's entry with this bit set is a new key of the given length; else a key index. */
const NEW_KEY = 0x80000000;

/** Thrown inside the fast encoder for a value it does not take; the batch goes through v8 instead. */
const UNSUPPORTED = Symbol("unsupported");

// Scratch columns, reused by every batch of this thread (encoding never re-enters).
let tags = new Uint8Array(4096);
let nums = new Float64Array(1024);
let lens = new Uint32Array(1024);
let nTags = 0, nNums = 0, nLens = 0;
let blob = "";
// Keyed batches: the item being written's key ("" outside keyed encoding: then no string matches it by mistake,
// since write() only compares when keyed is set) and the batch's key dictionary.
let keyed = false;
let itemKey = "";
const keyIndex = new Map<string, number>();

function tag(t: number): void {
  if (nTags === tags.length) tags = grow(tags, new Uint8Array(tags.length * 2));
  tags[nTags++] = t;
}
function num(x: number): void {
  if (nNums === nums.length) nums = grow(nums, new Float64Array(nums.length * 2));
  nums[nNums++] = x;
}
function len(n: number): void {
  if (nLens === lens.length) lens = grow(lens, new Uint32Array(lens.length * 2));
  lens[nLens++] = n;
}
function grow<A extends Uint8Array | Float64Array | Uint32Array>(old: A, bigger: A): A {
  bigger.set(old);
  return bigger;
}

function write(x: unknown, depth: number): void {
  switch (typeof x) {
    case "string":
      if (keyed && x === itemKey) {
        tag(T_ITEM_KEY);
        return;
      }
      tag(T_STRING);
      len(x.length);
      blob += x;
      return;
    case "number":
      tag(T_NUMBER);
      num(x);
      return;
    case "boolean":
      tag(x ? T_TRUE : T_FALSE);
      return;
    case "undefined":
      tag(T_UNDEFINED);
      return;
    case "object": {
      if (x === null) {
        tag(T_NULL);
        return;
      }
      if (depth >= MAX_DEPTH) throw UNSUPPORTED;
      if (Array.isArray(x)) {
        if (Object.getPrototypeOf(x) !== Array.prototype) throw UNSUPPORTED;
        tag(T_ARRAY);
        len(x.length);
        for (let i = 0; i < x.length; i++) {
          const v = x[i];
          if (v === undefined && !(i in x)) tag(T_HOLE);
          else write(v, depth + 1);
        }
        return;
      }
      const proto = Object.getPrototypeOf(x);
      if (proto === Object.prototype || proto === null) {
        // (v8 also brings a null-prototype object back as a plain one)
        const keys = Object.keys(x);
        tag(T_OBJECT);
        len(keys.length);
        for (const k of keys) {
          len(k.length);
          blob += k;
          write((x as Record<string, unknown>)[k], depth + 1);
        }
        return;
      }
      if (proto === Date.prototype) {
        tag(T_DATE);
        num((x as Date).getTime());
        return;
      }
      throw UNSUPPORTED;
    }
    default:
      throw UNSUPPORTED;
  }
}

const NOT_LATIN1 = /[^\x00-\xff]/;

/** An item a keyed batch can hold: a plain `[string, value]` pair. */
function isKeyedPair(x: unknown): x is [string, unknown] {
  return Array.isArray(x) && x.length === 2 && typeof x[0] === "string" && Object.getPrototypeOf(x) === Array.prototype && 1 in x;
}

/** Writes a keyed batch: per item, the key (an index, or a new key's length and text) and the value; false: not keyed. */
function writeKeyed(items: unknown[]): boolean {
  keyed = true;
  try {
    len(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (!isKeyedPair(item)) return false;
      const key = item[0];
      const index = keyIndex.get(key);
      if (index === undefined) {
        keyIndex.set(key, keyIndex.size);
        len(NEW_KEY | key.length);
        blob += key;
      } else {
        len(index);
      }
      itemKey = key;
      write(item[1], 2); // the depth it has in a plain batch
    }
    return true;
  } finally {
    keyed = false;
    itemKey = "";
    keyIndex.clear();
  }
}

function encodeFast(items: unknown[]): Buffer | undefined {
  let format = FAST;
  try {
    nTags = nNums = nLens = 0;
    blob = "";
    // Keyed if the first item is a pair; a later item that is not sends the batch back to the plain format.
    if (items.length > 0 && isKeyedPair(items[0]) && writeKeyed(items)) {
      format = FAST_KEYED;
    } else {
      nTags = nNums = nLens = 0;
      blob = "";
      write(items, 0);
    }
  } catch (e) {
    blob = ""; // do not keep a large text alive between batches
    if (e === UNSUPPORTED) return undefined;
    throw e;
  }
  const text = blob;
  blob = "";
  const wide = NOT_LATIN1.test(text);
  const textBytes = Buffer.byteLength(text, wide ? "utf16le" : "latin1");
  // Layout: [FAST, wide, 0, 0, nTags, nNums, nLens, textBytes (u32 each)] nums (8-aligned), lens, tags, text.
  const numsAt = 24;
  const lensAt = numsAt + nNums * 8;
  const tagsAt = lensAt + nLens * 4;
  const textAt = tagsAt + nTags;
  const out = Buffer.allocUnsafe(textAt + textBytes);
  out[0] = format;
  out[1] = wide ? 1 : 0;
  out[2] = 0;
  out[3] = 0;
  out.writeUInt32LE(nTags, 4);
  out.writeUInt32LE(nNums, 8);
  out.writeUInt32LE(nLens, 12);
  out.writeUInt32LE(textBytes, 16);
  out.writeUInt32LE(0, 20);
  Buffer.from(nums.buffer, 0, nNums * 8).copy(out, numsAt);
  Buffer.from(lens.buffer, 0, nLens * 4).copy(out, lensAt);
  Buffer.from(tags.buffer, 0, nTags).copy(out, tagsAt);
  out.write(text, textAt, wide ? "utf16le" : "latin1");
  return out;
}

// Decoder scratch columns, grown as needed (decoding never re-enters either).
let decNums = new Float64Array(1024);
let decLens = new Uint32Array(1024);

// Decoder state for the batch being read.
let rTags: Uint8Array = tags;
let rNums: Float64Array = nums;
let rLens: Uint32Array = lens;
let rText = "";
let ti = 0, ni = 0, li = 0, si = 0;
let rItemKey = "";

function readString(): string {
  const n = rLens[li++]!;
  const s = rText.substring(si, si + n);
  si += n;
  return s;
}

function read(): unknown {
  switch (rTags[ti++]) {
    case T_STRING: return readString();
    case T_NUMBER: return rNums[ni++];
    case T_TRUE: return true;
    case T_FALSE: return false;
    case T_NULL: return null;
    case T_UNDEFINED: return undefined;
    case T_ARRAY: {
      const n = rLens[li++]!;
      const a: unknown[] = []; // packed unless the sender's had holes
      for (let i = 0; i < n; i++) {
        if (rTags[ti] === T_HOLE) {
          ti++;
          a.length = i + 1;
        } else {
          a.push(read());
        }
      }
      return a;
    }
    case T_OBJECT: {
      const n = rLens[li++]!;
      const o: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        const k = readString();
        const v = read();
        if (k === "__proto__") Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
        else o[k] = v;
      }
      return o;
    }
    case T_DATE: return new Date(rNums[ni++]!);
    case T_ITEM_KEY: return rItemKey;
    default: throw new Error(`corrupt batch: unknown tag ${rTags[ti - 1]}`);
  }
}

function decodeFast(bytes: Buffer): unknown[] {
  const nT = bytes.readUInt32LE(4), nN = bytes.readUInt32LE(8), nL = bytes.readUInt32LE(12), textBytes = bytes.readUInt32LE(16);
  const numsAt = 24, lensAt = numsAt + nN * 8, tagsAt = lensAt + nL * 4, textAt = tagsAt + nT;
  // Copies into aligned scratch arrays (the received Buffer's offset need not be aligned), reused by every batch of
  // this thread: a fresh pair per batch would be two more off-heap allocations per batch.
  if (decNums.length < nN) decNums = new Float64Array(Math.max(nN, decNums.length * 2));
  if (decLens.length < nL) decLens = new Uint32Array(Math.max(nL, decLens.length * 2));
  new Uint8Array(decNums.buffer, 0, nN * 8).set(bytes.subarray(numsAt, lensAt));
  new Uint8Array(decLens.buffer, 0, nL * 4).set(bytes.subarray(lensAt, tagsAt));
  rNums = decNums;
  rLens = decLens;
  rTags = bytes.subarray(tagsAt, textAt);
  rText = bytes.toString(bytes[1] === 1 ? "utf16le" : "latin1", textAt, textAt + textBytes);
  ti = ni = li = si = 0;
  try {
    return bytes[0] === FAST_KEYED ? readKeyed() : read() as unknown[];
  } finally {
    rText = "";
    rItemKey = "";
  }
}

function readKeyed(): unknown[] {
  const n = rLens[li++]!;
  const keys: string[] = [];
  const items: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const entry = rLens[li++]!;
    let key: string;
    if (entry >= NEW_KEY) {
      const length = entry - NEW_KEY;
      key = rText.substring(si, si + length);
      si += length;
      keys.push(key);
    } else {
      key = keys[entry]!;
    }
    rItemKey = key;
    items.push([key, read()]);
  }
  return items;
}

export function encodeBatch(items: unknown[], stepId: string): Buffer {
  try {
    return encodeFast(items) ?? v8.serialize(items);
  } catch (e) {
    throw new WeirError("SERIALIZATION", `could not serialise an item leaving step '${stepId}': ${(e as Error).message}`, { cause: e, stepId });
  }
}

export function decodeBatch(bytes: Buffer, stepId: string): unknown[] {
  try {
    return bytes[0] === FAST || bytes[0] === FAST_KEYED ? decodeFast(bytes) : (v8.deserialize(bytes) as unknown[]);
  } catch (e) {
    throw new WeirError("SERIALIZATION", `could not deserialise a batch arriving at step '${stepId}': ${(e as Error).message}`, { cause: e, stepId });
  }
}
