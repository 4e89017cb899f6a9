"""The decoder's fast road (issue 15): the compiled flat declarations called directly agree with
construct's own ``parse``, strings are read without a stream per string, and what is remembered
per message stays bounded."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
from dataclasses import replace
from fractions import Fraction
from typing import Any

import pytest

from amsread.cosem.axdr import CosemDateTime
from amsread.decode import decoder as decoder_module
from amsread.decode.decoder import DecodeOptions, Plan, ReadingDecoder, to_reading
from amsread.decode.flat import NAMER_CACHE, CompiledLayout, LayoutIndex
from amsread.decode.layout import U32, VSTR, Layout, Style, pair, version
from amsread.decode.message import Message, slot_for
from amsread.errors import AmsReadError, ValueRangeError
from amsread.meters import LAYOUTS
from amsread.obis import Obis
from helpers.decoding import infos, plain_vectors


def _values(parsed: Any) -> dict[str, Any]:
    return {k: v for k, v in parsed.items() if not k.startswith("_")}


def _nested(values: dict[str, Any]) -> dict[str, Any]:
    """construct's Container with its nested date-time as a plain dict, as ``fields`` names it."""
    return {k: _values(v) if isinstance(v, dict) else v for k, v in values.items()}


def _apdu(info: bytes) -> bytes:
    return info[3:] if info[:3] == b"\xe6\xe7\x00" else info


def test_direct_parse_agrees_with_constructs_parse() -> None:
    """``CompiledLayout.parse`` (the generated function, one shared context) gives what
    ``Compiled.parse`` gives, on every plain capture a flat layout reads."""
    index = LayoutIndex(LAYOUTS)
    seen = 0
    for v in plain_vectors():
        for info in infos(v["name"]):
            apdu = _apdu(info)
            if index.parse(apdu) is None:
                continue
            for candidates in index._by_prefix.values():
                for cl in candidates:
                    try:
                        expected = cl.apdu(apdu[5]).parse(apdu)
                    except Exception:
                        continue
                    assert cl.fields(apdu, cl.parse(apdu)) == _nested(_values(expected))
                    seen += 1
    assert seen > 20


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
def test_strings_are_read_from_the_message_itself(layout: Layout) -> None:
    """No string of a flat layout goes through construct's ``restream`` (a new BytesIO each)."""
    source = CompiledLayout(layout).apdu(0).source
    assert source.count("restream(") == 1  # construct's helper, defined in every module, never called


def test_manufacturer_answers_are_bounded() -> None:
    """A stream of distinct list ids (hostile or broken) must not grow what the layout remembers."""
    layout = Layout("test-pairs", Style.PAIRS, 0x02, None, (version(VSTR), pair("1.1.1.7.0.255", U32)))
    asked: list[tuple[Any, ...]] = []

    def namer(slots: Any, values: tuple[Any, ...], style: str, source: bytes | None) -> str | None:
        asked.append(values)
        return "kamstrup" if values == (b"Kamstrup_V0001",) else None

    cl = CompiledLayout(layout, namer)
    for k in range(3 * NAMER_CACHE):
        body = cl.build({"v0": f"id{k}".encode(), "v1": k})
        apdu = b"\x0f\x00\x00\x00\x01\x00" + body
        message = cl.read(apdu, None)
        assert message is not None
        assert message.manufacturer is None
        assert len(cl._makers) <= NAMER_CACHE
    known = b"\x0f\x00\x00\x00\x01\x00" + cl.build({"v0": b"Kamstrup_V0001", "v1": 1})
    before = len(asked)
    for _ in range(3):
        assert (m := cl.read(known, None)) is not None and m.manufacturer == "kamstrup"
    assert len(asked) == before + 1  # asked once, then remembered


def test_decoding_leaves_no_cyclic_garbage() -> None:
    """Each flat message's parse context is freed when its reading is made, not by the collector:
    construct's parse made every context its own root, a cycle of 5 or 6 objects per message.

    Each message is decoded as in a steady stream, its layout the first candidate (a candidate
    that does not match still leaves its traceback's few objects to the collector).
    """
    index = LayoutIndex(LAYOUTS)
    flat = [i for v in plain_vectors() for i in infos(v["name"]) if index.parse(_apdu(i)) is not None]
    decoder = ReadingDecoder()
    found = 0
    for info in flat:
        _try(decoder, info)  # its layout moves to the front
        gc.collect()
        gc.disable()
        try:
            for _ in range(5):
                _try(decoder, info)
            found += gc.collect()
        finally:
            gc.enable()
    assert found == 0, found


