"""The message model: a decoded data-notification before naming and scaling.

Both roads of the decoder end here: the flat layouts (``decode.flat``) and the generic A-XDR tree
(``decode.generic``) each turn an APDU into a ``Message`` of parallel tuples, one entry per value,
with what each position means worked out once per OBIS code (``Slot``). ``decode.decoder`` then
scales and names the values by the output contract. Nothing here imports construct.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Final

from amsread.cosem.axdr import CosemDateTime
from amsread.obis import TEXT_FIELDS, info_for_raw


@dataclass(frozen=True, slots=True)
class Item:
    """One value as the meter sent it: OBIS code (6 raw bytes), raw value, scaler and unit if sent."""

    obis: bytes
    value: Any
    scaler: int | None = None
    unit: int | None = None


class Kind(IntEnum):
    """How a value is turned into the contract: scaled number, text, the clock, or kept as sent."""

    NUMBER = 0
    TEXT = 1
    TIME = 2
    OTHER = 3


NUMBER: Final = Kind.NUMBER
TEXT: Final = Kind.TEXT
TIME: Final = Kind.TIME
OTHER: Final = Kind.OTHER

#: Quantities a current-transformer ratio multiplies (the meter measures the secondary side).
CT_SCALED_UNITS: Final = frozenset({"A", "W", "var", "kWh", "kvarh"})

_KIND_OF_UNIT: Final = {
    "A": "current",
    "V": "voltage",
    "W": "power",
    "var": "power",
    "kWh": "energy",
    "kvarh": "energy",
}


@dataclass(frozen=True, slots=True)
class Slot:
    """What one position of a message means: worked out once per OBIS code, then reused.

    ``kind`` is NUMBER (scaled into ``unit``), TEXT (list version, id, type), TIME (the clock) or
    OTHER (a code amsread has no name for: kept under the code itself).
    """

    obis: bytes
    code: str
    name: str
    unit: str
    exponent: int
    kind: Kind
    quantity: str
    """current, voltage, power or energy: the key of the vendor's implicit scaler."""
    ct: bool
    """A current-transformer ratio multiplies it."""


#: Slots of the codes amsread names: a finite set (A 0 or 1, any B, the known C.D.E.F), kept for ever.
_KNOWN_SLOTS: dict[bytes, Slot] = {}

#: How many slots of codes amsread has no name for are remembered (least recently used go first):
#: a stream of frames with random codes must not grow memory without end.
UNKNOWN_SLOT_CACHE: Final = 256


def slot_for(obis: bytes) -> Slot:
    """The meaning of one OBIS code, cached: a stream repeats the same few dozen codes for ever."""
    slot = _KNOWN_SLOTS.get(obis)
    if slot is not None:
        return slot
    if len(obis) == 6 and info_for_raw(obis) is not None:
        slot = _KNOWN_SLOTS[obis] = _make_slot(bytes(obis))
        return slot
    return _unknown_slot(bytes(obis))


@functools.lru_cache(maxsize=UNKNOWN_SLOT_CACHE)
def _unknown_slot(obis: bytes) -> Slot:
    return _make_slot(obis)


def _make_slot(obis: bytes) -> Slot:
    """Work out what one OBIS code means (uncached)."""
    code = f"{obis[0]}-{obis[1]}:{obis[2]}.{obis[3]}.{obis[4]}.{obis[5]}" if len(obis) == 6 else obis.hex()
    info = info_for_raw(obis) if len(obis) == 6 else None
    if info is None:
        return Slot(obis, code, code, "", 0, OTHER, "", False)
    if info.name == "meter_time":
        kind = TIME
    elif info.name in TEXT_FIELDS:
        kind = TEXT
    else:
        kind = NUMBER
    return Slot(
        obis,
        code,
        info.name,
        info.unit,
        info.exponent,
        kind,
        info.quantity or _KIND_OF_UNIT.get(info.unit, ""),
        info.unit in CT_SCALED_UNITS,
    )


# Not frozen, yet never changed: one is made per frame, and a frozen dataclass's __init__
# (object.__setattr__ per field) cost 5 times as much, a tenth of a frame's decode (issue 15).
@dataclass(slots=True, unsafe_hash=True)
class Message:
    """A decoded data-notification before naming and scaling: parallel tuples, one entry per value.

    ``scalers[i]``/``units[i]`` are what the frame sent (Aidon registers), else None.
    """

    slots: tuple[Slot, ...]
    values: tuple[Any, ...]
    scalers: tuple[int | None, ...]
    units: tuple[int | None, ...]
    date_time: CosemDateTime | None
    manufacturer: str | None
    layout: str
    list_level: int | None = None
    invoke_id: int = 0
    left_out: tuple[str, ...] = ()
    """Why values the frame carried were left out (nothing says their scale): one line each, for
    the pipeline to count and tell once."""

    def made_by(self, manufacturer: str | None) -> Message:
        """This message with another manufacturer: what ``dataclasses.replace`` makes, at a tenth
        of its 2 us (which walks the fields by name), for every lone Aidon list 1 the stream
        names (``ReadingDecoder._named``). A test holds the two equal, field for field."""
        return Message(
            self.slots,
            self.values,
            self.scalers,
            self.units,
            self.date_time,
            manufacturer,
            self.layout,
            self.list_level,
            self.invoke_id,
            self.left_out,
        )

    @classmethod
    def from_items(
        cls, items: tuple[Item, ...], date_time: CosemDateTime | None, manufacturer: str | None, layout: str
    ) -> Message:
        return cls(
            tuple(slot_for(it.obis) for it in items),
            tuple(it.value for it in items),
            tuple(it.scaler for it in items),
            tuple(it.unit for it in items),
            date_time,
            manufacturer,
            layout,
        )
