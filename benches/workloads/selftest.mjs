#!/usr/bin/env node
// Checks that common.mjs and common.py generate identical data and digests.
//   node benches/workloads/selftest.mjs [python]
// `python` defaults to the Bytewax venv's interpreter if present, else python3
// (common.py needs only the standard library).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createHash } from "node:crypto";
import * as C from "./common.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const venvPython = path.join(HERE, "..", ".venv", "bin", "python");
const python = process.argv[2] || (existsSync(venvPython) ? venvPython : "python3");

// A fingerprint of each partition's full contents for a small odd n (ragged last batch).
function fingerprintJs(n) {
  const out = {};
  for (const w of C.WORKLOADS) {
    const h = createHash("sha256");
    let batches = 0;
    for (const part of C.makeParts(w, n)) {
      for (let b = part.nextBatch(); b !== null; b = part.nextBatch()) {
        batches++;
        for (const item of b) h.update(JSON.stringify(item) + "\n");
      }
    }
    out[w] = `${batches}:${h.digest("hex")}`;
  }
  return out;
}

const pyCode = String.raw`
import sys, json, hashlib
sys.path.insert(0, sys.argv[1])
import common as C
n = int(sys.argv[2])
out = {}
for w in C.WORKLOADS:
    h = hashlib.sha256()
    batches = 0
    for p in range(2):
        g = C.make_gen(w, n, p)
        while True:
            b = g.next_batch()
            if b is None:
                break
            batches += 1
            for item in b:
                h.update((json.dumps(list(item) if isinstance(item, tuple) else item, separators=(",", ":")) + "\n").encode())
    out[w] = f"{batches}:{h.hexdigest()}"
d = C.WordcountDigest(); d.add("hello", 7); d.add(C.VOCAB[999], 123456)
e = C.WindowedDigest(); e.add("key17", 4242, 19); e.add("key0", 0, 1)
s = C.StatelessDigest(); s.add_batch([2 * 10**9, 3, 5])
out["vocab"] = hashlib.sha256(" ".join(C.VOCAB).encode()).hexdigest()
out["digests"] = [C.checksum_of("wordcount", d.fields()), C.checksum_of("windowed", e.fields()), C.checksum_of("stateless", s.fields())]
out["seeds"] = [C.part_seed(w, p) for w in C.WORKLOADS for p in range(2)]
print(json.dumps(out))
`;

let failed = 0;
for (const n of [0, 1, 2001, 4321]) {
  const js = fingerprintJs(n);
  const d = new C.WordcountDigest(); d.add("hello", 7); d.add(C.VOCAB[999], 123456);
  const e = new C.WindowedDigest(); e.add("key17", 4242, 19); e.add("key0", 0, 1);
  const s = new C.StatelessDigest(); s.addBatch([2e9, 3, 5]);
  js.vocab = createHash("sha256").update(C.VOCAB.join(" ")).digest("hex");
  js.digests = [C.checksumOf("wordcount", d.fields()), C.checksumOf("windowed", e.fields()), C.checksumOf("stateless", s.fields())];
  js.seeds = C.WORKLOADS.flatMap((w) => [0, 1].map((p) => C.partSeed(w, p)));
  const r = spawnSync(python, ["-c", pyCode, HERE, String(n)], { encoding: "utf8" });
  if (r.status !== 0) { console.error(r.stderr); process.exit(1); }
  const py = JSON.parse(r.stdout);
  for (const k of Object.keys(js)) {
    const ok = JSON.stringify(js[k]) === JSON.stringify(py[k]);
    if (!ok) { failed++; console.log(`MISMATCH n=${n} ${k}: js=${JSON.stringify(js[k])} py=${JSON.stringify(py[k])}`); }
  }
}
// Sanity of the hash helpers against independent implementations.
const { crc32 } = await import("node:zlib");
if (typeof crc32 === "function" && crc32("key17") !== C.crc32("key17")) { failed++; console.log("crc32 mismatch vs zlib"); }
if (new Set(C.VOCAB).size !== C.VOCAB_SIZE) { failed++; console.log("vocabulary not distinct"); }
console.log(failed ? `selftest: ${failed} mismatches` : "selftest: JS and Python workloads agree");
process.exit(failed ? 1 : 0);
