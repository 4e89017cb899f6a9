"""Every list layout amsread knows, written out in full, and their flat declarations.

Each ``Layout`` is a table a reviewer can hold against the vendor's list document: the items in
wire order, each with its OBIS code (for Kaifa Norway, which sends none, the documented meaning of
the position), its A-XDR type and its shape. From the table ``declare`` builds one flat construct
``Struct`` for the whole notification body — constant bytes merged into ``Const`` runs, the values
as plain integer and string fields — and compiles it. That one declaration parses the body (the
fast road: no tree, no tag dispatch) and builds it (the demo meter, the tests).

Shapes (han-protocol.md §3.4):

* ``reg``: Aidon register ``02 03 | 09 06 <OBIS> | <value> | 02 02 0F <scaler> 16 <unit>``
* ``obj``: Aidon data object ``02 02 | 09 06 <OBIS> | <value>``
* ``clock``: Aidon clock ``02 02 | 09 06 <OBIS> | 09 0C <12 bytes>``
* ``pair`` / ``pair_clock``: Kamstrup and Swedish Kaifa ``09 06 <OBIS> | <value>``
* ``version``: Kamstrup's bare list-version string (sent without its OBIS code)
* ``NULL_PAIR``: ``00 00``, a missing phase on 1-phase Kamstrup meters
* ``bare`` / ``bare_clock``: Kaifa Norway, the value alone

Sources: AID-OBIS, AID-IF §3.2–3.3, AID-RJ12 §3.3, KFM p.2–4, KAM-NVE §2.7–2.8 and §3, KAM-DK,
each checked against the real captures in ``tests/data/valid``.
"""

from __future__ import annotations

import functools
import struct
from dataclasses import dataclass
from typing import Any, Final

import construct as c

from amsread.dlms import SCALARS, STRINGS, TAG, CosemDateTimeStruct
from amsread.obis import Obis

ARRAY: Final = TAG.ARRAY
STRUCTURE: Final = TAG.STRUCTURE
U32: Final = TAG.DOUBLE_LONG_UNSIGNED
I32: Final = TAG.DOUBLE_LONG
U16: Final = TAG.LONG_UNSIGNED
I16: Final = TAG.LONG
U64: Final = TAG.LONG64_UNSIGNED
VSTR: Final = TAG.VISIBLE_STRING
OSTR: Final = TAG.OCTET_STRING

#: Kamstrup sends its list version bare; the code it stands for (KAM-OBIS p.2).
LIST_VERSION_OBIS: Final = "1-1:0.2.129.255"
KAIFA_LIST_ID: Final = b"KFM_001"


@dataclass(frozen=True, slots=True)
class Field:
    """One item of a layout: its shape, OBIS code (6 wire bytes, or b"" for padding) and type."""

    shape: str
    obis: bytes
    tag: int
    const: bytes | None = None
    """A value the layout requires, such as Kaifa's list id: positions mean what KFM documents
    only under ``KFM_001``, so another id must not be read by this table."""


def _o(text: str) -> bytes:
    return Obis.parse(text).to_bytes()


def reg(obis: str, tag: int) -> Field:
    return Field("reg", _o(obis), tag)


def obj(obis: str, tag: int) -> Field:
    return Field("obj", _o(obis), tag)


def clock(obis: str) -> Field:
    return Field("clock", _o(obis), OSTR)


def pair(obis: str, tag: int) -> Field:
    return Field("pair", _o(obis), tag)


def pair_clock(obis: str) -> Field:
    return Field("pair_clock", _o(obis), OSTR)


def version(tag: int) -> Field:
    return Field("version", _o(LIST_VERSION_OBIS), tag)


def bare(obis: str, tag: int, *, const: bytes | None = None) -> Field:
    return Field("bare", _o(obis), tag, const)


def bare_clock(obis: str) -> Field:
    return Field("bare_clock", _o(obis), OSTR)


NULL_PAIR: Final = Field("null_pair", b"", TAG.NULL)


@dataclass(frozen=True, slots=True)
class Layout:
    """A list as one meter family sends it: container, items in order, and its Norwegian list level."""

    name: str
    style: str
    container: int
    list_level: int | None
    fields: tuple[Field, ...]

    @property
    def count(self) -> int:
        """Elements of the container: pairs and null pairs count twice (KAM-NVE §2.7.1)."""
        return sum(2 if f.shape in ("pair", "pair_clock", "null_pair") else 1 for f in self.fields)

    @property
    def prefix(self) -> bytes:
        """The container's tag and count: the key the index dispatches on."""
        return bytes((self.container, self.count))


