"""Every output format, in one place: hex lines, frame annotation, text listing, CSV, JSON lines.

Formatting lives here only; commands choose a writer and hand it readings or frames.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Final, TextIO

from amsread.contract import COLUMNS, Reading
from amsread.decode.p1 import line_meaning
from amsread.errors import AmsReadError
from amsread.text import decimal_text, time_text, visible
from amsread.wire.hdlc import LLC, HdlcFrame, address_value
from amsread.wire.mbus import MbusLongFrame
from amsread.wire.p1 import parse_telegram

CONTROL_NAMES: Final = {
    0x13: "UI, P/F=1",
    0x03: "UI, P/F=0 (more segments)",
    0x10: "I-frame N(S)=0 N(R)=0 P/F=1",
}
APDU_NAMES: Final = {
    0x0F: "data-notification",
    0xDB: "general-glo-ciphering",
    0xE0: "general-block-transfer",
    0xDC: "general-ded-ciphering",
    0xDD: "general-ciphering",
    0xDF: "general-signing",
}


def format_time(stamp: float | None) -> str:
    """Local wall-clock time with milliseconds, or ``-`` for replayed captures."""
    if stamp is None:
        return "-" + " " * 11
    return dt.datetime.fromtimestamp(stamp).strftime("%H:%M:%S.%f")[:-3]


def format_hex_line(raw: bytes, status: str, stamp: float | None) -> str:
    """``12:00:01.234   44 ok        7ea02a41...``: one frame (or a run of stray bytes) per line."""
    return f"{format_time(stamp)} {len(raw):4d} {status:<14} {raw.hex()}"


def _spaced(b: bytes, limit: int = 16) -> str:
    text = " ".join(f"{x:02X}" for x in b[:limit])
    return text + (" …" if len(b) > limit else "")


def _address_text(wire: bytes, value: Callable[[bytes], int]) -> str:
    """1 byte: its value; 2 or 4 bytes: the upper (logical) and lower (physical) halves (GB8 §8.4.2)."""
    if len(wire) in (2, 4):
        half = len(wire) // 2
        return f"upper {value(wire[:half])}, lower {value(wire[half:])}"
    return str(value(wire))


def annotate_frame(raw: bytes, *, stamp: float | None = None) -> str:
    """A frame broken into its fields, one per line, read with the ``HdlcFrame`` declaration."""
    parsed = HdlcFrame.parse(raw)
    header = parsed.body.value.header
    h = header.value
    fmt = h.format
    info: bytes = parsed.body.value.information
    dest, src = bytes(h.destination), bytes(h.source)
    off = 1
    rows = [(raw[:1], "flag")]
    rows.append((raw[1:3], f"format: type 3, segmentation {int(fmt.segmented)}, length {fmt.length}"))
    off = 3
    rows.append((dest, f"destination address {_address_text(dest, address_value)}"))
    off += len(dest)
    rows.append((src, f"source address {_address_text(src, address_value)}"))
    off += len(src)
    rows.append((raw[off : off + 1], f"control {h.control:02X}: {CONTROL_NAMES.get(h.control, 'other')}"))
    off += 1
    rows.append((raw[off : off + 2], f"HCS 0x{parsed.body.value.hcs:04X} ok"))
    apdu = info
    if info[:3] == LLC:
        rows.append((info[:3], "LLC: destination LSAP E6, source LSAP E7, quality 00"))
        apdu = info[3:]
    if apdu:
        name = APDU_NAMES.get(apdu[0], "continuation or unknown")
        rows.append((apdu, f"APDU, {len(apdu)} bytes: {name}"))
    rows.append((raw[-3:-1], f"FCS 0x{parsed.fcs:04X} ok"))
    rows.append((raw[-1:], "flag"))
    head = f"{format_time(stamp)} {len(raw):4d} ok"
    body = "\n".join(f"    {_spaced(b):<50} {label}" for b, label in rows)
    return f"{head}\n{body}"


def annotate_mbus_frame(raw: bytes, *, stamp: float | None = None) -> str:
    """An M-Bus long frame broken into its fields, read with the ``MbusLongFrame`` declaration."""
    parsed = MbusLongFrame.parse(raw)
    body = parsed.body.value
    ci = body.ci
    place = "last segment" if ci & 0x10 else "more segments follow"
    data: bytes = body.data
    what = APDU_NAMES.get(data[0], "continuation or unknown") if data and ci & 0x0F == 0 else "continuation"
    rows = [
        (raw[:1], "start"),
        (raw[1:3], f"length {parsed.length} (control through data), twice"),
        (raw[3:4], "start"),
        (raw[4:5], f"control {body.control:02X}" + (": SND_UD" if body.control in (0x53, 0x73) else "")),
        (raw[5:6], f"address {body.address:02X}"),
        (raw[6:7], f"CI {ci:02X}: segment {ci & 0x0F}, {place}"),
        (raw[7:8], f"STSAP {body.stsap:02X}"),
        (raw[8:9], f"DTSAP {body.dtsap:02X}"),
        (data, f"data, {len(data)} bytes: {what}"),
        (raw[-2:-1], f"checksum 0x{parsed.checksum:02X} ok"),
        (raw[-1:], "stop"),
    ]
    head = f"{format_time(stamp)} {len(raw):4d} M-Bus ok"
    lines = "\n".join(f"    {_spaced(b):<50} {label}" for b, label in rows)
    return f"{head}\n{lines}"


def annotate_telegram(raw: bytes, tz: dt.tzinfo, *, stamp: float | None = None) -> str:
    """A P1 telegram line by line, each with its meaning, read with the ``wire.p1.Telegram``
    declaration (so what is shown is what the declaration sees); ``tz`` is the meter's zone."""
    try:
        parsed = parse_telegram(raw)
    except AmsReadError:  # the splitter took it whole and checked; show its lines as they are
        lines = raw.decode("ascii", "replace").rstrip("\r\n").split("\r\n")
        crc = int(lines[-1][1:], 16) if len(lines[-1]) == 5 else None
    else:
        value = parsed.body.value
        crc = parsed.get("crc")
        blank = [""] if value.blank is not None else []
        lines = [f"/{value.identification}", *blank, *value.lines, f"!{crc:04X}" if crc is not None else "!"]
    head = f"{format_time(stamp)} {len(raw):4d} P1 ok" + (
        f" (CRC {crc:04X} ok)" if crc is not None else " (no CRC)"
    )
    width = min(max(len(line) for line in lines), 48)
    rows = [
        f"    {visible(line):<{width}}  {line_meaning(line, tz) if line else 'blank line'}" for line in lines
    ]
    return "\n".join([head, *rows])


