"""Lists the Austrian grid operators define, sent alike by several makers' meters.

These lists are fixed by an operator or the Austrian interface specification, not by a maker: the
Iskra AM550 and the Siemens IM350 send the same "Variant 1" list, and the Wiener Netze list comes
from Iskra and Landis+Gyr meters. So they name no maker; a ciphered push's system title does
(``ISK``, ``SMS``, ``LGZ``). Each is recognised by its count and the A-XDR type of each position;
Variant 1 also by its leading push-list code 0-6:25.9.0.

* **Variant 1** (Oesterreichs Energie, "Smart meter customer interfaces Austria", data model
  variant 1; copy in amsreader-firmware ``doc/Austria/Smart.meter.customer.interfaces.Austria.pdf``;
  annotated KärntenNetz plaintext in rddl-network/EnergyAgent ``smart_meter_tests/legacy.py``):
  0-6:25.9.0, meter number, time (octet-string 4), date (octet-string 5), A+, A-, R+, R- (Wh,
  varh), P+, P- (W), then two customer-information strings (12 values: KELAG AM550, IM350), or
  without them (10 values: Siemens IM350 in Wels). Time and date repeat the header's date-time
  and are left out; so are the customer-information strings.
* **Wiener Netze** (IR customer interface; rddl-network/EnergyAgent ``smart_meter_tests/legacy.py``,
  Wiener Netze "Kundenschnittstelle" description): date-time, A+, A-, R+, R- (Wh, varh), P+, P-,
  Q+, Q- (W, var): 9 values. The Siemens form, with the meter id first, is in ``meters.siemens``.
"""

from __future__ import annotations

from typing import Final

from amsread.decode.layout import OSTR, STRUCTURE, U32, Layout, PositionalList, Style, bare
from amsread.obis import Obis

#: The push list's logical name that starts every Variant 1 list (a constant, never printed).
VARIANT1_PUSH: Final = Obis.parse("0-6:25.9.0.255").to_bytes()

_V1_HEAD: Final = (
    bare(None, OSTR, const=VARIANT1_PUSH),
    bare("0-0:96.1.0.255", OSTR),
    bare(None, OSTR),
    bare(None, OSTR),
    bare("1-0:1.8.0.255", U32, scaler=0),
    bare("1-0:2.8.0.255", U32, scaler=0),
    bare("1-0:3.8.0.255", U32, scaler=0),
    bare("1-0:4.8.0.255", U32, scaler=0),
    bare("1-0:1.7.0.255", U32, scaler=0),
    bare("1-0:2.7.0.255", U32, scaler=0),
)

#: Variant 1 with the two customer-information strings (KELAG AM550, Siemens IM350).
VARIANT1_12: Final = Layout(
    "at-variant1-12", Style.POSITIONAL, STRUCTURE, None, (*_V1_HEAD, bare(None, OSTR), bare(None, OSTR))
)
#: Variant 1 without them (Siemens IM350, Wels).
VARIANT1_10: Final = Layout("at-variant1-10", Style.POSITIONAL, STRUCTURE, None, _V1_HEAD)

#: The Wiener Netze values after the date-time, shared with the Siemens form.
WIENER_NETZE_VALUES: Final = (
    bare("0-0:1.0.0.255", OSTR),
    bare("1-0:1.8.0.255", U32, scaler=0),
    bare("1-0:2.8.0.255", U32, scaler=0),
    bare("1-0:3.8.0.255", U32, scaler=0),
    bare("1-0:4.8.0.255", U32, scaler=0),
    bare("1-0:1.7.0.255", U32, scaler=0),
    bare("1-0:2.7.0.255", U32, scaler=0),
    bare("1-0:3.7.0.255", U32, scaler=0),
    bare("1-0:4.7.0.255", U32, scaler=0),
)
#: Wiener Netze, 9 values (Iskra AM550, Landis+Gyr).
WIENER_NETZE_9: Final = Layout("wiener-netze-9", Style.POSITIONAL, STRUCTURE, None, WIENER_NETZE_VALUES)

#: Read by the generic road, each value checked against its type; they imply no maker.
OPERATOR_LISTS: Final[tuple[PositionalList, ...]] = tuple(
    PositionalList(layout, layout.name, typed=True) for layout in (VARIANT1_12, VARIANT1_10, WIENER_NETZE_9)
)