#: Aidon 65xx and Landis+Gyr E350 list 1 (AID-IF §3.2.1; wire OBIS 1-0, not the document's 1-1).
AIDON_LIST1: Final = Layout(
    "aidon-list1",
    "registers",
    ARRAY,
    1,
    (reg("1-0:1.7.0.255", U32),),
)

#: Aidon 6515 1-phase list 2 (AID-IF §3.3.1 example).
AIDON_LIST2_1P: Final = Layout(
    "aidon-list2-1p",
    "registers",
    ARRAY,
    2,
    (
        obj("1-1:0.2.129.255", VSTR),
        obj("0-0:96.1.0.255", VSTR),
        obj("0-0:96.1.7.255", VSTR),
        reg("1-0:1.7.0.255", U32),
        reg("1-0:2.7.0.255", U32),
        reg("1-0:3.7.0.255", U32),
        reg("1-0:4.7.0.255", U32),
        reg("1-0:31.7.0.255", I16),
        reg("1-0:32.7.0.255", U16),
    ),
)

#: Aidon 6525/6540 3-wire list 2: no IL2 (AID-OBIS footnote).
AIDON_LIST2_3W: Final = Layout(
    "aidon-list2-3w",
    "registers",
    ARRAY,
    2,
    (
        obj("1-1:0.2.129.255", VSTR),
        obj("0-0:96.1.0.255", VSTR),
        obj("0-0:96.1.7.255", VSTR),
        reg("1-0:1.7.0.255", U32),
        reg("1-0:2.7.0.255", U32),
        reg("1-0:3.7.0.255", U32),
        reg("1-0:4.7.0.255", U32),
        reg("1-0:31.7.0.255", I16),
        reg("1-0:71.7.0.255", I16),
        reg("1-0:32.7.0.255", U16),
        reg("1-0:52.7.0.255", U16),
        reg("1-0:72.7.0.255", U16),
    ),
)

#: Aidon 6534/6550 4-wire list 2; also Landis+Gyr E350 (EMBRIQ_V1_1).
AIDON_LIST2_4W: Final = Layout(
    "aidon-list2-4w",
    "registers",
    ARRAY,
    2,
    (
        obj("1-1:0.2.129.255", VSTR),
        obj("0-0:96.1.0.255", VSTR),
        obj("0-0:96.1.7.255", VSTR),
        reg("1-0:1.7.0.255", U32),
        reg("1-0:2.7.0.255", U32),
        reg("1-0:3.7.0.255", U32),
        reg("1-0:4.7.0.255", U32),
        reg("1-0:31.7.0.255", I16),
        reg("1-0:51.7.0.255", I16),
        reg("1-0:71.7.0.255", I16),
        reg("1-0:32.7.0.255", U16),
        reg("1-0:52.7.0.255", U16),
        reg("1-0:72.7.0.255", U16),
    ),
)

#: Aidon 6525/6540 3-wire list 3.
AIDON_LIST3_3W: Final = Layout(
    "aidon-list3-3w",
    "registers",
    ARRAY,
    3,
    (
        obj("1-1:0.2.129.255", VSTR),
        obj("0-0:96.1.0.255", VSTR),
        obj("0-0:96.1.7.255", VSTR),
        reg("1-0:1.7.0.255", U32),
        reg("1-0:2.7.0.255", U32),
        reg("1-0:3.7.0.255", U32),
        reg("1-0:4.7.0.255", U32),
        reg("1-0:31.7.0.255", I16),
        reg("1-0:71.7.0.255", I16),
        reg("1-0:32.7.0.255", U16),
        reg("1-0:52.7.0.255", U16),
        reg("1-0:72.7.0.255", U16),
        clock("0-0:1.0.0.255"),
        reg("1-0:1.8.0.255", U32),
        reg("1-0:2.8.0.255", U32),
        reg("1-0:3.8.0.255", U32),
        reg("1-0:4.8.0.255", U32),
    ),
)

