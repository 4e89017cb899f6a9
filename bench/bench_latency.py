"""Latency from a frame's closing flag to its CSV row: is a reading on stdout the moment it is complete?

Runs ``amsread csv <pty slave>`` as a child process, waits for its readiness line (pyserial drops
what arrives before the port is open), then for each of a few hundred simulated frames writes all
but the closing flag to the pty master, takes the time, writes the flag, and reads the child's
stdout until the row arrives. Prints the median, p90, p99 and worst of the intervals. The goal is
under 5 ms: the read loop waits for bytes with ``select`` (pyserial's read) rather than polling,
so the row should follow the flag by little more than the decode itself.

    python bench/bench_latency.py [--frames 400] [--meter aidon]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import select
import statistics
import subprocess
import sys
import time
import tty
from itertools import islice

from amsread.simulator import METERS, OSLO, SimulatedMeter

GOAL_MS = 5.0
TIMEOUT = 10.0


def read_line(fd: int, buf: bytearray, deadline: float) -> bytes:
    """One line from ``fd`` (keeping any rest in ``buf``), or fail at ``deadline``."""
    while b"\n" not in buf:
        remaining = deadline - time.perf_counter()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise TimeoutError("no line from amsread")
        chunk = os.read(fd, 65536)
        if not chunk:
            raise EOFError("amsread closed its output")
        buf += chunk
    line, _, rest = bytes(buf).partition(b"\n")
    buf[:] = rest
    return line


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=400)
    parser.add_argument("--meter", choices=METERS, default="aidon")
    args = parser.parse_args()

    start = dt.datetime(2024, 1, 16, 16, 40, 0, tzinfo=OSLO)
    frames = [
        p.frame for p in islice(SimulatedMeter(args.meter, 3, seed=1, start=start).pushes(), args.frames)
    ]

    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    child = subprocess.Popen(
        [sys.executable, "-m", "amsread", "csv", path, "--meter", args.meter],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    out, err = child.stdout.fileno(), child.stderr.fileno()
    try:
        ready = read_line(err, bytearray(), time.perf_counter() + TIMEOUT)
        assert ready.startswith(b"reading "), ready
        buf = bytearray()
        latencies = []
        for frame in frames:
            os.write(master, frame[:-1])
            time.sleep(0.002)  # let the body arrive first: measure from the flag, not the body
            t0 = time.perf_counter()
            os.write(master, frame[-1:])
            line = read_line(out, buf, t0 + TIMEOUT)
            if line.startswith(b"received_at,"):  # the header comes with the first row
                line = read_line(out, buf, t0 + TIMEOUT)
            latencies.append((time.perf_counter() - t0) * 1000)
            assert f",{args.meter},".encode() in line, line
    finally:
        child.terminate()
        child.wait(TIMEOUT)
        os.close(master)
        os.close(slave)

    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, round(p / 100 * (len(latencies) - 1)))]

    median = statistics.median(latencies)
    print(f"{len(latencies)} {args.meter} frames through `amsread csv` on a pty, closing flag to row:")
    print(
        f"  median {median:.2f} ms   p90 {pct(90):.2f} ms   p99 {pct(99):.2f} ms   max {latencies[-1]:.2f} ms"
    )
    print(f"  goal < {GOAL_MS:g} ms: {'met' if pct(99) < GOAL_MS else 'NOT met'} at p99")


if __name__ == "__main__":
    main()
