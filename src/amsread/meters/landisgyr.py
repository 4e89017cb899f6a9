"""Landis+Gyr (E350 Norway, E450 Switzerland and Austria): three list shapes from one maker.

* **E350, Norway**: Aidon's register lists (``meters.aidon``) under the list id ``EMBRIQ_V1_1``.
* **E450, Switzerland** (Regionalwerke Baden, ``fw_landisgyr_gbt_1.json``): a capture-object list,
  block-transferred. The body is a structure whose first element is the push setup's own object
  list, an array of capture object definitions ``{class_id, logical_name (OBIS), attribute_index,
  data_index}`` (DLMS Blue Book, push setup interface class 40, attribute 2), followed by one value
  per definition (``decode.generic`` reads it). Registers push attribute 2 only, so their
  scaler-unit (attribute 3) is not in the frame and comes from ``CAPTURE_OBJECT_SCALERS``.
* **E360, E450, E570, Switzerland, the VSE lists**: one capture-object list for every maker, without
  scalers, scaled by meter type: ``meters.switzerland``.
* **E450, Austria** (Netz Burgenland): positional lists without any OBIS code, fixed by the grid
  operator, ciphered: ``E450_AT_14`` and ``E450_AT_11``.

Scalers not in the frame are from the operators' documents and checked captures:

* L+G E450 (Regionalwerke Baden CH push list, https://github.com/UtilitechAS/amsreader-firmware/issues/740;
  values in https://github.com/UtilitechAS/amsreader-firmware/issues/782 and #949): current in
  0.01 A, voltage in whole volts, power in W, energy in Wh.
* L+G E450 of Netz Burgenland (AT), ``doc_landisgyr_e450_gcm_encrypted.json``: 14 (or 11) bare values
  U1-U3 (V), I1-I3 (0.01 A), P+ and P- (W), A+ and A- (Wh), three long-unsigned values whose meaning
  is not documented publicly (left out: never a guess), then the meter number
  (https://github.com/UtilitechAS/amsreader-firmware/issues/501, amsreader-firmware ``src/LNG2.h``,
  Tasmota issue 23027 for the 11-value form).
"""

from __future__ import annotations

from typing import Final

from amsread.decode.layout import OSTR, STRUCTURE, U16, U32, Layout, PositionalList, Style, bare
from amsread.meters.model import Maker
from amsread.settings import SerialSettings

#: Layouts an E350 list 1 reads as: Aidon's list 1, byte for byte (same addresses, OBIS code,
#: scaler; no list id), on the flat road and the generic one. A lone list 1 of this shape names no
#: maker; only an earlier list 2 of the same stream does (``decode.decoder.ReadingDecoder``).
SHARES_AIDON_LIST1: Final = frozenset({"aidon-list1", "generic:registers"})

#: Scalers of registers pushed without their scaler-unit, by quantity (see the module doc).
CAPTURE_OBJECT_SCALERS: Final[dict[str, int]] = {"current": -2, "voltage": 0, "power": 0, "energy": 0}

_E450_AT_HEAD: Final = (
    bare("1-0:32.7.0.255", U16, scaler=0),
    bare("1-0:52.7.0.255", U16, scaler=0),
    bare("1-0:72.7.0.255", U16, scaler=0),
    bare("1-0:31.7.0.255", U16, scaler=-2),
    bare("1-0:51.7.0.255", U16, scaler=-2),
    bare("1-0:71.7.0.255", U16, scaler=-2),
    bare("1-0:1.7.0.255", U32, scaler=0),
    bare("1-0:2.7.0.255", U32, scaler=0),
    bare("1-0:1.8.0.255", U32, scaler=0),
    bare("1-0:2.8.0.255", U32, scaler=0),
)

#: Landis+Gyr E450, Netz Burgenland (AT), 14 values (``doc_landisgyr_e450_gcm_encrypted.json``).
E450_AT_14: Final = Layout(
    "landisgyr-e450-at-14",
    Style.POSITIONAL,
    STRUCTURE,
    None,
    (*_E450_AT_HEAD, bare(None, U16), bare(None, U16), bare(None, U16), bare("0-0:96.1.0.255", OSTR)),
)

#: The same meter's 11-value form (Tasmota issue 23027).
E450_AT_11: Final = Layout(
    "landisgyr-e450-at-11",
    Style.POSITIONAL,
    STRUCTURE,
    None,
    (*_E450_AT_HEAD, bare("0-0:96.1.0.255", OSTR)),
)

#: Read by the generic road, each value checked against its type, named after the list.
LANDISGYR_E450_AT_14: Final = PositionalList(E450_AT_14, E450_AT_14.name, typed=True)
LANDISGYR_E450_AT_11: Final = PositionalList(E450_AT_11, E450_AT_11.name, typed=True)

MAKER: Final = Maker(
    "landisgyr",
    "Landis+Gyr",
    list_ids=("EMBRIQ_V1_1",),
    system_title=b"LGZ",
    positional=(LANDISGYR_E450_AT_14, LANDISGYR_E450_AT_11),
    capture_object_scalers=CAPTURE_OBJECT_SCALERS,
    preset=SerialSettings(2400, 8, "E", 1),
)
