"""What the Swiss VSE list rule costs: the generic road's time per body, with and without it.

Decodes the bodies of two real captures (``tests/data/valid``) once, then times
``decode.generic.items_from_tree`` on each, with the VSE rule (as the decoder calls it) and
without it (the plain capture-object rule alone):

* ``scs_lg_e570_ch_vse2026_noload_1``: a VSE list, read by the rule;
* ``fw_landisgyr_gbt_1``: an E450 capture-object list that is no VSE list, which the rule must
  look at and turn down before the plain rule reads it.

Then the whole in-process pipeline (framer, block transfer, decoder) over ``--copies`` copies of
the E570 capture, in readings per second. Figures only, no asserts (medians of ``--runs``).

    python bench/bench_vse.py [--loops 20000] [--copies 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from amsread.cosem.apdu import decode_apdu
from amsread.cosem.ciphering import ApduUnwrapper
from amsread.decode.decoder import ReadingDecoder
from amsread.decode.generic import items_from_tree
from amsread.decode.pipeline import Pipeline
from amsread.meters import CAPTURE_OBJECT_SCALERS, UNSCALED_CAPTURE_LISTS
from amsread.wire.framer import Framer
from amsread.wire.hdlc import strip_llc

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "valid"
CAPTURES = ("scs_lg_e570_ch_vse2026_noload_1", "fw_landisgyr_gbt_1")


def capture(name: str) -> bytes:
    return bytes.fromhex(json.loads((DATA / f"{name}.json").read_text())["hex"])


def body(name: str) -> tuple[Any, tuple[int, ...]]:
    """The reassembled data-notification's body and its elements' tags."""
    unwrap = ApduUnwrapper()
    blocks = [
        e.payload if i else strip_llc(e.payload) for i, e in enumerate(Framer().messages([capture(name)]))
    ]
    (apdu,) = [a for a in map(unwrap, blocks) if a is not None]
    decoded = decode_apdu(apdu)
    return decoded.body, decoded.element_tags


def per_body(tree: Any, tags: tuple[int, ...], unscaled: tuple[Any, ...], loops: int) -> float:
    """Microseconds per ``items_from_tree`` call."""
    t0 = time.perf_counter()
    for _ in range(loops):
        items_from_tree(
            tree, capture_scalers=CAPTURE_OBJECT_SCALERS, tags=tags, unscaled=unscaled, left_out=[]
        )
    return (time.perf_counter() - t0) / loops * 1e6


def pipeline_rate(copies: int) -> float:
    """Readings per second through the in-process pipeline."""
    data = capture(CAPTURES[0]) * copies
    t0 = time.perf_counter()
    n = sum(1 for _ in Pipeline().readings([data], decoder=ReadingDecoder()))
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", type=int, default=20000)
    ap.add_argument("--copies", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    for name in CAPTURES:
        tree, tags = body(name)
        with_rule = statistics.median(
            per_body(tree, tags, UNSCALED_CAPTURE_LISTS, a.loops) for _ in range(a.runs)
        )
        without = statistics.median(per_body(tree, tags, (), a.loops) for _ in range(a.runs))
        print(f"{name}: {with_rule:.1f} us per body with the VSE rule, {without:.1f} us without")
    rate = statistics.median(pipeline_rate(a.copies) for _ in range(a.runs))
    print(f"pipeline, {CAPTURES[0]} x {a.copies}: {rate:,.0f} readings/s")


if __name__ == "__main__":
    main()