#: Aidon 6534/6550 4-wire list 3.
AIDON_LIST3_4W: Final = Layout(
    "aidon-list3-4w",
    "registers",
    ARRAY,
    3,
    (
        obj("1-1:0.2.129.255", VSTR),
        obj("0-0:96.1.0.255", VSTR),
        obj("0-0:96.1.7.255", VSTR),
        reg("1-0:1.7.0.255", U32),
        reg("1-0:2.7.0.255", U32),
        reg("1-0:3.7.0.255", U32),
        reg("1-0:4.7.0.255", U32),
        reg("1-0:31.7.0.255", I16),
        reg("1-0:51.7.0.255", I16),
        reg("1-0:71.7.0.255", I16),
        reg("1-0:32.7.0.255", U16),
        reg("1-0:52.7.0.255", U16),
        reg("1-0:72.7.0.255", U16),
        clock("0-0:1.0.0.255"),
        reg("1-0:1.8.0.255", U32),
        reg("1-0:2.8.0.255", U32),
        reg("1-0:3.8.0.255", U32),
        reg("1-0:4.8.0.255", U32),
    ),
)

#: Aidon Sweden 27-item list, clock first, per-phase powers (AID-RJ12 §3.3).
AIDON_SE: Final = Layout(
    "aidon-se",
    "registers",
    ARRAY,
    None,
    (
        clock("0-0:1.0.0.255"),
        reg("1-0:1.7.0.255", U32),
        reg("1-0:2.7.0.255", U32),
        reg("1-0:3.7.0.255", U32),
        reg("1-0:4.7.0.255", U32),
        reg("1-0:31.7.0.255", I16),
        reg("1-0:51.7.0.255", I16),
        reg("1-0:71.7.0.255", I16),
        reg("1-0:32.7.0.255", U16),
        reg("1-0:52.7.0.255", U16),
        reg("1-0:72.7.0.255", U16),
        reg("1-0:21.7.0.255", U32),
        reg("1-0:22.7.0.255", U32),
        reg("1-0:23.7.0.255", U32),
        reg("1-0:24.7.0.255", U32),
        reg("1-0:41.7.0.255", U32),
        reg("1-0:42.7.0.255", U32),
        reg("1-0:43.7.0.255", U32),
        reg("1-0:44.7.0.255", U32),
        reg("1-0:61.7.0.255", U32),
        reg("1-0:62.7.0.255", U32),
        reg("1-0:63.7.0.255", U32),
        reg("1-0:64.7.0.255", U32),
        reg("1-0:1.8.0.255", U32),
        reg("1-0:2.8.0.255", U32),
        reg("1-0:3.8.0.255", U32),
        reg("1-0:4.8.0.255", U32),
    ),
)

#: Kaifa list 1: P+ alone (KFM p.2).
KAIFA_LIST1: Final = Layout(
    "kaifa-list1",
    "positional",
    STRUCTURE,
    1,
    (bare("1-0:1.7.0.255", U32),),
)

#: Kaifa MA105H2E 1-phase list 2.
KAIFA_LIST2_1P: Final = Layout(
    "kaifa-list2-1p",
    "positional",
    STRUCTURE,
    2,
    (
        bare("1-1:0.2.129.255", OSTR, const=KAIFA_LIST_ID),
        bare("0-0:96.1.0.255", OSTR),
        bare("0-0:96.1.7.255", OSTR),
        bare("1-0:1.7.0.255", U32),
        bare("1-0:2.7.0.255", U32),
        bare("1-0:3.7.0.255", U32),
        bare("1-0:4.7.0.255", U32),
        bare("1-0:31.7.0.255", U32),
        bare("1-0:32.7.0.255", U32),
    ),
)

#: Kaifa MA304H3E/MA304H4 list 2.
KAIFA_LIST2_3P: Final = Layout(
    "kaifa-list2-3p",
    "positional",
    STRUCTURE,
    2,
    (
        bare("1-1:0.2.129.255", OSTR, const=KAIFA_LIST_ID),
        bare("0-0:96.1.0.255", OSTR),
        bare("0-0:96.1.7.255", OSTR),
        bare("1-0:1.7.0.255", U32),
        bare("1-0:2.7.0.255", U32),
        bare("1-0:3.7.0.255", U32),
        bare("1-0:4.7.0.255", U32),
        bare("1-0:31.7.0.255", U32),
        bare("1-0:51.7.0.255", U32),
        bare("1-0:71.7.0.255", U32),
        bare("1-0:32.7.0.255", U32),
        bare("1-0:52.7.0.255", U32),
        bare("1-0:72.7.0.255", U32),
    ),
)

