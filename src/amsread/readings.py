"""Readings: the output contract (docs/output-contract.md), made from decoded messages.

A message becomes a ``Message`` (slots, raw values, scalers) by one of two roads: a flat, compiled
per-layout declaration from ``layouts`` (the fast road for every list we know), or the generic
A-XDR tree walked by its shape into ``Item``s (any other well-formed message). ``to_reading`` then
applies the scaler (from the frame where the meter sends one, else the vendor's implicit scaler from
``IMPLICIT_SCALERS``) exactly, with ``Decimal``, and names each value by ``obis.info_for``.

Nothing is carried from one message to the next: a list 1 reading has no meter id.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

from amsread.dlms import CosemDateTime, decode_apdu, strip_llc
from amsread.errors import (
    DecodeError,
    LayoutError,
    NonFiniteValueError,
    ScalerError,
    ValueRangeError,
)
from amsread.obis import TEXT_FIELDS, info_for_raw
from amsread.output import visible

if TYPE_CHECKING:
    from amsread.security import Keys

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

#: List-version identifiers and the manufacturer they name (han-protocol.md §3.2, §3.7).
LIST_VERSIONS: Final = {
    "AIDON_V0001": "aidon",
    "KFM_001": "kaifa",
    "Kamstrup_V0001": "kamstrup",
    "EMBRIQ_V1_1": "landisgyr",
}

#: Implicit scalers (power of ten of the base unit) for vendors that send none, keyed by
#: (manufacturer, country, quantity). Kaifa: KFM p.4 and the checked captures (mA, 0.1 V, Wh);
#: Kamstrup: KAM-NVE §2.7.1 "Scaler" column (I -2, U 0, P/Q 0, energy +1), Sweden energy in Wh;
#: power factor in hundredths (the Danish CT list: raw 4 with P/S = 0.041).
IMPLICIT_SCALERS: Final[dict[tuple[str, str], dict[str, int]]] = {
    ("kaifa", "*"): {"current": -3, "voltage": -1, "power": 0, "energy": 0},
    ("kamstrup", "*"): {"current": -2, "voltage": 0, "power": 0, "energy": 1, "power_factor": -2},
    ("kamstrup", "SE"): {"current": -2, "voltage": 0, "power": 0, "energy": 0, "power_factor": -2},
}

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


#: Scalers a meter can mean. DLMS allows any int8 (BB13 §4.3.2); real meters send -3 to +3 (mA
#: to 10 Wh steps). Beyond ±9 a scaler turns a 64-bit count into digits no meter measures.
SCALER_RANGE: Final = range(-9, 10)

#: Largest and smallest power of ten (``Decimal.adjusted()``) a non-zero reading may have, in the
#: contract's units: 10^30 W or 10^-30 A are no measurement, and would print as 30+ digits.
MAX_ADJUSTED: Final = 30

#: Every reading's arithmetic runs in this context, never the thread's default: 50 digits hold a
#: 20-digit count times a CT ratio's numerator (below 10^18, see ``cli.parse_ct_ratio``) exactly,
#: and anything beyond the exponent limits, or an invalid operation, raises (a ``ValueRangeError``
#: to the caller) instead of printing a monster.
VALUE_CONTEXT: Final = decimal.Context(
    prec=50,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-99,
    Emax=99,
    traps=[decimal.InvalidOperation, decimal.Overflow, decimal.DivisionByZero],
)

#: Decimal places a CT ratio that divides (1/3, 200/3) adds beyond the meter's own resolution.
CT_EXTRA_PLACES: Final = 3


@dataclass(frozen=True, slots=True)
class Item:
    """One value as the meter sent it: OBIS code (6 raw bytes), raw value, scaler and unit if sent."""

    obis: bytes
    value: Any
    scaler: int | None = None
    unit: int | None = None


NUMBER: Final = 0
TEXT: Final = 1
TIME: Final = 2
OTHER: Final = 3


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
    kind: int
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


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
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

    @property
    def units(self) -> dict[str, str]:
        """Unit of each value (for the listings; CSV and JSON use the contract's fixed units)."""
        from amsread.obis import UNIT_NAMES

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


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """What the frame cannot tell: the meter's time zone, a CT ratio, the country's scalers."""

    meter_tz: dt.tzinfo = field(default_factory=lambda: ZoneInfo("Europe/Oslo"))
    ct_ratio: Fraction | Decimal | None = None
    """Multiplies currents, powers and energies; a Fraction keeps 1/3 exact until the rounding."""
    country: str = "NO"
    manufacturer: str | None = None
    """Force the manufacturer where the frame cannot tell (an Aidon-style list 1 from L+G)."""
    keys: Keys | None = field(default=None, repr=False)
    """Encryption and authentication keys for ciphered pushes (never printed; see ``security``)."""


# --------------------------------------------------------------------------------------------
# generic road: items from the data tree's shape
# --------------------------------------------------------------------------------------------

#: Where Kamstrup's bare list-version string belongs (sent without its code, KAM-NVE §2.7.1).
LIST_VERSION_OBIS: Final = bytes((1, 1, 0, 2, 129, 255))


def _is_obis(v: Any) -> bool:
    return isinstance(v, bytes) and len(v) == 6


def items_from_tree(body: Any, *, container: int | None = None) -> tuple[tuple[Item, ...], str]:
    """Walk a generic data tree by its shape; return its items and the style found.

    Styles:

    * ``registers``: Aidon / L+G E350, an array of (OBIS, value[, scaler-unit]) structures.
    * ``register-structure``: the same structures in a structure (``container`` 0x02), as the Iskra
      AM550 sends them. Named apart because only Aidon's arrays imply Aidon.
    * ``pairs``: Kamstrup, Swedish Kaifa: an optional bare list version, then OBIS/value pairs with
      null-data padding.
    * ``mixed``: pairs and register structures side by side (Kaifa MA309 Poland: a bare clock pair,
      then registers with and without scaler-unit).
    * ``capture-objects``: the push object list, then one value per object (L+G E450 CH; see
      ``foreign.capture_object_items``).
    * ``positional``: Kaifa Norway, bare values known by their count; or a positional list of
      ``foreign.POSITIONAL_LISTS``, named after it (L+G E450 of Netz Burgenland).
    """
    from amsread import foreign

    if not isinstance(body, tuple) or not body:
        raise LayoutError("notification body is not a non-empty array or structure")
    if all(_is_register(e) for e in body):
        style = "register-structure" if container == STRUCTURE_TAG else "registers"
        return tuple(_register_item(e) for e in body), style
    captured = foreign.capture_object_items(body)
    if captured is not None:
        return captured, "capture-objects"
    if any(_is_obis(e) or _is_register(e) for e in body):
        items, mixed = _pair_items(body)
        return items, "mixed" if mixed else "pairs"
    from amsread.layouts import KAIFA_LIST_ID, kaifa_positions

    positions = kaifa_positions(len(body))
    if positions is None or (len(body) > 1 and body[0] != KAIFA_LIST_ID):
        found = foreign.positional_items(body)
        if found is not None:
            return found
        raise LayoutError(f"unknown layout: {len(body)} bare values without OBIS codes")
    return tuple(Item(obis, v) for obis, v in zip(positions, body, strict=True)), "positional"


#: A-XDR tag of a structure: the container Iskra's registers come in (Aidon's is an array).
STRUCTURE_TAG: Final = 0x02


def _is_register(e: Any) -> bool:
    return isinstance(e, tuple) and bool(e) and _is_obis(e[0])


def _register_item(e: tuple[Any, ...]) -> Item:
    if len(e) == 3 and isinstance(e[2], tuple) and len(e[2]) == 2:
        scaler, unit = e[2]
        if not isinstance(scaler, int) or not isinstance(unit, int):
            raise LayoutError("scaler-unit is not two integers")
        return Item(e[0], e[1], scaler, unit)
    if len(e) == 2:
        return Item(e[0], e[1])
    raise LayoutError(f"register structure of {len(e)} elements")


def _pair_items(body: tuple[Any, ...]) -> tuple[tuple[Item, ...], bool]:
    """Items of a pairs list, and whether register structures were mixed in."""
    items = []
    mixed = False
    i = 0
    if not _is_obis(body[0]) and isinstance(body[0], (str, bytes)):
        items.append(Item(LIST_VERSION_OBIS, body[0]))
        i = 1
    n = len(body)
    while i < n:
        key = body[i]
        if _is_register(key):
            items.append(_register_item(key))
            mixed = True
            i += 1
            continue
        if key is None and i + 1 < n and body[i + 1] is None:
            i += 2  # null-data pair: a phase this meter does not have
            continue
        if not _is_obis(key) or i + 1 >= n:
            raise LayoutError(f"element {i} is not an OBIS code of an OBIS/value pair")
        items.append(Item(key, body[i + 1]))
        i += 2
    return tuple(items), mixed


# --------------------------------------------------------------------------------------------
# items to a reading
# --------------------------------------------------------------------------------------------


def _text(v: Any) -> str:
    """Meter text as printed: NUL padding stripped (L+G), control characters made visible
    (``\\x1b``), so no meter can move a terminal's cursor or split a CSV row."""
    if isinstance(v, bytes):
        v = v.decode("latin-1")
    elif not isinstance(v, (str, int)):
        raise LayoutError(f"expected text, got {type(v).__name__}")
    return visible(str(v).rstrip("\x00").strip())


def _check_scaler(slot: Slot, scaler: int) -> None:
    if scaler not in SCALER_RANGE:
        raise ScalerError(
            f"{slot.name} ({slot.code}): scaler {scaler} is outside {SCALER_RANGE.start}..{SCALER_RANGE.stop - 1}"
        )


def _exact_float(slot: Slot, raw: float) -> Decimal:
    """A float32/64 value as the shortest decimal that reads back as it (``repr``), never its
    binary expansion; NaN and infinities are no measurement (``dlms`` refuses them first)."""
    if not math.isfinite(raw):
        raise NonFiniteValueError(f"{slot.name} ({slot.code}): {raw!r} is not a number")
    return Decimal(repr(raw))


#: Integers at least this large exceed ``MAX_ADJUSTED`` (checked without making a Decimal).
_INT_LIMIT: Final = 10 ** (MAX_ADJUSTED + 1)


def _scale(slot: Slot, raw: int | Decimal, exponent: int) -> int | Decimal:
    """``raw`` times 10^exponent, exactly, in ``VALUE_CONTEXT``; absurd magnitudes are refused
    before any arithmetic, so the context's limits are never what stops them."""
    if exponent == 0 and type(raw) is int:
        if -_INT_LIMIT < raw < _INT_LIMIT:
            return raw  # the common case, a count sent in the contract's unit: no Decimal at all
        return _bounded(slot, Decimal(raw))
    value = Decimal(raw)
    if value and not -MAX_ADJUSTED <= value.adjusted() + exponent <= MAX_ADJUSTED:
        raise ValueRangeError(f"{slot.name} ({slot.code}): {value:.3e} × 10^{exponent} is no reading")
    return VALUE_CONTEXT.scaleb(value, exponent)


def _bounded(slot: Slot, value: Decimal) -> Decimal:
    """``value`` itself, unless it is no reading: a non-zero magnitude beyond 10^±``MAX_ADJUSTED``."""
    if value and not -MAX_ADJUSTED <= value.adjusted() <= MAX_ADJUSTED:
        raise ValueRangeError(f"{slot.name} ({slot.code}): {value:.3e} is no reading")
    return value


def times_ratio(value: int | Decimal, ratio: Fraction) -> Decimal:
    """``value`` times a CT ratio. Exact where the ratio multiplies (40, 7.5); where it divides
    (1/3), rounded to ``CT_EXTRA_PLACES`` places beyond the value's own resolution, with the
    padding zeros dropped again (1743 × 1/3 is ``581``, 1742 × 1/3 is ``580.667``)."""
    product = VALUE_CONTEXT.multiply(Decimal(value), ratio.numerator)
    if ratio.denominator == 1:
        return product
    own = -min(int(Decimal(value).as_tuple().exponent), 0)  # the value's decimal places
    quotient = VALUE_CONTEXT.divide(product, ratio.denominator)
    for places in range(own, own + CT_EXTRA_PLACES):
        rounded = quotient.quantize(Decimal(1).scaleb(-places), context=VALUE_CONTEXT)
        if rounded == quotient:
            return rounded
    return quotient.quantize(Decimal(1).scaleb(-(own + CT_EXTRA_PLACES)), context=VALUE_CONTEXT)


def manufacturer_of(
    slots: tuple[Slot, ...], values: tuple[Any, ...], style: str, source: bytes | None
) -> str | None:
    """The manufacturer, from the list id where there is one, else from the layout's style."""
    for slot, value in zip(slots, values, strict=True):
        if slot.name == "list_version":
            m = LIST_VERSIONS.get(_text(value))
            if m is not None:
                return m
            break
    if style == "positional":
        return "kaifa"
    if style == "registers":
        return "aidon"
    if source == b"\x21":
        return "kamstrup"
    return None


def _list_level(values: dict[str, Any]) -> int | None:
    """Norwegian list 1/2/3, judged from the content (never from timing, han-protocol.md §3.1)."""
    if len(values) == 1 and "active_power_import" in values:
        return 1
    if "list_version" not in values or "meter_id" not in values:
        return None
    if "active_energy_import" in values:
        return 3
    return 2


def to_reading(
    message: Message,
    options: DecodeOptions,
    received_at: dt.datetime | None = None,
) -> Reading:
    """Name, scale and unit every value of ``message`` by the contract, exactly."""
    manufacturer = message.manufacturer
    if options.manufacturer and not any(s.name == "list_version" for s in message.slots):
        manufacturer = options.manufacturer  # the frame cannot tell (list 1 has no list id)
    implicit = IMPLICIT_SCALERS.get((manufacturer or "", options.country)) or IMPLICIT_SCALERS.get(
        (manufacturer or "", "*")
    )
    values: dict[str, Any] = {}
    clock: CosemDateTime | None = None
    ct = Fraction(options.ct_ratio) if options.ct_ratio is not None else None
    for slot, raw, scaler in zip(message.slots, message.values, message.scalers, strict=True):
        kind = slot.kind
        if kind == NUMBER:
            if raw is None:
                continue  # null-data: not sent
            if type(raw) is not int:
                if not isinstance(raw, float):
                    raise LayoutError(
                        f"{slot.name} ({slot.code}): expected a number, got {type(raw).__name__}"
                    )
                raw = _exact_float(slot, raw)
            if scaler is None:
                scaler = implicit.get(slot.quantity, 0) if implicit is not None else 0
            else:
                _check_scaler(slot, scaler)
            try:
                value: Any = _scale(slot, raw, scaler + slot.exponent)
                if ct is not None and slot.ct:
                    value = _bounded(slot, times_ratio(value, ct))
            except decimal.DecimalException as e:
                raise ValueRangeError(f"{slot.name} ({slot.code}): {raw} cannot be scaled ({e!r})") from e
            values[slot.name] = value
        elif kind == TEXT:
            values[slot.name] = _text(raw)
        elif kind == TIME:
            clock = raw if isinstance(raw, CosemDateTime) else _datetime_or_none(raw)
        else:
            values[slot.name] = _other_value(slot, raw, scaler)
    if not values and clock is None:
        raise LayoutError("the message carries no values")
    stamp = clock if clock is not None else message.date_time
    meter_time = _meter_time(stamp, manufacturer, options.meter_tz) if stamp is not None else None
    level = message.list_level if message.list_level is not None else _list_level(values)
    return Reading(received_at, meter_time, manufacturer, level, values, message.layout, message)


def _other_value(slot: Slot, raw: Any, scaler: int | None) -> Any:
    """A value of a code amsread has no name for: scaled if the frame says how, else as sent.

    Text is made visible (an unknown code is where a hostile frame would put terminal escapes);
    structures stay tuples, printed as their ``repr``, which escapes the text inside.
    """
    if isinstance(raw, CosemDateTime):
        return raw.raw.hex()
    if isinstance(raw, bytes):
        return raw.hex()
    if scaler is not None:
        _check_scaler(slot, scaler)
    if isinstance(raw, float):
        raw = _exact_float(slot, raw)
    if type(raw) is int or isinstance(raw, Decimal):
        return _scale(slot, raw, scaler or 0)
    if isinstance(raw, str):
        return visible(raw)
    return raw


def _datetime_or_none(raw: Any) -> CosemDateTime | None:
    if isinstance(raw, bytes) and len(raw) == 12:
        return CosemDateTime.from_bytes(raw)
    return None


def _meter_time(stamp: CosemDateTime, manufacturer: str | None, tz: dt.tzinfo) -> dt.datetime | None:
    # Aidon NO sends deviation 0 all year (han-protocol.md §5.4): it is not a UTC offset.
    trust = not (manufacturer == "aidon" and stamp.deviation == 0)
    return stamp.to_datetime(tz, use_deviation=trust)


# --------------------------------------------------------------------------------------------
# the decoder the pipeline calls
# --------------------------------------------------------------------------------------------


class ReadingDecoder:
    """Information field (or APDU) to ``Reading``: flat layouts first, the generic tree after.

    ``unwrap`` turns ciphered or block-transferred APDUs into a plain data-notification (by
    default a ``security.ApduUnwrapper`` holding ``options.keys``); it returns None while a
    block-transfer message waits for its remaining blocks. A ciphered APDU's system title names
    the manufacturer, ahead of any guess from the list's shape.
    """

    def __init__(self, options: DecodeOptions | None = None, *, use_layouts: bool = True) -> None:
        from amsread.layouts import LayoutIndex
        from amsread.security import ApduUnwrapper

        self.options = options or DecodeOptions()
        self.layouts = LayoutIndex() if use_layouts else None
        self.unwrap: Any = ApduUnwrapper(self.options.keys)

    def message(self, apdu: bytes, source: bytes | None = None) -> Message | None:
        """Decode one APDU to a ``Message``; None when it is a part of a longer one."""
        maker = None
        if self.unwrap is not None and apdu[:1] in _WRAPPED:
            apdu = self.unwrap(apdu)
            if apdu is None:
                return None
            maker = getattr(self.unwrap, "manufacturer", None)
        if self.layouts is not None:
            found = self.layouts.parse(apdu, source)
            if found is not None:
                return replace(found, manufacturer=maker) if maker else found
        decoded = decode_apdu(apdu)
        items, style = items_from_tree(decoded.body, container=decoded.body_tag)
        msg = Message.from_items(items, decoded.date_time, None, f"generic:{style}")
        if maker is None:
            from amsread.foreign import MANUFACTURER_OF_STYLE

            maker = manufacturer_of(msg.slots, msg.values, style, source) or MANUFACTURER_OF_STYLE.get(style)
        return replace(msg, manufacturer=maker, invoke_id=decoded.invoke_id)

    def decode(self, info: bytes, frame: Any = None) -> Reading | None:
        """A whole message (HDLC information field, or an M-Bus APDU) to a reading, or None.

        HDLC information fields start with the LLC header E6 E7 00, except the general-block-transfer
        frames after a message's first (han-protocol.md §4.6): a field that starts with the block
        transfer tag E0 is taken as it is, LLC or not. Anything else without the LLC is still an
        ``LlcError``. M-Bus frames (``frame.has_llc`` False) carry the APDU with no LLC at all.
        """
        has_llc = getattr(frame, "has_llc", True)
        apdu = strip_llc(info) if has_llc and info[:1] != _BLOCK_TRANSFER else info
        source = getattr(frame, "source", None)
        msg = self.message(apdu, source)
        if msg is None:
            return None
        stamp = getattr(frame, "received_at", None)
        received = dt.datetime.fromtimestamp(stamp).astimezone() if stamp is not None else None
        return to_reading(msg, self.options, received)


#: First bytes of APDUs the unwrap hook opens: general-glo-ciphering, general-block-transfer.
_WRAPPED: Final = frozenset({b"\xdb", b"\xe0"})
_BLOCK_TRANSFER: Final = b"\xe0"


def decode_hex(text: str, options: DecodeOptions | None = None) -> list[Reading]:
    """Convenience for tests and the REPL: every reading in a hex capture."""
    from amsread.pipeline import Pipeline
    from amsread.source import extract_hex

    data = extract_hex(text)
    if not data:
        raise DecodeError("no hex bytes found")
    return list(Pipeline().readings([data], decoder=ReadingDecoder(options)))
