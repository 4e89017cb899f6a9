"""Aidon (65xx, Norway and Sweden): register arrays with scaler-unit, list id ``AIDON_V0001``.

Sources: Aidon "RJ45 HAN Interface" (AID-IF §3.2-3.3), "OBIS list" (AID-OBIS), "RJ12 HAN Interface"
for Sweden (AID-RJ12 §3.3); NEK list document for the Norwegian lists 1-3. Landis+Gyr E350 meters
send the same lists under their own list id (``meters.landisgyr``). Checked against the real
captures in ``tests/data/valid``.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Final

from amsread.decode.layout import (
    ARRAY,
    I16,
    U16,
    U32,
    VSTR,
    Layout,
    Style,
    clock,
    obj,
    reg,
)
from amsread.meters.model import HOUR_MS, Maker, MeterModel
from amsread.settings import SerialSettings

#: Aidon 65xx and Landis+Gyr E350 list 1 (AID-IF §3.2.1; wire OBIS 1-0, not the document's 1-1).
AIDON_LIST1: Final = Layout(
    "aidon-list1",
    Style.REGISTERS,
    ARRAY,
    1,
    (reg("1-0:1.7.0.255", U32),),
)


#: Aidon 6515 1-phase list 2 (AID-IF §3.3.1 example).
AIDON_LIST2_1P: Final = Layout(
    "aidon-list2-1p",
    Style.REGISTERS,
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
    Style.REGISTERS,
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
    Style.REGISTERS,
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


#: Aidon 6515 1-phase list 3 (AID-IF §3.2: list 2 plus the clock and four energy registers).
AIDON_LIST3_1P: Final = Layout(
    "aidon-list3-1p",
    Style.REGISTERS,
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


#: Aidon 6525/6540 3-wire list 3.
AIDON_LIST3_3W: Final = Layout(
    "aidon-list3-3w",
    Style.REGISTERS,
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
    Style.REGISTERS,
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
    Style.REGISTERS,
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


LAYOUTS: Final[tuple[Layout, ...]] = (
    AIDON_LIST1,
    AIDON_LIST2_1P,
    AIDON_LIST2_3W,
    AIDON_LIST2_4W,
    AIDON_LIST3_1P,
    AIDON_LIST3_3W,
    AIDON_LIST3_4W,
    AIDON_SE,
)

#: The simulated 3-phase meter, keyword by keyword (AID-IF, AID-OBIS: cadence, framing, resolutions).
MODEL_3P: Final = MeterModel(
    manufacturer="aidon",
    phases=3,
    list_version="AIDON_V0001",
    meter_id="7359992890941742",
    meter_type="6534",
    layouts={1: "aidon-list1", 2: "aidon-list2-4w", 3: "aidon-list3-4w"},
    schedule=((1, 2500, 0), (2, 10_000, 0), (3, HOUR_MS, 10_000)),
    destination=b"\x41",
    source=b"\x08\x83",
    control=0x13,
    invoke_id=0x40000000,
    header_time=0x00,
    resolution={
        "current": Decimal("0.1"),
        "voltage": Decimal("0.1"),
        "power": Decimal(1),
        "energy": Decimal("0.01"),
    },
    clock_at_hour=True,
    sunday_zero=True,
    deviation=0,
    dst_status=False,
)

#: The 1-phase model differs only in identity and layouts.
MODEL_1P: Final = replace(
    MODEL_3P,
    phases=1,
    meter_id="7359992890941743",
    meter_type="6515",
    layouts={1: "aidon-list1", 2: "aidon-list2-1p", 3: "aidon-list3-1p"},
)

MAKER: Final = Maker(
    "aidon",
    "Aidon",
    list_ids=("AIDON_V0001",),
    system_title=b"ADN",
    styles=(Style.REGISTERS,),
    layouts=LAYOUTS,
    preset=SerialSettings(2400, 8, "E", 1),
    models=(MODEL_3P, MODEL_1P),
)
