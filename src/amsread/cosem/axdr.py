"""The A-XDR data tree and the COSEM date-time (DLMS Green Book §9.5, Blue Book §4.1.6.1).

Declarations follow the DLMS Green Book (GB9 §9.2, §9.5 A-XDR) and Blue Book (BB13 §4.1.6.1
date-time, §4.3.2 scaler-unit, Table 2 data types). construct stays at this edge: parsed containers
become plain Python values and frozen dataclasses at once, and construct's errors (and the plain
``struct.error``, ``RecursionError`` or ``ValueError`` a corrupted frame can provoke) become
``DecodeError``.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from io import BytesIO
from typing import Any, Final

import construct as c
from construct import this

from amsread.cosem.tags import TAG
from amsread.cosem.unpack import unpacker
from amsread.errors import DecodeError, NonFiniteValueError, ScalerError

# --------------------------------------------------------------------------------------------
# A-XDR primitives
# --------------------------------------------------------------------------------------------


class AxdrLength(c.Construct):
    """A-XDR length or count: one byte below 0x80, else ``0x80 | n`` and n big-endian bytes."""

    def _parse(self, stream: Any, context: Any, path: str) -> int:
        first = c.stream_read(stream, 1, path)[0]
        if first < 0x80:
            return first
        n = first & 0x7F
        if not 1 <= n <= 4:
            raise c.ExplicitError(f"A-XDR length of {n} bytes", path=path)
        return int.from_bytes(c.stream_read(stream, n, path), "big")

    def _build(self, obj: int, stream: Any, context: Any, path: str) -> int:
        if obj < 0x80:
            c.stream_write(stream, bytes((obj,)), 1, path)
        else:
            body = obj.to_bytes((obj.bit_length() + 7) // 8, "big")
            c.stream_write(stream, bytes((0x80 | len(body),)) + body, 1 + len(body), path)
        return obj

    def _sizeof(self, context: Any, path: str) -> int:
        raise c.SizeofError(path=path)


AxdrLength = AxdrLength()  # type: ignore[misc]  # one stateless instance serves everywhere


#: The fixed-size scalar types, by tag: shared by the generic tree and the flat layouts.
SCALARS: Final[dict[int, c.Construct]] = {
    TAG.BOOLEAN: c.Int8ub,
    TAG.DOUBLE_LONG: c.Int32sb,
    TAG.DOUBLE_LONG_UNSIGNED: c.Int32ub,
    TAG.BCD: c.Int8ub,
    TAG.INTEGER: c.Int8sb,
    TAG.LONG: c.Int16sb,
    TAG.UNSIGNED: c.Int8ub,
    TAG.LONG_UNSIGNED: c.Int16ub,
    TAG.LONG64: c.Int64sb,
    TAG.LONG64_UNSIGNED: c.Int64ub,
    TAG.ENUM: c.Int8ub,
    TAG.FLOAT32: c.Float32b,
    TAG.FLOAT64: c.Float64b,
    TAG.DATE_TIME: c.Bytes(12),
    TAG.DATE: c.Bytes(5),
    TAG.TIME: c.Bytes(4),
}

#: Strings: an A-XDR length, then that many bytes.
STRINGS: Final = frozenset({TAG.OCTET_STRING, TAG.VISIBLE_STRING, TAG.UTF8_STRING})

BitString = c.Struct("bits" / AxdrLength, "data" / c.Bytes((this.bits + 7) // 8))

#: What follows each tag in a ``Data`` value: containers of Data, strings, the scalars.
_DATA_CASES: Final[dict[int, Any]] = {
    TAG.NULL: c.Pass,
    TAG.ARRAY: c.PrefixedArray(AxdrLength, c.LazyBound(lambda: Data)),
    TAG.STRUCTURE: c.PrefixedArray(AxdrLength, c.LazyBound(lambda: Data)),
    TAG.BIT_STRING: BitString,
    **{t: c.Prefixed(AxdrLength, c.GreedyBytes) for t in STRINGS},
    **SCALARS,
}

#: One A-XDR ``Data`` value (GB9 §9.5): a tag, then what the tag says.
Data: Any = c.Struct("tag" / c.Byte, "value" / c.Switch(this.tag, _DATA_CASES, default=c.Error))

#: COSEM date-time, 12 bytes (BB13 §4.1.6.1). 0xFF fields are "not specified"; deviation 0x8000 too.
CosemDateTimeStruct = c.Struct(
    "year" / c.Int16ub,
    "month" / c.Int8ub,
    "day" / c.Int8ub,
    "weekday" / c.Int8ub,
    "hour" / c.Int8ub,
    "minute" / c.Int8ub,
    "second" / c.Int8ub,
    "hundredths" / c.Int8ub,
    "deviation" / c.Int16sb,
    "status" / c.Int8ub,
)
#: The same declaration compiled to one ``struct`` call (``cosem.unpack``): a clock value inside a
#: list (Aidon's and Kaifa's lists 2 and 3) is read per message.
_DATE_TIME_UNPACK: Final = unpacker(CosemDateTimeStruct)

#: The outer context for calling a compiled declaration's parse function directly (what
#: ``parse_stream`` makes anew per call, a self-referencing dict each time). The generated code
#: only reads it, so one serves every parse; its ``_root`` is set (None: no field here looks at
#: it) so that a struct does not make its own context its root, a reference cycle per parse that
#: only the garbage collector would free.
PARSE_CONTEXT: Final = c.Container(_parsing=True, _building=False, _sizing=False, _root=None)
PARSE_CONTEXT["_params"] = PARSE_CONTEXT


def parse_compiled(compiled: Any, data: bytes) -> Any:
    """``compiled.parse(data)`` without ``parse_stream``: the generated function, the shared context."""
    return compiled.parsefunc(BytesIO(data), PARSE_CONTEXT)


#: Each field's "not specified" value (BB13 §4.1.6.1): 0xFFFF for the year, 0x8000 for the
#: deviation, 0xFF for the rest. In the order of ``CosemDateTime``'s fields.
NOT_SPECIFIED: Final[dict[str, int]] = {
    "year": 0xFFFF,
    "month": 0xFF,
    "day": 0xFF,
    "hour": 0xFF,
    "minute": 0xFF,
    "second": 0xFF,
    "hundredths": 0xFF,
    "deviation": -0x8000,
    "status": 0xFF,
    "weekday": 0xFF,
}
_NOT_SPECIFIED: Final = tuple(NOT_SPECIFIED.items())
_NONE_VALUES: Final = tuple(NOT_SPECIFIED.values())
#: ``CosemDateTime.from_wire``'s body: ``cls(None if v[0] == 65535 else v[0], ...)``, made from
#: ``NOT_SPECIFIED`` (eval of a compiled code object, as ``decode.flat``'s getters are made).
_FROM_WIRE: Final = eval(
    compile(
        "lambda cls, v: cls("
        + ", ".join(f"None if v[{i}] == {none} else v[{i}]" for i, none in enumerate(_NONE_VALUES))
        + ")",
        "<from_wire>",
        "eval",
    )
)
#: The unpacked fields (wire order: the weekday fourth) in ``CosemDateTime``'s order.
_IN_CLASS_ORDER: Final = operator.itemgetter(*(_DATE_TIME_UNPACK.index(name) for name in NOT_SPECIFIED))

#: Everything that decoding a corrupted message can raise from below us.
PARSE_ERRORS: Final = (
    c.ConstructError,
    struct.error,
    RecursionError,
    ValueError,
    IndexError,
    KeyError,
    TypeError,
)

# --------------------------------------------------------------------------------------------
# plain values
# --------------------------------------------------------------------------------------------


# Not frozen, yet never changed: one is made per frame, and a frozen dataclass's __init__
# (object.__setattr__ per field) cost 5 times as much, a tenth of a frame's decode (issue 15).
@dataclass(slots=True, unsafe_hash=True)
class CosemDateTime:
    """A COSEM date-time; ``None`` in a field means "not specified"."""

    year: int | None
    month: int | None
    day: int | None
    hour: int | None
    minute: int | None
    second: int | None
    hundredths: int | None
    deviation: int | None
    """Minutes, with UTC = local + deviation (so CET is -60); None for 0x8000."""
    status: int | None
    weekday: int | None = None
    """1 = Monday (Aidon NO sends 0 for Sunday); never used to compute the date."""

    @classmethod
    def from_bytes(cls, raw: bytes) -> CosemDateTime:
        """Parse the 12 wire bytes with ``CosemDateTimeStruct``."""
        if len(raw) != 12:
            raise DecodeError(f"date-time must be 12 bytes, got {len(raw)}", raw=raw)
        return cls.from_wire(_IN_CLASS_ORDER(_DATE_TIME_UNPACK.parse(raw)))

    @classmethod
    def from_fields(cls, p: Mapping[str, int]) -> CosemDateTime:
        """From the fields of a parsed ``CosemDateTimeStruct`` (also nested in the flat layouts'
        headers): each field's "not specified" value becomes None (``NOT_SPECIFIED``)."""
        return cls(*[None if p[name] == none else p[name] for name, none in _NOT_SPECIFIED])

    @classmethod
    def from_wire(cls, values: tuple[int, ...]) -> CosemDateTime:
        """From the fields as sent, in this class's order: each "not specified" value becomes None.

        One generated expression per field (``_FROM_WIRE``, from ``NOT_SPECIFIED``): half the
        frames of a stream carry a clock, and a loop over the fields cost three times as much."""
        if len(values) != len(_NONE_VALUES):
            raise ValueError(f"a date-time has {len(_NONE_VALUES)} fields, not {len(values)}")
        return _FROM_WIRE(cls, values)

    def fields(self) -> dict[str, int]:
        """The fields ``CosemDateTimeStruct`` builds: None becomes the field's "not specified" value."""
        values = (
            self.year,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            self.hundredths,
            self.deviation,
            self.status,
            self.weekday,
        )
        return {
            name: none if v is None else v for (name, none), v in zip(_NOT_SPECIFIED, values, strict=True)
        }

    @property
    def raw(self) -> bytes:
        """The 12 wire bytes, rebuilt with the same declaration."""
        return DateTime.build(self)

    @property
    def dst(self) -> bool:
        return self.status is not None and bool(self.status & 0x80)

    def to_datetime(self, tz: dt.tzinfo, *, use_deviation: bool = True) -> dt.datetime | None:
        """An aware datetime: the deviation's offset when given and trusted, else local in ``tz``.

        Returns None when the date or time is not fully specified (or not a real date).
        """
        year, month, day, hour, minute = self.year, self.month, self.day, self.hour, self.minute
        if year is None or month is None or day is None or hour is None or minute is None:
            return None
        micro = (self.hundredths or 0) * 10_000 if (self.hundredths or 0) < 100 else 0
        deviation = self.deviation
        if use_deviation and deviation is not None and -720 <= deviation <= 720:
            tz = _offsets.get(deviation) or _offsets.setdefault(
                deviation, dt.timezone(dt.timedelta(minutes=-deviation))
            )
        try:
            return dt.datetime(year, month, day, hour, minute, self.second or 0, micro, tz)
        except ValueError:
            return None


