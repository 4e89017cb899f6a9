"""What a fresh ``ReadingDecoder`` costs: each command run (and each CLI test) makes one.

Decodes four real captures (Aidon lists 1 and 3, Kamstrup list 2, Kaifa list 1) with a new
decoder each time and prints the first run and the median of the rest, in ms. The first pays
for compiling the layouts it meets; later decoders reuse those compilations. No asserts.

    python bench/bench_decoder_start.py [--runs 20]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline

VALID = Path(__file__).resolve().parent.parent / "tests" / "data" / "valid"
CAPTURES = ("amshan_aidon6525_list3_1", "doc_aidon_6534_list1", "fw_kamstrup_list2_7", "amshan_kaifa_list1_1")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    runs = ap.parse_args().runs
    data = b"".join(bytes.fromhex(json.loads((VALID / f"{n}.json").read_text())["hex"]) for n in CAPTURES)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        list(Pipeline().readings([data], decoder=ReadingDecoder()))
        times.append((time.perf_counter() - start) * 1000)
    print(f"first decoder {times[0]:.1f} ms; later decoders, median {statistics.median(times[1:]):.2f} ms")


if __name__ == "__main__":
    main()
