"""A P1 (DSMR) telegram to a ``Reading`` of the output contract (docs/output-contract.md).

The telegram arrives whole and CRC-checked (``wire.p1``). Each data line is ``A-B:C.D.E`` and one
or more ``(value)`` groups, numbers with their unit (``(00.244*kW)``). The contract's names and
units apply: kW → W and kvar → var exactly (``Decimal.scaleb``), kWh and V and A as sent. Energy
import/export is ``1.8.0``/``2.8.0`` where the meter sends it (Sweden), else the sum of the tariff
registers ``1.8.1`` + ``1.8.2`` + … (the Netherlands, Belgium), the registers kept as extra
columns. ``meter_time`` is ``0-0:1.0.0`` in the meter's zone, its S/W letter saying which of an
autumn night's two 02:30s it is. Lines amsread has no name for stay, as sent, under their code.

Only channel B = 0 names contract quantities: ``0-1:96.1.0`` is a gas meter's id, not the
electricity meter's.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from amsread.contract import Reading
from amsread.decode.message import NUMBER, OTHER, TEXT, TIME, Message, Slot
from amsread.errors import LayoutError
from amsread.meters.p1 import maker_of_flag
from amsread.obis import info_for_raw
from amsread.text import visible

#: ``1-0:1.7.0`` (or ``1-0:1.7.0.255``): a line's code.
_CODE: Final = re.compile(r"(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.\d{1,3})?")
#: ``1-0:1.7.0`` (or ``1-0:1.7.0.255``) and its value groups.
_LINE: Final = re.compile(
    r"(\d{1,3})-(\d{1,3}):(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\.\d{1,3})?((?:\([^()]*\))+)$"
)
_GROUP: Final = re.compile(r"\(([^()]*)\)")
_NUMBER: Final = re.compile(r"([-+]?\d+(?:\.\d+)?)(?:\*(\S+))?")
_ONE: Final = Decimal(1)
_STAMP: Final = re.compile(r"(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})([SW])?")

#: A sent unit (lower-cased) to the contract's unit and the power of ten between them.
_UNITS: Final[dict[str, tuple[str, int]]] = {
    "kw": ("W", 3),
    "w": ("W", 0),
    "kvar": ("var", 3),
    "var": ("var", 0),
    "kwh": ("kWh", 0),
    "wh": ("kWh", -3),
    "kvarh": ("kvarh", 0),
    "varh": ("kvarh", -3),
    "v": ("V", 0),
    "a": ("A", 0),
    "hz": ("Hz", 0),
}

#: Belgian (e-MUCS) capacity-tariff lines, by C.D.E: the current 15-minute average demand (1.4.0),
#: the month's peak (1.6.0: its time first, kept as ``…_at``) and the peak history (0-0:98.1.0),
#: in W like every power.
AVERAGE_DEMAND: Final = "active_power_import_average"
MONTH_PEAK: Final = "active_power_import_max_month"
MONTH_PEAK_AT: Final = MONTH_PEAK + "_at"
PEAK_HISTORY: Final = "active_power_import_max_history"
#: The names a P1 reading can carry beyond obis.py's tables (``csv --columns`` takes them).
NAMES: Final = (AVERAGE_DEMAND, MONTH_PEAK, MONTH_PEAK_AT, PEAK_HISTORY)

#: Codes whose value is the electricity meter's own id, list version or clock (A-B:C.D.E).
_METER_ID: Final = frozenset({"0-0:96.1.1", "0-0:96.1.0"})
_VERSION: Final = frozenset({"1-3:0.2.8", "0-0:96.1.4"})
_CLOCK: Final = "0-0:1.0.0"


def _obis(a: int, b: int, c: int, d: int, e: int) -> bytes:
    return bytes((a, b, c, d, e, 255))


def _slot(obis: bytes, code: str, name: str, unit: str, kind: Any) -> Slot:
    return Slot(obis, code, name, unit, 0, kind, "", False)


def meter_time(text: str, tz: dt.tzinfo) -> dt.datetime | None:
    """``YYMMDDhhmmssX`` in the meter's zone: X is S (summer) or W (winter), which of the two
    02:30s of an autumn night it is. None for a clock that is no date (``000101000000W``)."""
    m = _STAMP.fullmatch(text)
    if m is None:
        return None
    yy, mo, dd, hh, mi, ss = (int(g) for g in m.groups()[:6])
    try:
        return dt.datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=tz, fold=1 if m.group(7) == "W" else 0)
    except ValueError:
        return None


def hex_text(text: str) -> str:
    """A meter id as sent hex-encoded (``4B384547…``) as its text, else the text as sent."""
    if text and len(text) % 2 == 0 and re.fullmatch(r"[0-9A-Fa-f]+", text):
        decoded = bytes.fromhex(text).decode("latin-1")
        if decoded.isprintable():
            return visible(decoded.strip())
    return visible(text)


def _number(text: str) -> tuple[Decimal, str] | None:
    """``00.244*kW`` to (244, "W"): the value in the contract's unit, exactly, and that unit."""
    m = _NUMBER.fullmatch(text)
    if m is None:
        return None
    unit, exponent = _UNITS.get((m.group(2) or "").lower(), ("", 0))
    if m.group(2) and not unit:
        return None  # a unit the contract has no column for (m3, s): kept as sent
    try:
        value = Decimal(m.group(1))
    except InvalidOperation:
        return None
    if exponent:
        value = value.scaleb(exponent)
        if value.as_tuple().exponent > 0:  # type: ignore[operator]
            value = value.quantize(_ONE)  # 0000.85 kW is 850 W, never 8.5E+2
    return value, unit


