"""Hypothesis properties of ``FrameSplitter`` (style.md §3.8 item 3).

Streams are built from real captures and from ``build_frame`` around random information fields
(random addresses, control and segmentation bit), joined by shared or doubled flags.

What holds, exactly (reasoned in the docstrings below; CRC collisions aside, which need a 16-bit
HCS match *and* a 16-bit FCS match *and* a flag in the right place):

* the frames, errors and counters do not depend on how the stream is chunked;
* garbage between frames costs no frame, with or without 0x7E in it, and is counted as discarded;
* a byte inserted, dropped or changed strictly between one frame's flags costs that frame only.
  The one way the damaged frame survives is an inserted 0x7E right after its opening flag or
  right before its closing flag: that is a doubled flag. A damaged *flag* is another matter: a
  shared flag belongs to two frames, so changing it costs both (``test_damaged_shared_flag``);
* no input makes ``feed`` or ``flush`` raise, and ``buffered`` stays within one maximum frame.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from amsread.crc import fcs16
from amsread.errors import FrameError
from amsread.wire.hdlc import MAX_FRAME_LENGTH, Frame, FrameSplitter, build_frame, encode_address
from helpers.vectors import hdlc_captures, raw, walk_frames

REAL_FRAMES = sorted({f for v in hdlc_captures() for f in walk_frames(raw(v))}, key=lambda f: (len(f), f))

#: Flag and header (length 2047, Aidon addresses) with a good HCS: a candidate that makes the splitter wait.
LONGEST_CLAIM = (
    b"\x7e" + bytes.fromhex("a7ff41088313") + fcs16(bytes.fromhex("a7ff41088313")).to_bytes(2, "little")
)

FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------------

address = st.one_of(
    st.sampled_from(
        [b"\x41", b"\x01", b"\x2b", b"\xcf", b"\x03", b"\x21", b"\x08\x83", b"\x02\x01", b"\xce\xff"]
    ),
    st.builds(
        lambda size, value: bytes(encode_address(value % (1 << (7 * size)), size)),
        st.integers(1, 4),
        st.integers(0, 2**28 - 1),
    ),
)


@st.composite
def built_frame(draw: st.DrawFn) -> bytes:
    return build_frame(
        draw(st.binary(max_size=300)),
        destination=draw(address),
        source=draw(address),
        control=draw(st.sampled_from([0x03, 0x10, 0x13])),
        segmented=draw(st.booleans()),
    )


frame = st.one_of(st.sampled_from(REAL_FRAMES), built_frame())
frames = st.lists(frame, min_size=1, max_size=6)


def join(parts: list[bytes], shared: list[bool]) -> bytes:
    """Concatenate frames; where ``shared[i]``, frame i+1 reuses frame i's closing flag."""
    out = bytearray(parts[0])
    for part, share in zip(parts[1:], shared, strict=False):
        out += part[1:] if share else part
    return bytes(out)


@st.composite
def stream(draw: st.DrawFn) -> tuple[list[bytes], bytes]:
    parts = draw(frames)
    shared = draw(st.lists(st.booleans(), min_size=len(parts), max_size=len(parts)))
    return parts, join(parts, shared)


def chunked(data: bytes, sizes: list[int]) -> list[bytes]:
    """``data`` cut into pieces of the given sizes (cycled), every piece at least one byte."""
    out, i, k = [], 0, 0
    while i < len(data):
        step = sizes[k % len(sizes)] if sizes else len(data)
        out.append(data[i : i + step])
        i += step
        k += 1
    return out


def contains_frame(data: bytes) -> bool:
    s = FrameSplitter()
    return bool(s.feed(data) or s.flush())


def run(pieces: list[bytes]) -> tuple[list[Frame], list[FrameError], FrameSplitter]:
    errors: list[FrameError] = []
    s = FrameSplitter(on_error=errors.append)
    out: list[Frame] = []
    for piece in pieces:
        out += s.feed(piece)
        assert s.buffered <= MAX_FRAME_LENGTH + 2
    out += s.flush()
    assert s.buffered == 0
    return out, errors, s


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------


