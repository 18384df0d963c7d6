// Shared definitions of the benchmark workloads, JavaScript side.
//
// benches/workloads/common.py is the byte-for-byte twin of this file: the same
// PRNG, vocabulary, partition contents, digests and checksum strings. Change
// both together (run `node benches/workloads/selftest.mjs` afterwards).
//
// Workloads (N = total input items, split over 2 fixed partitions "0" and "1";
// every poll returns up to BATCH = 1000 freshly generated items):
//   stateless  integers → map(x·2) → filter(x mod 3 ≠ 0) → sink: count and sum
//   wordcount  lines of 8 words → flatMap(split) → countFinal(word) → sink: (word, count)
//   windowed   [key, tsMs] events → countWindow(tumbling 10 s, EventClock wait 0,
//              frozen now) → sink: (key, [windowId, count])
//
// Digests are additive, so the partial digests of several workers/processes
// merge by adding fields (fields named `hash` modulo 2^32).

export const BATCH = 1000;
export const PARTS = ["0", "1"];
export const WORDS_PER_LINE = 8;
export const VOCAB_SIZE = 1000;
export const KEY_COUNT = 1000;               // windowed: key i belongs to partition i mod 2
export const WINDOW_MS = 10_000;
export const BASE_MS = Date.UTC(2024, 0, 1); // 2024-01-01T00:00:00Z: first event time, window alignment, frozen "now"
export const WORKLOADS = ["stateless", "wordcount", "windowed"];
export const UNITS = { stateless: "items", wordcount: "lines", windowed: "events" };

// ---------------------------------------------------------------- PRNG
// 32-bit LCG (Numerical Recipes constants). State is a uint32; only the high
// 16 bits of each state are used to draw values.
export const LCG_A = 1664525;
export const LCG_C = 1013904223;
export function lcgNext(x) { return (Math.imul(x, LCG_A) + LCG_C) >>> 0; }
/** A draw in [0, m) from state x (m ≤ 65536): ((x >>> 16) · m) >>> 16. */
export function draw(x, m) { return ((x >>> 16) * m) >>> 16; }

/** Seed of a partition's generator. */
export function partSeed(workload, part) {
  const salt = { stateless: 1, wordcount: 2, windowed: 3 }[workload];
  return (Math.imul(salt, 0x9e3779b9) + Math.imul(part + 1, 0x85ebca6b)) >>> 0;
}

/** Items of partition `part` (0 or 1) when the total is n. */
export function partSize(n, part) { return Math.floor(n / 2) + (part < n % 2 ? 1 : 0); }

// ---------------------------------------------------------------- vocabulary
/** 1000 distinct lowercase words of 3–10 letters, from a PRNG seeded with 42. */
export function makeVocab() {
  const words = [];
  const seen = new Set();
  let x = 42;
  while (words.length < VOCAB_SIZE) {
    x = lcgNext(x);
    const len = 3 + draw(x, 8);
    let w = "";
    for (let i = 0; i < len; i++) {
      x = lcgNext(x);
      w += String.fromCharCode(97 + draw(x, 26));
    }
    if (!seen.has(w)) { seen.add(w); words.push(w); }
  }
  return words;
}
export const VOCAB = makeVocab();
export const KEYS = Array.from({ length: KEY_COUNT }, (_, i) => `key${i}`);

// ---------------------------------------------------------------- partitions
// Each partition is an object with nextBatch(): an array of ≤ BATCH items, or
// null at EOF. Generation happens inside nextBatch (inside the timed region).

/** stateless: partition 0 yields 0 … n0−1, partition 1 yields n0 … n−1. */
export function statelessPart(n, part) {
  const size = partSize(n, part);
  let next = part === 0 ? 0 : partSize(n, 0);
  const end = next + size;
  return {
    nextBatch() {
      if (next >= end) return null;
      const m = Math.min(BATCH, end - next);
      const out = new Array(m);
      for (let i = 0; i < m; i++) out[i] = next + i;
      next += m;
      return out;
    },
  };
}

/** wordcount: lines of 8 words, each word VOCAB[draw(x, 1000)] for successive LCG states. */
export function wordcountPart(n, part) {
  let left = partSize(n, part);
  let x = partSeed("wordcount", part);
  const V = VOCAB;
  return {
    nextBatch() {
      if (left <= 0) return null;
      const m = Math.min(BATCH, left);
      const out = new Array(m);
      for (let i = 0; i < m; i++) {
        let line = "";
        for (let j = 0; j < WORDS_PER_LINE; j++) {
          x = (Math.imul(x, LCG_A) + LCG_C) >>> 0;
          const w = V[((x >>> 16) * VOCAB_SIZE) >>> 16];
          line = j === 0 ? w : line + " " + w;
        }
        out[i] = line;
      }
      left -= m;
      return out;
    },
  };
}

/** windowed: event j of partition p is [KEYS[2·draw(x, 500) + p], BASE_MS + j]. */
export function windowedPart(n, part) {
  const size = partSize(n, part);
  let j = 0;
  let x = partSeed("windowed", part);
  const half = KEY_COUNT / 2;
  return {
    nextBatch() {
      if (j >= size) return null;
      const m = Math.min(BATCH, size - j);
      const out = new Array(m);
      for (let i = 0; i < m; i++) {
        x = (Math.imul(x, LCG_A) + LCG_C) >>> 0;
        out[i] = [KEYS[2 * (((x >>> 16) * half) >>> 16) + part], BASE_MS + j + i];
      }
      j += m;
      return out;
    },
  };
}

