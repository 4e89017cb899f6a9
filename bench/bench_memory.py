"""Resident memory over a long run: a million simulated frames through the pipeline, in-process.

A reader left running for months must not grow. This builds frames with the simulator (every
frame new: moving values, a clock that advances through the days) and feeds them to one
``Pipeline`` as a live source would, chunk by chunk, printing the resident set size (RSS, from
/proc/self/statm, or the peak from ``resource`` elsewhere) at intervals. Flat figures after the
first interval (caches warm) mean nothing accumulates per frame.

    python bench/bench_memory.py [--frames 1000000] [--every 100000] [--meter aidon]

``--capture-mb 100`` measures the commands instead (issue 9): it writes a capture of that many
megabytes (simulated frames, a few thousand distinct ones repeated), then runs ``csv``, ``json``
and ``hex`` as child processes on it, once with the capture as a FILE argument and once on stdin,
and prints each child's peak RSS (``os.wait4``) and time. ``--cmd`` runs another build, e.g. an
export of main: ``--cmd "env PYTHONPATH=/tmp/main/src python -m amsread"``.

    python bench/bench_memory.py --capture-mb 100 [--commands csv,json,hex] [--cmd "python -m amsread"]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

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


def write_capture(path: Path, megabytes: float, meter: str, distinct: int = 5000) -> int:
    """``distinct`` simulated frames, repeated until the file holds ``megabytes`` MB; its size."""
    sim = SimulatedMeter(meter, 3, seed=1, start=dt.datetime(2024, 1, 1, tzinfo=OSLO))
    pushes = sim.pushes()
    block = b"".join(next(pushes).frame for _ in range(distinct))
    target = int(megabytes * 1_000_000)
    with path.open("wb") as f:
        written = 0
        while written < target:
            f.write(block)
            written += len(block)
    return written


def child_peak(cmd: list[str], stdin: object) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one child, its output thrown away."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # type: ignore[arg-type]
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} failed with status {proc.returncode}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def commands_on_a_capture(megabytes: float, commands: list[str], cmd: str, meter: str) -> None:
    """Peak RSS of each command reading one large capture as a FILE and on stdin."""
    base = shlex.split(cmd)
    with tempfile.TemporaryDirectory(prefix="bench_memory") as tmp:
        path = Path(tmp) / "capture.bin"
        size = write_capture(path, megabytes, meter)
        print(f"capture: {size / 1e6:.1f} MB of simulated {meter} frames; {cmd}")
        print(f"{'command':<8} {'input':<6} {'peak RSS MiB':>13} {'s':>7}")
        for command in commands:
            for how in ("FILE", "stdin"):
                if how == "FILE":
                    seconds, rss = child_peak([*base, command, str(path), "-q"], subprocess.DEVNULL)
                else:
                    with path.open("rb") as f:
                        seconds, rss = child_peak([*base, command, "-", "-q"], f)
                print(f"{command:<8} {how:<6} {rss:13.1f} {seconds:7.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--every", type=int, default=100_000)
    parser.add_argument("--meter", choices=METERS, default="aidon")
    parser.add_argument("--capture-mb", type=float, help="measure the commands on a capture this large")
    parser.add_argument("--commands", default="csv,json,hex")
    parser.add_argument("--cmd", default=f"{sys.executable} -m amsread", help="how to run amsread")
    args = parser.parse_args()
    if args.capture_mb:
        commands_on_a_capture(args.capture_mb, args.commands.split(","), args.cmd, args.meter)
        return

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
