"""Iskra (AM550; Slovenia, Austria): registers in a structure, and the Slovenian positional lists.

The AM550 sends Aidon-style registers in a structure rather than an array (``decode.generic``'s
``register-structure``), so that shape does not name it; a ciphered push's system title does
(FLAG manufacturer ID ``ISK``).

Slovenian grid operators configure the AM550 to push bare values without OBIS codes. Each list is
recognised by its count and the A-XDR type of every position (``decode.generic.positional_items``
with ``typed``): no two lists below share count and types, so no option is needed. Scales are
not in the frame; they are the operator's (voltage 0.1 V, current 0.01 A, power W, energy Wh).

* **Elektro Ljubljana, 18 values** (the 1-5 s telegram): logical device name, an id, P+, P-, Q+,
  Q-, U1-U3, I1-I3, P+ L1-L3, P- L1-L3. Field list: amsreader-firmware ``frames/slovenia-iskra.raw``
  and the reporter's OBIS list in https://github.com/UtilitechAS/amsreader-firmware/issues/615.
* **Elektro Ljubljana, 12 values** (the 15-minute telegram): name, id, disconnect control (enum),
  active tariff, A+ total/T1/T2, A- total/T1/T2, R+, R- (same sources; the tariff sums check).
* **Elektro Ljubljana, 9 values, single phase** (ED1.21): name, id, P+, P-, Q+, Q-, U1, A- T1, A- T2
  (https://github.com/UtilitechAS/amsreader-firmware/issues/869 and the firmware's field map).
* **Elektro Celje, 12 values**: name, a configuration text, U1-U3, I1-I3, P+, P-, Q+, Q-
  (issue #615, comment 40, and the firmware's field map).

In Switzerland the AM550 pushes the VSE list, which ``meters.switzerland`` reads and scales.

Positions whose meaning no public document gives (the second id, the configuration text, the
disconnect state) are left out: never a guess.
"""

from __future__ import annotations

from typing import Final

from amsread.cosem.tags import TAG
from amsread.decode.layout import OSTR, STRUCTURE, U16, U32, Layout, PositionalList, Style, bare
from amsread.meters.model import Maker

#: The logical device name (BB13 §4.4.1, 0-0:42.0.0): ``ISK`` and the serial number.
DEVICE_NAME: Final = "0-0:42.0.0.255"
ENUM: Final = TAG.ENUM

_VOLTS: Final = (
    bare("1-0:32.7.0.255", U16, scaler=-1),
    bare("1-0:52.7.0.255", U16, scaler=-1),
    bare("1-0:72.7.0.255", U16, scaler=-1),
)
_AMPS: Final = (
    bare("1-0:31.7.0.255", U16, scaler=-2),
    bare("1-0:51.7.0.255", U16, scaler=-2),
    bare("1-0:71.7.0.255", U16, scaler=-2),
)
_POWERS: Final = (
    bare("1-0:1.7.0.255", U32, scaler=0),
    bare("1-0:2.7.0.255", U32, scaler=0),
    bare("1-0:3.7.0.255", U32, scaler=0),
    bare("1-0:4.7.0.255", U32, scaler=0),
)

#: Elektro Ljubljana, 18 values every few seconds.
SI_LJUBLJANA_18: Final = Layout(
    "iskra-si-ljubljana-18",
    Style.POSITIONAL,
    STRUCTURE,
    None,
    (
        bare(DEVICE_NAME, OSTR),
        bare(None, OSTR),
        *_POWERS,
        *_VOLTS,
        *_AMPS,
        bare("1-0:21.7.0.255", U32, scaler=0),
        bare("1-0:41.7.0.255", U32, scaler=0),
        bare("1-0:61.7.0.255", U32, scaler=0),
        bare("1-0:22.7.0.255", U32, scaler=0),
        bare("1-0:42.7.0.255", U32, scaler=0),
        bare("1-0:62.7.0.255", U32, scaler=0),
    ),
)

#: Elektro Ljubljana, 12 values every 15 minutes: the energy registers.
SI_LJUBLJANA_12: Final = Layout(
    "iskra-si-ljubljana-12",
    Style.POSITIONAL,
    STRUCTURE,
    None,
    (
        bare(DEVICE_NAME, OSTR),
        bare(None, OSTR),
        bare(None, ENUM),
        bare("0-0:96.14.0.255", OSTR),
        bare("1-0:1.8.0.255", U32, scaler=0),
        bare("1-0:1.8.1.255", U32, scaler=0),
        bare("1-0:1.8.2.255", U32, scaler=0),
        bare("1-0:2.8.0.255", U32, scaler=0),
        bare("1-0:2.8.1.255", U32, scaler=0),
        bare("1-0:2.8.2.255", U32, scaler=0),
        bare("1-0:3.8.0.255", U32, scaler=0),
        bare("1-0:4.8.0.255", U32, scaler=0),
    ),
)

#: Elektro Ljubljana, single-phase AM550 ED1.21, 9 values.
SI_LJUBLJANA_1P: Final = Layout(
    "iskra-si-ljubljana-1p",
    Style.POSITIONAL,
    STRUCTURE,
    None,
    (
        bare(DEVICE_NAME, OSTR),
        bare(None, OSTR),
        *_POWERS,
        _VOLTS[0],
        bare("1-0:2.8.1.255", U32, scaler=0),
        bare("1-0:2.8.2.255", U32, scaler=0),
    ),
)

#: Elektro Celje, 12 values, another order.
SI_CELJE_12: Final = Layout(
    "iskra-si-celje-12",
    Style.POSITIONAL,
    STRUCTURE,
    None,
    (bare(DEVICE_NAME, OSTR), bare(None, OSTR), *_VOLTS, *_AMPS, *_POWERS),
)

MAKER: Final = Maker(
    "iskra",
    "Iskra",
    system_title=b"ISK",
    positional=tuple(
        PositionalList(layout, layout.name, typed=True)
        for layout in (SI_LJUBLJANA_18, SI_LJUBLJANA_12, SI_LJUBLJANA_1P, SI_CELJE_12)
    ),
)
