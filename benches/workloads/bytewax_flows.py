"""Bytewax 0.21.1 flows of the three benchmark workloads.

Single worker (bytewax.testing.run_main):

    python benches/workloads/bytewax_flows.py <stateless|wordcount|windowed> <n>

Several workers / processes (the flow factory through Bytewax's own launcher):

    python -m bytewax.run "benches/workloads/bytewax_flows.py:flow('wordcount', 3000000)" -w 2
    python -m bytewax.run "benches/workloads/bytewax_flows.py:flow('wordcount', 3000000)" \
        -i 0 -a "127.0.0.1:2101;127.0.0.1:2102"      # and -i 1 in a second process

Input is a FixedPartitionedSource with partitions "0" and "1" whose
next_batch() generates the next 1,000 items (common.py). Each worker's sink
partition prints one JSON line from close() (`partial: true`, with its
worker index and count); the runner merges the lines of all workers. A single
worker's line is already the whole result. `seconds` is measured from this
module's first line to the sink's close(): it excludes interpreter start-up, and
importing Bytewax too under `python -m bytewax.run` (which imports it first); the
runner's wall-clock time includes everything.
"""

import time

T0 = time.perf_counter()

import os  # noqa: E402
import sys  # noqa: E402
from datetime import timedelta  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bytewax.operators as op  # noqa: E402
import bytewax.operators.windowing as win  # noqa: E402
import common as C  # noqa: E402
from bytewax.dataflow import Dataflow  # noqa: E402
from bytewax.inputs import FixedPartitionedSource, StatefulSourcePartition  # noqa: E402
from bytewax.outputs import DynamicSink, StatelessSinkPartition  # noqa: E402

ENGINE = "bytewax"


class _GenPartition(StatefulSourcePartition):
    def __init__(self, gen):
        self._next = gen.next_batch

    def next_batch(self):
        batch = self._next()
        if batch is None:
            raise StopIteration()
        return batch

    def snapshot(self):
        # Recovery is not used by the benchmark.
        return None


class GenSource(FixedPartitionedSource):
    """Two fixed partitions, each generating its items 1,000 per poll."""

    def __init__(self, workload, n):
        self.workload = workload
        self.n = n

    def list_parts(self):
        return list(C.PARTS)

    def build_part(self, step_id, for_part, resume_state):
        return _GenPartition(C.make_gen(self.workload, self.n, int(for_part)))


def _write_stateless(digest, items):
    digest.add_batch(items)


def _write_wordcount(digest, items):
    add = digest.add
    for word, count in items:
        add(word, count)


def _write_windowed(digest, items):
    add = digest.add
    for key, (window_id, count) in items:
        add(key, window_id, count)


_WRITERS = {
    "stateless": _write_stateless,
    "wordcount": _write_wordcount,
    "windowed": _write_windowed,
}


class _DigestPartition(StatelessSinkPartition):
    def __init__(self, workload, n, worker_index, worker_count):
        self.workload = workload
        self.n = n
        self.worker_index = worker_index
        self.worker_count = worker_count
        self.digest = C.DIGESTS[workload]()
        self.write = _WRITERS[workload]

    def write_batch(self, items):
        self.write(self.digest, items)

    def close(self):
        line = C.result_line(
            ENGINE,
            self.workload,
            self.n,
            time.perf_counter() - T0,
            self.digest,
            partial=True,
            worker=self.worker_index,
            workers=self.worker_count,
        )
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


class DigestSink(DynamicSink):
    """Every worker digests what it receives and prints it at close()."""

    def __init__(self, workload, n):
        self.workload = workload
        self.n = n

    def build(self, step_id, worker_index, worker_count):
        return _DigestPartition(self.workload, self.n, worker_index, worker_count)


def _double(x):
    return x * 2


def _not_div3(x):
    return x % 3 != 0


def _split(line):
    return line.split()


def _identity(x):
    return x


def _event_key(ev):
    return ev[0]


def _event_ts(ev):
    return C.ts_of_ms(ev[1])


def _frozen_now():
    return C.BASE_DT


def _no_wakeup(_ts):
    return None


def flow(workload, n):
    """The dataflow of `workload` over `n` generated input items."""
    n = int(n)
    df = Dataflow(f"bench_{workload}")
    inp = op.input("inp", df, GenSource(workload, n))
    sink = DigestSink(workload, n)
    if workload == "stateless":
        s = op.map("double", inp, _double)
        s = op.filter("not_div3", s, _not_div3)
        op.output("out", s, sink)
    elif workload == "wordcount":
        words = op.flat_map("split", inp, _split)
        counts = op.count_final("count", words, _identity)
        op.output("out", counts, sink)
    elif workload == "windowed":
        clock = win.EventClock(
            ts_getter=_event_ts,
            wait_for_system_duration=timedelta(0),
            now_getter=_frozen_now,
            to_system_utc=_no_wakeup,
        )
        windower = win.TumblingWindower(
            length=timedelta(milliseconds=C.WINDOW_MS), align_to=C.BASE_DT
        )
        out = win.count_window("count", inp, clock, windower, _event_key)
        op.output("out", out.down, sink)
    else:
        msg = f"unknown workload {workload!r}"
        raise ValueError(msg)
    return df


def _main(argv):
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("workload", choices=C.WORKLOADS)
    p.add_argument("n", type=int)
    p.add_argument("-w", "--workers-per-process", type=int, default=1)
    p.add_argument("-i", "--process-id", type=int)
    p.add_argument("-a", "--addresses")
    args = p.parse_args(argv)
    df = flow(args.workload, args.n)
    if args.workers_per_process == 1 and args.addresses is None:
        from bytewax.testing import run_main

        run_main(df)
    else:
        # What `python -m bytewax.run` does without recovery.
        from bytewax.run import cli_main

        cli_main(
            df,
            workers_per_process=args.workers_per_process,
            process_id=args.process_id,
            addresses=args.addresses.split(";") if args.addresses else None,
            epoch_interval=timedelta(seconds=10),
        )


if __name__ == "__main__":
    _main(sys.argv[1:])
