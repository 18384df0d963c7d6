"""Shared definitions of the benchmark workloads, Python side.

Byte-for-byte twin of benches/workloads/common.mjs (see there for the
workload definitions): same PRNG, vocabulary, partition contents, digests
and checksum strings. Change both together and run
`node benches/workloads/selftest.mjs`.
"""

import json
import zlib
from datetime import datetime, timedelta, timezone

BATCH = 1000
PARTS = ["0", "1"]
WORDS_PER_LINE = 8
VOCAB_SIZE = 1000
KEY_COUNT = 1000
WINDOW_MS = 10_000
BASE_DT = datetime(2024, 1, 1, tzinfo=timezone.utc)
BASE_MS = 1_704_067_200_000  # BASE_DT in ms since the Unix epoch
EPOCH_DT = datetime(1970, 1, 1, tzinfo=timezone.utc)
WORKLOADS = ["stateless", "wordcount", "windowed"]

M32 = 0xFFFFFFFF
LCG_A = 1664525
LCG_C = 1013904223


def lcg_next(x):
    return (x * LCG_A + LCG_C) & M32


def draw(x, m):
    return ((x >> 16) * m) >> 16


def part_seed(workload, part):
    salt = {"stateless": 1, "wordcount": 2, "windowed": 3}[workload]
    return (salt * 0x9E3779B9 + (part + 1) * 0x85EBCA6B) & M32


def part_size(n, part):
    return n // 2 + (1 if part < n % 2 else 0)


def make_vocab():
    words = []
    seen = set()
    x = 42
    while len(words) < VOCAB_SIZE:
        x = lcg_next(x)
        length = 3 + draw(x, 8)
        chars = []
        for _ in range(length):
            x = lcg_next(x)
            chars.append(chr(97 + draw(x, 26)))
        w = "".join(chars)
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


VOCAB = make_vocab()
KEYS = [f"key{i}" for i in range(KEY_COUNT)]


class StatelessGen:
    """Partition 0 yields 0 .. n0-1, partition 1 yields n0 .. n-1."""

    def __init__(self, n, part):
        self.next = 0 if part == 0 else part_size(n, 0)
        self.end = self.next + part_size(n, part)

    def next_batch(self):
        """A list of <= BATCH items, or None at EOF."""
        start = self.next
        if start >= self.end:
            return None
        stop = min(start + BATCH, self.end)
        self.next = stop
        return list(range(start, stop))


class WordcountGen:
    def __init__(self, n, part):
        self.left = part_size(n, part)
        self.x = part_seed("wordcount", part)

    def next_batch(self):
        if self.left <= 0:
            return None
        m = min(BATCH, self.left)
        x = self.x
        vocab = VOCAB
        out = []
        append = out.append
        for _ in range(m):
            # 8 words, unrolled: each is VOCAB[draw(x, 1000)] of the next state.
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            w0 = vocab[((x >> 16) * 1000) >> 16]
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            w1 = vocab[((x >> 16) * 1000) >> 16]
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            w2 = vocab[((x >> 16) * 1000) >> 16]
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            w3 = vocab[((x >> 16) * 1000) >> 16]
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            w4 = vocab[((x >> 16) * 1000) >> 16]
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            w5 = vocab[((x >> 16) * 1000) >> 16]
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            w6 = vocab[((x >> 16) * 1000) >> 16]
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            w7 = vocab[((x >> 16) * 1000) >> 16]
            append(f"{w0} {w1} {w2} {w3} {w4} {w5} {w6} {w7}")
        self.x = x
        self.left -= m
        return out


class WindowedGen:
    """Event j of partition p is (KEYS[2 * draw(x, 500) + p], BASE_MS + j)."""

    def __init__(self, n, part):
        self.part = part
        self.size = part_size(n, part)
        self.j = 0
        self.x = part_seed("windowed", part)

    def next_batch(self):
        j = self.j
        if j >= self.size:
            return None
        m = min(BATCH, self.size - j)
        x = self.x
        p = self.part
        keys = KEYS
        out = []
        append = out.append
        ts = BASE_MS + j
        for i in range(m):
            x = (x * 1664525 + 1013904223) & 0xFFFFFFFF
            append((keys[2 * (((x >> 16) * 500) >> 16) + p], ts + i))
        self.x = x
        self.j = j + m
        return out


GENERATORS = {"stateless": StatelessGen, "wordcount": WordcountGen, "windowed": WindowedGen}


def make_gen(workload, n, part):
    return GENERATORS[workload](n, part)


def ts_of_ms(ms):
    """Event time of an epoch-ms timestamp as an aware UTC datetime (exact)."""
    return EPOCH_DT + timedelta(milliseconds=ms)


def window_id_of(ts_ms):
    return (ts_ms - BASE_MS) // WINDOW_MS


def mix3(a, b, c):
    h = ((a * 0x9E3779B1) ^ ((b + 0x7F4A7C15) * 0x85EBCA77) ^ (c * 0xC2B2AE3D)) & M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h


_key_hash = {}


def key_hash(k):
    h = _key_hash.get(k)
    if h is None:
        h = zlib.crc32(k.encode())
        _key_hash[k] = h
    return h


class StatelessDigest:
    def __init__(self):
        self.count = 0
        self.sum = 0

    def add_batch(self, items):
        self.count += len(items)
        self.sum += sum(items)

    def fields(self):
        return {"count": str(self.count), "sum": str(self.sum)}


class WordcountDigest:
    def __init__(self):
        self.keys = 0
        self.total = 0
        self.hash = 0

    def add(self, word, count):
        self.keys += 1
        self.total += count
        self.hash = (self.hash + mix3(key_hash(word), 0, count)) & M32

    def fields(self):
        return {"keys": str(self.keys), "total": str(self.total), "hash": str(self.hash)}


class WindowedDigest:
    def __init__(self):
        self.windows = 0
        self.total = 0
        self.hash = 0

    def add(self, key, window_id, count):
        self.windows += 1
        self.total += count
        self.hash = (self.hash + mix3(key_hash(key), window_id, count)) & M32

    def fields(self):
        return {"windows": str(self.windows), "total": str(self.total), "hash": str(self.hash)}


DIGESTS = {"stateless": StatelessDigest, "wordcount": WordcountDigest, "windowed": WindowedDigest}
DIGEST_FIELDS = {
    "stateless": ["count", "sum"],
    "wordcount": ["keys", "total", "hash"],
    "windowed": ["windows", "total", "hash"],
}


def checksum_of(workload, fields):
    return ";".join(f"{f}={fields[f]}" for f in DIGEST_FIELDS[workload])


def result_line(engine, workload, n, seconds, digest, partial=False, worker=None, workers=None):
    fields = digest.fields()
    o = {
        "engine": engine,
        "workload": workload,
        "n": n,
        "items": n,
        "seconds": seconds,
        "checksum": checksum_of(workload, fields),
        "digest": fields,
    }
    if partial:
        o.update({"partial": True, "worker": worker, "workers": workers})
    return json.dumps(o)