@dataclass(frozen=True, slots=True)
class _Code:
    """What a line's code (``1-0:1.7.0``) means, worked out once per code (``_code_of``)."""

    text: str
    """``A-B:C.D.E`` as amsread writes it (a ``.255`` the meter appends dropped)."""
    obis: bytes
    cde: tuple[int, int, int]
    electricity: bool
    """Channel 1-0: the electricity meter's own quantities, which the contract names."""
    named: Slot | None
    """Its contract slot, where ``obis`` names it."""
    tariff: str | None
    """The total a tariff register (``1.8.1``, ``2.8.2``, …) adds to, if it is one."""
    other: Slot

    def slot(self, name: str, unit: str, kind: Any) -> Slot:
        return _slot(self.obis, self.text, name, unit, kind)


#: Codes remembered (a stream repeats the same few dozen; noise must not grow memory).
CODE_CACHE: Final = 512


@functools.lru_cache(maxsize=CODE_CACHE)
def _code_of(head: str) -> _Code | None:
    """The meaning of the text before a line's first ``(``, or None when it is no code."""
    m = _CODE.fullmatch(head)
    if m is None:
        return None
    a, b, c, d, e = (int(g) for g in m.groups())
    text = f"{a}-{b}:{c}.{d}.{e}"
    obis = _obis(a, b, c, d, e) if max(a, b, c, d, e) < 256 else b""
    electricity = a == 1 and b == 0 and bool(obis)
    info = info_for_raw(obis) if electricity else None
    named = _slot(obis, text, info.name, info.unit, NUMBER) if info is not None and info.unit else None
    tariff = None
    if electricity and d == 8 and c in (1, 2) and e > 0:
        tariff = "active_energy_import" if c == 1 else "active_energy_export"
    return _Code(text, obis, (c, d, e), electricity, named, tariff, _slot(obis, text, text, "", OTHER))


