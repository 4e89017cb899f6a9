"""The decoder: an envelope to a ``Reading`` of the output contract (docs/output-contract.md).

An APDU becomes a ``Message`` (slots, raw values, scalers) by one of two roads: a flat, compiled
per-layout declaration from ``decode.flat`` (the fast road for every list we know), or the generic
A-XDR tree walked by its shape into ``Item``s (``decode.generic``: any other well-formed message). ``to_reading`` then
applies the scaler (from the frame where the meter sends one, else the vendor's implicit scaler from
``IMPLICIT_SCALERS``) exactly, with ``Decimal``, and names each value by ``obis.info_for``.

Little is carried from one message to the next (a list 1 reading has no meter id): only the
manufacturer a list id named, per HDLC source address, for the lone list 1 whose bytes Aidon and
the Landis+Gyr E350 share.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from amsread.contract import Limit, Reading, limit_for
from amsread.cosem.apdu import decode_apdu
from amsread.cosem.axdr import CosemDateTime
from amsread.cosem.ciphering import ApduUnwrapper, Keys
from amsread.decode.flat import LayoutIndex
from amsread.decode.generic import items_from_tree
from amsread.decode.message import NUMBER, TEXT, TIME, Message, Slot
from amsread.decode.p1 import p1_reading
from amsread.errors import LayoutError, NonFiniteValueError, ScalerError, ValueRangeError
from amsread.meters import (
    CAPTURE_OBJECT_SCALERS,
    DST_STATUS_MAKERS,
    HDLC_SOURCE_MAKERS,
    IMPLICIT_SCALERS,
    LAYOUTS,
    LIST_VERSIONS,
    MAKER_OF_LIST,
    MAKER_OF_STYLE,
    POSITIONAL_LISTS,
    SHARED_LIST1_LAYOUTS,
    TRIPLE_LISTS,
    UNSCALED_CAPTURE_LISTS,
    maker_of_system_title,
)
from amsread.text import visible
from amsread.wire.framer import Envelope, Framing
from amsread.wire.hdlc import LLC, strip_llc

#: Scalers a meter can mean. DLMS allows any int8 (BB13 §4.3.2); real meters send -3 to +3 (mA
#: to 10 Wh steps). Beyond ±9 a scaler turns a 64-bit count into digits no meter measures.
SCALER_RANGE: Final = range(-9, 10)

#: Largest and smallest power of ten (``Decimal.adjusted()``) a non-zero reading may have, in the
#: contract's units: 10^30 W or 10^-30 A are no measurement, and would print as 30+ digits.
MAX_ADJUSTED: Final = 30

#: Every reading's arithmetic runs in this context, never the thread's default: 50 digits hold a
#: 20-digit count times a CT ratio's numerator (below 10^18, see ``cli.options.parse_ct_ratio``) exactly,
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
# items to a reading
# --------------------------------------------------------------------------------------------


#: How many distinct meter texts ``_text`` remembers: a meter repeats its id, type and list id
#: in every list 2 and 3; hostile frames with ever new text must not grow memory.
TEXT_CACHE: Final = 256

_texts: dict[bytes, str] = {}


def _text(v: Any) -> str:
    """Meter text as printed: NUL padding stripped (L+G), control characters made visible
    (``\\x1b``), so no meter can move a terminal's cursor or split a CSV row.

    Text sent as bytes is worked out once per distinct value (``TEXT_CACHE``)."""
    if type(v) is bytes:
        text = _texts.get(v)
        if text is None:
            text = visible(v.decode("latin-1").rstrip("\x00").strip())
            if len(_texts) >= TEXT_CACHE:
                _texts.clear()
            _texts[v] = text
        return text
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
    binary expansion; NaN and infinities are no measurement (``cosem.axdr`` refuses them first)."""
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
    return value.scaleb(exponent, VALUE_CONTEXT)  # (VALUE_CONTEXT.scaleb(...) costs 2.5 times as much)


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
    maker = MAKER_OF_STYLE.get(style)  # Kaifa's bare values, Aidon's register arrays
    if maker is None and source is not None:
        maker = HDLC_SOURCE_MAKERS.get(source)  # Kamstrup's address 0x21
    return maker


