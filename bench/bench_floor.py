"""Where a message's decode goes, step by step, and how far below it a decode without layers could go.

Issue 15 asks for 15 times amshan: about 90,000 frames/s for ``amsread csv``, 9.9 us per frame
after start-up. This bench shows why the decoder's arrangement alone cannot get there. For one
message of each common kind (from the bench mix, ``bench_pipeline.build_capture``) it times, in
process, each step as the decoder calls it, cumulatively:

* ``parse``: the compiled declaration alone (``cosem.unpack``), the values as a tuple;
* ``read``: the flat layout's ``Message`` from those (``CompiledLayout.read``);
* ``index``: finding the layout first (``LayoutIndex.parse``);
* ``message``: the decoder's message, the maker named (``ReadingDecoder.message``);
* ``plan`` / ``apply`` / ``to_reading``: naming and scaling by the cached plan, and the ``Reading``;
* ``decode``: the whole ``ReadingDecoder.decode`` of the envelope.

``floor`` is the same work with every layer taken out: parse, the ``Message``, the plan's
``apply`` and the ``Reading``, in one function, with none of the decoder's decisions (no maker
named by the stream, no meter time). It is a bound, not a decoder: what a fused road could at best
save per frame. No asserts on timing: figures only.

    python bench/bench_floor.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import random
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import build_capture

from amsread.contract import Reading
from amsread.decode.decoder import DecodeOptions, ReadingDecoder, to_reading
from amsread.decode.message import Message
from amsread.decode.pipeline import Pipeline
from amsread.errors import AmsReadError
from amsread.wire.framer import Envelope
from amsread.wire.hdlc import strip_llc

KINDS = (
    ("aidon", 1, "aidon-list1"),
    ("kaifa", 1, "kaifa-list1"),
    ("aidon", 2, "aidon-list2-4w"),
    ("kaifa", 2, "kaifa-list2-3p"),
    ("kamstrup", 2, "kamstrup-list2-3p"),
)


def envelopes() -> dict[tuple[str, int, str], Envelope]:
    """The first envelope of each kind in the bench mix."""
    cap, _ = build_capture(20_000, random.Random(1))
    decoder, found = ReadingDecoder(DecodeOptions()), {}
    for envelope in Pipeline().messages([cap.data]):
        try:
            reading = decoder.decode(envelope)
        except AmsReadError:
            continue
        if reading is not None:
            found.setdefault((reading.manufacturer or "", reading.list or 0, reading.layout), envelope)
    return found


def steps(decoder: ReadingDecoder, envelope: Envelope, layout: str) -> dict[str, Callable[[], Any]]:
    """The timed steps of one message, in the order the decoder takes them, and the floor."""
    apdu, source = strip_llc(envelope.payload), envelope.source
    assert decoder.layouts is not None
    cl = decoder.layouts.compiled(layout)
    form = cl.form(apdu[5])
    msg = decoder.message(apdu, source)
    assert msg is not None
    plan = decoder._plan(msg)
    assert plan is not None
    options = decoder.options

    def floor() -> Reading:
        parsed = form.parse(apdu)
        vals = form.values(parsed)
        scalers = form.scalers(parsed) if cl.has_registers else cl.no_scalers
        if cl._fixed:
            vals = cl._fixed_values(vals)
        m = Message(cl.slots, vals, scalers, scalers, None, msg.manufacturer, cl.name, cl.list_level)
        done = plan.apply(vals)
        assert done is not None
        return Reading(None, None, msg.manufacturer, cl.list_level, done[0], cl.name, m, ())

    assert decoder.layouts is not None
    index = decoder.layouts
    return {
        "parse": lambda: form.parse(apdu),
        "read": lambda: cl.read(apdu, source),
        "index": lambda: index.parse(apdu, source),
        "message": lambda: decoder.message(apdu, source),
        "plan": lambda: decoder._plan(msg),
        "apply": lambda: plan.apply(msg.values),
        "to_reading": lambda: to_reading(msg, options, None, previous=None, plan=plan),
        "decode": lambda: decoder.decode(envelope),
        "floor": floor,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args()
    found = envelopes()
    decoder = ReadingDecoder(DecodeOptions())
    names = list(steps(decoder, found[KINDS[0]], KINDS[0][2]))
    print(
        f"us per message (best of 7 x {args.calls} calls); parse..message cumulative, plan..to_reading apart"
    )
    print(f"  {'kind':<28}" + "".join(f"{n:>11}" for n in names))
    for kind in KINDS:
        if kind not in found:
            continue
        timed = steps(decoder, found[kind], kind[2])
        cells = [
            min(timeit.repeat(f, number=args.calls, repeat=7)) / args.calls * 1e6 for f in timed.values()
        ]
        print(f"  {kind[2]:<28}" + "".join(f"{c:>11.2f}" for c in cells))


if __name__ == "__main__":
    main()
