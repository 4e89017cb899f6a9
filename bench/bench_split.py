"""FrameSplitter throughput on a large, realistic, noisy capture.

Builds a capture of about 16 MB from the real frames in ``tests/data/valid`` (plus copies with one
information byte changed and the checksums rebuilt by ``build_frame``, for variety), with about 1 %
of the bytes random garbage between frames (0x7E included), some frames damaged (one byte changed,
or cut short), and some flags shared. Then feeds it to ``FrameSplitter`` in 4096-byte chunks and
prints MB/s and frames/s (medians of several runs) and how many good frames came out of how many
were put in. No asserts on timing: figures only.

    python bench/bench_split.py [--megabytes 16] [--runs 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from amsread.errors import FrameError
from amsread.wire.hdlc import Frame, FrameSplitter, build_frame

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "valid"
CHUNK = 4096


@dataclass
class Capture:
    data: bytes
    expected: int
    frames_in: int
    damaged: int
    cut: int
    garbage: int


def real_frames() -> list[Frame]:
    """Every HDLC frame of every valid capture (the M-Bus one yields none)."""
    frames = []
    for path in sorted(DATA.glob("*.json")):
        splitter = FrameSplitter()
        frames += splitter.feed(bytes.fromhex(json.loads(path.read_text())["hex"])) + splitter.flush()
    return frames


def frame_pool(rng: random.Random, size: int = 2000) -> list[bytes]:
    """Real frames, and copies with one information byte changed and the checksums rebuilt."""
    originals = real_frames()
    pool = [f.raw for f in originals]
    while len(pool) < size:
        f = rng.choice(originals)
        info = bytearray(f.information)
        if len(info) > 3:
            i = rng.randrange(3, len(info))  # keep the LLC
            info[i] = rng.randrange(256)
        pool.append(
            build_frame(
                bytes(info),
                destination=f.destination,
                source=f.source,
                control=f.control,
                segmented=f.segmented,
            )
        )
    return pool


def build_capture(megabytes: float, rng: random.Random) -> Capture:
    pool = frame_pool(rng)
    target = int(megabytes * 1e6)
    out = bytearray()
    expected = frames_in = damaged = cut = garbage = 0
    while len(out) < target:
        frame = rng.choice(pool)
        frames_in += 1
        roll = rng.random()
        if roll < 0.005:  # one byte changed between the flags: that frame is lost
            frame = bytearray(frame)
            i = rng.randrange(1, len(frame) - 1)
            frame[i] ^= rng.randrange(1, 256)
            frame = bytes(frame)
            damaged += 1
        elif roll < 0.007:  # cut short, as when a reader starts mid-frame or a buffer overflows
            frame = frame[: rng.randrange(1, len(frame) - 1)]
            cut += 1
        else:
            expected += 1
        if out and out[-1] == 0x7E and frame[0] == 0x7E and rng.random() < 0.1:
            frame = frame[1:]  # share the previous closing flag
        out += frame
        if rng.random() < 0.1:  # ~1 % of the bytes: 0..50 random bytes after one frame in ten
            junk = rng.randbytes(rng.randrange(0, 51))
            garbage += len(junk)
            out += junk
    return Capture(bytes(out), expected, frames_in, damaged, cut, garbage)


def run(data: bytes) -> tuple[float, int, Counter[str], FrameSplitter]:
    reasons: Counter[str] = Counter()

    def count(err: FrameError) -> None:
        reasons[err.reason] += 1

    splitter = FrameSplitter(on_error=count)
    good = 0
    start = time.perf_counter()
    for i in range(0, len(data), CHUNK):
        good += len(splitter.feed(data[i : i + CHUNK]))
    good += len(splitter.flush())
    return time.perf_counter() - start, good, reasons, splitter


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=16)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cap = build_capture(args.megabytes, random.Random(args.seed))
    mb = len(cap.data) / 1e6
    print(
        f"capture: {mb:.1f} MB, {cap.frames_in} frames put in ({cap.damaged} with a byte changed, "
        f"{cap.cut} cut short), {cap.garbage} garbage bytes ({100 * cap.garbage / len(cap.data):.2f} %)"
    )
    seconds = []
    for _ in range(args.runs):
        elapsed, good, reasons, splitter = run(cap.data)
        seconds.append(elapsed)
    median = statistics.median(seconds)
    rates = f"{mb / median:.1f} MB/s, {good / median:,.0f} frames/s"
    print(f"split in {CHUNK}-byte chunks: {rates} (median of {args.runs})")
    print(f"good frames: {good} of {cap.expected} expected ({100 * good / cap.expected:.3f} %)")
    st = splitter.stats
    print(f"rejected: {dict(sorted(reasons.items()))}; discarded {st.bytes_discarded} bytes")


if __name__ == "__main__":
    main()
