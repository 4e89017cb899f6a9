"""OBIS codes (IEC 62056-61) and what each one means in the output contract.

An OBIS code is six bytes on the wire (an A-XDR octet-string of 6) and is written ``A-B:C.D.E.F``.
``OBIS_INFO`` maps every code amsread names to its contract field, unit and decimal exponent of that
unit, one row per code, so a reviewer can check it against the vendor lists (NEK, AID-OBIS, KFM,
KAM-OBIS, SE-BR Bilaga 3, KAM-DK).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True, order=True)
class Obis:
    """An OBIS code; ``str()`` gives ``A-B:C.D.E.F``."""

    a: int
    b: int
    c: int
    d: int
    e: int
    f: int

    @classmethod
    def parse(cls, text: str) -> Obis:
        """``"1-0:1.7.0.255"`` (or ``"1.0.1.7.0.255"``) to an Obis."""
        parts = text.replace("-", ".").replace(":", ".").split(".")
        if len(parts) != 6:
            raise ValueError(f"not an OBIS code: {text!r}")
        return cls(*(int(p) for p in parts))

    @classmethod
    def from_bytes(cls, raw: bytes) -> Obis:
        if len(raw) != 6:
            raise ValueError(f"OBIS code must be 6 bytes, got {len(raw)}")
        return cls(*raw)

    def to_bytes(self) -> bytes:
        return bytes((self.a, self.b, self.c, self.d, self.e, self.f))

    @property
    def group_cdef(self) -> tuple[int, int, int, int]:
        """C.D.E.F: the quantity, whatever the medium (A) and channel (B) say."""
        return (self.c, self.d, self.e, self.f)

    def __str__(self) -> str:
        return f"{self.a}-{self.b}:{self.c}.{self.d}.{self.e}.{self.f}"


@dataclass(frozen=True, slots=True)
class ObisInfo:
    """What a code means: the contract name, its unit, and the power of ten of that unit.

    ``exponent`` turns the meter's base unit into the contract unit: energy arrives in Wh and is
    printed in kWh, so its exponent is -3.
    """

    name: str
    unit: str = ""
    exponent: int = 0
    quantity: str = ""
    """Kind of quantity for a vendor's implicit scaler where it is not the unit's (power factor)."""


# Quantities are keyed by C.D.E.F: Aidon/Kaifa send B = 0, Kamstrup B = 1 (AID-OBIS, KFM, KAM-OBIS).
_BY_CDEF: Final[dict[tuple[int, int, int, int], ObisInfo]] = {
    (0, 2, 129, 255): ObisInfo("list_version"),
    (96, 1, 0, 255): ObisInfo("meter_id"),
    (96, 1, 7, 255): ObisInfo("meter_type"),
    (1, 0, 0, 255): ObisInfo("meter_time"),
    (1, 7, 0, 255): ObisInfo("active_power_import", "W"),
    (2, 7, 0, 255): ObisInfo("active_power_export", "W"),
    (3, 7, 0, 255): ObisInfo("reactive_power_import", "var"),
    (4, 7, 0, 255): ObisInfo("reactive_power_export", "var"),
    (31, 7, 0, 255): ObisInfo("current_l1", "A"),
    (51, 7, 0, 255): ObisInfo("current_l2", "A"),
    (71, 7, 0, 255): ObisInfo("current_l3", "A"),
    (32, 7, 0, 255): ObisInfo("voltage_l1", "V"),
    (52, 7, 0, 255): ObisInfo("voltage_l2", "V"),
    (72, 7, 0, 255): ObisInfo("voltage_l3", "V"),
    (1, 8, 0, 255): ObisInfo("active_energy_import", "kWh", -3),
    (2, 8, 0, 255): ObisInfo("active_energy_export", "kWh", -3),
    (3, 8, 0, 255): ObisInfo("reactive_energy_import", "kvarh", -3),
    (4, 8, 0, 255): ObisInfo("reactive_energy_export", "kvarh", -3),
    # per-phase powers (Swedish lists, Kamstrup DK)
    (21, 7, 0, 255): ObisInfo("active_power_import_l1", "W"),
    (41, 7, 0, 255): ObisInfo("active_power_import_l2", "W"),
    (61, 7, 0, 255): ObisInfo("active_power_import_l3", "W"),
    (22, 7, 0, 255): ObisInfo("active_power_export_l1", "W"),
    (42, 7, 0, 255): ObisInfo("active_power_export_l2", "W"),
    (62, 7, 0, 255): ObisInfo("active_power_export_l3", "W"),
    (23, 7, 0, 255): ObisInfo("reactive_power_import_l1", "var"),
    (43, 7, 0, 255): ObisInfo("reactive_power_import_l2", "var"),
    (63, 7, 0, 255): ObisInfo("reactive_power_import_l3", "var"),
    (24, 7, 0, 255): ObisInfo("reactive_power_export_l1", "var"),
    (44, 7, 0, 255): ObisInfo("reactive_power_export_l2", "var"),
    (64, 7, 0, 255): ObisInfo("reactive_power_export_l3", "var"),
    # power factor and frequency (Kamstrup DK "push 1", Landis+Gyr, Iskra)
    (13, 7, 0, 255): ObisInfo("power_factor", quantity="power_factor"),
    (33, 7, 0, 255): ObisInfo("power_factor_l1", quantity="power_factor"),
    (53, 7, 0, 255): ObisInfo("power_factor_l2", quantity="power_factor"),
    (73, 7, 0, 255): ObisInfo("power_factor_l3", quantity="power_factor"),
    (14, 7, 0, 255): ObisInfo("frequency", "Hz"),
    # per-phase and tariff energies
    (21, 8, 0, 255): ObisInfo("active_energy_import_l1", "kWh", -3),
    (41, 8, 0, 255): ObisInfo("active_energy_import_l2", "kWh", -3),
    (61, 8, 0, 255): ObisInfo("active_energy_import_l3", "kWh", -3),
    (22, 8, 0, 255): ObisInfo("active_energy_export_l1", "kWh", -3),
    (42, 8, 0, 255): ObisInfo("active_energy_export_l2", "kWh", -3),
    (62, 8, 0, 255): ObisInfo("active_energy_export_l3", "kWh", -3),
    (1, 8, 1, 255): ObisInfo("active_energy_import_t1", "kWh", -3),
    (1, 8, 2, 255): ObisInfo("active_energy_import_t2", "kWh", -3),
    (2, 8, 1, 255): ObisInfo("active_energy_export_t1", "kWh", -3),
    (2, 8, 2, 255): ObisInfo("active_energy_export_t2", "kWh", -3),
    (16, 7, 0, 255): ObisInfo("active_power", "W"),
}


#: Kamstrup's own codes for the meter id and type (KAM-OBIS p.2). They are matched in full: in
#: IDIS lists 0-0:96.1.1.255 is a second device id (Iskra AM550), not the meter type.
_EXACT: Final[dict[bytes, ObisInfo]] = {
    bytes((1, 1, 0, 0, 5, 255)): ObisInfo("meter_id"),
    bytes((1, 1, 96, 1, 1, 255)): ObisInfo("meter_type"),
}


def info_for(obis: Obis) -> ObisInfo | None:
    """The contract meaning of ``obis``, or None for a code amsread does not name."""
    return info_for_raw(obis.to_bytes())


#: Kamstrup sends its list version bare, without its code; the code it stands for (KAM-OBIS p.2).
LIST_VERSION_OBIS: Final = bytes((1, 1, 0, 2, 129, 255))

#: Text quantities: printed as strings, never scaled.
TEXT_FIELDS: Final = frozenset({"list_version", "meter_id", "meter_type"})

#: BB13 Table 4: the unit enumeration used in scaler-unit structures.
UNIT_NAMES: Final[dict[int, str]] = {
    1: "a",
    2: "mo",
    3: "wk",
    4: "d",
    5: "h",
    6: "min",
    7: "s",
    8: "°",
    9: "°C",
    27: "W",
    28: "VA",
    29: "var",
    30: "Wh",
    31: "VAh",
    32: "varh",
    33: "A",
    34: "C",
    35: "V",
    44: "Hz",
    45: "1/(Wh)",
    46: "1/(varh)",
    47: "1/(VAh)",
    56: "%",
    255: "",
}


_BY_CDEF_RAW: Final[dict[bytes, ObisInfo]] = {bytes(k): v for k, v in _BY_CDEF.items()}


def info_for_raw(raw: bytes) -> ObisInfo | None:
    """The meaning of the six wire bytes of a code: exact Kamstrup codes first, then C.D.E.F for
    the abstract (A = 0) and electricity (A = 1) groups, whatever channel B says."""
    exact = _EXACT.get(raw)
    if exact is not None:
        return exact
    if raw[0] > 1 or (raw[0] == 0 and raw[1] != 0 and raw[2] == 96):
        return None
    return _BY_CDEF_RAW.get(raw[2:])
