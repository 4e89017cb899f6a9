"""Throughput and peak memory of ``amsread hex`` and ``amsread csv`` on noise and floods (issue 8).

Four inputs of the same size: random bytes; a flood of ``7E`` (flags only); a flood of ``7E A0``
(a candidate frame opens every two bytes and is rejected); and the real frames of
``tests/data/valid`` each followed by one garbage byte. Each command runs as a child process on
a capture FILE with its output sent to /dev/null; the table gives its seconds, MB/s net of the
start-up time of the same command on an empty file (shown only when the run took more than
twice that, so that noise does not pass for speed) and the child's own peak RSS (``os.wait4``).
The first column is the steadiest figure: MB/s of ``Pipeline.readings`` in this process over
64 KiB chunks (what ``csv`` does, without the output), median of ``--runs``. The goal: every input
within a few times of random bytes, and memory that does not grow with the input.

``--cmd`` runs another build, e.g. an export of main; run the script itself with the same
``PYTHONPATH`` so the in-process column measures that build too:
``PYTHONPATH=/tmp/main/src python bench/bench_flood.py --cmd "env PYTHONPATH=/tmp/main/src python -m amsread"``.
No asserts: figures only.

    python bench/bench_flood.py [--megabytes 4] [--runs 1] [--commands hex,csv] [--cmd "python -m amsread"]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "valid"


def random_bytes(size: int) -> bytes:
    return random.Random(1).randbytes(size)


def flags(size: int) -> bytes:
    return b"\x7e" * size


def flag_a0(size: int) -> bytes:
    return b"\x7e\xa0" * (size // 2)


def frames_and_garbage(size: int) -> bytes:
    """Every valid capture in turn, each followed by one random byte, up to ``size``."""
    rng = random.Random(1)
    captures = [bytes.fromhex(json.loads(p.read_text())["hex"]) for p in sorted(DATA.glob("*.json"))]
    out = bytearray()
    while len(out) < size:
        for c in captures:
            out += c + bytes((rng.randrange(256),))
    return bytes(out[:size])


KINDS: dict[str, Callable[[int], bytes]] = {
    "random": random_bytes,
    "7E flood": flags,
    "7E A0 flood": flag_a0,
    "frames+1 garbage": frames_and_garbage,
}


def run(cmd: list[str], path: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of one child reading ``path``."""
    start = time.perf_counter()
    proc = subprocess.Popen([*cmd, str(path), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        sys.exit(f"{shlex.join(cmd)} {path} failed ({proc.returncode}): {err.strip()[-300:]}")
    return seconds, usage.ru_maxrss / 1024


def in_process(data: bytes, runs: int) -> float:
    """MB/s of ``Pipeline.readings`` over ``data`` in 64 KiB chunks (median of ``runs``)."""
    from amsread.decode.decoder import ReadingDecoder
    from amsread.decode.pipeline import Pipeline

    chunks = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _reading in Pipeline().readings(chunks, decoder=ReadingDecoder()):
            pass
        times.append(time.perf_counter() - start)
    return len(data) / 1e6 / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=4.0)
    parser.add_argument("--runs", type=int, default=1, help="runs per cell; the median is shown")
    parser.add_argument("--commands", default="hex,csv")
    parser.add_argument("--cmd", default=f"{sys.executable} -m amsread", help="how to run amsread")
    args = parser.parse_args()
    base = shlex.split(args.cmd)
    size = int(args.megabytes * 1_000_000)
    commands = args.commands.split(",")
    with tempfile.TemporaryDirectory(prefix="bench_flood") as tmp:
        empty = Path(tmp) / "empty.bin"
        empty.write_bytes(b"")
        paths = {}
        for kind, make in KINDS.items():
            paths[kind] = Path(tmp) / f"{kind.replace(' ', '_')}.bin"
            paths[kind].write_bytes(make(size))
        print(f"{size / 1e6:.1f} MB per input; {args.cmd}")
        heads = "".join(f"{c + ' s':>9}{c + ' MB/s':>10}{c + ' MiB':>9}" for c in commands)
        # children first: a child's peak RSS includes what this process held when it forked
        startup = {c: statistics.median(run([*base, c], empty)[0] for _ in range(3)) for c in commands}
        rows = {}
        for kind, path in paths.items():
            cells = []
            for c in commands:
                results = [run([*base, c], path) for _ in range(args.runs)]
                seconds = statistics.median(r[0] for r in results)
                rss = max(r[1] for r in results)
                net = seconds - startup[c]
                rate = f"{size / 1e6 / net:10.2f}" if seconds > 2 * startup[c] else f"{'(start-up)':>10}"
                cells.append(f"{seconds:9.2f}{rate}{rss:9.1f}")
            rows[kind] = cells
        print(f"{'input':<18}{'pipeline MB/s':>14}{heads}")
        for kind, path in paths.items():
            print(
                f"{kind:<18}{in_process(path.read_bytes(), args.runs):14.2f}" + "".join(rows[kind]),
                flush=True,
            )
        print("start-up on an empty file: " + ", ".join(f"{c} {s:.2f} s" for c, s in startup.items()))


if __name__ == "__main__":
    main()
