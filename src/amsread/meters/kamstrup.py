"""Kamstrup (684, 686; Norway, Sweden, Denmark): OBIS/value pairs, list id ``Kamstrup_V0001``.

Kamstrup pushes 8N1 (KAM-NVE §2.4.1), sends its list version bare (KAM-OBIS p.2), pads absent
phases with null-data pairs, and sends no scalers: the implicit ones below. Sources: Kamstrup
"HAN-NVE interface description" (KAM-NVE §2.7-2.8, §3), "OBIS list" (KAM-OBIS), Danish "HAN
port" description (KAM-DK).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Final

from amsread.decode.layout import (
    NULL_PAIR,
    STRUCTURE,
    U16,
    U32,
    VSTR,
    Layout,
    Style,
    pair,
    pair_clock,
    version,
)
from amsread.meters.model import HOUR_MS, Maker, MeterModel
from amsread.settings import SerialSettings

#: Kamstrup 684 3-phase 10 s list (KAM-NVE §2.7.1, 25 elements).
KAMSTRUP_LIST2_3P: Final = Layout(
    "kamstrup-list2-3p",
    Style.PAIRS,
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
    Style.PAIRS,
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
    Style.PAIRS,
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
    Style.PAIRS,
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
    Style.PAIRS,
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
    Style.PAIRS,
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


LAYOUTS: Final[tuple[Layout, ...]] = (
    KAMSTRUP_LIST2_3P,
    KAMSTRUP_LIST2_1P,
    KAMSTRUP_LIST3_3P,
    KAMSTRUP_LIST3_1P,
    KAMSTRUP_LIST3_1P_DOC,
    KAMSTRUP_DK_CT,
)

#: The simulated 3-phase meter (KAM-NVE: cadence, framing, resolutions).
MODEL_3P: Final = MeterModel(
    manufacturer="kamstrup",
    phases=3,
    list_version="Kamstrup_V0001",
    meter_id="5706567202753025",
    meter_type="6841131BN243101040",
    layouts={2: "kamstrup-list2-3p", 3: "kamstrup-list3-3p"},
    schedule=((2, 10_000, 0), (3, HOUR_MS, 5_000)),
    destination=b"\x2b",
    source=b"\x21",
    control=0x13,
    invoke_id=0,
    header_time=0x0C,
    resolution={
        "current": Decimal("0.01"),
        "voltage": Decimal(1),
        "power": Decimal(1),
        "energy": Decimal("0.01"),
    },
    clock_at_hour=False,
    sunday_zero=False,
    deviation=None,
    dst_status=True,
)

#: The 1-phase model differs only in identity and layouts.
MODEL_1P: Final = replace(
    MODEL_3P,
    phases=1,
    meter_id="5706567271533207",
    meter_type="6861111BN242101040",
    layouts={2: "kamstrup-list2-1p", 3: "kamstrup-list3-1p"},
)

MAKER: Final = Maker(
    "kamstrup",
    "Kamstrup",
    list_ids=("Kamstrup_V0001",),
    # KAM-NVE §2.7.1 "Scaler" column: I -2, U 0, P/Q 0, energy +1 (Sweden: energy in Wh); power
    # factor in hundredths (the Danish CT list: raw 4 with P/S = 0.041)
    implicit_scalers={
        "*": {"current": -2, "voltage": 0, "power": 0, "energy": 1, "power_factor": -2},
        "SE": {"current": -2, "voltage": 0, "power": 0, "energy": 0, "power_factor": -2},
    },
    system_title=b"KAM",
    hdlc_source=b"\x21",
    layouts=LAYOUTS,
    preset=SerialSettings(2400, 8, "N", 1),
    models=(MODEL_3P, MODEL_1P),
)
