"""The Swiss VSE lists: one capture-object list for every maker, pushed without any scaler.

Swiss grid operators configure their meters' customer interface (CII) to the list the VSE
(Verband Schweizerischer Elektrizitätsunternehmen) recommends, "RL-DSP CH2024"
(https://www.strom.ch/de/media/15467/download, as cited by scs/smartmeter-datacollector pull
request #88; the document itself was not available here). Every published capture of it has the
same shape: the push setup's object list (0-6:25.9.0 or 0-8:25.9.0), the COSEM logical device name
0-0:42.0.0, A+, A-, R+, R- (1-1:1.8.0 to 4.8.0), P+ and P- (1.7.0, 2.7.0), U1-U3 and I1-I3, each
register's value alone: its scaler-unit (attribute 3) is not pushed. ``decode.generic`` reads it
(``vse_items``).

**Units.** Energies come in Wh and powers in W in every capture, for every maker (``FIXED``).
Voltages and currents do not: their resolution depends on the meter type.

**Which type.** The logical device name names the maker: its first three characters are the FLAG
manufacturer id (DLMS UA; ``LGZ`` Landis+Gyr, ``ISK`` Iskra). The 13 characters after it are the
maker's own numbering, and no public document says how they encode the model: the numbers of E450
and E570 meters interleave (LGZ1030653520967 and LGZ1030655933512 are E450s, LGZ1030769231250 and
LGZ1030781910790 E570s). So a type is told by the maker the name gives together with the object
list that type's firmware pushes, as the captures below show it (the E360 sends U3 before U2; the
AM550 its powers on channel 1; the E450 adds the push setup's name, an id and the clock). A list of
a maker or object order no capture shows is of unknown type: its voltages and currents are left
out, with one warning naming the logical device name; never a guess.

**The table** (``TYPES``), each scale checked against the source's own numbers:

* **Landis+Gyr E570**: U in V, I in A. scs/smartmeter-datacollector ``tests/test_lge570.py``:
  ``test_lge570_vse_standard`` (``scs_lg_e570_ch_vse2026_noload_1``: U1 ``00E8`` = 232 V) and
  ``test_lge570_load_vse_standard`` (229/230/229 V, 400/200/601 A, P+ 258874 W: amperes, since
  ΣU·I = 275 kVA just above P, where 0.01 A would give 2.8 kVA, below the power).
* **Landis+Gyr E360**: U in 0.1 V, I in 0.01 A. scs ``tests/test_lge360.py``
  (``test_lge360_vse_standard``: ``0935`` is 235.7 V, ``0006`` 0.06 A, beside P+ 11 W).
* **Landis+Gyr E450**: U in V, I in 0.01 A. scs ``tests/testdata/lg_e450.py``
  (``UNENCRYPTED_VALID_DATA_CFG2026``: U ``00EC`` = 236 V, I ``0009``/``0008``, P+ 28 W); the same
  current scale as the E450's own scaler in its older Swiss push (``meters.landisgyr``) and in
  scs issue #40 (an AEW E450: 106 is 1.06 A).
* **Iskra AM550**: U in 0.1 V, I in 0.01 A. scs ``tests/testdata/iskra_am550.py``
  (``UNENCRYPTED_VALID_DATA_CFG2026``: U1 ``092B`` = 234.7 V, the "2347 V" of issue 13; I1
  ``000C`` = 0.12 A beside P+ 27 W), and the scaler-units a Swiss AM550 sends in its register
  lists (``issue_iskra_am550_segmented``, Tasmota issue 8790: voltage -1, current -2).
"""

from __future__ import annotations

from typing import Final

from amsread.decode.layout import MeterType, UnscaledCaptureList, any_channel
from amsread.obis import Obis

#: Energies in Wh and powers in W, whatever the meter (every capture above).
FIXED: Final = {"energy": 0, "power": 0}

#: Whole volts, whole amperes; tenths of a volt; hundredths of an ampere.
_V: Final = 0
_A: Final = 0
_DV: Final = -1
_CA: Final = -2


def _codes(*texts: str) -> tuple[bytes, ...]:
    return tuple(Obis.parse(t).to_bytes() for t in texts)


#: The logical device name (BB13 §4.4.1): the FLAG id, then the maker's own number.
DEVICE_NAME: Final = _codes("0-0:42.0.0.255")[0]

_ENERGIES: Final = ("1-1:1.8.0.255", "1-1:2.8.0.255", "1-1:3.8.0.255", "1-1:4.8.0.255")
_POWERS: Final = ("1-0:1.7.0.255", "1-0:2.7.0.255")
_VOLTS: Final = ("1-0:32.7.0.255", "1-0:52.7.0.255", "1-0:72.7.0.255")
_AMPS: Final = ("1-0:31.7.0.255", "1-0:51.7.0.255", "1-0:71.7.0.255")

#: The registers every VSE list carries, on any channel (B): the AM550 sends its powers on channel 1.
REGISTERS: Final = frozenset(any_channel(c) for c in _codes(*_ENERGIES, *_POWERS, *_VOLTS, *_AMPS))

E570: Final = MeterType(
    "vse-2026-landisgyr-e570",
    "landisgyr",
    "Landis+Gyr E570",
    b"LGZ",
    _codes("0-8:25.9.0.255", "0-0:42.0.0.255", *_ENERGIES, *_POWERS, *_VOLTS, *_AMPS),
    {"voltage": _V, "current": _A},
)
E360: Final = MeterType(
    "vse-2026-landisgyr-e360",
    "landisgyr",
    "Landis+Gyr E360",
    b"LGZ",
    _codes(
        "0-6:25.9.0.255",
        "0-0:42.0.0.255",
        *_ENERGIES,
        *_POWERS,
        "1-0:32.7.0.255",
        "1-0:72.7.0.255",
        "1-0:52.7.0.255",
        *_AMPS,
    ),
    {"voltage": _DV, "current": _CA},
)
E450: Final = MeterType(
    "vse-2026-landisgyr-e450",
    "landisgyr",
    "Landis+Gyr E450",
    b"LGZ",
    _codes(
        "0-8:25.9.0.255",
        "0-8:25.9.0.255",
        "0-0:42.0.0.255",
        "0-0:96.1.1.255",
        "0-0:1.0.0.255",
        *_ENERGIES,
        *_POWERS,
        *_VOLTS,
        *_AMPS,
    ),
    {"voltage": _V, "current": _CA},
)
AM550: Final = MeterType(
    "vse-2026-iskra-am550",
    "iskra",
    "Iskra AM550",
    b"ISK",
    _codes(
        "0-6:25.9.0.255",
        "0-0:42.0.0.255",
        *_ENERGIES,
        "1-1:1.7.0.255",
        "1-1:2.7.0.255",
        *_VOLTS,
        *_AMPS,
    ),
    {"voltage": _DV, "current": _CA},
)

#: Every meter type whose VSE list and scales a public source shows (see the module doc).
TYPES: Final = (E570, E360, E450, AM550)

#: The VSE list, as the generic road reads it.
VSE_LIST: Final = UnscaledCaptureList("vse-2026", DEVICE_NAME, REGISTERS, FIXED, TYPES)
