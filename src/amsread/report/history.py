"""The history a report reads: the database ``amsread run`` keeps, and CSV or JSON-lines files
from ``amsread csv``/``amsread json``. Each is streamed as ``(at, reading)`` in the file's order.

Why ``at``: the hour rules need to know when each reading was. The database has its own ``at``;
in a file it is ``received_at`` (the host clock), else ``meter_time``; a line with neither (a
replayed Aidon list 1) cannot be placed in time and is a counted skip, as is a line that is no
reading. A raw capture goes through the decoder in the command line, not here.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from amsread import store
from amsread.contract import Reading
from amsread.errors import ReportError

_HEAD: Final = ("received_at", "meter_time", "manufacturer", "list")
_TEXT: Final = frozenset(("list_version", "meter_id", "meter_type", "manufacturer"))

DATABASE: Final = "database"
JSON_LINES: Final = "json"
CSV: Final = "csv"
CAPTURE: Final = "capture"


def kind_of(path: Path) -> str:
    """What a history file is, from its first bytes: SQLite, JSON lines, our CSV, else a capture."""
    try:
        with path.open("rb") as f:
            head = f.read(64)
    except OSError as e:
        raise ReportError(f"cannot read {path}: {e.strerror or e}") from e
    if head.startswith(b"SQLite format 3\x00"):
        return DATABASE
    if head.lstrip().startswith(b"{"):
        return JSON_LINES
    if head.startswith(b"received_at,") or head.startswith(b"\xef\xbb\xbfreceived_at,"):
        return CSV
    return CAPTURE


def _when(text: Any, tz: dt.tzinfo) -> dt.datetime | None:
    if not text:
        return None
    when = dt.datetime.fromisoformat(str(text))
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def reading_from(fields: dict[str, Any], tz: dt.tzinfo) -> Reading:
    """A reading from the contract's names (a JSON line or a CSV row); numbers as Decimal."""
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if name in _HEAD or value is None or value == "":
            continue
        if name in _TEXT or name.endswith("_at") or isinstance(value, (bool, dict, list)):
            values[name] = value
        elif isinstance(value, str):
            try:
                values[name] = Decimal(value)
            except InvalidOperation:
                values[name] = value
        else:
            values[name] = value
    level = fields.get("list")
    return Reading(
        _when(fields.get("received_at"), tz),
        _when(fields.get("meter_time"), tz),
        fields.get("manufacturer") or None,
        int(level) if level not in (None, "") else None,
        values,
    )


def _timed(fields: dict[str, Any], tz: dt.tzinfo, skips: Counter[str]) -> tuple[dt.datetime, Reading] | None:
    try:
        reading = reading_from(fields, tz)
    except (ValueError, TypeError, ArithmeticError):
        skips["not a reading"] += 1
        return None
    at = reading.received_at or reading.meter_time
    if at is None:
        skips["no time"] += 1
        return None
    return at, reading


def json_lines(path: Path, tz: dt.tzinfo, skips: Counter[str]) -> Iterator[tuple[dt.datetime, Reading]]:
    """The readings of a file of ``amsread json`` lines, one at a time."""
    decoder = json.JSONDecoder(parse_float=Decimal)
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                fields = decoder.decode(line)
            except ValueError:
                skips["not JSON"] += 1
                continue
            if not isinstance(fields, dict):
                skips["not a reading"] += 1
                continue
            timed = _timed(fields, tz, skips)
            if timed is not None:
                yield timed


def csv_rows(path: Path, tz: dt.tzinfo, skips: Counter[str]) -> Iterator[tuple[dt.datetime, Reading]]:
    """The readings of a file of ``amsread csv`` rows, one at a time."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        for row in csv.DictReader(f):
            timed = _timed({k: v for k, v in row.items() if k is not None}, tz, skips)
            if timed is not None:
                yield timed


def database(
    path: Path, start: dt.datetime | None = None, end: dt.datetime | None = None
) -> Iterator[tuple[dt.datetime, Reading]]:
    """The readings of a history database with ``start <= at < end``, streamed."""
    for stored in store.read_readings(path, start, end):
        yield stored.at, stored.reading