#: Kaifa MA105H2E 1-phase list 3.
KAIFA_LIST3_1P: Final = Layout(
    "kaifa-list3-1p",
    "positional",
    STRUCTURE,
    3,
    (
        bare("1-1:0.2.129.255", OSTR, const=KAIFA_LIST_ID),
        bare("0-0:96.1.0.255", OSTR),
        bare("0-0:96.1.7.255", OSTR),
        bare("1-0:1.7.0.255", U32),
        bare("1-0:2.7.0.255", U32),
        bare("1-0:3.7.0.255", U32),
        bare("1-0:4.7.0.255", U32),
        bare("1-0:31.7.0.255", U32),
        bare("1-0:32.7.0.255", U32),
        bare_clock("0-0:1.0.0.255"),
        bare("1-0:1.8.0.255", U32),
        bare("1-0:2.8.0.255", U32),
        bare("1-0:3.8.0.255", U32),
        bare("1-0:4.8.0.255", U32),
    ),
)

#: Kaifa MA304H3E/MA304H4 list 3.
KAIFA_LIST3_3P: Final = Layout(
    "kaifa-list3-3p",
    "positional",
    STRUCTURE,
    3,
    (
        bare("1-1:0.2.129.255", OSTR, const=KAIFA_LIST_ID),
        bare("0-0:96.1.0.255", OSTR),
        bare("0-0:96.1.7.255", OSTR),
        bare("1-0:1.7.0.255", U32),
        bare("1-0:2.7.0.255", U32),
        bare("1-0:3.7.0.255", U32),
        bare("1-0:4.7.0.255", U32),
        bare("1-0:31.7.0.255", U32),
        bare("1-0:51.7.0.255", U32),
        bare("1-0:71.7.0.255", U32),
        bare("1-0:32.7.0.255", U32),
        bare("1-0:52.7.0.255", U32),
        bare("1-0:72.7.0.255", U32),
        bare_clock("0-0:1.0.0.255"),
        bare("1-0:1.8.0.255", U32),
        bare("1-0:2.8.0.255", U32),
        bare("1-0:3.8.0.255", U32),
        bare("1-0:4.8.0.255", U32),
    ),
)

#: Kaifa MA304T4 (Sweden, CT): energies as long64-unsigned.
KAIFA_LIST3_3P_U64: Final = Layout(
    "kaifa-list3-3p-u64",
    "positional",
    STRUCTURE,
    3,
    (
        bare("1-1:0.2.129.255", OSTR, const=KAIFA_LIST_ID),
        bare("0-0:96.1.0.255", OSTR),
        bare("0-0:96.1.7.255", OSTR),
        bare("1-0:1.7.0.255", U32),
        bare("1-0:2.7.0.255", U32),
        bare("1-0:3.7.0.255", U32),
        bare("1-0:4.7.0.255", U32),
        bare("1-0:31.7.0.255", U32),
        bare("1-0:51.7.0.255", U32),
        bare("1-0:71.7.0.255", U32),
        bare("1-0:32.7.0.255", U32),
        bare("1-0:52.7.0.255", U32),
        bare("1-0:72.7.0.255", U32),
        bare_clock("0-0:1.0.0.255"),
        bare("1-0:1.8.0.255", U64),
        bare("1-0:2.8.0.255", U64),
        bare("1-0:3.8.0.255", U64),
        bare("1-0:4.8.0.255", U64),
    ),
)

#: Kaifa Sweden: 18 OBIS/value pairs, no list-id string.
KAIFA_SE: Final = Layout(
    "kaifa-se",
    "pairs",
    STRUCTURE,
    None,
    (
        pair("1-0:0.2.129.255", OSTR),
        pair("0-0:96.1.0.255", OSTR),
        pair("0-0:96.1.7.255", OSTR),
        pair("1-0:1.7.0.255", U32),
        pair("1-0:2.7.0.255", U32),
        pair("1-0:3.7.0.255", U32),
        pair("1-0:4.7.0.255", U32),
        pair("1-0:31.7.0.255", U32),
        pair("1-0:51.7.0.255", U32),
        pair("1-0:71.7.0.255", U32),
        pair("1-0:32.7.0.255", U32),
        pair("1-0:52.7.0.255", U32),
        pair("1-0:72.7.0.255", U32),
        pair_clock("0-0:1.0.0.255"),
        pair("1-0:1.8.0.255", U32),
        pair("1-0:2.8.0.255", U32),
        pair("1-0:3.8.0.255", U32),
        pair("1-0:4.8.0.255", U32),
    ),
)

