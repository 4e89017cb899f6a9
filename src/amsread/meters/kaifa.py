"""Kaifa (MA105H2E, MA304H3E/H4/T4; Norway, Sweden, Poland): bare values known by position.

Kaifa Norway sends its lists without OBIS codes: each position means what the KFM list document
(KFM p.2-4) says, and only under the list id ``KFM_001`` (so another id is never read by these
tables). Values come unscaled: the implicit scalers below. Sweden sends OBIS/value pairs.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Final

from amsread.decode.layout import (
    OSTR,
    STRUCTURE,
    U32,
    U64,
    Layout,
    PositionalList,
    Style,
    TripleList,
    bare,
    bare_clock,
    pair,
    pair_clock,
)
from amsread.meters.model import HOUR_MS, Maker, MeterModel
from amsread.settings import SerialSettings

#: The list id Kaifa Norway sends first (KFM p.2); positions mean what KFM documents only under it.
LIST_ID: Final = b"KFM_001"


#: Kaifa list 1: P+ alone (KFM p.2).
KAIFA_LIST1: Final = Layout(
    "kaifa-list1",
    Style.POSITIONAL,
    STRUCTURE,
    1,
    (bare("1-0:1.7.0.255", U32),),
)


#: Kaifa MA105H2E 1-phase list 2.
KAIFA_LIST2_1P: Final = Layout(
    "kaifa-list2-1p",
    Style.POSITIONAL,
    STRUCTURE,
    2,
    (
        bare("1-1:0.2.129.255", OSTR, const=LIST_ID),
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
    Style.POSITIONAL,
    STRUCTURE,
    2,
    (
        bare("1-1:0.2.129.255", OSTR, const=LIST_ID),
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
    Style.POSITIONAL,
    STRUCTURE,
    3,
    (
        bare("1-1:0.2.129.255", OSTR, const=LIST_ID),
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
    Style.POSITIONAL,
    STRUCTURE,
    3,
    (
        bare("1-1:0.2.129.255", OSTR, const=LIST_ID),
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
    Style.POSITIONAL,
    STRUCTURE,
    3,
    (
        bare("1-1:0.2.129.255", OSTR, const=LIST_ID),
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
    Style.PAIRS,
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


LAYOUTS: Final[tuple[Layout, ...]] = (
    KAIFA_LIST1,
    KAIFA_LIST2_1P,
    KAIFA_LIST2_3P,
    KAIFA_LIST3_1P,
    KAIFA_LIST3_3P,
    KAIFA_LIST3_3P_U64,
    KAIFA_SE,
)

#: The lists of bare values the generic road reads by count (where the flat parse did not match).
POSITIONAL: Final = tuple(
    PositionalList(layout, Style.POSITIONAL) for layout in LAYOUTS if layout.style == Style.POSITIONAL
)

#: The simulated 3-phase meter (KFM: cadence, framing, resolutions).
MODEL_3P: Final = MeterModel(
    manufacturer="kaifa",
    phases=3,
    list_version="KFM_001",
    meter_id="6970631403275928",
    meter_type="MA304H4",
    layouts={1: "kaifa-list1", 2: "kaifa-list2-3p", 3: "kaifa-list3-3p"},
    schedule=((1, 2000, 0), (2, 10_000, 0), (3, HOUR_MS, 10_000)),
    destination=b"\x01",
    source=b"\x02\x01",
    control=0x10,
    invoke_id=0x40000000,
    header_time=0x09,
    resolution={
        "current": Decimal("0.001"),
        "voltage": Decimal("0.1"),
        "power": Decimal(1),
        "energy": Decimal("0.001"),
    },
    clock_at_hour=True,
    sunday_zero=False,
    deviation=None,
    dst_status=False,
)

#: The 1-phase model differs only in identity and layouts.
MODEL_1P: Final = replace(
    MODEL_3P,
    phases=1,
    meter_id="6970631403275929",
    meter_type="MA105H2E",
    layouts={1: "kaifa-list1", 2: "kaifa-list2-1p", 3: "kaifa-list3-1p"},
)

#: EVN (Netz Niederösterreich) Kaifa MA309, M-Bus, ciphered: the clock (a 12-byte octet-string),
#: then OBIS / value / scaler-unit triples (energies, powers, U1-U3, I1-I3, power factor), then the
#: meter number. Netz NÖ "SmartMeter Kundenschnittstelle" (218_9), its example telegram; the same
#: example is test data in esphome-libs/dlms_parser (``tests/dumps/mbus_netz_noe_p1.log``).
EVN_MA309: Final = TripleList(
    "kaifa-evn-ma309",
    lead=(bare("0-0:1.0.0.255", OSTR),),
    trail=(bare("0-0:96.1.0.255", OSTR),),
)

MAKER: Final = Maker(
    "kaifa",
    "Kaifa",
    list_ids=(LIST_ID.decode(),),
    # KFM p.4 and the checked captures: mA, 0.1 V, W, Wh
    implicit_scalers={"*": {"current": -3, "voltage": -1, "power": 0, "energy": 0}},
    system_title=b"KFM",
    styles=(Style.POSITIONAL,),
    layouts=LAYOUTS,
    positional=POSITIONAL,
    triples=(EVN_MA309,),
    preset=SerialSettings(2400, 8, "E", 1),
    models=(MODEL_3P, MODEL_1P),
)
