"""The decoder: an envelope to a ``Reading`` of the output contract (docs/output-contract.md).

An APDU becomes a ``Message`` (slots, raw values, scalers) by one of two roads: a flat, compiled
per-layout declaration from ``decode.flat`` (the fast road for every list we know), or the generic
A-XDR tree walked by its shape into ``Item``s (``decode.generic``: any other well-formed message). ``to_reading`` then
applies the scaler (from the frame where the meter sends one, else the vendor's implicit scaler from
``IMPLICIT_SCALERS``) exactly, with ``Decimal``, and names each value by ``obis.info_for``.

Nothing is carried from one message to the next: a list 1 reading has no meter id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from amsread.contract import Reading
from amsread.cosem.axdr import CosemDateTime, decode_apdu
from amsread.cosem.ciphering import ApduUnwrapper, Keys
from amsread.decode.flat import LayoutIndex
from amsread.decode.generic import items_from_tree
from amsread.decode.message import NUMBER, TEXT, TIME, Message, Slot
from amsread.errors import LayoutError
from amsread.meters import (
    CAPTURE_OBJECT_SCALERS,
    HDLC_SOURCE_MAKERS,
    IMPLICIT_SCALERS,
    LAYOUTS,
    LIST_VERSIONS,
    MAKER_OF_LIST,
    MAKER_OF_STYLE,
    POSITIONAL_LISTS,
    maker_of_system_title,
)
from amsread.wire.framer import Envelope, Framing
from amsread.wire.hdlc import strip_llc


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """What the frame cannot tell: the meter's time zone, a CT ratio, the country's scalers."""

    meter_tz: dt.tzinfo = field(default_factory=lambda: ZoneInfo("Europe/Oslo"))
    ct_ratio: Decimal | None = None
    country: str = "NO"
    manufacturer: str | None = None
    """Force the manufacturer where the frame cannot tell (an Aidon-style list 1 from L+G)."""
    keys: Keys | None = field(default=None, repr=False)
    """Encryption and authentication keys for ciphered pushes (never printed; see ``security``)."""


# --------------------------------------------------------------------------------------------
# items to a reading
# --------------------------------------------------------------------------------------------


def _text(v: Any) -> str:
    """Meter text as printed: NUL padding stripped (L+G), control characters made visible."""
    if isinstance(v, bytes):
        v = v.decode("latin-1")
    elif not isinstance(v, (str, int)):
        raise LayoutError(f"expected text, got {type(v).__name__}")
    text = str(v).rstrip("\x00").strip()
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else "\ufffd" for ch in text)
    return text


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
    ct = options.ct_ratio
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
                raw = Decimal(repr(raw))  # float32/64 meters: the shortest exact decimal of the float
            if scaler is None:
                scaler = implicit.get(slot.quantity, 0) if implicit is not None else 0
            e = scaler + slot.exponent
            value: Any = raw if e == 0 else Decimal(raw).scaleb(e)
            if ct is not None and slot.ct:
                value = value * ct
            values[slot.name] = value
        elif kind == TEXT:
            values[slot.name] = _text(raw)
        elif kind == TIME:
            clock = raw if isinstance(raw, CosemDateTime) else _datetime_or_none(raw)
        else:
            values[slot.name] = _other_value(raw, scaler)
    if not values and clock is None:
        raise LayoutError("the message carries no values")
    stamp = clock if clock is not None else message.date_time
    meter_time = _meter_time(stamp, manufacturer, options.meter_tz) if stamp is not None else None
    level = message.list_level if message.list_level is not None else _list_level(values)
    return Reading(received_at, meter_time, manufacturer, level, values, message.layout, message)


def _other_value(raw: Any, scaler: int | None) -> Any:
    """A value of a code amsread has no name for: scaled if the frame says how, else as sent."""
    if isinstance(raw, CosemDateTime):
        return raw.raw.hex()
    if isinstance(raw, bytes):
        return raw.hex()
    if type(raw) is int and scaler:
        return Decimal(raw).scaleb(scaler)
    return raw


def _datetime_or_none(raw: Any) -> CosemDateTime | None:
    if isinstance(raw, bytes) and len(raw) == 12:
        return CosemDateTime.from_bytes(raw)
    return None


def _meter_time(stamp: CosemDateTime, manufacturer: str | None, tz: dt.tzinfo) -> dt.datetime | None:
    # Aidon NO sends deviation 0 all year (BB13 §4.1.6.1 makes it the UTC offset): it is not a UTC offset.
    trust = not (manufacturer == "aidon" and stamp.deviation == 0)
    return stamp.to_datetime(tz, use_deviation=trust)


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

    def message(self, apdu: bytes, source: bytes | None = None) -> Message | None:
        """Decode one APDU to a ``Message``; None when it is a part of a longer one."""
        maker = None
        if self.unwrap is not None and apdu[:1] in _WRAPPED:
            plain = self.unwrap(apdu)
            if plain is None:
                return None
            apdu = plain
            maker = maker_of_system_title(self.unwrap.system_title)
        if self.layouts is not None:
            found = self.layouts.parse(apdu, source)
            if found is not None:
                return replace(found, manufacturer=maker) if maker else found
        decoded = decode_apdu(apdu)
        items, style = items_from_tree(
            decoded.body,
            container=decoded.body_tag,
            rules=POSITIONAL_LISTS,
            capture_scalers=CAPTURE_OBJECT_SCALERS,
        )
        msg = Message.from_items(items, decoded.date_time, None, f"generic:{style}")
        if maker is None:
            maker = manufacturer_of(msg.slots, msg.values, style, source) or MAKER_OF_LIST.get(style)
        return replace(msg, manufacturer=maker, invoke_id=decoded.invoke_id)

    def decode(self, message: Envelope | bytes) -> Reading | None:
        """A whole message to a reading, or None while it waits for more blocks.

        An ``Envelope`` says what framing carried the message; bare bytes are an HDLC information
        field with nothing known about its frame (tests, the REPL). HDLC information fields start
        with the LLC header E6 E7 00, except the general-block-transfer frames after a message's
        first (DLMS Green Book: only the first block travels behind the LLC): a field that starts
        with the block transfer tag E0 is taken as it is, LLC or not. Anything else without the
        LLC is an ``LlcError``. M-Bus carries the APDU with no LLC at all.
        """
        envelope = (
            message if isinstance(message, Envelope) else Envelope(Framing.HDLC, message, None, None, ())
        )
        info = envelope.payload
        apdu = strip_llc(info) if envelope.has_llc and info[:1] != _BLOCK_TRANSFER else info
        msg = self.message(apdu, envelope.source)
        if msg is None:
            return None
        stamp = envelope.received_at
        received = dt.datetime.fromtimestamp(stamp).astimezone() if stamp is not None else None
        return to_reading(msg, self.options, received)


#: First bytes of APDUs the unwrap hook opens: general-glo-ciphering, general-block-transfer.
_WRAPPED: Final = frozenset({b"\xdb", b"\xe0"})
_BLOCK_TRANSFER: Final = b"\xe0"