#: Kamstrup 684 3-phase 10 s list (KAM-NVE §2.7.1, 25 elements).
KAMSTRUP_LIST2_3P: Final = Layout(
    "kamstrup-list2-3p",
    "pairs",
    STRUCTURE,
    2,
    (
        version(VSTR),
        pair("1-1:0.0.5.255", VSTR),
        pair("1-1:96.1.1.255", VSTR),
        pair("1-1:1.7.0.255", U32),
        pair("1-1:2.7.0.255", U32),
        pair("1-1:3.7.0.255", U32),
        pair("1-1:4.7.0.255", U32),
        pair("1-1:31.7.0.255", U32),
        pair("1-1:51.7.0.255", U32),
        pair("1-1:71.7.0.255", U32),
        pair("1-1:32.7.0.255", U16),
        pair("1-1:52.7.0.255", U16),
        pair("1-1:72.7.0.255", U16),
    ),
)

#: Kamstrup 686 1-phase 10 s list: 25 elements, null-data pairs for L2/L3.
KAMSTRUP_LIST2_1P: Final = Layout(
    "kamstrup-list2-1p",
    "pairs",
    STRUCTURE,
    2,
    (
        version(VSTR),
        pair("1-1:0.0.5.255", VSTR),
        pair("1-1:96.1.1.255", VSTR),
        pair("1-1:1.7.0.255", U32),
        pair("1-1:2.7.0.255", U32),
        pair("1-1:3.7.0.255", U32),
        pair("1-1:4.7.0.255", U32),
        pair("1-1:31.7.0.255", U32),
        NULL_PAIR,
        NULL_PAIR,
        pair("1-1:32.7.0.255", U16),
        NULL_PAIR,
        NULL_PAIR,
    ),
)

#: Kamstrup 684 3-phase hourly list (KAM-NVE §2.8.1, 35 elements).
KAMSTRUP_LIST3_3P: Final = Layout(
    "kamstrup-list3-3p",
    "pairs",
    STRUCTURE,
    3,
    (
        version(VSTR),
        pair("1-1:0.0.5.255", VSTR),
        pair("1-1:96.1.1.255", VSTR),
        pair("1-1:1.7.0.255", U32),
        pair("1-1:2.7.0.255", U32),
        pair("1-1:3.7.0.255", U32),
        pair("1-1:4.7.0.255", U32),
        pair("1-1:31.7.0.255", U32),
        pair("1-1:51.7.0.255", U32),
        pair("1-1:71.7.0.255", U32),
        pair("1-1:32.7.0.255", U16),
        pair("1-1:52.7.0.255", U16),
        pair("1-1:72.7.0.255", U16),
        pair_clock("0-1:1.0.0.255"),
        pair("1-1:1.8.0.255", U32),
        pair("1-1:2.8.0.255", U32),
        pair("1-1:3.8.0.255", U32),
        pair("1-1:4.8.0.255", U32),
    ),
)

#: Kamstrup 686 1-phase hourly list: 35 elements, null-data pairs.
KAMSTRUP_LIST3_1P: Final = Layout(
    "kamstrup-list3-1p",
    "pairs",
    STRUCTURE,
    3,
    (
        version(VSTR),
        pair("1-1:0.0.5.255", VSTR),
        pair("1-1:96.1.1.255", VSTR),
        pair("1-1:1.7.0.255", U32),
        pair("1-1:2.7.0.255", U32),
        pair("1-1:3.7.0.255", U32),
        pair("1-1:4.7.0.255", U32),
        pair("1-1:31.7.0.255", U32),
        NULL_PAIR,
        NULL_PAIR,
        pair("1-1:32.7.0.255", U16),
        NULL_PAIR,
        NULL_PAIR,
        pair_clock("0-1:1.0.0.255"),
        pair("1-1:1.8.0.255", U32),
        pair("1-1:2.8.0.255", U32),
        pair("1-1:3.8.0.255", U32),
        pair("1-1:4.8.0.255", U32),
    ),
)