class _Builder:
    """Collects one telegram's values, names first, then the code-keyed extras."""

    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz
        self.values: dict[str, Any] = {}
        self.slots: list[Slot] = []
        self.raw: list[Any] = []
        self.clock: dt.datetime | None = None
        self.tariffs: dict[str, list[Decimal]] = {"active_energy_import": [], "active_energy_export": []}

    def put(self, slot: Slot, value: Any) -> None:
        self.values[slot.name] = value
        self.slots.append(slot)
        self.raw.append(value)

    def line(self, line: str) -> None:
        i = line.find("(")
        if i <= 0 or line[-1] != ")":
            return  # not a data line (a stray blank): nothing to name
        code = _code_of(line[:i])
        if code is None:
            return
        groups = line[i + 1 : -1].split(")(")  # a value never holds a parenthesis
        text = code.text
        if text == _CLOCK:
            self.clock = meter_time(groups[0], self.tz)
            if self.clock is not None:
                self.slots.append(code.slot("meter_time", "", TIME))
                self.raw.append(groups[0])
                return
        elif text in _METER_ID:
            self.put(code.slot("meter_id", "", TEXT), hex_text(groups[0]))
            return
        elif text in _VERSION and "list_version" not in self.values:
            self.put(code.slot("list_version", "", TEXT), visible(groups[0]))
            return
        elif code.electricity and self._electricity(code, groups):
            return
        self.put(code.other, visible(" ".join(groups)))

    def _electricity(self, code: _Code, groups: list[str]) -> bool:
        """Name a ``1-0:`` line by the contract; False when it has no name here."""
        cde = code.cde
        if cde == (1, 6, 0) and len(groups) == 2:
            peak = _number(groups[1])
            if peak is None or peak[1] != "W":
                return False
            self.put(code.slot(MONTH_PEAK, "W", NUMBER), peak[0])
            at = meter_time(groups[0], self.tz)
            if at is not None:
                self.values[MONTH_PEAK_AT] = at
            return True
        if len(groups) != 1:
            return False
        number = _number(groups[0])
        if number is None:
            return False
        value, unit = number
        if cde == (1, 4, 0) and unit == "W":
            self.put(code.slot(AVERAGE_DEMAND, "W", NUMBER), value)
            return True
        if code.named is not None and code.named.unit == unit:
            self.put(code.named, value)
        elif unit == "kWh" and code.tariff is not None:
            self.put(code.slot(code.text, unit, NUMBER), value)
        else:
            return False
        if code.tariff is not None:
            self.tariffs[code.tariff].append(value)
        return True

    def peak_history(self, line: str) -> None:
        """``0-0:98.1.0(n)(1-0:1.6.0)(1-0:1.6.0)(month)(time)(peak)…``: one ``month: W at time``
        entry per month, as text (a CSV cell holds one value)."""
        groups = _GROUP.findall(line)
        entries = []
        rest = groups[3:]
        for i in range(0, len(rest) - 2, 3):
            month = meter_time(rest[i], self.tz)
            at = meter_time(rest[i + 1], self.tz)
            peak = _number(rest[i + 2])
            if month is None or at is None or peak is None:
                continue
            entries.append(f"{month.date().isoformat()}: {peak[0]} {peak[1]} at {at.isoformat()}")
        self.values[PEAK_HISTORY] = "; ".join(entries)

    def totals(self) -> None:
        """Energy from the tariff registers where the meter sends no total."""
        for name, registers in self.tariffs.items():
            if name not in self.values and registers:
                self.values[name] = sum(registers, Decimal(0))


