"""Siemens (IM350, SMS meters; Austria): named by the system title ``SMS``.

Siemens meters send the Austrian operators' lists (``meters.austria``); for Wiener Netze they put
the meter id first, so their list has 10 values where the Iskra and Landis+Gyr meters send 9
(rddl-network/EnergyAgent ``smart_meter_tests/legacy.py``, the "SIEMENS" selection, meter
SMS1030788000020). Siemens meters use a 4-byte HDLC source address (00 02 00 23).
"""

from __future__ import annotations

from typing import Final

from amsread.decode.layout import OSTR, STRUCTURE, Layout, PositionalList, Style, bare
from amsread.meters.austria import WIENER_NETZE_VALUES
from amsread.meters.model import Maker

#: Wiener Netze, Siemens form: the meter id, then the 9 values of the Iskra/L+G list.
WIENER_NETZE_10: Final = Layout(
    "siemens-wiener-netze-10",
    Style.POSITIONAL,
    STRUCTURE,
    None,
    (bare("0-0:96.1.0.255", OSTR), *WIENER_NETZE_VALUES),
)

MAKER: Final = Maker(
    "siemens",
    "Siemens",
    system_title=b"SMS",
    positional=(PositionalList(WIENER_NETZE_10, WIENER_NETZE_10.name, typed=True),),
)