#: Kamstrup 1-phase hourly list as KAM-NVE §3.3 prints it: absent objects omitted (15 elements).
KAMSTRUP_LIST3_1P_DOC: Final = Layout(
    "kamstrup-list3-1p-doc",
    "pairs",
    STRUCTURE,
    3,
    (
        version(VSTR),
        pair("1-1:0.0.5.255", VSTR),
        pair("1-1:96.1.1.255", VSTR),
        pair("1-1:1.7.0.255", U32),
        pair("1-1:31.7.0.255", U32),
        pair("1-1:32.7.0.255", U16),
        pair_clock("0-1:1.0.0.255"),
        pair("1-1:1.8.0.255", U32),
    ),
)

#: Kamstrup Denmark CT meter, 65-element list with per-phase powers and power factor.
KAMSTRUP_DK_CT: Final = Layout(
    "kamstrup-dk-ct",
    "pairs",
    STRUCTURE,
    None,
    (
        version(VSTR),
        pair("1-1:1.8.0.255", U32),
        pair("1-1:2.8.0.255", U32),
        pair("1-1:3.8.0.255", U32),
        pair("1-1:4.8.0.255", U32),
        pair("1-1:0.0.1.255", U32),
        pair("1-1:1.7.0.255", U32),
        pair("1-1:2.7.0.255", U32),
        pair("1-1:3.7.0.255", U32),
        pair("1-1:4.7.0.255", U32),
        pair_clock("0-1:1.0.0.255"),
        pair("1-1:32.7.0.255", U16),
        pair("1-1:52.7.0.255", U16),
        pair("1-1:72.7.0.255", U16),
        pair("1-1:31.7.0.255", U32),
        pair("1-1:51.7.0.255", U32),
        pair("1-1:71.7.0.255", U32),
        pair("1-1:21.7.0.255", U32),
        pair("1-1:41.7.0.255", U32),
        pair("1-1:61.7.0.255", U32),
        pair("1-1:33.7.0.255", U16),
        pair("1-1:53.7.0.255", U16),
        pair("1-1:73.7.0.255", U16),
        pair("1-1:13.7.0.255", U16),
        pair("1-1:22.7.0.255", U32),
        pair("1-1:42.7.0.255", U32),
        pair("1-1:62.7.0.255", U32),
        pair("1-1:22.8.0.255", U32),
        pair("1-1:42.8.0.255", U32),
        pair("1-1:62.8.0.255", U32),
        pair("1-1:21.8.0.255", U32),
        pair("1-1:41.8.0.255", U32),
        pair("1-1:61.8.0.255", U32),
    ),
)


#: Aidon 6515 1-phase list 3 (AID-IF §3.2: list 2 plus the clock and four energy registers).
AIDON_LIST3_1P: Final = Layout(
    "aidon-list3-1p",
    "registers",
    ARRAY,
    3,
    (
        obj("1-1:0.2.129.255", VSTR),
        obj("0-0:96.1.0.255", VSTR),
        obj("0-0:96.1.7.255", VSTR),
        reg("1-0:1.7.0.255", U32),
        reg("1-0:2.7.0.255", U32),
        reg("1-0:3.7.0.255", U32),
        reg("1-0:4.7.0.255", U32),
        reg("1-0:31.7.0.255", I16),
        reg("1-0:32.7.0.255", U16),
        clock("0-0:1.0.0.255"),
        reg("1-0:1.8.0.255", U32),
        reg("1-0:2.8.0.255", U32),
        reg("1-0:3.8.0.255", U32),
        reg("1-0:4.8.0.255", U32),
    ),
)

LAYOUTS: Final[tuple[Layout, ...]] = (
    AIDON_LIST1,
    AIDON_LIST2_1P,
    AIDON_LIST2_3W,
    AIDON_LIST2_4W,
    AIDON_LIST3_1P,
    AIDON_LIST3_3W,
    AIDON_LIST3_4W,
    AIDON_SE,
    KAIFA_LIST1,
    KAIFA_LIST2_1P,
    KAIFA_LIST2_3P,
    KAIFA_LIST3_1P,
    KAIFA_LIST3_3P,
    KAIFA_LIST3_3P_U64,
    KAIFA_SE,
    KAMSTRUP_LIST2_3P,
    KAMSTRUP_LIST2_1P,
    KAMSTRUP_LIST3_3P,
    KAMSTRUP_LIST3_1P,
    KAMSTRUP_LIST3_1P_DOC,
    KAMSTRUP_DK_CT,
)

BY_NAME: Final = {layout.name: layout for layout in LAYOUTS}


