"""The decoder's fast road (issue 15): the compiled flat declarations called directly agree with
construct's own ``parse``, strings are read without a stream per string, and what is remembered
per message stays bounded."""

from __future__ import annotations

import contextlib
import gc
from typing import Any

import pytest

from amsread.decode import decoder as decoder_module
from amsread.decode.decoder import ReadingDecoder
from amsread.decode.flat import NAMER_CACHE, CompiledLayout, LayoutIndex
from amsread.decode.layout import U32, VSTR, Layout, Style, pair, version
from amsread.errors import AmsReadError
from amsread.meters import LAYOUTS
from helpers.decoding import infos, plain_vectors


def _values(parsed: Any) -> dict[str, Any]:
    return {k: v for k, v in parsed.items() if not k.startswith("_")}


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
                    assert _values(cl.parse(apdu)) == _values(expected)
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
        message = cl.message(cl.parse(apdu), None)
        assert message.manufacturer is None
        assert len(cl._makers) <= NAMER_CACHE
    known = b"\x0f\x00\x00\x00\x01\x00" + cl.build({"v0": b"Kamstrup_V0001", "v1": 1})
    before = len(asked)
    for _ in range(3):
        assert cl.message(cl.parse(known), None).manufacturer == "kamstrup"
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