def p1_reading(telegram: bytes, tz: dt.tzinfo, received_at: dt.datetime | None = None) -> Reading:
    """One whole telegram (``/`` … ``!CRC``) to a reading; a ``LayoutError`` if it names nothing."""
    try:
        text = telegram.decode("ascii")
    except UnicodeDecodeError as e:
        raise LayoutError(f"P1 telegram is not ASCII: {e}") from e
    lines = text.split("\r\n")
    ident = lines[0][1:]
    builder = _Builder(tz)
    previous = ""
    for line in lines[1:]:
        if line.startswith("("):  # DSMR 2.2/3: a gas reading continues on the next line
            previous += line
            continue
        if previous:
            builder.line(previous)
        previous = "" if line.startswith("!") else line
        if line.startswith("0-0:98.1.0("):
            builder.peak_history(line)
            previous = ""
    if previous:
        builder.line(previous)
    builder.totals()
    if not builder.values and builder.clock is None:
        raise LayoutError("the P1 telegram carries no values")
    identification = ident[4:].strip()
    if identification.startswith("\\") and len(identification) > 2:
        identification = identification[2:]  # IEC 62056-21 "\W": the enhanced-id sign, not the model
    if identification:
        builder.values.setdefault("meter_type", visible(identification))
    message = Message(
        tuple(builder.slots),
        tuple(builder.raw),
        (None,) * len(builder.slots),
        (None,) * len(builder.slots),
        None,
        maker_of_flag(ident[:3]),
        "p1",
    )
    return Reading(
        received_at, builder.clock, message.manufacturer or None, None, builder.values, "p1", message
    )


#: What the DSMR lines amsread keeps under their code mean (DSMR 5.0.2 P1 §6.12, e-MUCS P1 H),
#: for ``hex --annotate``; by C.D.E, whatever channel.
_MEANINGS: Final[dict[str, str]] = {
    "0.2.8": "P1 version",
    "96.1.4": "P1 version (Belgian e-MUCS)",
    "96.14.0": "tariff in force",
    "96.7.21": "power failures, any phase",
    "96.7.9": "long power failures, any phase",
    "99.97.0": "long power failure log",
    "32.32.0": "voltage sags L1",
    "52.32.0": "voltage sags L2",
    "72.32.0": "voltage sags L3",
    "32.36.0": "voltage swells L1",
    "52.36.0": "voltage swells L2",
    "72.36.0": "voltage swells L3",
    "96.13.0": "text message",
    "96.13.1": "text message code",
    "96.3.10": "breaker state",
    "17.0.0": "power threshold",
    "31.4.0": "current limit",
    "24.1.0": "M-Bus device type",
    "96.1.0": "M-Bus device id",
    "24.2.1": "M-Bus meter reading (gas, water) and its time",
    "24.2.3": "M-Bus meter reading (gas, water) and its time",
    "24.3.0": "M-Bus meter reading (DSMR 2.2/3 gas)",
    "24.4.0": "M-Bus valve state",
}


def line_meaning(line: str, tz: dt.tzinfo) -> str:
    """What one telegram line means, in the contract's words: ``active_power_import 870 W``,
    ``meter_time 2024-02-17T17:40:50+01:00 (W: winter time)``, or what DSMR calls it."""
    if line.startswith("/"):
        flag = line[1:4]
        return f"identification: maker {flag} ({maker_of_flag(flag)}), baud-rate character {line[4:5]!r}"
    if line.startswith("!"):
        return f"end, CRC {line[1:]}" if len(line) > 1 else "end (no CRC: DSMR 2.2/3)"
    if line.startswith("("):
        return "continuation of the line before"
    builder = _Builder(tz)
    if line.startswith("0-0:98.1.0("):
        builder.peak_history(line)
    else:
        builder.line(line)
    if builder.clock is not None:
        letter = line[-2:-1]
        season = {"S": " (S: summer time)", "W": " (W: winter time)"}.get(letter, "")
        return f"meter_time {builder.clock.isoformat()}{season}"
    m = _LINE.fullmatch(line)
    named = [(k, v) for k, v in builder.values.items() if not m or k != _code(m)]
    if named:
        units = {slot.name: slot.unit for slot in builder.slots}
        return ", ".join(f"{k} {_shown(v)}{' ' + units[k] if units.get(k) else ''}" for k, v in named)
    if m is None:
        return "not a data line"
    cde = f"{m.group(3)}.{m.group(4)}.{m.group(5)}"
    return f"{_MEANINGS.get(cde, 'no name in amsread')}: kept as {_code(m)}"


def _code(m: re.Match[str]) -> str:
    return f"{m.group(1)}-{m.group(2)}:{m.group(3)}.{m.group(4)}.{m.group(5)}"


def _shown(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)
