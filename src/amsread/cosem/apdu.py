"""The data-notification APDU (DLMS Green Book §9.3, tag 0x0F): its head and its body.

``decode_head`` reads the invoke id and the header date-time and says where the body starts (the
flat layouts take it from there); ``decode_apdu`` parses the whole notification with the generic
A-XDR ``Data`` tree (``cosem.axdr``) into an ``Apdu`` of plain values. ``NotificationHead`` also
builds heads for the demo meter. Any other APDU is an ``UnsupportedApduError`` before a parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import construct as c
from construct import this

from amsread.cosem.axdr import PARSE_ERRORS, CosemDateTime, Data, plain, short
from amsread.cosem.tags import DATA_NOTIFICATION, TAG
from amsread.errors import DecodeError, UnsupportedApduError

#: The date-time field of a data-notification, in all three forms met on real meters
#: (AID-IF §3.3.1, KAM-NVE rev 3.0): ``00`` (none), ``0C`` + 12 (standard), ``09 0C`` + 12 (Data-tagged).
HeaderDateTime = c.Struct(
    "form" / c.OneOf(c.Int8ub, [0x00, 0x0C, 0x09]),
    "tagged_length" / c.If(this.form == 0x09, c.Const(b"\x0c")),
    "value" / c.If(this.form != 0x00, c.Bytes(12)),
)

#: The head of a data-notification (GB9 §9.3.x, tag 0x0F): long-invoke-id-and-priority, date-time.
_HEAD: Final = (
    "tag" / c.Const(bytes((DATA_NOTIFICATION,))),
    "long_invoke_id_and_priority" / c.Int32ub,
    "date_time" / HeaderDateTime,
)

#: A whole data-notification, its body one A-XDR ``Data`` tree: the generic road.
DataNotification = c.Struct(*_HEAD, "notification_body" / Data)

#: The head alone and where the body starts: compiled for callers that need only that, and what
#: the demo meter builds heads with (the flat layouts carry their own copy of these fields).
NotificationHead = c.Struct(*_HEAD, "body_offset" / c.Tell)
_NotificationHeadCompiled = NotificationHead.compile()


@dataclass(frozen=True, slots=True)
class Apdu:
    """A decoded data-notification: its invoke id, header time and the data tree as plain values.

    In ``body``: array and structure are tuples, null-data is None, octet-strings are bytes,
    visible- and utf8-strings are str, numbers are int (float only for float32/64 tags), and a
    tagged date-time is a ``CosemDateTime``.
    """

    invoke_id: int
    date_time: CosemDateTime | None
    body: Any
    body_tag: int
    """The body's own A-XDR tag: array (Aidon) or structure (Kaifa, Kamstrup, Iskra)."""
    element_tags: tuple[int, ...] = ()
    """The A-XDR tag of each element of the body: positional lists are told apart by their types
    (a long-unsigned and a double-long-unsigned both become an int in ``body``)."""


def _require_notification(apdu: bytes) -> None:
    """Anything but a data-notification is a typed error before any parse is tried."""
    if not apdu:
        raise DecodeError("empty APDU", raw=apdu)
    if apdu[0] != DATA_NOTIFICATION:
        raise UnsupportedApduError(f"APDU tag {apdu[0]:02X} is not a data-notification", raw=apdu)


def decode_head(apdu: bytes) -> tuple[int, CosemDateTime | None, int]:
    """Invoke id, header date-time and the offset of the body in a data-notification."""
    _require_notification(apdu)
    try:
        head = _NotificationHeadCompiled.parse(apdu)
    except PARSE_ERRORS as e:
        raise DecodeError(f"cannot decode data-notification header: {e}", raw=apdu) from e
    stamp = CosemDateTime.from_bytes(head.date_time.value) if head.date_time.value is not None else None
    return head.long_invoke_id_and_priority & 0xFFFFFF, stamp, head.body_offset


def decode_apdu(apdu: bytes) -> Apdu:
    """A data-notification to an ``Apdu`` with the ``DataNotification`` declaration (generic road)."""
    _require_notification(apdu)
    try:
        parsed = DataNotification.parse(apdu)
    except PARSE_ERRORS as e:
        raise DecodeError(f"cannot decode data-notification: {short(e)}", raw=apdu) from e
    stamp = parsed.date_time.value
    body = parsed.notification_body
    return Apdu(
        parsed.long_invoke_id_and_priority & 0xFFFFFF,
        CosemDateTime.from_bytes(stamp) if stamp is not None else None,
        plain(body),
        body.tag,
        tuple(e.tag for e in body.value) if body.tag in (TAG.ARRAY, TAG.STRUCTURE) else (),
    )