#: The fixed-offset zone of each deviation met (at most 1,441 of them: -720..720 minutes).
_offsets: dict[int, dt.timezone] = {}


class CosemDateTimeAdapter(c.Adapter):
    """The 12 bytes of a COSEM date-time as a ``CosemDateTime``, both ways: the one place where a
    "not specified" field and None meet (``CosemDateTime.from_fields`` and ``fields``)."""

    def _decode(self, obj: Mapping[str, int], context: Any, path: str) -> CosemDateTime:
        return CosemDateTime.from_fields(obj)

    def _encode(self, obj: CosemDateTime, context: Any, path: str) -> dict[str, int]:
        return obj.fields()


#: A COSEM date-time (BB13 §4.1.6.1) parsed to and built from a ``CosemDateTime``.
DateTime = CosemDateTimeAdapter(CosemDateTimeStruct)


def plain(node: Any) -> Any:
    tag = node.tag
    value = node.value
    if tag in (TAG.ARRAY, TAG.STRUCTURE):
        if tag == TAG.STRUCTURE:
            _check_scaler_unit(value)
        return tuple(plain(x) for x in value)
    if tag in (TAG.FLOAT32, TAG.FLOAT64) and not math.isfinite(value):
        raise NonFiniteValueError(f"float value {value!r} is not a number")
    if tag == TAG.VISIBLE_STRING:
        return value.decode("latin-1")
    if tag == TAG.UTF8_STRING:
        return value.decode("utf-8", "replace")
    if tag == TAG.DATE_TIME:
        return CosemDateTime.from_bytes(value)
    if tag == TAG.NULL:
        return None
    if tag == TAG.BIT_STRING:
        return value.data
    return value


def _check_scaler_unit(elements: Any) -> None:
    """A register structure (OBIS code, value, scaler-unit) must carry its scaler as an int8.

    BB13 §4.3.2 declares scaler_unit's scaler an ``integer``: any other tag (a double-long scaler
    of 0x7FFFFFFF, say) is a malformed register, refused here while the tags are still known.
    """
    if len(elements) != 3:
        return
    code, _, scaler_unit = elements
    if code.tag != TAG.OCTET_STRING or len(code.value) != 6 or scaler_unit.tag != TAG.STRUCTURE:
        return
    parts = scaler_unit.value
    if len(parts) == 2 and parts[0].tag != TAG.INTEGER:
        raise ScalerError(f"scaler of {bytes(code.value).hex()} has A-XDR tag {parts[0].tag:02X}, not int8")


def decode_data(raw: bytes) -> Any:
    """One A-XDR Data value (the generic, self-describing parse) as plain values."""
    try:
        return plain(Data.parse(raw))
    except PARSE_ERRORS as e:
        raise DecodeError(f"cannot decode A-XDR data: {short(e)}", raw=raw) from e


def short(e: BaseException) -> str:
    return str(e).split("\n")[0][:160]