def _try(decoder: ReadingDecoder, info: bytes) -> None:
    with contextlib.suppress(AmsReadError):
        decoder.decode(info)


def test_meter_text_is_remembered_within_bounds() -> None:
    """Text is worked out once per distinct value, and ever new text does not grow memory."""
    for k in range(3 * decoder_module.TEXT_CACHE):
        raw = f"id\x1b{k}".encode() + b"\x00\x00"
        assert decoder_module._text(raw) == f"id\\x1b{k}"
        assert len(decoder_module._texts) <= decoder_module.TEXT_CACHE
    assert decoder_module._text(b" 6970631402614476 ") is decoder_module._text(b" 6970631402614476 ")


def _same(a: Any, b: Any) -> tuple[Any, ...]:
    """What a reading prints, including each number's exponent (1.0 and 1.00 differ on the wire)."""
    return (
        a.as_dict() == b.as_dict(),
        [repr(v) for v in a.values.values()] == [repr(v) for v in b.values.values()],
    )


@pytest.mark.parametrize(
    "options",
    [DecodeOptions(), DecodeOptions(country="SE"), DecodeOptions(manufacturer="landisgyr")],
    ids=["NO", "SE", "forced-maker"],
)
def test_a_plan_decides_what_deciding_per_value_decides(options: DecodeOptions) -> None:
    """``to_reading`` with a layout's ``Plan`` (what the decoder uses) and without one (deciding
    per value) give the same reading, value for value and exponent for exponent, on every plain
    capture, and the plan is made once per layout, scalers and maker."""
    checked = 0
    for v in plain_vectors():
        dec = ReadingDecoder(options)
        for info in infos(v["name"]):
            msg = dec.message(_apdu(info))
            if msg is None:
                continue
            try:
                planned = to_reading(msg, options, plan=dec._plan(msg))
            except AmsReadError as err:
                with pytest.raises(type(err)):
                    to_reading(msg, options)
                continue
            assert _same(planned, to_reading(msg, options)) == (True, True), v["name"]
            assert planned.implausible == to_reading(msg, options).implausible
            checked += dec._plan(msg) is not None
    assert checked > 80


def test_a_plan_gives_way_where_a_value_needs_deciding() -> None:
    """A float, a magnitude beyond the limits or a CT ratio take the road without a plan."""
    layout = Layout("test-pairs", Style.PAIRS, 0x02, None, (version(VSTR), pair("1.1.1.7.0.255", U32)))
    cl = CompiledLayout(layout)
    apdu = b"\x0f\x00\x00\x00\x01\x00" + cl.build({"v0": b"AIDON_V0001", "v1": 1500})
    msg = cl.read(apdu, None)
    assert msg is not None
    plan = Plan.of(msg, DecodeOptions(), None)
    assert plan is not None and plan.apply(msg.values) is not None
    assert plan.apply((b"AIDON_V0001", 1.5)) is None  # a float: decided per value
    assert plan.apply((b"AIDON_V0001", 10**40)) is None  # refused per value, with its reason
    assert Plan.of(msg, DecodeOptions(ct_ratio=Fraction(40)), None) is None
    with pytest.raises(ValueRangeError):
        to_reading(replace(msg, values=(b"AIDON_V0001", 10**40)), DecodeOptions(), plan=plan)


def test_made_by_is_replace_of_the_manufacturer() -> None:
    """``Message.made_by`` lists the fields by position for speed: it must make what
    ``dataclasses.replace`` makes, every field set to something other than its default."""
    msg = Message(
        (slot_for(Obis.parse("1-0:1.7.0.255").to_bytes()),),
        (1500,),
        (-1,),
        (27,),
        CosemDateTime(2026, 11, 30, 12, 0, 0, None, None, None),
        "kaifa",
        "some-layout",
        2,
        77,
        ("a reason",),
    )
    assert {f.name for f in dataclasses.fields(Message)} == {
        "slots", "values", "scalers", "units", "date_time", "manufacturer", "layout", "list_level",
        "invoke_id", "left_out",
    }  # fmt: skip
    for maker in ("aidon", None):
        made = msg.made_by(maker)
        assert made == replace(msg, manufacturer=maker)
        assert [getattr(made, f.name) for f in dataclasses.fields(Message)] == [
            getattr(replace(msg, manufacturer=maker), f.name) for f in dataclasses.fields(Message)
        ]
