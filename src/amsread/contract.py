"""The output contract (docs/output-contract.md): a ``Reading``, its columns and name groups.

Every output format, the live view and every future destination speak these names, units and
order. A reading keeps the decoder's ``Message`` it was made from, so listings can show each
value's OBIS code and unit as sent.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from amsread.decode.message import OTHER, Message
from amsread.obis import UNIT_NAMES

#: The raw frames a reading came in, as destinations receive them: every frame of the message,
#: flag to flag, in order (one for most lists; several for a segmented or block-transferred one).
Frames = tuple[bytes, ...]

#: The contract's columns, in CSV order.
COLUMNS: Final = (
    "received_at",
    "meter_time",
    "manufacturer",
    "list",
    "list_version",
    "meter_id",
    "meter_type",
    "active_power_import",
    "active_power_export",
    "reactive_power_import",
    "reactive_power_export",
    "current_l1",
    "current_l2",
    "current_l3",
    "voltage_l1",
    "voltage_l2",
    "voltage_l3",
    "active_energy_import",
    "active_energy_export",
    "reactive_energy_import",
    "reactive_energy_export",
)

#: Name groups, for views that show quantities together.
PHASES: Final = ("l1", "l2", "l3")
POWER: Final = (
    "active_power_import",
    "active_power_export",
    "reactive_power_import",
    "reactive_power_export",
)
ENERGY: Final = (
    "active_energy_import",
    "active_energy_export",
    "reactive_energy_import",
    "reactive_energy_export",
)
IDENTITY: Final = ("list_version", "meter_id", "meter_type")
PHASE_KEYS: Final = tuple(
    f"{q}_{p}"
    for p in PHASES
    for q in (
        "current",
        "voltage",
        "active_power_import",
        "active_power_export",
        "reactive_power_import",
        "reactive_power_export",
    )
)


@dataclass(frozen=True, slots=True)
class Limit:
    """The values a quantity can take on any HAN-port meter (docs/output-contract.md, "Plausible
    values"); outside them the value is no measurement, and ``cause`` says what usually made it."""

    quantity: str
    """The value names it covers: the name itself or ``<quantity>_...`` (``voltage_l1``)."""
    low: Decimal
    high: Decimal
    unit: str
    cause: str

    def covers(self, name: str) -> bool:
        return name == self.quantity or name.startswith(self.quantity + "_")


#: Plausibility limits, as data. Phase voltage: low-voltage grids are 230 V (230/400 V TN, 230 V
#: IT), +10 % tolerance; even a line-to-line voltage stays below 500 V. Current: direct meters
#: are rated up to 100-120 A, and a CT meter on the largest distribution transformer a
#: low-voltage HAN meter sits behind (2.5 MVA at 400 V: 3.6 kA) stays below 5 kA. Power factor:
#: a cosine, -1 to 1 (BB13 §4.3.2 register 13.7.0).
LIMITS: Final[tuple[Limit, ...]] = (
    Limit(
        "voltage",
        Decimal(0),
        Decimal(500),
        "V",
        "a missing scaler (a value in 0.1 V read as volts) or a misread layout",
    ),
    Limit(
        "current",
        Decimal(-5000),
        Decimal(5000),
        "A",
        "a missing scaler (a value in mA or 0.01 A read as amperes), a wrong --ct-ratio or a misread layout",
    ),
    Limit(
        "power_factor",
        Decimal(-1),
        Decimal(1),
        "",
        "a missing scaler (a value in 0.001 read as a whole) or a misread layout",
    ),
)


@functools.lru_cache(maxsize=1024)
def limit_for(name: str) -> Limit | None:
    """The plausibility limit of a value name, if it has one."""
    for limit in LIMITS:
        if limit.covers(name):
            return limit
    return None


def implausible(name: str, value: Any) -> Limit | None:
    """The limit ``value`` breaks, or None when it is plausible (or has no limit)."""
    if not isinstance(value, (int, Decimal)) or isinstance(value, bool):
        return None
    limit = limit_for(name)
    if limit is None:
        return None
    return limit if not limit.low <= value <= limit.high else None


# Not frozen, yet never changed: one is made per frame, and a frozen dataclass's __init__
# (object.__setattr__ per field) cost 5 times as much, a tenth of a frame's decode (issue 15).
@dataclass(slots=True, unsafe_hash=True)
class Reading:
    """One reading, in the names, units and order of the output contract.

    ``values`` holds every quantity the frame carried, contract columns first, then extra
    quantities (per-phase powers, power factor, and OBIS codes amsread has no name for, keyed by
    the code itself). Absent quantities are absent, never zero.
    """

    received_at: dt.datetime | None
    meter_time: dt.datetime | None
    manufacturer: str | None
    list: int | None
    values: dict[str, Any] = field(default_factory=dict)
    layout: str = ""
    message: Message | None = None
    implausible: tuple[tuple[str, Any], ...] = ()
    """Values left out because no meter can mean them (``LIMITS``): name and value as decoded."""

    @property
    def units(self) -> dict[str, str]:
        """Unit of each value (for the listings; CSV and JSON use the contract's fixed units)."""
        out: dict[str, str] = {}
        if self.message is not None:
            for slot, unit in zip(self.message.slots, self.message.units, strict=True):
                if slot.unit:
                    out[slot.name] = slot.unit
                elif slot.kind == OTHER and unit is not None:
                    out[slot.name] = UNIT_NAMES.get(unit, str(unit))
        return out

    @property
    def obis(self) -> dict[str, str]:
        """OBIS code of each value, as ``A-B:C.D.E.F``."""
        if self.message is None:
            return {}
        return {slot.name: slot.code for slot in self.message.slots}

    def get(self, name: str) -> Any:
        """The value of a contract column or extra quantity, or None."""
        if name == "received_at":
            return self.received_at
        if name == "meter_time":
            return self.meter_time
        if name == "manufacturer":
            return self.manufacturer
        if name == "list":
            return self.list
        return self.values.get(name)

    def as_dict(self) -> dict[str, Any]:
        """Every present field, contract order first; the shape of a JSON line."""
        out: dict[str, Any] = {}
        for name in ("received_at", "meter_time", "manufacturer", "list"):
            v = self.get(name)
            if v is not None:
                out[name] = v
        values = self.values
        for k in COLUMNS[4:]:
            if k in values:
                out[k] = values[k]
        for k, v in values.items():
            if k not in out:
                out[k] = v
        return out
