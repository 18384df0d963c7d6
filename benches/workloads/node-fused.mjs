#!/usr/bin/env node
// Hand-written single-thread baseline: the "fused loop" (the ceiling).
// Polls the two generated partitions alternately (1,000 items per poll) and does
// all of a workload's work inline in one loop per batch: no callbacks, no
// intermediate arrays.
//
//   node benches/workloads/node-fused.mjs <stateless|wordcount|windowed> <n>
//
// Prints one JSON line; `seconds` covers generation + processing + the sink
// (module loading and vocabulary generation excluded; the runner's wall-clock
// time includes them).
import {
  BASE_MS, WINDOW_MS, DIGESTS, makeParts, parseArgs, resultLine,
} from "./common.mjs";

const { workload, n } = parseArgs();

/** Polls partitions round-robin until all are at EOF, calling onBatch per batch. */
function pollAll(parts, onBatch) {
  let live = parts.slice();
  while (live.length > 0) {
    const still = [];
    for (const p of live) {
      const b = p.nextBatch();
      if (b === null) continue;
      onBatch(b);
      still.push(p);
    }
    live = still;
  }
}

function stateless(parts, digest) {
  pollAll(parts, (b) => {
    let count = 0, sum = 0;
    for (let i = 0; i < b.length; i++) {
      const y = b[i] * 2;
      if (y % 3 !== 0) { count++; sum += y; }
    }
    digest.addCounts(count, sum);
  });
}

function wordcount(parts, digest) {
  // Scans each line's characters once, hashing each word (FNV-1a over UTF-16
  // code units) into an open-addressing table that stores each distinct word
  // once; no per-word string or array is allocated for known words.
  let size = 1 << 12;
  let words = new Array(size).fill(null);
  let hashes = new Int32Array(size);
  let counts = new Float64Array(size);
  let used = 0;
  const grow = () => {
    const ow = words, oh = hashes, oc = counts;
    size *= 2;
    words = new Array(size).fill(null); hashes = new Int32Array(size); counts = new Float64Array(size);
    for (let i = 0; i < ow.length; i++) {
      if (ow[i] === null) continue;
      let k = oh[i] & (size - 1);
      while (words[k] !== null) k = (k + 1) & (size - 1);
      words[k] = ow[i]; hashes[k] = oh[i]; counts[k] = oc[i];
    }
  };
  pollAll(parts, (b) => {
    for (let i = 0; i < b.length; i++) {
      const line = b[i];
      const len = line.length;
      let s = 0;
      while (s <= len) {
        let h = 0x811c9dc5 | 0, e = s;
        for (; e < len; e++) {
          const c = line.charCodeAt(e);
          if (c === 32) break;
          h = Math.imul(h ^ c, 0x01000193);
        }
        if (e > s) {
          let k = h & (size - 1);
          for (;;) {
            const w = words[k];
            if (w === null) {
              words[k] = line.slice(s, e); hashes[k] = h; counts[k] = 1;
              if (++used * 2 > size) grow();
              break;
            }
            if (hashes[k] === h && w.length === e - s && line.startsWith(w, s)) { counts[k]++; break; }
            k = (k + 1) & (size - 1);
          }
        }
        s = e + 1;
      }
    }
  });
  for (let k = 0; k < size; k++) if (words[k] !== null) digest.add(words[k], counts[k]);
}

function windowed(parts, digest) {
  // Per key: the open window, its count and the key's watermark (latest event
  // time; wait 0 with frozen system time). A window closes when the key's
  // watermark reaches its close time; the rest close at EOF.
  const state = new Map();
  pollAll(parts, (b) => {
    for (let i = 0; i < b.length; i++) {
      const ev = b[i];
      const key = ev[0], ts = ev[1];
      const wid = Math.floor((ts - BASE_MS) / WINDOW_MS);
      const s = state.get(key);
      if (s === undefined) {
        state.set(key, { wid, count: 1, wm: ts });
      } else if (ts < s.wm) {
        // late: dropped from the down stream (never happens with these inputs)
      } else {
        s.wm = ts;
        if (wid === s.wid) s.count++;
        else { digest.add(key, s.wid, s.count); s.wid = wid; s.count = 1; }
      }
    }
  });
  for (const [key, s] of state) digest.add(key, s.wid, s.count);
}

const WORK = { stateless, wordcount, windowed };
const digest = new DIGESTS[workload]();
const t0 = performance.now();
WORK[workload](makeParts(workload, n), digest);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(resultLine({ engine: "node-fused", workload, n, seconds, digest }) + "\n");