def kaifa_positions(count: int) -> tuple[bytes, ...] | None:
    """The documented OBIS meaning of each position of a Kaifa Norway list of ``count`` values."""
    for layout in LAYOUTS:
        if layout.style == "positional" and layout.count == count:
            return tuple(f.obis for f in layout.fields)
    return None


# --------------------------------------------------------------------------------------------
# flat declarations
# --------------------------------------------------------------------------------------------


def _value(tag: int) -> c.Construct:
    if tag in STRINGS:
        return c.Prefixed(c.Int8ub, c.GreedyBytes)  # short-form length: every string in these lists
    return SCALARS[tag]


#: The three date-time forms of a data-notification header (han-protocol.md §5.3): the byte(s)
#: after the invoke id, and where the body starts.
HEADER_FORMS: Final[dict[int, tuple[bytes, int]]] = {
    0x00: (b"\x00", 6),
    0x0C: (b"\x0c", 18),
    0x09: (b"\x09\x0c", 19),
}


def _body_parts(layout: Layout, run: bytearray, end: c.Construct = c.Terminated) -> list[c.Construct]:
    """The fields of ``layout``'s body; ``run`` holds constant bytes still to be emitted before it,
    ``end`` closes it (nothing may follow a body)."""
    parts: list[c.Construct] = []

    def const() -> None:
        if run:
            parts.append(c.Const(bytes(run)))
            run.clear()

    run += layout.prefix
    for i, f in enumerate(layout.fields):
        shape = f.shape
        if shape == "null_pair":
            run += b"\x00\x00"
            continue
        if shape == "reg":
            run += b"\x02\x03\x09\x06" + f.obis
        elif shape in ("obj", "clock"):
            run += b"\x02\x02\x09\x06" + f.obis
        elif shape in ("pair", "pair_clock"):
            run += b"\x09\x06" + f.obis
        if shape.endswith("clock"):
            run += b"\x09\x0c"
            const()
            parts.append(f"v{i}" / c.Bytes(12))
            continue
        run.append(f.tag)
        if f.const is not None:
            run += bytes((len(f.const),)) + f.const
            continue
        const()
        parts.append(f"v{i}" / _value(f.tag))
        if shape == "reg":
            run += b"\x02\x02\x0f"
            const()
            parts.append(f"s{i}" / c.Int8sb)
            run.append(0x16)
            const()
            parts.append(f"u{i}" / c.Int8ub)
    const()
    parts.append(end)
    return parts


def declare(layout: Layout) -> c.Struct:
    """The flat ``Struct`` of ``layout``'s notification body: values ``v<i>``, scaler-units ``s<i>``/``u<i>``."""
    return c.Struct(*_body_parts(layout, bytearray()))


def declare_apdu(layout: Layout, form: int) -> c.Struct:
    """The whole data-notification in one flat ``Struct``: tag, invoke id, date-time form, body.

    Constant bytes of the header run straight into the body's first constant, so a message of a
    known list is checked and parsed in one compiled call.
    """
    head = [c.Const(b"\x0f"), "invoke_id" / c.Int32ub]
    marker, _ = HEADER_FORMS[form]
    run = bytearray(marker)
    if form:
        head.append(c.Const(bytes(run)))
        run.clear()
        head.append("date_time" / CosemDateTimeStruct)
    # Terminated has no compiled form (it would run interpreted on every message): the compiled
    # parse records where it stopped, and LayoutIndex.parse requires that to be the end.
    return c.Struct(*head, *_body_parts(layout, run, "end" / c.Tell))


#: What a failed flat parse can raise: the body is simply not this layout.
_MISMATCH: Final = (c.ConstructError, struct.error, ValueError, IndexError)


@functools.cache
def _compiled_apdu(layout: Layout, form: int) -> Any:
    """``declare_apdu`` compiled once per process: compiling takes milliseconds, and every decoder
    (each command run, each test) would otherwise pay it again for the same table."""
    return declare_apdu(layout, form).compile()


