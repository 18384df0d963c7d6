#!/usr/bin/env node
// Hand-written single-thread baseline: "staged callbacks", as a minimal
// callback engine would run a dataflow. Each operator is a stage applied to the
// whole batch array, calling the user's callback per item and producing a new
// array for the next stage; stateful stages keep per-key state in a Map and
// emit at EOF or when windows close. The sink gets each resulting batch.
//
//   node benches/workloads/node-staged.mjs <stateless|wordcount|windowed> <n>
//
// Prints one JSON line; `seconds` as in node-fused.mjs.
import {
  BASE_MS, WINDOW_MS, DIGESTS, SINK_WRITERS, makeParts, parseArgs, resultLine,
} from "./common.mjs";

const { workload, n } = parseArgs();
const NONE = [];

// ------------------------------------------------------------ operators
const map = (mapper) => ({
  onBatch(b) { const out = new Array(b.length); for (let i = 0; i < b.length; i++) out[i] = mapper(b[i]); return out; },
  onEof() { return NONE; },
});
const filter = (pred) => ({
  onBatch(b) { const out = []; for (let i = 0; i < b.length; i++) if (pred(b[i])) out.push(b[i]); return out; },
  onEof() { return NONE; },
});
const flatMap = (mapper) => ({
  onBatch(b) { const out = []; for (let i = 0; i < b.length; i++) for (const y of mapper(b[i])) out.push(y); return out; },
  onEof() { return NONE; },
});
const keyOn = (key) => map((x) => [key(x), x]);
/** countFinal: unkeyed input, emits [key, count] at EOF. */
const countFinal = (key) => {
  const counts = new Map();
  return {
    onBatch(b) { for (let i = 0; i < b.length; i++) { const k = key(b[i]); counts.set(k, (counts.get(k) ?? 0) + 1); } return NONE; },
    onEof() { return Array.from(counts); },
  };
};
/**
 * foldWindow over tumbling event-time windows: per key an EventClock (wait
 * `waitMs`, frozen system time → watermark = latest ts − wait), the open
 * windows' accumulators, closing those whose close time ≤ the watermark.
 * Emits [key, [windowId, acc]]; everything closes at EOF.
 */
const foldWindow = ({ tsGetter, waitMs, lengthMs, alignMs }, builder, folder) => {
  const keys = new Map();
  return {
    onBatch(b) {
      const out = [];
      for (let i = 0; i < b.length; i++) {
        const [k, v] = b[i];
        const ts = tsGetter(v).getTime();
        let st = keys.get(k);
        if (st === undefined) { st = { wm: -Infinity, wins: new Map(), nextClose: Infinity }; keys.set(k, st); }
        if (ts - waitMs > st.wm) st.wm = ts - waitMs;
        if (ts < st.wm) continue;                       // late
        const wid = Math.floor((ts - alignMs) / lengthMs);
        const wins = st.wins;
        const acc = wins.get(wid);
        if (acc === undefined) {
          wins.set(wid, folder(builder(), v));
          const closeAt = alignMs + (wid + 1) * lengthMs;
          if (closeAt < st.nextClose) st.nextClose = closeAt;
        } else {
          wins.set(wid, folder(acc, v));
        }
        if (st.wm >= st.nextClose) {                    // close due windows (the windower's closeFor)
          let next = Infinity;
          for (const [id, a] of wins) {
            const closeAt = alignMs + (id + 1) * lengthMs;
            if (closeAt <= st.wm) { out.push([k, [id, a]]); wins.delete(id); } else if (closeAt < next) next = closeAt;
          }
          st.nextClose = next;
          if (wins.size === 0) keys.delete(k);
        }
      }
      return out;
    },
    onEof() {
      const out = [];
      for (const [k, st] of keys) for (const [id, acc] of st.wins) out.push([k, [id, acc]]);
      keys.clear();
      return out;
    },
  };
};

// ------------------------------------------------------------ engine
function runStaged(parts, stages, writeBatch) {
  const push = (b, from) => {
    for (let s = from; s < stages.length && b.length > 0; s++) b = stages[s].onBatch(b);
    if (b.length > 0) writeBatch(b);
  };
  let live = parts.slice();
  while (live.length > 0) {
    const still = [];
    for (const p of live) {
      const b = p.nextBatch();
      if (b === null) continue;
      push(b, 0);
      still.push(p);
    }
    live = still;
  }
  for (let s = 0; s < stages.length; s++) push(stages[s].onEof(), s + 1);
}

// ------------------------------------------------------------ workloads
const digest = new DIGESTS[workload]();
const FLOWS = {
  stateless: () => [
    [map((x) => x * 2), filter((x) => x % 3 !== 0)],
    (items) => SINK_WRITERS.stateless(digest, items),
  ],
  wordcount: () => [
    [flatMap((line) => line.split(" ")), countFinal((w) => w)],
    (items) => SINK_WRITERS.wordcount(digest, items),
  ],
  windowed: () => [
    [
      keyOn((ev) => ev[0]),
      foldWindow(
        { tsGetter: (ev) => new Date(ev[1]), waitMs: 0, lengthMs: WINDOW_MS, alignMs: BASE_MS },
        () => 0,
        (acc) => acc + 1,
      ),
    ],
    (items) => SINK_WRITERS.windowed(digest, items),
  ],
};

const t0 = performance.now();
const [stages, sink] = FLOWS[workload]();
runStaged(makeParts(workload, n), stages, sink);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(resultLine({ engine: "node-staged", workload, n, seconds, digest }) + "\n");
