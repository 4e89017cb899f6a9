"""Damaged messages inside valid frames: only ``AmsReadError``s, never a hang, and the stream goes on.

A corrupted message that still has a good FCS (a meter bug, a bad reconstruction, a fuzzer) reaches
the decoder: each mutation below rebuilds the HDLC frame around the damaged information field with
``hdlc.build_frame``, so HCS and FCS are right. The decoder must then raise one of its own errors
(the ``DecodeError`` family) — never ``IndexError``, ``KeyError``, ``struct.error``,
``RecursionError`` or construct's errors — within a bounded time, and the pipeline must count it and
decode the next frame (style.md §3.8, items 3 and 4).
"""

from __future__ import annotations

import csv
import io
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from amsread.contract import COLUMNS, Reading
from amsread.decode.pipeline import Pipeline
from amsread.errors import AmsReadError, DecodeError, FrameError, SourceError
from amsread.formats import CsvWriter, json_line
from amsread.wire.framer import Envelope
from amsread.wire.hdlc import FrameSplitter, build_frame
from helpers.decoding import decoder, messages, plain_vectors
from helpers.vectors import raw

LLC = b"\xe6\xe7\x00"
#: Memory bound for one decode of a message of at most a few hundred bytes. A hostile length
#: (an array of 4 294 967 295 elements, a 4 GiB string) must not be believed; memory, unlike
#: wall-clock time, does not depend on how busy the machine is, so the bound cannot flake.
MAX_ALLOCATED = 4 * 1024 * 1024

#: (capture, information field, destination, source) of every plain message.
SEEDS: list[tuple[str, bytes, bytes, bytes]] = [
    (v["name"], info, frame.destination, frame.source)
    for v in plain_vectors()
    for frame, info in messages(v["name"])
]

#: Byte values that change the meaning of A-XDR most: tags, short and long lengths, flags.
INTERESTING = [0x00, 0x01, 0x02, 0x06, 0x09, 0x0A, 0x0C, 0x0F, 0x10, 0x12, 0x19, 0x7E, 0x80, 0x81, 0x84, 0xFF]

#: Captures of Kaifa's positional lists (no OBIS codes: known by list id and count).
KAIFA_POSITIONAL = {
    name for name, info, _, _ in SEEDS if b"\x09\x07KFM_001" in info and b"\x09\x06" not in info
}

#: A good list-1 frame to follow every damaged one.
GOOD = raw("doc_aidon_6534_list1")
GOOD_VALUES = {"active_power_import": 512}


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes, bytes, bytes]:
    """A real information field with one to four bytes changed, inserted or deleted."""
    name, info, dest, src = draw(st.sampled_from(SEEDS))
    data = bytearray(info)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["change", "change", "insert", "delete"]))
        # mostly inside the APDU; now and then the LLC header too
        pos = draw(st.integers(0, len(data) - 1)) if data else 0
        byte = draw(st.one_of(st.sampled_from(INTERESTING), st.integers(0, 255)))
        if op == "change" and data:
            data[pos] = byte if data[pos] != byte else byte ^ 0x01
        elif op == "insert":
            data.insert(pos, byte)
        elif data:
            del data[pos]
    return name, bytes(data), dest, src


def _frame_of(info: bytes, dest: bytes, src: bytes) -> Any:
    wire = build_frame(info, destination=dest, source=src)
    splitter = FrameSplitter()
    (frame,) = splitter.feed(wire) + splitter.flush()
    assert frame.information == info
    return frame


def _printable(reading: Reading) -> None:
    """Whatever a damaged frame decodes to can still be written as JSON and CSV."""
    line = json_line(reading)
    assert line.startswith("{") and "\n" not in line
    out = io.StringIO()
    CsvWriter(out, COLUMNS).write(reading)
    # a damaged text field may hold a line break: quoted, it is still two records (a bare CR is
    # not quoted yet: test_csv_text_with_carriage_return_is_one_record)
    if not any(isinstance(v, str) and "\r" in v for v in reading.values.values()):
        assert [len(row) for row in csv.reader(io.StringIO(out.getvalue(), newline=""))] == [len(COLUMNS)] * 2


