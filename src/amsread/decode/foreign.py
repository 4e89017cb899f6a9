"""Shape rules for push lists from outside Norway that the generic walker cannot read alone.

``readings.items_from_tree`` reads any list that names its values with OBIS codes (Aidon-style
register arrays, Iskra's structure of registers, Kamstrup pairs, and the Kaifa Poland mix of a bare
clock pair and register structures). Two further shapes need knowledge from outside the frame:

* **Capture-object lists** (Landis+Gyr E450, Switzerland: ``fw_landisgyr_gbt_1.json``): the body
  is a structure whose first element is the push setup's own object list, an array of capture
  object definitions ``{class_id, logical_name (OBIS), attribute_index, data_index}`` (DLMS Blue
  Book BB13 §4.4.8, push setup class 40, attribute 2), followed by one value per definition. The
  OBIS codes come from the list; registers push attribute 2 only, so their scaler-unit (attribute
  3) is not in the frame and comes from ``CAPTURE_OBJECT_SCALERS``.
* **Positional lists** without any OBIS code, fixed by a grid operator: ``POSITIONAL_LISTS``.

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

from dataclasses import dataclass
from typing import Any, Final

from amsread.cosem.axdr import TAG
from amsread.decode.flat import KAIFA_LIST_ID, LAYOUTS
from amsread.decode.generic import PositionalRule, Style
from amsread.decode.message import Item
from amsread.obis import Obis

#: Scalers of registers pushed without their scaler-unit, by quantity (see the module doc).
CAPTURE_OBJECT_SCALERS: Final[dict[str, int]] = {"current": -2, "voltage": 0, "power": 0, "energy": 0}


# --------------------------------------------------------------------------------------------
# positional lists
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Position:
    """One position of a positional list: what it holds (OBIS, or None if unknown), type, scaler."""

    obis: bytes | None
    tag: int
    scaler: int | None = None


def _p(obis: str | None, tag: int, scaler: int | None = None) -> Position:
    return Position(Obis.parse(obis).to_bytes() if obis else None, tag, scaler)


@dataclass(frozen=True, slots=True)
class PositionalList:
    """A list of bare values whose meaning comes from the operator's document, position by position."""

    name: str
    manufacturer: str
    positions: tuple[Position, ...]

    def matches(self, body: tuple[Any, ...]) -> bool:
        """Same count, and each value of the Python type its A-XDR tag decodes to."""
        if len(body) != len(self.positions):
            return False
        for p, v in zip(self.positions, body, strict=True):
            if p.tag == TAG.OCTET_STRING:
                if not isinstance(v, bytes):
                    return False
            elif p.tag == TAG.VISIBLE_STRING:
                if not isinstance(v, str):
                    return False
            elif type(v) is not int:
                return False
        return True

    def match(self, body: tuple[Any, ...]) -> tuple[tuple[Item, ...], str] | None:
        """Items and the list's name when ``body`` is this list (the ``PositionalRule`` protocol)."""
        return (self.items(body), self.name) if self.matches(body) else None

    def items(self, body: tuple[Any, ...]) -> tuple[Item, ...]:
        return tuple(
            Item(p.obis, v, p.scaler) for p, v in zip(self.positions, body, strict=True) if p.obis is not None
        )


U16: Final = TAG.LONG_UNSIGNED
U32: Final = TAG.DOUBLE_LONG_UNSIGNED
OSTR: Final = TAG.OCTET_STRING

_E450_AT_HEAD: Final = (
    _p("1-0:32.7.0.255", U16, 0),
    _p("1-0:52.7.0.255", U16, 0),
    _p("1-0:72.7.0.255", U16, 0),
    _p("1-0:31.7.0.255", U16, -2),
    _p("1-0:51.7.0.255", U16, -2),
    _p("1-0:71.7.0.255", U16, -2),
    _p("1-0:1.7.0.255", U32, 0),
    _p("1-0:2.7.0.255", U32, 0),
    _p("1-0:1.8.0.255", U32, 0),
    _p("1-0:2.8.0.255", U32, 0),
)

#: Landis+Gyr E450, Netz Burgenland (AT), 14 values (``doc_landisgyr_e450_gcm_encrypted.json``).
LANDISGYR_E450_AT_14: Final = PositionalList(
    "landisgyr-e450-at-14",
    "landisgyr",
    (*_E450_AT_HEAD, _p(None, U16), _p(None, U16), _p(None, U16), _p("0-0:96.1.0.255", OSTR)),
)

#: The same meter's 11-value form (Tasmota issue 23027).
LANDISGYR_E450_AT_11: Final = PositionalList(
    "landisgyr-e450-at-11",
    "landisgyr",
    (*_E450_AT_HEAD, _p("0-0:96.1.0.255", OSTR)),
)

POSITIONAL_LISTS: Final[tuple[PositionalList, ...]] = (LANDISGYR_E450_AT_14, LANDISGYR_E450_AT_11)

#: The manufacturer each shape rule implies, by the style name ``items_from_tree`` returns.
MANUFACTURER_OF_STYLE: Final = {p.name: p.manufacturer for p in POSITIONAL_LISTS}


def positional_items(body: tuple[Any, ...]) -> tuple[tuple[Item, ...], str] | None:
    """Items and list name of the first positional list ``body`` matches, or None."""
    for pl in POSITIONAL_LISTS:
        found = pl.match(body)
        if found is not None:
            return found
    return None


class KaifaPositions:
    """Kaifa Norway's bare values, known by their count (KFM p.2-4): a list of the count of one of
    its layouts, whose first value is the list id ``KFM_001`` unless it is list 1 (P+ alone)."""

    def match(self, body: tuple[Any, ...]) -> tuple[tuple[Item, ...], str] | None:
        for layout in LAYOUTS:
            if layout.style == Style.POSITIONAL and layout.count == len(body):
                if len(body) > 1 and body[0] != KAIFA_LIST_ID:
                    return None
                items = tuple(Item(f.obis, v) for f, v in zip(layout.fields, body, strict=True))
                return items, Style.POSITIONAL
        return None


#: The positional lists the generic walker tries, in order: Kaifa's first.
POSITIONAL_RULES: Final[tuple[PositionalRule, ...]] = (KaifaPositions(), *POSITIONAL_LISTS)

#: FLAG manufacturer IDs at the start of a system title, and the contract's manufacturer names.
SYSTEM_TITLE_MAKERS: Final = {
    b"ADN": "aidon",
    b"ISK": "iskra",
    b"KAM": "kamstrup",
    b"KFM": "kaifa",
    b"LGZ": "landisgyr",
    b"SAG": "sagemcom",
}


def maker_of_system_title(title: bytes | None) -> str | None:
    """The maker named by a system title's FLAG ID, if amsread knows it."""
    return SYSTEM_TITLE_MAKERS.get(title[:3]) if title else None