@FAST
@given(stream(), st.lists(st.integers(1, 600), max_size=20))
def test_any_chunking_gives_the_same_frames(built: tuple[list[bytes], bytes], sizes: list[int]) -> None:
    parts, data = built
    whole, whole_errors, s1 = run([data])
    assert [f.raw for f in whole] == parts
    assert whole_errors == [] and s1.stats.bytes_discarded == 0
    pieces, errors, s2 = run(chunked(data, sizes))
    assert [f.raw for f in pieces] == parts
    assert [(type(e), e.raw) for e in errors] == [(type(e), e.raw) for e in whole_errors]
    assert s1.stats == s2.stats


@FAST
@given(
    frames,
    st.lists(st.binary(max_size=40), min_size=7, max_size=7),
    st.lists(st.integers(1, 64), max_size=8),
)
def test_garbage_without_flags_between_frames_loses_no_frame(
    parts: list[bytes], garbage: list[bytes], sizes: list[int]
) -> None:
    garbage = [g.replace(b"\x7e", b"\x7d") for g in garbage]
    data = b"".join(g + p for g, p in zip(garbage, parts, strict=False)) + garbage[-1]
    out, _, s = run(chunked(data, sizes))
    assert [f.raw for f in out] == parts
    assert s.stats.bytes_discarded == len(data) - sum(map(len, parts))