def _list_level(values: dict[str, Any]) -> int | None:
    """Norwegian list 1/2/3, judged from the content (never from timing: NEK, NVE)."""
    if len(values) == 1 and "active_power_import" in values:
        return 1
    if "list_version" not in values or "meter_id" not in values:
        return None
    if "active_energy_import" in values:
        return 3
    return 2


#: How a plan handles each position of a message (``Plan.steps``).
_SKIP, _NUMBER, _TEXT, _TIME = range(4)


@dataclass(frozen=True, slots=True)
class Plan:
    """``to_reading``'s decisions for one flat layout, scaler tuple and manufacturer, made once.

    A stream repeats two or three lists for ever, each with the same scalers: what each position
    is called, its exponent, its plausibility limit and its magnitude bound are the same every
    time. ``to_reading`` with a plan only does the arithmetic; without one it decides per value.
    Numbers other than ints (floats, a layout-breaking type) make ``apply`` give up (None), and
    the caller takes the road without a plan, so every rule has one home.
    """

    steps: tuple[tuple[int, int, str, int, int, Any, Any], ...]
    """(position, what, name, exponent, largest magnitude, low, high) per value, in message order."""

    @classmethod
    def of(cls, message: Message, options: DecodeOptions, manufacturer: str | None) -> Plan | None:
        """The plan of ``message``'s shape, or None where a value needs the general road (a CT
        ratio, a code amsread has no name for, a scaler out of range)."""
        if options.ct_ratio is not None:
            return None
        implicit = _implicit(manufacturer, options)
        steps: list[tuple[int, int, str, int, int, Any, Any]] = []
        for k, (slot, scaler) in enumerate(zip(message.slots, message.scalers, strict=True)):
            if slot.kind == TEXT:
                steps.append((k, _TEXT, slot.name, 0, 0, None, None))
            elif slot.kind == TIME:
                steps.append((k, _TIME, slot.name, 0, 0, None, None))
            elif slot.kind != NUMBER or (scaler is not None and scaler not in SCALER_RANGE):
                return None
            else:
                if scaler is None:
                    scaler = implicit.get(slot.quantity, 0) if implicit is not None else 0
                exponent = scaler + slot.exponent
                limit = _limit(slot.name)
                low, high = (limit.low, limit.high) if limit is not None else (None, None)
                # an int whose magnitude reaches this has a power of ten beyond MAX_ADJUSTED once scaled
                bound = 10 ** (MAX_ADJUSTED + 1 - exponent) if exponent > 0 else _INT_LIMIT
                steps.append((k, _NUMBER, slot.name, exponent, bound, low, high))
        return cls(tuple(steps))

    def apply(
        self, values: tuple[Any, ...]
    ) -> tuple[dict[str, Any], CosemDateTime | None, list[tuple[str, Any]]] | None:
        """The named, scaled values, the clock and what was dropped; None to take the general road."""
        out: dict[str, Any] = {}
        dropped: list[tuple[str, Any]] = []
        clock = None
        for k, what, name, exponent, bound, low, high in self.steps:
            raw = values[k]
            if what == _NUMBER:
                if raw is None:
                    continue
                if type(raw) is not int or not -bound < raw < bound:
                    return None
                value = raw if exponent == 0 else Decimal(raw).scaleb(exponent, VALUE_CONTEXT)
                if low is not None and not low <= value <= high:
                    dropped.append((name, value))
                    continue
                out[name] = value
            elif what == _TEXT:
                out[name] = _text(raw)
            else:
                clock = raw if isinstance(raw, CosemDateTime) else _datetime_or_none(raw)
        return out, clock, dropped


def _implicit(manufacturer: str | None, options: DecodeOptions) -> dict[str, int] | None:
    """The vendor's implicit scalers (per quantity) for this country, if it has any."""
    return IMPLICIT_SCALERS.get((manufacturer or "", options.country)) or IMPLICIT_SCALERS.get(
        (manufacturer or "", "*")
    )


def _limit(name: str) -> Limit | None:
    """The plausibility limit of value ``name``, looked up once per name."""
    return _LIMITS[name] if name in _LIMITS else _LIMITS.setdefault(name, limit_for(name))


