"""Helpers for the decoding tests (issue 3): decodable captures, their information fields, exact compares.

Vectors come from ``tests/data`` through ``conftest`` only. A reference number in a vector is a
JSON float or int; ours is an ``int`` or an exact ``Decimal``, compared as ``Decimal(str(ref))``
(so ``233.0`` equals ``Decimal("233.0")`` and ``233``, and ``109552.248`` never equals
``109552.25``).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

import pytest

from amsread.contract import COLUMNS, Reading
from amsread.cosem.apdu import decode_head
from amsread.decode.decoder import DecodeOptions, ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.obis import Obis
from amsread.wire.framer import Envelope
from amsread.wire.hdlc import Frame, FrameSplitter, strip_llc
from helpers.vectors import NOT_HDLC, raw, vectors

#: Captures whose message comes in general-block-transfer blocks (one decoder must see them all).
BLOCK_TRANSFERRED: frozenset[str] = frozenset(
    {"fw_landisgyr_gbt_1", "scs_lg_e450_ch_gbt_mbus_channels_1", "scs_lg_e570_ch_vse2026_noload_1"}
)

#: Captures that need a key, or are block-transferred, so the plain decoder cannot read them.
NOT_PLAIN: frozenset[str] = frozenset(
    v["name"] for v in vectors("valid") if v.get("encrypted") or v["name"] in BLOCK_TRANSFERRED
) | frozenset(NOT_HDLC)

#: Contract columns a reading may carry that the reference readings never hold.
NEVER_IN_REFERENCE: frozenset[str] = frozenset({"received_at", "list"})


def plain_vectors() -> list[dict[str, Any]]:
    """Every unencrypted HDLC capture the plain decoder reads (with or without reference readings)."""
    return [v for v in vectors("valid") if v["name"] not in NOT_PLAIN]


def plain_params(
    *, with_readings: bool = False, exclude: frozenset[str] | set[str] = frozenset()
) -> list[Any]:
    return [
        pytest.param(v, id=v["name"])
        for v in plain_vectors()
        if v["name"] not in exclude and (v.get("readings") or not with_readings)
    ]


@functools.cache
def messages(name: str) -> tuple[tuple[Frame, bytes], ...]:
    """The capture's whole information fields (HDLC segments joined), each with its last frame."""
    return tuple((last_frame(env), env.payload) for env in Pipeline().messages([raw(name)]))


def last_frame(envelope: Envelope) -> Frame:
    """The HDLC frame that completed ``envelope``, split again from its raw bytes."""
    (frame,) = FrameSplitter().feed(envelope.frames[-1])
    return frame


def infos(name: str) -> list[bytes]:
    return [info for _, info in messages(name)]


def apdu_of(info: bytes) -> bytes:
    return strip_llc(info)


def body_of(info: bytes) -> bytes:
    """The notification body (one A-XDR Data value) of a data-notification information field."""
    apdu = strip_llc(info)
    _, _, offset = decode_head(apdu)
    return apdu[offset:]


def decode(
    name_or_bytes: str | bytes,
    options: DecodeOptions | None = None,
    *,
    use_layouts: bool = True,
) -> tuple[list[Reading], Pipeline]:
    """Every reading of a capture through the real pipeline, and the pipeline (for its stats)."""
    data = raw(name_or_bytes) if isinstance(name_or_bytes, str) else name_or_bytes
    pipeline = Pipeline()
    fresh = ReadingDecoder(options, use_layouts=use_layouts)  # a capture alone: nothing named before it
    return list(pipeline.readings([data], decoder=fresh)), pipeline


@functools.cache
def decoder(options: DecodeOptions | None = None, *, use_layouts: bool = True) -> ReadingDecoder:
    """One decoder per options, shared (building one compiles every layout). It remembers only the
    maker a list id named per source address (issue 13): ``decode`` uses a fresh one."""
    return ReadingDecoder(options, use_layouts=use_layouts)


def one(name: str, options: DecodeOptions | None = None, *, use_layouts: bool = True) -> Reading:
    """The single reading of a one-message capture; fails on pipeline errors."""
    readings, pipeline = decode(name, options, use_layouts=use_layouts)
    assert not pipeline.stats.errors, f"{name}: {dict(pipeline.stats.errors)}"
    assert len(readings) == 1, f"{name}: {len(readings)} readings"
    return readings[0]


def exact(ref: Any) -> Decimal:
    """A reference JSON number as the exact decimal its text shows."""
    assert isinstance(ref, (int, float)) and not isinstance(ref, bool), ref
    return Decimal(str(ref))


def assert_number(got: Any, want: Any, where: str) -> None:
    """``got`` is an int or Decimal (never a binary float) equal to the reference number ``want``."""
    assert isinstance(got, (int, Decimal)) and not isinstance(got, bool), (
        f"{where}: {got!r} is {type(got).__name__}, not an exact int or Decimal"
    )
    assert Decimal(got) == exact(want), f"{where}: want {want!r}, got {got!r}"


def assert_reading_matches(reading: Reading, ref: dict[str, Any], where: str) -> None:
    """Every reference value equal to ours; every contract column absent from the reference absent."""
    for key, want in ref.items():
        got = reading.get(key)
        if want is None:  # a corrected reference: the value must be absent
            assert got is None, f"{where}.{key}: want none, got {got!r}"
        elif key == "meter_time":
            assert got is not None, f"{where}: no meter_time, want {want}"
            assert got.isoformat()[:19] == want[:19], f"{where}: meter_time {got.isoformat()} != {want}"
            assert got.utcoffset() is not None, f"{where}: meter_time without offset"
        elif isinstance(want, str):
            assert got == want, f"{where}.{key}: want {want!r}, got {got!r}"
        else:
            assert_number(got, want, f"{where}.{key}")
    for column in COLUMNS:
        if column in NEVER_IN_REFERENCE or column in ref:
            continue
        assert reading.get(column) is None, (
            f"{where}: {column} = {reading.get(column)!r}, absent in the reference"
        )


def decimals(value: Any) -> int:
    """Digits after the point as printed (``Decimal("0.00")`` → 2, ``233`` → 0)."""
    if isinstance(value, Decimal):
        return max(0, -int(value.as_tuple().exponent))
    assert isinstance(value, int), value
    return 0


def o(text: str) -> bytes:
    """The 6 wire bytes of an OBIS code written ``A-B:C.D.E.F``."""
    return Obis.parse(text).to_bytes()


def axdr(node: Any) -> dict[str, Any]:
    """(tag, value) or (tag, [children]) to the dict ``cosem.axdr.Data`` builds."""
    tag, value = node
    if tag in (0x01, 0x02):
        return {"tag": tag, "value": [axdr(child) for child in value]}
    return {"tag": tag, "value": value}
