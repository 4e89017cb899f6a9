"""P1 telegrams per second through ``amsread csv``, against ``dsmr-parser`` alone; start-up cost.

Builds a large P1 capture with the simulated P1 meter (a Swedish Aidon's telegram, about 390
bytes, CRC included), then times:

* ``amsread csv CAPTURE > /dev/null`` as a child process (the whole command: start-up, framer,
  CRC, decoder, CSV rows), and the same pipeline in-process (no start-up);
* ``dsmr-parser`` alone in a child process of another Python (its ``TelegramBuffer`` fed in
  4096-byte chunks and its ``TelegramParser`` with the SWEDEN specification and CRC check: what
  amsread would use if it adopted the library), timed inside the child, without writing rows;
* start-up: ``amsread --version``, and the import of the P1 modules against the import of
  dsmr-parser's parser and buffer, each minus a bare ``python -c pass``.

dsmr-parser is not a dependency of amsread: give ``--dsmr-python`` the interpreter of a scratch
venv that has it (``python3 -m venv /tmp/dsmr && /tmp/dsmr/bin/pip install dsmr-parser``).
Figures only, no asserts (medians of ``--runs``).

    python bench/bench_p1.py [--telegrams 20000] [--runs 3] [--dsmr-python /tmp/dsmr/bin/python]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import islice
from pathlib import Path

from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.simulator import SimulatedMeter

CHUNK = 4096

DSMR_CHILD = """
import sys, time
t0 = time.perf_counter()
from dsmr_parser import telegram_specifications
from dsmr_parser.clients.telegram_buffer import TelegramBuffer
from dsmr_parser.parsers import TelegramParser
t1 = time.perf_counter()
data = open(sys.argv[1], "rb").read().decode("ascii")
parser = TelegramParser(telegram_specifications.SWEDEN)
buffer = TelegramBuffer()
n = 0
t2 = time.perf_counter()
for i in range(0, len(data), 4096):
    buffer.append(data[i : i + 4096])
    for telegram in buffer.get_all():
        parser.parse(telegram)
        n += 1
t3 = time.perf_counter()
print(n, t1 - t0, t3 - t2)
"""


def build_capture(path: Path, n: int) -> int:
    """``n`` simulated telegrams in a file; returns its size."""
    data = b"".join(p.frame for p in islice(SimulatedMeter("p1", 3, seed=1).pushes(), n))
    path.write_bytes(data)
    return len(data)


def amsread_command() -> list[str]:
    exe = shutil.which("amsread", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "amsread"]


def wall(cmd: list[str], runs: int, stdout: int | None = subprocess.DEVNULL) -> float:
    """Median wall-clock seconds of ``cmd``."""
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, stdout=stdout, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def in_process(path: Path, runs: int) -> tuple[int, float]:
    data = path.read_bytes()
    chunks = [data[i : i + CHUNK] for i in range(0, len(data), CHUNK)]
    times = []
    n = 0
    for _ in range(runs):
        t = time.perf_counter()
        n = sum(1 for _ in Pipeline().readings(chunks, decoder=ReadingDecoder()))
        times.append(time.perf_counter() - t)
    return n, statistics.median(times)


def startup(python: str, code: str, runs: int) -> float:
    """Median seconds ``python -c code`` takes beyond ``python -c pass``."""
    return wall([python, "-c", code], runs) - wall([python, "-c", "pass"], runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--telegrams", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dsmr-python", default=os.environ.get("DSMR_PYTHON"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p1.capture"
        size = build_capture(path, args.telegrams)
        n = args.telegrams
        print(f"capture: {n} telegrams, {size / 1e6:.1f} MB ({size // n} bytes each)")

        cmd = [*amsread_command(), "csv", str(path)]
        t = wall(cmd, args.runs)
        print(f"amsread csv (child, whole command): {t:6.2f} s  {n / t:8.0f} telegrams/s")
        got, t = in_process(path, args.runs)
        print(f"amsread pipeline (in-process):      {t:6.2f} s  {got / t:8.0f} telegrams/s  ({got} readings)")
        if args.dsmr_python:
            times = []
            for _ in range(args.runs):
                out = subprocess.run(
                    [args.dsmr_python, "-c", DSMR_CHILD, str(path)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                parsed, _, seconds = out.stdout.split()
                times.append(float(seconds))
            t = statistics.median(times)
            print(
                f"dsmr-parser buffer+parser (SWEDEN): {t:6.2f} s  {int(parsed) / t:8.0f} telegrams/s  ({parsed} parsed)"
            )
        else:
            print("dsmr-parser: skipped (give --dsmr-python)")

    runs = max(args.runs, 5)
    version = wall([*amsread_command(), "--version"], runs)
    print(f"start-up: amsread --version {version * 1000:5.0f} ms")
    ours = startup(sys.executable, "import amsread.wire.p1, amsread.decode.p1", runs)
    print(f"start-up: import amsread.wire.p1 + decode.p1     +{ours * 1000:5.0f} ms over a bare python")
    if args.dsmr_python:
        theirs = startup(
            args.dsmr_python,
            "import dsmr_parser.parsers, dsmr_parser.clients.telegram_buffer, dsmr_parser.telegram_specifications",
            runs,
        )
        print(
            f"start-up: import dsmr_parser parser + buffer      +{theirs * 1000:5.0f} ms over a bare python"
        )


if __name__ == "__main__":
    main()