junk_piece = st.one_of(
    st.binary(max_size=30),
    st.sampled_from([b"\x7e", b"\x7e\x7e", b"\x7e\xa0", b"\x7e\xa1\x0b\x41", b"\x7e\xa7\xff", b"\x7e\xa8"]),
    st.sampled_from(REAL_FRAMES).map(lambda f: f[: len(f) // 2]),  # a truncated frame
    st.sampled_from(REAL_FRAMES).map(lambda f: f[len(f) // 2 :]),  # a frame's tail
)
junk = st.lists(junk_piece, max_size=4).map(b"".join)


@FAST
@given(frames, st.lists(junk, min_size=7, max_size=7), st.lists(st.integers(1, 256), max_size=8))
def test_garbage_with_flags_between_frames_loses_no_frame(
    parts: list[bytes], garbage: list[bytes], sizes: list[int]
) -> None:
    # Garbage may hold flags, plausible headers, halves of real frames: a false candidate fails its
    # HCS, its closing flag or its FCS, and the hunt resumes at the byte after its flag, so it never
    # swallows the real frame behind it. Garbage after the last frame may hide a frame start that
    # only flush() disproves. Garbage must not *hold* a frame, even one completed by the flags of the
    # frames around it: Hypothesis built a frame minus its opening flag, and the two halves of one
    # frame behind a truncated one.
    assume(not any(contains_frame(b"\x7e" + g + b"\x7e") for g in garbage))
    data = b"".join(g + p for g, p in zip(garbage, parts, strict=False)) + garbage[-1]
    out, _, s = run(chunked(data, sizes))
    assert [f.raw for f in out] == parts
    assert s.stats.bytes_discarded == len(data) - sum(map(len, parts))


@st.composite
def damaged(draw: st.DrawFn) -> dict[str, Any]:
    parts, _ = draw(stream())
    shared = draw(st.lists(st.booleans(), min_size=len(parts), max_size=len(parts)))
    victim = draw(st.integers(0, len(parts) - 1))
    interior = len(parts[victim]) - 2  # bytes strictly between the victim's flags
    kind = draw(st.sampled_from(["insert", "drop", "flip"]))
    if kind == "insert":  # before interior byte `at`; at == interior: right before the closing flag
        at = draw(st.integers(0, interior))
        byte = draw(st.one_of(st.integers(0, 255), st.just(0x7E)))
    else:
        at = draw(st.integers(0, interior - 1))
        byte = draw(st.integers(1, 255))  # xor mask for flips
    return {"parts": parts, "shared": shared, "victim": victim, "kind": kind, "at": at, "byte": byte}


def damage(frame: bytes, kind: str, at: int, byte: int) -> bytes:
    i = at + 1  # offset in the frame, past the opening flag
    if kind == "insert":
        return frame[:i] + bytes([byte]) + frame[i:]
    if kind == "drop":
        return frame[:i] + frame[i + 1 :]
    return frame[:i] + bytes([frame[i] ^ byte]) + frame[i + 1 :]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged(), st.lists(st.integers(1, 512), max_size=8))
def test_one_damaged_byte_costs_at_most_its_frame(case: dict[str, Any], sizes: list[int]) -> None:
    parts, victim = case["parts"], case["victim"]
    hurt = list(parts)
    hurt[victim] = damage(parts[victim], case["kind"], case["at"], case["byte"])
    data = join(hurt, case["shared"])
    out, _, _ = run(chunked(data, sizes))
    others = parts[:victim] + parts[victim + 1 :]
    interior = len(parts[victim]) - 2
    doubled_flag = case["kind"] == "insert" and case["byte"] == 0x7E and case["at"] in (0, interior)
    assert [f.raw for f in out] == (parts if doubled_flag else others)


arbitrary = st.lists(
    st.one_of(
        st.binary(max_size=64),
        st.sampled_from([b"\x7e", b"\x7e\xa0", b"\x7e\xa7\xff", b"\x7e\xa8\xa4"]),
        # a header whose HCS verifies and claims the longest frame: the buffer's worst case
        st.just(LONGEST_CLAIM),
        st.sampled_from(REAL_FRAMES),
        st.sampled_from(REAL_FRAMES).map(lambda f: f[: len(f) // 3]),
    ),
    max_size=40,
).map(b"".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arbitrary, st.lists(st.integers(1, 4096), max_size=10))
def test_arbitrary_bytes_never_raise_and_stay_bounded(data: bytes, sizes: list[int]) -> None:
    events: list[Any] = []
    s = FrameSplitter(on_error=events.append, on_discard=events.append, on_frame=events.append)
    for piece in chunked(data, sizes):
        s.feed(piece)
        assert s.buffered <= MAX_FRAME_LENGTH + 2
    s.flush()
    assert s.buffered == 0
    st_ = s.stats
    assert st_.bytes_received == len(data)
    good = [e for e in events if isinstance(e, Frame)]
    assert st_.frames_good == len(good)
    assert st_.frames_bad == sum(isinstance(e, FrameError) for e in events)
    # every byte is in a good frame or discarded, once (a shared flag is in two frames)
    discarded = b"".join(e for e in events if isinstance(e, bytes))
    assert st_.bytes_discarded == len(discarded) <= len(data)
    assert len(discarded) + sum(len(f.raw) for f in good) >= len(data)


@FAST
@given(st.binary(max_size=5000))
def test_plain_random_bytes(data: bytes) -> None:
    _, errors, s = run(chunked(data, [4096]))
    assert s.stats.bytes_received == len(data)
    assert all(isinstance(e, FrameError) for e in errors)


# --------------------------------------------------------------------------------------------
# the limits, shown once
# --------------------------------------------------------------------------------------------


def test_damaged_shared_flag() -> None:
    a, b, c = REAL_FRAMES[0], REAL_FRAMES[5], REAL_FRAMES[-1]
    data = bytearray(join([a, b, c], [True, True]))
    data[len(a) - 1] ^= 0x01  # the flag that closes a and opens b
    out, _, _ = run([bytes(data)])
    assert [f.raw for f in out] == [c]


def test_dropping_one_of_a_doubled_flag_costs_nothing() -> None:
    a, b = REAL_FRAMES[0], REAL_FRAMES[5]
    out, _, _ = run([a + b[1:]])  # what remains is a shared flag
    assert [f.raw for f in out] == [a, b]
