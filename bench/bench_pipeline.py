"""Decoding throughput of the whole path: split, check, decode, convert to readings (issue 3).

Builds a large realistic capture (default 100 000 frames) from the real Aidon, Kaifa and Kamstrup
frames in ``tests/data/valid`` and ``tests/data/bench-frames.json``: one session per meter, three
quarters list 1 and a quarter list 2 overall (Aidon and Kaifa send list 1 every 2-2.5 s and list 2
every 10 s; Kamstrup sends no list 1), one list 3 per 360 list 2 (hourly), values varied by
rebuilding each body with its layout (``CompiledLayout.build``) and the frame with
``hdlc.build_frame`` so the checksums are right, about 1 % garbage bytes between frames and a few
corrupted frames. Then prints, as medians:

* frames/s of ``list(Pipeline().readings([data], decoder=ReadingDecoder()))`` (a new decoder each run, so it includes compiling
  the layouts it meets) and with one warm decoder passed in;
* µs per frame for each list type: ``ReadingDecoder.decode`` on one information field, the
  splitter's share, and the generic tree (``ReadingDecoder(use_layouts=False)``) for comparison;
* the whole path with the generic tree only.

No asserts on timing: figures only. ``--profile`` prints a cProfile top 20 of one warm run.

    python bench/bench_pipeline.py [--frames 100000] [--runs 5] [--generic-runs 1] [--seed 1] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amsread.cosem.apdu import decode_head
from amsread.decode.decoder import ReadingDecoder
from amsread.decode.flat import CompiledLayout
from amsread.decode.pipeline import Pipeline
from amsread.errors import AmsReadError
from amsread.meters import BY_NAME
from amsread.wire.framer import Envelope
from amsread.wire.hdlc import Frame, FrameSplitter, build_frame, strip_llc

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
VENDORS = ("aidon", "kaifa", "kamstrup")
#: Share of all frames per (vendor, list): 3/4 list 1 from Aidon and Kaifa, 1/4 list 2 from all three.
SHARES = {("aidon", 1): 0.375, ("kaifa", 1): 0.375, ("aidon", 2): 1 / 12, ("kaifa", 2): 1 / 12}
SHARES[("kamstrup", 2)] = 1 / 12
LIST3_EVERY = 360  # list 2 frames per hour
VARIANTS = 64  # rebuilt copies of each base frame
#: Value ranges of the A-XDR integer tags the layouts use.
RANGES = {0x05: (-(2**31), 2**31 - 1), 0x06: (0, 2**32 - 1), 0x10: (-(2**15), 2**15 - 1)}
RANGES |= {0x12: (0, 2**16 - 1), 0x15: (0, 2**64 - 1)}


@dataclass
class Base:
    """One real frame of a known list: its framing, APDU head and parsed body."""

    name: str
    vendor: str
    level: int
    frame: Frame
    head: bytes
    layout: CompiledLayout
    parsed: dict[str, Any]


@dataclass
class Capture:
    data: bytes
    frames_in: int = 0
    expected: int = 0
    corrupted: int = 0
    cut: int = 0
    garbage: int = 0
    mix: Counter[tuple[str, int]] = field(default_factory=Counter)


def _frames(hex_text: str) -> list[Frame]:
    splitter = FrameSplitter()
    return splitter.feed(bytes.fromhex(hex_text)) + splitter.flush()


def base_frames() -> list[Base]:
    """Every single-frame, plain Aidon/Kaifa/Kamstrup list 1-3 capture that a flat layout decodes."""
    sources: list[tuple[str, str]] = []
    for path in sorted((DATA / "valid").glob("*.json")):
        v = json.loads(path.read_text())
        if not v.get("encrypted"):
            sources.append((v["name"], v["hex"]))
    bench = json.loads((DATA / "bench-frames.json").read_text())
    sources += [(f"bench:{name}", v["hex"]) for name, v in bench.items()]
    decoder = ReadingDecoder()
    out = []
    for name, hex_text in sources:
        frames = _frames(hex_text)
        if len(frames) != 1 or frames[0].segmented:
            continue
        frame = frames[0]
        try:
            reading = decoder.decode(Envelope.of_hdlc(frame))
        except AmsReadError:  # ciphered without a key, a lone block: not for this bench
            continue
        if reading is None or reading.manufacturer not in VENDORS or reading.list not in (1, 2, 3):
            continue
        if reading.layout not in BY_NAME or reading.values.get("list_version") == "EMBRIQ_V1_1":
            continue
        apdu = strip_llc(frame.information)
        _, _, offset = decode_head(apdu)
        layout = CompiledLayout(BY_NAME[reading.layout])
        parsed = {k: v for k, v in layout.compiled.parse(apdu[offset:]).items() if not k.startswith("_")}
        out.append(Base(name, reading.manufacturer, reading.list, frame, apdu[:offset], layout, parsed))
    return out


def variant(base: Base, rng: random.Random) -> bytes:
    """``base`` with every integer value moved by up to ±10 %, rebuilt and reframed."""
    values = dict(base.parsed)
    for i, f in enumerate(base.layout.layout.fields):
        key = f"v{i}"
        if f.tag in RANGES and isinstance(values.get(key), int):
            low, high = RANGES[f.tag]
            v = values[key]
            values[key] = min(high, max(low, v + rng.randint(-abs(v) // 10 - 3, abs(v) // 10 + 3)))
    info = b"\xe6\xe7\x00" + base.head + base.layout.build(values)
    f = base.frame
    return build_frame(info, destination=f.destination, source=f.source, control=f.control)


def build_capture(n_frames: int, rng: random.Random) -> tuple[Capture, dict[tuple[str, int], list[Base]]]:
    by_kind: dict[tuple[str, int], list[Base]] = {}
    for base in base_frames():
        by_kind.setdefault((base.vendor, base.level), []).append(base)
    pools = {
        kind: [variant(rng.choice(bases), rng) for _ in range(VARIANTS * len(bases))]
        for kind, bases in by_kind.items()
    }
    cap = Capture(b"")
    out = bytearray()

    def put(kind: tuple[str, int]) -> None:
        frame = rng.choice(pools[kind])
        cap.frames_in += 1
        cap.mix[kind] += 1
        roll = rng.random()
        if roll < 0.003:  # a byte changed between the flags: HCS or FCS fails
            damaged = bytearray(frame)
            damaged[rng.randrange(1, len(frame) - 1)] ^= rng.randrange(1, 256)
            frame = bytes(damaged)
            cap.corrupted += 1
        elif roll < 0.004:  # cut short
            frame = frame[: rng.randrange(2, len(frame) - 1)]
            cap.cut += 1
        else:
            cap.expected += 1
        out.extend(frame)
        if rng.random() < 0.1:  # one gap in ten: 1..19 random bytes, about 1 % of the stream
            junk = rng.randbytes(rng.randrange(1, 20))
            cap.garbage += len(junk)
            out.extend(junk)

    for vendor in VENDORS:
        n1 = round(n_frames * SHARES.get((vendor, 1), 0))
        n2 = round(n_frames * SHARES[(vendor, 2)])
        per_l2 = n1 / n2 if n2 else 0
        sent1 = 0
        for j in range(n2):
            while sent1 < round((j + 1) * per_l2):
                put((vendor, 1))
                sent1 += 1
            put((vendor, 2))
            if j % LIST3_EVERY == LIST3_EVERY - 1:
                put((vendor, 3))
    cap.data = bytes(out)
    return cap, by_kind


def median_time(func: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times = []
    result = None
    for _ in range(runs):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def per_call_us(func: Callable[[], Any], calls: int = 200, repeats: int = 25) -> float:
    """Median µs of one call, over ``repeats`` batches of ``calls``."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            func()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--generic-runs", type=int, default=1, help="whole-path runs of the (slow) generic tree"
    )
    parser.add_argument("--profile", action="store_true", help="print a cProfile top 20 of one warm run")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    start = time.perf_counter()
    cap, by_kind = build_capture(args.frames, rng)
    built = time.perf_counter() - start
    data = cap.data
    mix = ", ".join(f"{v} L{n} {cap.mix[(v, n)]}" for v, n in sorted(cap.mix))
    print(
        f"capture: {len(data) / 1e6:.1f} MB, {cap.frames_in} frames ({mix}); "
        f"{cap.corrupted} corrupted, {cap.cut} cut short, {cap.garbage} garbage bytes "
        f"({100 * cap.garbage / len(data):.2f} %); built in {built:.1f} s"
    )

    def whole(decoder: ReadingDecoder | None = None) -> tuple[int, Pipeline]:
        pipeline = Pipeline()
        n = len(list(pipeline.readings([data], decoder=decoder or ReadingDecoder())))
        return n, pipeline

    cold, (readings, pipeline) = median_time(whole, args.runs)
    warm_decoder = ReadingDecoder()
    whole(warm_decoder)
    warm, _ = median_time(lambda: whole(warm_decoder), args.runs)
    split_s, frames = median_time(lambda: FrameSplitter().feed(data), args.runs)
    good = pipeline.stats.splitter.frames_good
    assert readings == good == cap.expected, (readings, good, cap.expected, dict(pipeline.stats.errors))
    generic_decoder = ReadingDecoder(use_layouts=False)
    generic_runs = args.generic_runs
    generic = None
    if generic_runs:
        generic, (generic_readings, _) = median_time(lambda: whole(generic_decoder), generic_runs)
        assert generic_readings == readings

    print(
        f"\nwhole path, list(Pipeline().readings([data], decoder=...)), {good} frames -> {readings} readings:"
    )
    print(f"  {'new decoder per run (median of ' + str(args.runs) + ')':<44} {good / cold:>10,.0f} frames/s")
    print(f"  {'warm decoder (median of ' + str(args.runs) + ')':<44} {good / warm:>10,.0f} frames/s")
    if generic is not None:
        label = f"generic tree only (median of {generic_runs})"
        print(f"  {label:<44} {good / generic:>10,.0f} frames/s")
    print(f"  {'splitter alone, FrameSplitter().feed(data)':<44} {len(frames) / split_s:>10,.0f} frames/s")

    print(
        f"\n{'per frame, µs (median of 25 x 200 calls)':<46} {'decode':>8} {'split':>7} {'total':>7} {'generic':>8}"
    )
    flat = ReadingDecoder()
    for kind in sorted(by_kind):
        # the largest frame of the kind's most common layout (not a Swedish or CT variant)
        common = Counter(b.layout.layout.name for b in by_kind[kind]).most_common(1)[0][0]
        base = max(
            (b for b in by_kind[kind] if b.layout.layout.name == common), key=lambda b: len(b.frame.raw)
        )
        envelope = Envelope.of_hdlc(base.frame)
        flat.decode(envelope)
        generic_decoder.decode(envelope)
        decode_us = per_call_us(lambda envelope=envelope: flat.decode(envelope))
        generic_us = per_call_us(lambda envelope=envelope: generic_decoder.decode(envelope), 50, 15)
        block = base.frame.raw * 500
        split_us = per_call_us(lambda block=block: FrameSplitter().feed(block), 1, 15) / 500
        label = f"{kind[0]} list {kind[1]} ({len(base.frame.raw)} B, {base.layout.layout.name})"
        print(
            f"  {label:<44} {decode_us:>8.1f} {split_us:>7.1f} {decode_us + split_us:>7.1f} {generic_us:>8.1f}"
        )

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        whole(warm_decoder)
        profiler.disable()
        print("\ncProfile, one warm whole-path run, top 20 by own time:")
        pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