def to_reading(
    message: Message,
    options: DecodeOptions,
    received_at: dt.datetime | None = None,
    *,
    previous: tuple[dt.datetime, Any] | None = None,
    plan: Plan | None = None,
) -> Reading:
    """Name, scale and unit every value of ``message`` by the contract, exactly.

    ``previous`` is this meter's last clock and A+ counter, which place a local time of the
    autumn hour that comes twice (``_meter_time``). ``plan`` (``Plan.of`` the same message
    shape, manufacturer and options) spares the per-value decisions."""
    manufacturer = _maker(message, options)
    done = plan.apply(message.values) if plan is not None else None
    if done is None:
        done = _named_values(message, options, manufacturer)
    values, clock, dropped = done
    if not values and clock is None and not dropped:
        raise LayoutError("the message carries no values")
    stamp = clock if clock is not None else message.date_time
    meter_time = (
        _meter_time(stamp, manufacturer, options.meter_tz, previous, values.get(COUNTER))
        if stamp is not None
        else None
    )
    level = message.list_level if message.list_level is not None else _list_level(values)
    return Reading(
        received_at, meter_time, manufacturer, level, values, message.layout, message, tuple(dropped)
    )


def _maker(message: Message, options: DecodeOptions) -> str | None:
    """The message's manufacturer, or ``--manufacturer``'s where the frame cannot tell (a list
    without a list id, such as list 1)."""
    if options.manufacturer and not any(s.name == "list_version" for s in message.slots):
        return options.manufacturer
    return message.manufacturer


def _named_values(
    message: Message, options: DecodeOptions, manufacturer: str | None
) -> tuple[dict[str, Any], CosemDateTime | None, list[tuple[str, Any]]]:
    """Every value of ``message`` named and scaled, deciding per value (the road without a plan)."""
    implicit = _implicit(manufacturer, options)
    values: dict[str, Any] = {}
    dropped: list[tuple[str, Any]] = []
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
            limit = _limit(slot.name)
            if limit is not None and not limit.low <= value <= limit.high:
                dropped.append((slot.name, value))  # never printed silently: the pipeline tells
                continue
            values[slot.name] = value
        elif kind == TEXT:
            values[slot.name] = _text(raw)
        elif kind == TIME:
            clock = raw if isinstance(raw, CosemDateTime) else _datetime_or_none(raw)
        else:
            values[slot.name] = _other_value(slot, raw, scaler)
    return values, clock, dropped


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


def _after_the_first_pass(when: dt.datetime, counter: Any, last: dt.datetime, last_counter: Any) -> bool:
    """Whether ``when`` (read in the first pass) cannot follow the meter's last clock: earlier than
    it, or the same with the counter moved on."""
    at, before = when.astimezone(dt.UTC), last.astimezone(dt.UTC)
    return at < before or (at == before and counter is not None and counter != last_counter)


#: The latest local hour a time-zone change repeats (Europe: 02, or 01 in London and Lisbon):
#: later times need no look at the zone's folds, which costs a frame microseconds.
LAST_REPEATED_HOUR: Final = 3

#: Each value name's plausibility limit (``contract.LIMITS``), looked up once per name.
_LIMITS: dict[str, Limit | None] = {}

#: The counter that tells the second pass of the autumn hour from a list sent again.
COUNTER: Final = "active_energy_import"


def _meter_time(
    stamp: CosemDateTime,
    manufacturer: str | None,
    tz: dt.tzinfo,
    previous: tuple[dt.datetime, Any] | None = None,
    counter: Any = None,
) -> dt.datetime | None:
    """The meter's clock as an aware time.

    Aidon NO sends deviation 0 all year (BB13 §4.1.6.1 makes it the UTC offset): it is not a UTC
    offset. A local time without a usable deviation is ambiguous in the autumn hour that comes
    twice (02:00-02:59 in Europe): the clock status's DST bit says which, for makers that set it
    (Kamstrup); otherwise the order of arrival does: a time before this meter's previous one is the
    second pass, in standard time, and so is the same time again with the A+ counter advanced (the
    hourly list at the second 02:00; the same counter is a list sent again, which the pipeline
    reports as stale). Ambiguous times come back with a fixed offset, so they compare
    by the instant (a zone's own times compare by the wall clock).
    """
    trust = not (manufacturer == "aidon" and stamp.deviation == 0)
    when = stamp.to_datetime(tz, use_deviation=trust)
    if when is None or when.tzinfo is not tz or when.hour > LAST_REPEATED_HOUR:
        return when  # the deviation gave the offset, no time at all, or a time of day never repeated
    later = when.replace(fold=1)
    if later.utcoffset() == when.utcoffset():
        return when  # not in the hour that comes twice
    if manufacturer in DST_STATUS_MAKERS:
        second = not stamp.dst
    else:
        second = previous is not None and _after_the_first_pass(when, counter, *previous)
    chosen = later if second else when
    offset = chosen.utcoffset()
    assert offset is not None
    return chosen.replace(tzinfo=dt.timezone(offset), fold=0)


