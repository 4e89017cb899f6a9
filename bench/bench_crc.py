"""CRC-16/X.25 throughput: ``fcs16`` (binascii.crc_hqx on reflected bytes) against ``fcs16_table``.

Prints MB/s, the median of several runs, for one large buffer and for frame-sized inputs (where the
per-call overhead dominates: a HAN frame is 40 to 600 bytes). No asserts: figures only.

    python bench/bench_crc.py [--runs 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from amsread.crc import fcs16, fcs16_table

Crc = Callable[[bytes], int]


def throughput(func: Crc, buffers: list[bytes], runs: int) -> float:
    """Median MB/s of ``func`` over every buffer, ``runs`` times."""
    total = sum(map(len, buffers))
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        for buf in buffers:
            func(buf)
        rates.append(total / (time.perf_counter() - start) / 1e6)
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(1)
    cases = {
        "1 MiB buffer": [rng.randbytes(1 << 20)],
        "44-byte frames (Aidon list 1)": [rng.randbytes(44) for _ in range(4000)],
        "396-byte frames (Aidon list 3)": [rng.randbytes(396) for _ in range(1000)],
    }
    for data in cases.values():
        for buf in data[:20]:
            assert fcs16(buf) == fcs16_table(buf)
    print(f"{'input':<32} {'fcs16 MB/s':>12} {'fcs16_table MB/s':>18} {'speed-up':>9}")
    for label, data in cases.items():
        fast = throughput(fcs16, data, args.runs)
        table = throughput(fcs16_table, data if label != "1 MiB buffer" else [data[0][: 1 << 18]], args.runs)
        print(f"{label:<32} {fast:12.1f} {table:18.1f} {fast / table:8.1f}x")
    print(f"(median of {args.runs} runs)")


if __name__ == "__main__":
    main()
