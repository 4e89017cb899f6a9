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
from collections import Counter, deque
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from amsread import store
from amsread.contract import Reading
from amsread.errors import ReportError
from amsread.report.hours import HOUR, LIST3, MAX_GAP, SETTLE, Hour, HourBuilder, floor_hour, sample_of

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
    """The readings of a history database with ``start <= at < end`` that the hour rules need,
    streamed in time order: the same hours, peaks and events as every reading would give.

    Why not every reading: a month of an Aidon meter is a million rows, and all but a few hundred
    are power readings that the hourly lists overrule (bench/bench_tariff_seed.py: 40 s to start
    ``run --grid`` at a month's end). What the hour rules take from a power reading is the energy
    of an hour without a counter, the split of a stale repeat, and the moment hours settle; so
    ``_sparse`` reads every hourly list, the first row of every hour (hours settle at it), and
    the rows of only the hours not booked from counters, with ``MAX_GAP`` either side (a power
    reading is integrated up to ``MAX_GAP`` past it). Which hours those are it learns from a first
    ``HourBuilder`` fed only the hourly lists and first rows: its booking is the full replay's,
    sample for sample, so an hour it books from counters is booked so in the full replay too.

    A range that holds more than one meter is read whole: the report gives a reading without a
    meter id to the meter seen last, and which that is depends on the rows left out.
    """
    with store.HistoryReader(path) as reader:
        bounds = reader.bounds(start, end)
        if bounds is None:
            return
        if len(reader.meters(start, end)) > 1:
            for _, stored in reader.readings(start, end):
                yield stored.at, stored.reading
            return
        low = bounds[0] if start is None else max(start, bounds[0])
        high = bounds[1] + dt.timedelta(milliseconds=1)
        high = high if end is None else min(end, high)
        for _, stored in _sparse(reader, low, high):
            yield stored.at, stored.reading


#: A read run of needed hours is cut into queries of at most this long (bounded memory).
_MOST_READ: Final = dt.timedelta(days=1)


class _Booked:
    """The first pass: which hours the hourly lists book (``LIST3``), learnt from a ``HourBuilder``
    fed the marks (every hourly list and the first row of every hour), a little ahead of the
    second pass. The marks it has taken wait in ``marks`` until the second pass is past them."""

    def __init__(self, reader: store.HistoryReader, low: dt.datetime, high: dt.datetime) -> None:
        self._source = _marks(reader, low, high)
        self._builder = HourBuilder()
        self.marks: deque[store.Row] = deque()
        self._booked: set[dt.datetime] = set()
        self._known_to = low
        self._fed_to: dt.datetime | None = None
        self._done = False

    def feed_past(self, when: dt.datetime) -> None:
        """Take the marks up to ``when`` (the second pass hands out those in its pieces of marks)."""
        while not self._done and (self._fed_to is None or self._fed_to < when):
            self._step()

    def booked(self, hour: dt.datetime) -> bool:
        """Is ``hour`` booked from counters? False until the first pass is sure (reading an hour
        in full is never wrong, only slower). Asked once per hour, in order: the answer is dropped."""
        while not self._done and self._known_to <= hour:
            self._step()
        found = hour in self._booked
        self._booked.discard(hour)
        return found

    def _step(self) -> None:
        mark = next(self._source, None)
        if mark is None:
            self._take(self._builder.finish())
            self._done = True
            return
        self.marks.append(mark)
        at, reading = mark[1].at, mark[1].reading
        self._fed_to = at
        self._take(self._builder.add(sample_of(reading, at)))
        self._builder.events.clear()
        # hours settle at an hour's first row, up to SETTLE before it: those are final now
        self._known_to = max(self._known_to, floor_hour(at) - SETTLE)

    def _take(self, hours: Iterator[Hour]) -> None:
        for hour in hours:
            if hour.source == LIST3:
                self._booked.add(hour.start)


def _marks(reader: store.HistoryReader, low: dt.datetime, high: dt.datetime) -> Iterator[store.Row]:
    """Every hourly list and the first row of every hour in ``[low, high)``, in order, each once."""
    hourly = reader.hourly(low, high)
    pending = next(hourly, None)
    hour = floor_hour(low)
    while hour < high:
        after = min(hour + HOUR, high)
        first = reader.first(max(hour, low), after)
        while pending is not None and pending[1].at < after:
            if first is not None and (first[1].at, first[0]) < (pending[1].at, pending[0]):
                yield first
            elif first is not None and first[0] == pending[0]:
                pass  # the hour's first row is this hourly list
            else:
                yield pending
                pending = next(hourly, None)
                continue
            first = None
        if first is not None:
            yield first
        hour += HOUR


class _Runs:
    """Pieces of time joined into runs of one kind (read every row, or only the marks); a read run
    is cut at ``_MOST_READ`` so that no query holds up the marks waiting behind it for long."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = self.end = start
        self.read = True

    def add(
        self, start: dt.datetime, end: dt.datetime, read: bool
    ) -> Iterator[tuple[dt.datetime, dt.datetime, bool]]:
        if start >= end:
            return
        if read != self.read or (read and end - self.start > _MOST_READ):
            if self.end > self.start:
                yield self.start, self.end, self.read
            self.start, self.read = start, read
        self.end = end

    def close(self) -> Iterator[tuple[dt.datetime, dt.datetime, bool]]:
        if self.end > self.start:
            yield self.start, self.end, self.read


def _segments(
    booked: _Booked, low: dt.datetime, high: dt.datetime
) -> Iterator[tuple[dt.datetime, dt.datetime, bool]]:
    """``[low, high)`` cut into ``(start, end, read)``: every row read, or only the marks. Only the
    marks inside an hour booked from counters, save ``MAX_GAP`` at an edge it shares with an hour
    that is not (that hour's power readings are integrated from ``MAX_GAP`` before it to
    ``MAX_GAP`` after it). Beyond ``[low, high)`` nothing is read, so nothing there needs rows.
    The hour ``high`` falls in is read in full, from ``MAX_GAP`` before it: a live start
    (``LiveTariff``) integrates the hour in progress from its own power readings, whatever an
    hourly list with a clock ahead of the host's may have booked for it."""
    runs = _Runs(low)
    tail = floor_hour(high) - MAX_GAP
    hour = floor_hour(low)
    previous, this = True, booked.booked(hour)
    while hour < high:
        end = hour + HOUR
        following = end >= high or booked.booked(end)
        if this:
            skip_to = max(hour, min(end if following else end - MAX_GAP, tail))
            skip_from = min(hour if previous else hour + MAX_GAP, skip_to)
            yield from runs.add(max(low, hour), max(low, skip_from), True)
            yield from runs.add(max(low, skip_from), min(high, skip_to), False)
            yield from runs.add(max(low, skip_to), min(high, end), True)
        else:
            yield from runs.add(max(low, hour), min(high, end), True)
        previous, this, hour = this, following, end
    yield from runs.close()


def _sparse(reader: store.HistoryReader, low: dt.datetime, high: dt.datetime) -> Iterator[store.Row]:
    """The rows the hour rules need (``database``), in ``(at, id)`` order."""
    booked = _Booked(reader, low, high)
    for start, end, read in _segments(booked, low, high):
        marks = booked.marks
        if read:
            yield from reader.readings(start, end)
        else:
            booked.feed_past(end)
        while marks and marks[0][1].at < end:
            mark = marks.popleft()
            if not read and mark[1].at >= start:
                yield mark