# --------------------------------------------------------------------------------------------
# the decoder the pipeline calls
# --------------------------------------------------------------------------------------------


class Unwrapper(Protocol):
    """Turns a ciphered or block-transferred APDU into a plain one (``cosem.ciphering.ApduUnwrapper``).

    Returns None while a block-transfer message waits for its remaining blocks; ``system_title``
    is the title of the last ciphered APDU it opened (None for a plain one).
    """

    system_title: bytes | None

    def __call__(self, apdu: bytes) -> bytes | None: ...


class ReadingDecoder:
    """Envelope (or a bare information field) to ``Reading``: flat layouts first, the generic tree after.

    ``unwrap`` turns ciphered or block-transferred APDUs into a plain data-notification (by
    default a ``cosem.ciphering.ApduUnwrapper`` holding ``options.keys``); it returns None while a
    block-transfer message waits for its remaining blocks. A ciphered APDU's system title names
    the manufacturer, ahead of any guess from the list's shape.
    """

    def __init__(self, options: DecodeOptions | None = None, *, use_layouts: bool = True) -> None:
        self.options = options or DecodeOptions()
        self.layouts = LayoutIndex(LAYOUTS, namer=manufacturer_of) if use_layouts else None
        self.unwrap: Unwrapper | None = ApduUnwrapper(self.options.keys)
        #: the manufacturer a list id named, by HDLC source address (see ``_named``)
        self._named_by_source: dict[bytes | None, str] = {}
        #: each meter's last clock (by source address and maker): the order of arrival that
        #: places the autumn hour that comes twice (``_meter_time``)
        self._last_time: dict[tuple[bytes | None, str | None], tuple[dt.datetime, Any]] = {}
        #: ``Plan``s of the flat layouts seen, by layout, scalers and manufacturer (``_plan``)
        self._plans: dict[tuple[str, tuple[int | None, ...], str | None], Plan | None] = {}

    def _plan(self, msg: Message) -> Plan | None:
        """The plan of a flat layout's message (made on its first message, then kept); None for
        the generic road, whose slots are worked out per message."""
        if msg.layout.startswith(GENERIC):
            return None
        key = (msg.layout, msg.scalers, msg.manufacturer)
        plan = self._plans.get(key, _NO_PLAN)
        if plan is _NO_PLAN:
            plan = Plan.of(msg, self.options, _maker(msg, self.options))
            if len(self._plans) >= PLAN_CACHE:
                self._plans.clear()  # hostile scalers, ever new: memory stays bounded
            self._plans[key] = plan
        return plan  # type: ignore[return-value]

    def message(self, apdu: bytes, source: bytes | None = None) -> Message | None:
        """Decode one APDU to a ``Message``; None when it is a part of a longer one."""
        if self.unwrap is not None and apdu[:1] in _WRAPPED:
            return self._unwrapped(apdu, source)
        found = self.layouts.parse(apdu, source) if self.layouts is not None else None
        return self._named(found if found is not None else self._generic(apdu, source, None), source)

    def _unwrapped(self, apdu: bytes, source: bytes | None) -> Message | None:
        """A ciphered or block-transferred APDU's message (None while blocks are missing): a
        system title names the maker, ahead of anything the stream showed."""
        assert self.unwrap is not None
        plain = self.unwrap(apdu)
        if plain is None:
            return None
        maker = maker_of_system_title(self.unwrap.system_title)
        found = self.layouts.parse(plain, source) if self.layouts is not None else None
        if found is None:
            found = self._generic(plain, source, maker)
        elif maker is not None:
            found = found.made_by(maker)
        return found if maker is not None else self._named(found, source)

    def _named(self, msg: Message, source: bytes | None) -> Message:
        """The message with the manufacturer this stream has shown it to be.

        A list id names its maker: remembered for the source address. A lone list 1 of the shape
        Aidon and the L+G E350 share (``SHARED_LIST1_LAYOUTS``) names nobody: it takes the name
        an earlier list of the same address gave, else none (never the guess from its shape).
        """
        if (
            msg.layout in SHARED_LIST1_LAYOUTS
            and len(msg.slots) == 1
            and msg.slots[0].name == "active_power_import"
        ):
            named = self._named_by_source.get(source)
            return msg if named == msg.manufacturer else msg.made_by(named)
        maker = msg.manufacturer
        if (
            maker is not None
            and self._named_by_source.get(source) != maker
            and any(s.name == "list_version" for s in msg.slots)
        ):
            self._named_by_source[source] = maker  # a list id named it (checked once per change)
        return msg

    def _generic(self, apdu: bytes, source: bytes | None, maker: str | None) -> Message:
        """The message by the generic tree (no flat layout matched): ``maker`` when a system
        title named it, else the one its list id or style suggests."""
        decoded = decode_apdu(apdu)
        left_out: list[str] = []
        items, style = items_from_tree(
            decoded.body,
            container=decoded.body_tag,
            rules=POSITIONAL_LISTS,
            capture_scalers=CAPTURE_OBJECT_SCALERS,
            tags=decoded.element_tags,
            triples=TRIPLE_LISTS,
            unscaled=UNSCALED_CAPTURE_LISTS,
            left_out=left_out,
        )
        msg = Message.from_items(items, decoded.date_time, None, f"{GENERIC}{style}")
        if maker is None:
            maker = manufacturer_of(msg.slots, msg.values, style, source) or MAKER_OF_LIST.get(style)
        return replace(msg, manufacturer=maker, invoke_id=decoded.invoke_id, left_out=tuple(left_out))

    def decode(self, message: Envelope | bytes) -> Reading | None:
        """A whole message to a reading, or None while it waits for more blocks.

        An ``Envelope`` says what framing carried the message; bare bytes are an HDLC information
        field with nothing known about its frame (tests, the REPL). HDLC information fields start
        with the LLC header E6 E7 00, except the general-block-transfer frames after a message's
        first (DLMS Green Book: only the first block travels behind the LLC): a field that starts
        with the block transfer tag E0 is taken as it is, LLC or not. Anything else without the
        LLC is an ``LlcError``. M-Bus carries the APDU with no LLC at all.
        """
        envelope = Envelope(Framing.HDLC, message, None, None, ()) if isinstance(message, bytes) else message
        info = envelope.payload
        framing = envelope.framing
        stamp = envelope.received_at
        received = None if stamp is None else _received(stamp)
        if framing is _P1:
            return p1_reading(info, self.options.meter_tz, received)
        if framing is not _HDLC or info[:1] == _BLOCK_TRANSFER:
            apdu = info
        else:
            apdu = info[3:] if info[:3] == LLC else strip_llc(info)  # (strip_llc raises)
        source = envelope.source
        msg = self.message(apdu, source)
        if msg is None:
            return None
        meter = (source, msg.manufacturer)
        reading = to_reading(
            msg, self.options, received, previous=self._last_time.get(meter), plan=self._plan(msg)
        )
        if reading.meter_time is not None:
            self._last_time[meter] = (reading.meter_time, reading.values.get(COUNTER))
        return reading


def _received(stamp: float | None) -> dt.datetime | None:
    """Host time a message arrived, in the host's zone (None for a replayed capture)."""
    return dt.datetime.fromtimestamp(stamp).astimezone() if stamp is not None else None


#: The layout name of messages decoded by the generic tree starts with this.
GENERIC: Final = "generic:"

#: How many plans a decoder keeps (a stream has a handful; hostile scalers must not grow memory).
PLAN_CACHE: Final = 64
_NO_PLAN: Final = object()

#: The framings without the class attribute look-up (an enum member costs 80 ns that way, per frame).
_HDLC: Final = Framing.HDLC
_P1: Final = Framing.P1

#: First bytes of APDUs the unwrap hook opens: general-glo-ciphering, general-block-transfer.
_WRAPPED: Final = frozenset({b"\xdb", b"\xe0"})
_BLOCK_TRANSFER: Final = b"\xe0"
