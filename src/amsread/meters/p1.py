"""P1 / DSMR meters (Sweden, Finland, Belgium, the Netherlands): the port's preset and the makers'
three-letter FLAG ids.

A P1 telegram names its maker only in the identification line's first three letters
(``/ADN9 6534``: ADN). They are FLAG manufacturer ids (the DLMS UA keeps the register, IEC 62056-21
§6.3.14 puts them there). ``FLAG_MAKERS`` maps those whose meters amsread already knows by name to
that name; any other is printed as its letters lower-cased (``flu`` for Fluvius' own meters, ``ell``).
Data only: no construct.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from amsread.meters.model import MeterModel
from amsread.settings import P1

#: The P1 port's serial settings (DSMR 5.0.2 §5.2; the Swedish HAN spec SS-EN 62056-21 mode D).
PRESET: Final = P1

#: FLAG ids of makers amsread names elsewhere, as the identification lines of real telegrams
#: spell them (``/ADN9``, ``/KFM5``, ``/KMP5``, ``/LGF5``, ``/ISk5``; case varies, so upper-cased
#: before the look-up).
FLAG_MAKERS: Final[dict[str, str]] = {
    "ADN": "aidon",
    "KFM": "kaifa",
    "KAM": "kamstrup",
    "KMP": "kamstrup",
    "LGF": "landisgyr",
    "LGZ": "landisgyr",
    "ISK": "iskra",
    "SAG": "sagemcom",
}


def maker_of_flag(flag: str) -> str:
    """The manufacturer named by a telegram's three letters: a known maker, else the letters lower-cased."""
    return FLAG_MAKERS.get(flag.upper(), flag.lower())


def _model(phases: int) -> MeterModel:
    """A Swedish P1 meter as the simulator imitates it: an Aidon 6534 (``/ADN9 6534``) sending its
    telegram every 10 s, powers in W steps, 0.1 A and 0.1 V, energy in Wh steps (the resolutions
    of the real telegrams in tests/data/p1). No HDLC: the layouts and addresses stay empty."""
    return MeterModel(
        manufacturer="aidon",
        phases=phases,
        list_version="",
        meter_id="",
        meter_type="6534",
        layouts={},
        schedule=((0, 10_000, 0),),
        destination=b"",
        source=b"",
        control=0,
        invoke_id=0,
        header_time=0,
        resolution={
            "power": Decimal(1),
            "current": Decimal("0.1"),
            "voltage": Decimal("0.1"),
            "energy": Decimal("0.001"),
        },
        clock_at_hour=False,
        sunday_zero=False,
        deviation=None,
        dst_status=False,
    )


#: The simulated P1 meters by phases (``simulate --meter p1``); identification line ``/ADN9 6534``.
MODELS: Final[dict[int, MeterModel]] = {1: _model(1), 3: _model(3)}
IDENTIFICATION: Final = "ADN9 6534"