class CompiledLayout:
    """A layout with its declarations and what each parsed value means.

    ``declaration`` is the body alone (it builds bodies for the demo meter and the tests);
    ``apdu(form)`` is the whole data-notification, compiled on first use for each header form.
    """

    def __init__(self, layout: Layout) -> None:
        from amsread.readings import slot_for

        self.layout = layout
        self.declaration = declare(layout)
        self._compiled: Any = None
        self._apdu: dict[int, Any] = {}
        kept = [(i, f) for i, f in enumerate(layout.fields) if f.shape != "null_pair"]
        self.slots = tuple(slot_for(f.obis) for _, f in kept)
        self.names = tuple(None if f.const is not None else f"v{i}" for i, f in kept)
        self.consts = tuple(f.const for _, f in kept)
        self.scaler_names = tuple(f"s{i}" if f.shape == "reg" else None for i, f in kept)
        self.unit_names = tuple(f"u{i}" if f.shape == "reg" else None for i, f in kept)
        self.has_registers = any(self.scaler_names)
        self.has_consts = any(k is not None for k in self.consts)
        self.no_scalers: tuple[None, ...] = (None,) * len(kept)
        self.clock_at = tuple(k for k, (_, f) in enumerate(kept) if f.shape.endswith("clock"))
        #: where the list id is (at most one place): all ``manufacturer_of`` needs to look at
        self.version_at = tuple(k for k, s in enumerate(self.slots) if s.name == "list_version")[:1]
        self.version_slots = tuple(self.slots[k] for k in self.version_at)

    @property
    def compiled(self) -> Any:
        """The body declaration, compiled (the tests check it agrees with the interpreted one)."""
        if self._compiled is None:
            self._compiled = self.declaration.compile()
        return self._compiled

    def apdu(self, form: int) -> Any:
        compiled = self._apdu.get(form)
        if compiled is None:
            compiled = self._apdu[form] = _compiled_apdu(self.layout, form)
        return compiled

    def build(self, values: dict[str, Any]) -> bytes:
        """Build the body from ``v<i>``/``s<i>``/``u<i>`` values (strings as bytes)."""
        return self.declaration.build(values)

    def message(self, parsed: Any, source: bytes | None) -> Any:
        """A ``readings.Message`` from a parsed APDU: no tree, just the values in table order."""
        from amsread.dlms import CosemDateTime
        from amsread.readings import Message, manufacturer_of

        if self.has_consts:
            values = [parsed[n] if n else k for n, k in zip(self.names, self.consts, strict=True)]
        else:
            values = [parsed[n] for n in self.names]
        for k in self.clock_at:
            values[k] = CosemDateTime.from_bytes(values[k])
        if self.has_registers:
            scalers = tuple([parsed[n] if n else None for n in self.scaler_names])
            units = tuple([parsed[n] if n else None for n in self.unit_names])
        else:
            scalers = units = self.no_scalers
        stamp = parsed.get("date_time")
        vals = tuple(values)
        return Message(
            self.slots,
            vals,
            scalers,
            units,
            CosemDateTime.from_fields(stamp) if stamp is not None else None,
            manufacturer_of(
                self.version_slots, tuple([vals[k] for k in self.version_at]), self.layout.style, source
            ),
            self.layout.name,
            self.layout.list_level,
            parsed["invoke_id"] & 0xFFFFFF,
        )


class LayoutIndex:
    """Find the layout of a data-notification: dispatch on its header form and the body's first
    two bytes (container tag and count), then try the few candidates.

    The candidate that matched last is tried first next time, so a steady stream costs one
    compiled parse per message. A message no layout matches returns None (the generic road).
    """

    def __init__(self, layouts: tuple[Layout, ...] = LAYOUTS) -> None:
        self._by_prefix: dict[bytes, list[CompiledLayout]] = {}
        for layout in layouts:
            self._by_prefix.setdefault(layout.prefix, []).append(CompiledLayout(layout))

    def parse(self, apdu: bytes, source: bytes | None = None) -> Any:
        """A ``readings.Message`` for a data-notification of a known layout, else None."""
        if len(apdu) < 8:
            return None
        form = HEADER_FORMS.get(apdu[5])
        if form is None:
            return None
        start = form[1]
        candidates = self._by_prefix.get(apdu[start : start + 2])
        if not candidates:
            return None
        for k, cl in enumerate(candidates):
            try:
                parsed = cl.apdu(apdu[5]).parse(apdu)
            except _MISMATCH:
                continue
            if parsed["end"] != len(apdu):
                continue  # bytes after the body: not this layout
            if k:
                candidates.insert(0, candidates.pop(k))
            return cl.message(parsed, source)
        return None

    def compiled(self, name: str) -> CompiledLayout:
        """The compiled layout called ``name``."""
        for candidates in self._by_prefix.values():
            for cl in candidates:
                if cl.layout.name == name:
                    return cl
        raise KeyError(name)
