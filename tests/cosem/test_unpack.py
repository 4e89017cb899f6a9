"""The unpack compiler (``cosem.unpack``, issue 15): the same declaration, one ``struct`` call per
fixed run, and the same answer as construct's interpreted parse on every layout and header form,
on real captures and on bodies construct builds; the same refusals on bytes that are not the layout."""

from __future__ import annotations

import struct
from typing import Any

import construct as c
import pytest

from amsread.cosem.axdr import CosemDateTimeStruct
from amsread.cosem.unpack import Mismatch, NotFlat, unpacker
from amsread.decode.flat import HEADER_FORMS, declare_apdu
from amsread.decode.layout import Layout
from amsread.meters import LAYOUTS
from helpers.decoding import infos, plain_vectors

#: The header date-time of the built messages.
CLOCK = bytes.fromhex("07e8010c05173b1e00ff8880")


def _flat(parsed: Any, prefix: str = "") -> dict[str, Any]:
    """construct's Container as the unpacker names its positions: nested fields as ``outer.inner``."""
    out: dict[str, Any] = {}
    for k, v in parsed.items():
        if k.startswith("_"):
            continue
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def _sample(layout: Layout) -> dict[str, Any]:
    """Values for every field of ``layout``'s body: distinct, and of each field's type."""
    body = declare_apdu(layout, 0).subcons
    values: dict[str, Any] = {}
    for i, sub in enumerate(body):
        name = sub.name
        if not name or not name.startswith(("v", "s", "u")) or not name[1:].isdigit():
            continue
        inner = sub.subcon
        if isinstance(inner, c.Bytes):
            values[name] = bytes(range(65, 65 + (inner.length if isinstance(inner.length, int) else 7)))
        elif isinstance(inner, c.FormatField) and inner.fmtstr[1:] in "fd":
            values[name] = 1.5 + i
        elif name.startswith("s"):
            values[name] = -1
        else:
            values[name] = 1 + i
    return values


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
@pytest.mark.parametrize("form", sorted(HEADER_FORMS))
def test_unpacker_agrees_with_construct_on_built_messages(layout: Layout, form: int) -> None:
    declaration = declare_apdu(layout, form)
    fast = unpacker(declaration)
    apdu = declaration.build({"invoke_id": 7, **_header(form), **_sample(layout)})
    expected = _flat(declaration.parse(apdu))
    got = dict(zip(fast.names, fast.parse(apdu), strict=True))
    assert {k: v for k, v in got.items() if k in expected} == expected
    assert got["end"] == len(apdu)


def _header(form: int) -> dict[str, Any]:
    if not form:
        return {}
    fields = CosemDateTimeStruct.parse(CLOCK)
    return {"date_time": {k: v for k, v in fields.items() if not k.startswith("_")}}


def test_unpacker_agrees_with_construct_on_every_real_capture() -> None:
    """Every plain capture's APDU, against every layout and the form its header names: where
    construct reads it to the end, the unpacker reads the same fields; where construct refuses,
    the unpacker does not read it to the end either."""
    agreed = refused = 0
    for v in plain_vectors():
        for info in infos(v["name"]):
            apdu = info[3:] if info[:3] == b"\xe6\xe7\x00" else info
            if len(apdu) < 8 or apdu[5] not in HEADER_FORMS:
                continue
            for layout in LAYOUTS:
                declaration = declare_apdu(layout, apdu[5])
                fast = unpacker(declaration)
                try:
                    expected = _flat(declaration.parse(apdu))
                except (c.ConstructError, struct.error, ValueError):
                    expected = None
                try:
                    got = dict(zip(fast.names, fast.parse(apdu), strict=True))
                except (Mismatch, struct.error):
                    got = None
                if expected is not None and expected["end"] == len(apdu):
                    assert got is not None and {k: got[k] for k in expected} == expected, layout.name
                    agreed += 1
                else:
                    assert got is None or got["end"] != len(apdu), layout.name
                    refused += 1
    assert agreed > 40 and refused > 1000


def test_a_changed_constant_or_a_short_string_is_no_match() -> None:
    declaration = c.Struct(c.Const(b"\x09\x06"), "n" / c.Int8ub, "s" / c.Bytes(c.this.n), "end" / c.Tell)
    fast = unpacker(declaration)
    assert fast.parse(b"\x09\x06\x02ab") == (2, b"ab", 5)
    with pytest.raises(Mismatch):
        fast.parse(b"\x09\x07\x02ab")
    with pytest.raises(Mismatch):
        fast.parse(b"\x09\x06\x05ab")
    with pytest.raises(struct.error):
        fast.parse(b"\x09")


@pytest.mark.parametrize(
    "declaration",
    [
        c.Struct("x" / c.Int16ul),
        c.Struct("x" / c.VarInt),
        c.Struct("x" / c.GreedyBytes),
        c.Struct("x" / c.Bytes(c.this.n), "n" / c.Int8ub),
    ],
    ids=["little-endian", "varint", "greedy", "length-after"],
)
def test_what_it_does_not_flatten_it_refuses(declaration: c.Struct) -> None:
    with pytest.raises(NotFlat):
        unpacker(declaration)