def _decode(dec: Any, info: bytes, frame: Any = None) -> tuple[Reading | None, AmsReadError | None]:
    tracemalloc.start()
    try:
        reading = dec.decode(Envelope.of_hdlc(frame, info) if frame is not None else info)
    except AmsReadError as err:
        return None, err
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < MAX_ALLOCATED, f"decode allocated {peak} bytes"
    return reading, None


def _check_error(err: AmsReadError) -> None:
    assert isinstance(err, DecodeError), f"{type(err).__name__}: {err}"
    assert not isinstance(err, (FrameError, SourceError))
    assert str(err)


@settings(max_examples=300, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_message_raises_only_decode_errors(case: tuple[str, bytes, bytes, bytes]) -> None:
    name, info, dest, src = case
    frame = _frame_of(info, dest, src)
    outcomes = []
    for dec in (decoder(), decoder(use_layouts=False)):
        reading, err = _decode(dec, frame.information, frame)
        if err is not None:
            _check_error(err)
        elif reading is not None:
            _printable(reading)
        outcomes.append(err is None)
    # the flat layouts are only a faster road: they accept exactly what the tree accepts (except a
    # Kaifa positional list whose list id was hit: test_kaifa_positional_list_needs_its_list_id)
    if not (name in KAIFA_POSITIONAL and b"KFM_001" not in info):
        assert outcomes[0] == outcomes[1]


@settings(max_examples=100, deadline=500, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_pipeline_counts_a_damaged_message_and_goes_on(case: tuple[str, bytes, bytes, bytes]) -> None:
    _, info, dest, src = case
    # a damaged tag byte may read as a block-transfer block, which a decoder keeps until the rest
    # arrives: decoding it twice (directly, then in the pipeline) would not be the same call
    assume(info[:3] != LLC or len(info) < 4 or info[3] == 0x0F)
    dec = decoder()
    direct, err = _decode(dec, info)
    bad = build_frame(info, destination=dest, source=src)
    pipeline = Pipeline()
    readings = list(pipeline.readings([GOOD + bad + GOOD], decoder=dec))
    assert pipeline.stats.splitter.frames_good == 3
    assert readings[0].values == GOOD_VALUES
    assert readings[-1].values == GOOD_VALUES
    if err is not None:
        assert len(readings) == 2
        assert sum(pipeline.stats.errors.values()) == 1
        assert pipeline.stats.errors[err.reason] == 1  # type: ignore[attr-defined]
    else:
        assert len(readings) == 2 + (direct is not None)
        assert not pipeline.stats.errors
    assert pipeline.stats.readings == len(readings)


def test_pipeline_strict_raises_the_decode_error() -> None:
    info = LLC + b"\x0f\x40\x00\x00\x00\x00\x01\x02\x02"
    bad = build_frame(info, destination=b"\x41", source=b"\x08\x83")
    pipeline = Pipeline(strict=True)
    readings = pipeline.readings([GOOD + bad + GOOD], decoder=decoder())
    assert next(readings).values == GOOD_VALUES
    with pytest.raises(DecodeError):
        next(readings)
    assert sum(pipeline.stats.errors.values()) == 1


def test_pipeline_error_counters_by_reason() -> None:
    frames = [
        build_frame(LLC + b"\x0f\x40\x00\x00\x00\x00\x01\x02\x02"),  # body cut short
        build_frame(b"\xe6\xe6\x00\x0f\x40\x00\x00\x00\x00\x01\x00"),  # bad LLC
        build_frame(LLC + b"\xc4\x01\x00"),  # not a data-notification
        build_frame(LLC + b"\x0f\x40\x00\x00\x00\x00\x11\x05"),  # a bare unsigned: no list
    ]
    pipeline = Pipeline()
    readings = list(pipeline.readings([GOOD + GOOD.join(frames) + GOOD], decoder=decoder()))
    assert [r.values for r in readings] == [GOOD_VALUES] * 5
    assert pipeline.stats.errors == {"decode": 1, "bad LLC": 1, "unsupported APDU": 1, "bad layout": 1}
    assert pipeline.stats.splitter.frames_good == 9


# --------------------------------------------------------------------------------------------
# hostile structure
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("depth", [100, 300, 1000, 5000])
@pytest.mark.parametrize("container", [b"\x01\x01", b"\x02\x01"], ids=["array", "structure"])
def test_deeply_nested_containers(depth: int, container: bytes) -> None:
    for tail in (b"", b"\x00", b"\x06\x00\x00\x00\x01"):
        info = LLC + b"\x0f\x40\x00\x00\x00\x00" + container * depth + tail
        for dec in (decoder(), decoder(use_layouts=False)):
            reading, err = _decode(dec, info)
            assert reading is None
            assert isinstance(err, DecodeError), err


@pytest.mark.parametrize("depth", [2, 10, 50])
@pytest.mark.parametrize("container", [b"\x01\x01", b"\x02\x01"], ids=["array", "structure"])
def test_shallow_nesting_is_not_a_reading(depth: int, container: bytes) -> None:
    for tail in (b"\x00", b"\x06\x00\x00\x00\x01"):
        info = LLC + b"\x0f\x40\x00\x00\x00\x00" + container * depth + tail
        for dec in (decoder(), decoder(use_layouts=False)):
            reading, err = _decode(dec, info)
            assert reading is None, reading.values if reading else None
            assert isinstance(err, DecodeError), err


@pytest.mark.parametrize(
    "body",
    [
        "0184ffffffff",  # an array of 4 294 967 295 elements, none sent
        "0184ffffffff" + "00" * 50,  # ... fifty of them null
        "0285" + "00" * 5,  # a 5-byte length: beyond A-XDR
        "0201" + "0984ffffffff" + "41" * 10,  # an octet-string claiming 4 GiB
        "0201" + "0480ff",  # a bit-string of 255 bits, no bits sent
        "0201" + "1303",  # compact-array: not supported
        "0201" + "ff",  # dont-care outside a type description
        "020209060100010700ff",  # an OBIS code and no value
        "01010203090601000107" + "00ff06000000",  # register structure one element short
    ],
)
def test_hostile_lengths_and_tags(body: str) -> None:
    info = LLC + b"\x0f\x40\x00\x00\x00\x00" + bytes.fromhex(body)
    for dec in (decoder(), decoder(use_layouts=False)):
        reading, err = _decode(dec, info)
        assert reading is None
        assert isinstance(err, DecodeError), err


@pytest.mark.parametrize(
    "apdu",
    ["", "0f", "0f40", "0f4000000000", "0f400000000c07e6", "0f4000000009", "0f40000000090d", "0f4000000001"],
)
def test_broken_headers(apdu: str) -> None:
    for dec in (decoder(), decoder(use_layouts=False)):
        reading, err = _decode(dec, LLC + bytes.fromhex(apdu))
        assert reading is None
        assert isinstance(err, DecodeError), err


def _cut_points(n: int) -> list[int]:
    """Every cut in the header and the last bytes, and a spread through the body."""
    return sorted(set(range(min(n, 26))) | set(range(max(0, n - 8), n)) | set(range(0, n, max(1, n // 20))))


@pytest.mark.parametrize("seed", SEEDS, ids=[s[0] for s in SEEDS])
def test_truncated_apdu_is_a_decode_error(seed: tuple[str, bytes, bytes, bytes]) -> None:
    _, info, _, _ = seed
    apdu = info[3:]
    dec = decoder()  # a truncated list fails its layout and then the tree: both roads run
    for k in _cut_points(len(apdu)):
        reading, err = _decode(dec, LLC + apdu[:k])
        assert reading is None, k
        assert isinstance(err, DecodeError), (k, err)


@pytest.mark.parametrize("name", ["doc_aidon_6534_list1", "fw_kaifa_list2_1", "fw_kamstrup_list2_7"])
def test_every_truncation_of_small_captures(name: str) -> None:
    ((_, info),) = messages(name)
    apdu = info[3:]
    for dec in (decoder(), decoder(use_layouts=False)):
        for k in range(len(apdu)):
            reading, err = _decode(dec, LLC + apdu[:k])
            assert reading is None and isinstance(err, DecodeError), (k, err)
