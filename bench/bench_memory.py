"""Resident memory over a long run: a million simulated frames through the pipeline, in-process.

A reader left running for months must not grow. This builds frames with the simulator (every
frame new: moving values, a clock that advances through the days) and feeds them to one
``Pipeline`` as a live source would, chunk by chunk, printing the resident set size (RSS, from
/proc/self/statm, or the peak from ``resource`` elsewhere) at intervals. Flat figures after the
first interval (caches warm) mean nothing accumulates per frame.

    python bench/bench_memory.py [--frames 1000000] [--every 100000] [--meter aidon]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import resource
import sys
import time
from collections.abc import Iterator

from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.simulator import METERS, OSLO, SimulatedMeter


def rss_mib() -> float:
    """Current resident set size in MiB (Linux), else the peak so far."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=100_000)
    parser.add_argument("--meter", choices=METERS, default="aidon")
    args = parser.parse_args()

    sim = SimulatedMeter(args.meter, 3, seed=1, start=dt.datetime(2024, 1, 1, tzinfo=OSLO))
    pipeline = Pipeline()
    produced = 0

    def chunks() -> Iterator[bytes]:
        nonlocal produced
        for push in sim.pushes():
            if produced >= args.frames:
                return
            produced += 1
            yield push.frame

    start = time.perf_counter()
    print(f"{'frames':>9} {'readings':>9} {'RSS MiB':>8} {'meter clock':>17} {'s':>6}")
    print(f"{0:9d} {0:9d} {rss_mib():8.1f} {'':>17} {0:6.0f}")
    readings = 0
    for readings, _ in enumerate(pipeline.readings(chunks(), live=True, decoder=ReadingDecoder()), 1):
        if readings % args.every == 0:
            gc.collect()
            clock = sim.now.strftime("%Y-%m-%d %H:%M")
            print(
                f"{produced:9d} {readings:9d} {rss_mib():8.1f} {clock:>17} {time.perf_counter() - start:6.0f}",
                flush=True,
            )
    s = pipeline.stats
    print(f"done: {s.summary()}; splitter buffer {pipeline.splitter.buffered} bytes")


if __name__ == "__main__":
    main()