export const PART_FACTORIES = { stateless: statelessPart, wordcount: wordcountPart, windowed: windowedPart };
export function makeParts(workload, n) {
  const f = PART_FACTORIES[workload];
  if (!f) throw new Error(`unknown workload ${workload}`);
  return PARTS.map((_, p) => f(n, p));
}

// ---------------------------------------------------------------- hashing
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  return t;
})();
/** CRC-32 (zlib's) of an ASCII string; equals Python's zlib.crc32(s.encode()). */
export function crc32(s) {
  let c = -1;
  for (let i = 0; i < s.length; i++) c = CRC_TABLE[(c ^ s.charCodeAt(i)) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}
/** A 32-bit mix of three non-negative integers (< 2^32); the same in Python. */
export function mix3(a, b, c) {
  let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d);
  h ^= h >>> 16; h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13; h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
const keyHashCache = new Map();
function keyHash(k) {
  let h = keyHashCache.get(k);
  if (h === undefined) { h = crc32(k); keyHashCache.set(k, h); }
  return h;
}

// ---------------------------------------------------------------- digests (what the sinks compute)
/** Digest of the stateless sink: received items and their exact sum. */
export class StatelessDigest {
  constructor() { this.count = 0; this.sum = 0n; }
  /** items: array of numbers (each < 2^43, so a batch sum of ≤ 1000 is exact in a double). */
  addBatch(items) {
    let s = 0;
    for (let i = 0; i < items.length; i++) s += items[i];
    this.count += items.length;
    this.sum += BigInt(s);
  }
  /** For loops that keep their own per-batch counters. */
  addCounts(count, batchSum) { this.count += count; this.sum += BigInt(batchSum); }
  fields() { return { count: String(this.count), sum: String(this.sum) }; }
}
/** Digest of (word, count) records. */
export class WordcountDigest {
  constructor() { this.keys = 0; this.total = 0; this.hash = 0; }
  add(word, count) {
    this.keys += 1; this.total += count;
    this.hash = (this.hash + mix3(keyHash(word), 0, count)) >>> 0;
  }
  fields() { return { keys: String(this.keys), total: String(this.total), hash: String(this.hash) }; }
}
/** Digest of (key, windowId, count) records. */
export class WindowedDigest {
  constructor() { this.windows = 0; this.total = 0; this.hash = 0; }
  add(key, windowId, count) {
    this.windows += 1; this.total += count;
    this.hash = (this.hash + mix3(keyHash(key), windowId, count)) >>> 0;
  }
  fields() { return { windows: String(this.windows), total: String(this.total), hash: String(this.hash) }; }
}
export const DIGESTS = { stateless: StatelessDigest, wordcount: WordcountDigest, windowed: WindowedDigest };
/**
 * What a sink does with each batch of the flow's output, per workload:
 * stateless items are numbers, wordcount items [word, count], windowed items
 * [key, [windowId, count]] (countWindow's `down` stream).
 */
export const SINK_WRITERS = {
  stateless: (digest, items) => digest.addBatch(items),
  wordcount: (digest, items) => { for (const [w, c] of items) digest.add(w, c); },
  windowed: (digest, items) => { for (const [k, [wid, c]] of items) digest.add(k, wid, c); },
};
export const DIGEST_FIELDS = { stateless: ["count", "sum"], wordcount: ["keys", "total", "hash"], windowed: ["windows", "total", "hash"] };

/** Merges digest field objects (decimal strings): sums, `hash` modulo 2^32. */
export function mergeFields(workload, list) {
  const out = {};
  for (const f of DIGEST_FIELDS[workload]) {
    let s = 0n;
    for (const d of list) s += BigInt(d[f]);
    if (f === "hash") s %= 1n << 32n;
    out[f] = String(s);
  }
  return out;
}
/** The canonical checksum string of a (merged) digest, e.g. "count=…;sum=…". */
export function checksumOf(workload, fields) {
  return DIGEST_FIELDS[workload].map((f) => `${f}=${fields[f]}`).join(";");
}

/** Window id of an event time (tumbling windows of WINDOW_MS aligned to BASE_MS). */
export function windowIdOf(tsMs) { return Math.floor((tsMs - BASE_MS) / WINDOW_MS); }

// ---------------------------------------------------------------- result lines
/**
 * The line every benchmark program prints to stdout (one JSON object per line):
 *   { engine, workload, n, items, seconds, checksum, digest, worker?, workers?, partial? }
 * `items` is the number of input items (n); `seconds` the program's own timed
 * region; `partial: true` marks the digest of one worker/process among
 * `workers`, which the runner merges.
 */
export function resultLine({ engine, workload, n, seconds, digest, partial = false, worker, workers }) {
  const fields = digest.fields();
  const o = { engine, workload, n, items: n, seconds, checksum: checksumOf(workload, fields), digest: fields };
  if (partial) Object.assign(o, { partial: true, worker, workers });
  return JSON.stringify(o);
}

/** Parses `<workload> <n>` from argv (after the script name). */
export function parseArgs(argv = process.argv.slice(2)) {
  const [workload, nStr] = argv;
  const n = Number(nStr);
  if (!WORKLOADS.includes(workload) || !Number.isSafeInteger(n) || n < 0) {
    throw new Error(`usage: <program> <${WORKLOADS.join("|")}> <n>   (got ${JSON.stringify(argv)})`);
  }
  return { workload, n };
}