# --------------------------------------------------------------------------------------------
# text that is safe on a terminal and in a spreadsheet
# --------------------------------------------------------------------------------------------


#: First characters that make a spreadsheet read a cell as a formula (CSV injection). Tab and CR
#: would too, but ``visible`` has escaped them before this check.
_FORMULA_START: Final = ("=",)
#: These start a formula too, unless the cell is just a signed number (``-1.5``, ``+47``).
_SIGNED_START: Final = ("+", "-", "@")


def csv_text(text: str) -> str:
    """A text cell that no spreadsheet runs as a formula: a quote in front where it would be one.

    Numbers never pass here (``CsvWriter`` guards text values only), so ``-1.5`` stays a number.
    """
    text = visible(text)
    if text.startswith(_FORMULA_START) or (text.startswith(_SIGNED_START) and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return text[1:2].isdigit() or text[1:2] == "."


# --------------------------------------------------------------------------------------------
# readings
# --------------------------------------------------------------------------------------------


def format_value(value: object) -> str:
    """A value as printed in CSV and text: exact decimals, ISO 8601 times, empty for absent."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, dt.datetime):
        return time_text(value)
    return visible(str(value))


def _json_value(value: object) -> str:
    """One JSON value. The decoder sends no NaN or infinity; should one slip through, it is
    ``null`` rather than the bare ``NaN`` that strict JSON readers refuse."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, float):
        value = Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return _decimal_json(value)
    if isinstance(value, int):
        return str(value)
    return json.dumps(format_value(value), ensure_ascii=False)


#: The reading's own fields, ahead of its values, in contract order (``Reading.as_dict``).
_HEAD: Final = ("received_at", "meter_time", "manufacturer", "list")

#: How many shapes of reading (value names and types) ``json_line`` and each ``CsvWriter`` keep a
#: template for: a stream repeats a few layouts for ever, but hostile frames with random codes
#: must not grow memory.
JSON_PLANS: Final = 256

_json_text = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(..., ensure_ascii=False), made once


def _decimal_json(value: Decimal) -> str:
    return decimal_text(value) if value.is_finite() else "null"


def _json_time(value: dt.datetime) -> str:
    return f'"{time_text(value)}"'


#: One JSON value per type, by one look-up: what ``_json_value`` prints for it, without its
#: chain of checks. Other types (bool, float, structures) take ``_json_value`` itself.
_JSON_CELL: Final[dict[type, Callable[[Any], str]]] = {
    Decimal: _decimal_json,
    int: int.__repr__,
    str: lambda v: _json_text(visible(v)),
    dt.datetime: _json_time,
    type(None): lambda v: "null",
}


#: Types a shape template prints by a format spec or a prepared text (``_Shape``); a value of
#: any other type (bool, float, a structure) sends its reading down the road of per-value calls.
_TEMPLATED: Final = frozenset({Decimal, int, str, dt.datetime, type(None)})

#: How many distinct texts the writers keep their printed form of (meter ids, types and list ids
#: repeat in every list; hostile ever-new text must not grow memory).
TEXT_CELLS: Final = 1024


def _cached(convert: Callable[[str], str]) -> Callable[[str], str]:
    """``convert``, remembered for up to ``TEXT_CELLS`` distinct texts."""
    done: dict[str, str] = {}

    def cell(text: str) -> str:
        out = done.get(text)
        if out is None:
            if len(done) >= TEXT_CELLS:
                done.clear()
            out = done[text] = convert(text)
        return out

    return cell


def _shape(values: dict[str, Any]) -> tuple[tuple[str, ...], tuple[type, ...]]:
    """What a template depends on: the value names, in order, and each value's type."""
    return tuple(values), tuple(map(type, values.values()))


class _Template:
    """One shape of reading printed by one ``str.format`` call: the line's constant text (keys,
    separators, empty cells) is in the template, numbers are printed by its format specs
    (``{k:f}`` for a Decimal), and only text and times are prepared per value (``convert``).

    Decimals are always finite here: every road to a ``Reading`` refuses NaN and infinity first
    (``decode.decoder``, ``decode.p1``), which the hostile-frame tests hold JSON output to."""

    __slots__ = ("convert", "text")

    def __init__(self, text: str, convert: tuple[tuple[int, Callable[[Any], str]], ...]) -> None:
        self.text = text
        self.convert = convert

    def line(self, head: list[Any], values: dict[str, Any]) -> str:
        args = head + list(values.values())
        for k, conv in self.convert:
            args[k] = conv(args[k])
        return self.text.format(*args)


#: Not looked for yet (None is an answer: no template for that shape).
_NOT_MADE: Final[Any] = object()


def _escape_braces(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


_json_string = _cached(lambda text: _json_text(visible(text)))


def _json_template(
    names: tuple[str, ...], types: tuple[type, ...], head_types: tuple[type, ...]
) -> _Template | None:
    """The template of whole JSON lines of one shape: the head's fields that are present (by
    their types, ``_HEAD`` order), then the values (names and types) in contract order. None if a
    type needs ``_json_value``."""
    if not set(types) <= _TEMPLATED or not set(head_types) <= _TEMPLATED:
        return None
    parts: list[str] = []
    convert: list[tuple[int, Callable[[Any], str]]] = []

    def field(k: int, name: str, t: type) -> None:
        key = _escape_braces(json.dumps(name))
        if t is type(None):
            parts.append(f"{key}: null")
            return
        parts.append(f"{key}: {{{k}}}")
        if t is str:
            convert.append((k, _json_string))
        elif t is dt.datetime:
            convert.append((k, _json_time))
        elif t is Decimal:
            convert.append((k, decimal_text))

    for k, (name, t) in enumerate(zip(_HEAD, head_types, strict=True)):
        if t is not type(None):  # an absent head field is left out, not null
            field(k, name, t)
    ordered: list[int] = [names.index(k) for k in COLUMNS[4:] if k in names]
    ordered += [i for i, k in enumerate(names) if i not in ordered and k not in _HEAD]
    for i in ordered:
        field(len(_HEAD) + i, names[i], types[i])
    return _Template("{{" + ", ".join(parts) + "}}", tuple(convert))


_json_plans: dict[tuple[Any, ...], Any] = {}  # a _Template, or None


def json_line(reading: Reading) -> str:
    """One JSON object on one line; numbers exact (``227.6``, never ``227.59999999999997``).

    The shape of ``Reading.as_dict``, built straight from the reading: one template per shape of
    reading (value names and types, and which head fields are there, ``_json_template``), made
    once per shape rather than per line; a value of another type takes ``_json_value``.
    """
    head = [reading.received_at, reading.meter_time, reading.manufacturer, reading.list]
    values = reading.values
    # names, then types: one flat tuple (names are str, types are not), as CsvWriter's
    key: tuple[Any, ...] = (*values, *map(type, values.values()), *map(type, head))
    template = _json_plans.get(key, _NOT_MADE)
    if template is _NOT_MADE:
        if len(_json_plans) >= JSON_PLANS:
            _json_plans.clear()
        template = _json_plans[key] = _json_template(*_shape(values), tuple(map(type, head)))
    if template is not None:
        return template.line(head, values)
    order = {k: i for i, k in enumerate(COLUMNS[4:])}
    fields = [(name, value) for name, value in zip(_HEAD, head, strict=True) if value is not None]
    keys = sorted((k for k in values if k not in _HEAD), key=lambda k: order.get(k, len(order)))
    fields += [(k, values[k]) for k in keys]
    return "{" + ", ".join(f"{json.dumps(k)}: {_json_value(v)}" for k, v in fields) + "}"


#: One CSV cell per type, by one look-up: what ``_csv_cell`` prints for it. Other types (bool,
#: float, structures) take ``_csv_cell`` itself.
_CSV_CELL: Final[dict[type, Callable[[Any], str]]] = {
    Decimal: decimal_text,
    int: int.__repr__,
    str: csv_text,
    dt.datetime: time_text,
    type(None): lambda v: "",
}


class CsvWriter:
    """CSV rows of chosen columns; the header once (unless told not to), every row flushed
    (unless ``flush`` is False: the caller flushes, as ``amsread csv`` does before each read).

    Each shape of reading (value names and types) gets a row template once (``_template``): one
    ``str.format`` call prints a row. Readings with values of other types (floats, structures)
    take the planned row of cells, each printed by its type's function, and a column list that
    names a column twice takes the plain road, ``Reading.get`` per column.
    """

    def __init__(
        self, stream: TextIO, columns: tuple[str, ...], *, header: bool = True, flush: bool = True
    ) -> None:
        self._stream = stream
        self._flush = flush
        self._writer = csv.writer(stream, lineterminator="\n")
        self.columns = columns
        self._header_due = header
        self._planned = len(set(columns)) == len(columns)  # a name asked twice takes the plain road
        self._head = tuple((i, c) for i, c in enumerate(columns) if c in _HEAD)
        self._at = {c: i for i, c in enumerate(columns) if c not in _HEAD}
        self._empty = [""] * len(columns)
        self._templates: dict[tuple[Any, ...], Any] = {}  # a _Template, or None

    def write(self, reading: Reading) -> None:
        if self._header_due:
            self._writer.writerow(self.columns)
            self._header_due = False
        if self._planned:
            head = [reading.received_at, reading.meter_time, reading.manufacturer, reading.list]
            values = reading.values
            # names, then types: one flat tuple (names are str, types are not, so it is unambiguous)
            key: tuple[Any, ...] = (*values, *map(type, values.values()), *map(type, head))
            template = self._templates.get(key, _NOT_MADE)
            if template is _NOT_MADE:
                if len(self._templates) >= JSON_PLANS:
                    self._templates.clear()
                template = self._templates[key] = self._template(*_shape(values), tuple(map(type, head)))
            if template is not None:
                self._stream.write(template.line(head, values))
            else:
                self._writer.writerow(self._row(reading))
        else:
            self._writer.writerow(self._plain_row(reading))
        if self._flush:
            self._stream.flush()

    def _template(
        self, names: tuple[str, ...], types: tuple[type, ...], head_types: tuple[type, ...]
    ) -> _Template | None:
        """The template of rows of one shape: each column's cell by position among the head
        fields and the values (``{k}``, ``{k:f}``), empty where the reading has nothing."""
        if not set(types) <= _TEMPLATED or not set(head_types) <= _TEMPLATED or len(self.columns) < 2:
            return None  # (csv.writer writes a lone empty cell as "")
        position = {name: k for k, name in enumerate(_HEAD)}
        position.update({name: len(_HEAD) + k for k, name in enumerate(names)})
        kinds = head_types + types
        cells: list[str] = []
        convert: dict[int, Callable[[Any], str]] = {}
        for column in self.columns:
            k = position.get(column)
            if k is None or kinds[k] is type(None):
                cells.append("")
                continue
            cells.append(f"{{{k}}}")
            if kinds[k] is str:
                convert[k] = _csv_string
            elif kinds[k] is dt.datetime:
                convert[k] = time_text
            elif kinds[k] is Decimal:
                convert[k] = decimal_text
        line = ",".join(cells) + "\n"
        return _Template(line, tuple(convert.items()))

    def _row(self, reading: Reading) -> list[str]:
        row = self._empty.copy()
        cell = _CSV_CELL.get
        for i, name in self._head:
            value = reading.get(name)
            row[i] = cell(type(value), _csv_cell)(value)
        at = self._at.get
        for name, value in reading.values.items():
            k = at(name)
            if k is not None:
                row[k] = cell(type(value), _csv_cell)(value)
        return row

    def _plain_row(self, reading: Reading) -> list[str]:
        return [_csv_cell(reading.get(c)) for c in self.columns]


def _quoted(cell: str) -> str:
    """A text cell as ``csv.writer`` writes it among others (minimal quoting), for the row templates."""
    if not cell:
        return ""  # alone in a row csv.writer would write "", among others nothing
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow([cell])
    return out.getvalue()[:-1]


_csv_string = _cached(lambda text: _quoted(csv_text(text)))


def _csv_cell(value: object) -> str:
    """Numbers and times as ``format_value`` prints them; text guarded by ``csv_text``."""
    if isinstance(value, str):
        return csv_text(value)
    return format_value(value)


def text_listing(reading: Reading) -> str:
    """A readable listing of one reading: name, value with unit, OBIS code."""
    head = [
        f"meter_time      {format_value(reading.meter_time) or '-'}",
        f"manufacturer    {reading.manufacturer or '-'}",
        f"list            {reading.list or '-'}    (layout {reading.layout})",
    ]
    if reading.received_at is not None:
        head.insert(0, f"received_at     {format_value(reading.received_at)}")
    rows = []
    names = [c for c in COLUMNS[4:] if c in reading.values] + [k for k in reading.values if k not in COLUMNS]
    for name in names:
        value = format_value(reading.values[name])
        unit = reading.units.get(name, "")
        code = reading.obis.get(name, name if ":" in name else "")
        rows.append(f"{name:<26} {value + (' ' + unit if unit else ''):>22}   {code}")
    return "\n".join(head + rows)
