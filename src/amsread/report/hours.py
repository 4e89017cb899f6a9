"""Hourly energy from a meter's history, by the rules of docs/report-contract.md ("Hours").

Why counters first: the hourly list (list 3) carries the meter's own cumulative counters, so the
difference of two consecutive lists is the energy of the hour between them, exactly, to the meter's
resolution. Power readings only estimate it (they are samples), so they serve where no counter
does: the hour a capture started in, a missing list 3, a counter that went down. One rule the peers
get wrong is handled here: an Aidon meter sometimes resends the previous hourly list (same meter
clock, same counters); that list is no reading, and the two hours around it share the next good
difference.

Streaming: ``HourBuilder`` keeps only the last few hours open; an hour is handed out once no later
reading can change it (``SETTLE`` after its end), so a year of readings passes in constant memory.
Everything is ``Decimal``; nothing goes through a binary float.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from amsread.contract import Reading

HOUR: Final = dt.timedelta(hours=1)
#: A gap between two power readings longer than this is not integrated over (the hour is incomplete).
MAX_GAP: Final = dt.timedelta(seconds=60)
#: An hour is final once the history has moved this far past its start: the split of a stale
#: repeat needs the good list that comes two hours after the start of the first hour it covers.
SETTLE: Final = dt.timedelta(hours=3)
SECONDS_PER_HOUR: Final = Decimal(3600)
_W_SECONDS_PER_KWH: Final = Decimal(3_600_000)
_ZERO: Final = Decimal(0)

LIST3: Final = "list3"
SPLIT: Final = "split"
ESTIMATE: Final = "estimate"
#: The second hour of a split, until the first is handed out and the difference shared.
_SHARED: Final = "shared"
#: The first hour of a split, holding the whole difference until it is shared.
_TOTAL: Final = "total"


@dataclass(frozen=True, slots=True)
class Hour:
    """One hour ``[start, start + 1 h)`` (``start`` in UTC) and what the history says it used."""

    start: dt.datetime
    import_kwh: Decimal
    export_kwh: Decimal
    source: str
    complete: bool


@dataclass(frozen=True, slots=True)
class Event:
    """Something the report should mention: a stale repeat, a counter that went down, a clock jump."""

    type: str
    meter_time: dt.datetime | None


@dataclass(frozen=True, slots=True)
class Sample:
    """What the hour rules need of one reading: when it was, its power, its counters if hourly."""

    at: dt.datetime
    power_import: Decimal | None = None
    power_export: Decimal | None = None
    hourly_clock: dt.datetime | None = None
    counter_import: Decimal | None = None
    counter_export: Decimal | None = None
    meter_time: dt.datetime | None = None


def exact_decimal(value: Any) -> Decimal | None:
    """An exact Decimal of a reading's value, or None for an absent or unusable one."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def sample_of(reading: Reading, at: dt.datetime) -> Sample:
    """The sample of a reading seen at ``at`` (aware). A list 3 with a clock and an import counter
    is an hourly reading; its clock is rounded to the nearest full hour (some meters stamp it a
    few seconds after the hour)."""
    values = reading.values
    counter = exact_decimal(values.get("active_energy_import"))
    clock = None
    if reading.list == 3 and counter is not None and reading.meter_time is not None:
        clock = round_hour(reading.meter_time)
    return Sample(
        at=at.astimezone(dt.UTC),
        power_import=exact_decimal(values.get("active_power_import")),
        power_export=exact_decimal(values.get("active_power_export")),
        hourly_clock=clock,
        counter_import=counter if clock is not None else None,
        counter_export=exact_decimal(values.get("active_energy_export")) if clock is not None else None,
        meter_time=reading.meter_time,
    )


def floor_hour(when: dt.datetime) -> dt.datetime:
    """The start (UTC) of the hour holding ``when``. Whole-hour UTC offsets (all of Norway's) make
    the UTC hour and the local hour the same interval."""
    return when.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def round_hour(when: dt.datetime) -> dt.datetime:
    """The full hour (UTC) nearest ``when``."""
    return floor_hour(when.astimezone(dt.UTC) + dt.timedelta(minutes=30))


def seconds(delta: dt.timedelta) -> Decimal:
    """A timedelta as exact Decimal seconds."""
    return Decimal(delta // dt.timedelta(microseconds=1)) / 1_000_000


@dataclass(slots=True)
class _Power:
    """The power readings of one hour, integrated: watt-seconds in and out (exact; divided into kWh
    once, at the end), and the seconds they cover."""

    import_ws: Decimal = _ZERO
    export_ws: Decimal = _ZERO
    covered: Decimal = _ZERO

    @property
    def import_kwh(self) -> Decimal:
        return self.import_ws / _W_SECONDS_PER_KWH

    @property
    def export_kwh(self) -> Decimal:
        return self.export_ws / _W_SECONDS_PER_KWH


@dataclass(slots=True)
class _Counted:
    import_kwh: Decimal
    export_kwh: Decimal
    source: str


@dataclass(slots=True)
class HourBuilder:
    """Turns one meter's samples, in time order, into its hours, in time order."""

    events: list[Event] = field(default_factory=list)
    skipped: int = 0
    _power: dict[dt.datetime, _Power] = field(default_factory=dict)
    _counted: dict[dt.datetime, _Counted] = field(default_factory=dict)
    _last_power: tuple[dt.datetime, Decimal, Decimal] | None = None
    _last_list3: tuple[dt.datetime, Decimal, Decimal | None] | None = None
    _stale: bool = False
    _now: dt.datetime | None = None
    _emitted_to: dt.datetime | None = None
    _settle_hour: dt.datetime | None = None

    def add(self, sample: Sample) -> Iterator[Hour]:
        """Take one sample; yield the hours that no later sample can change any more."""
        if self._now is not None and sample.at < self._now - MAX_GAP:
            self.skipped += 1  # out of time order: it would change hours already handed out
            return
        self._now = sample.at if self._now is None else max(self._now, sample.at)
        if sample.power_import is not None:
            self._add_power(sample.at, sample.power_import, sample.power_export or _ZERO)
        if sample.hourly_clock is not None and sample.counter_import is not None:
            self._add_counters(sample)
        hour = floor_hour(self._now)
        if hour != self._settle_hour:  # hours settle only as a new hour begins
            self._settle_hour = hour
            yield from self._settled(self._now - SETTLE)

    def finish(self) -> Iterator[Hour]:
        """The hours still open at the end of the history."""
        yield from self._settled(None)

    # -- power ---------------------------------------------------------------------------

    def _add_power(self, at: dt.datetime, p_in: Decimal, p_out: Decimal) -> None:
        last = self._last_power
        self._power.setdefault(floor_hour(at), _Power())
        if last is not None and dt.timedelta(0) < at - last[0] <= MAX_GAP:
            self._integrate(last[0], at, last[1], last[2])
        if last is None or at >= last[0]:
            self._last_power = (at, p_in, p_out)

    def _integrate(self, start: dt.datetime, end: dt.datetime, p_in: Decimal, p_out: Decimal) -> None:
        """Hold the power from ``start`` to ``end``, cut at full hours."""
        while start < end:
            hour = floor_hour(start)
            stop = min(end, hour + HOUR)
            span = seconds(stop - start)
            acc = self._power.setdefault(hour, _Power())
            acc.import_ws += p_in * span
            acc.export_ws += p_out * span
            acc.covered += span
            start = stop

    # -- counters ------------------------------------------------------------------------

    def _add_counters(self, s: Sample) -> None:
        assert s.hourly_clock is not None and s.counter_import is not None
        clock, c_in, c_out = s.hourly_clock, s.counter_import, s.counter_export
        last = self._last_list3
        if last is None:
            self._last_list3 = (clock, c_in, c_out)
            return
        previous, p_in, p_out = last
        if clock == previous:
            self._stale = True
            self.events.append(Event("stale_list3", s.meter_time))
            return
        if clock < previous:
            self.events.append(Event("clock_back", s.meter_time))
        elif c_in < p_in or (c_out is not None and p_out is not None and c_out < p_out):
            self.events.append(Event("counter_down", s.meter_time))
        elif clock - previous == HOUR:
            self._book(previous, c_in - p_in, _difference(c_out, p_out), LIST3)
        elif clock - previous == 2 * HOUR and self._stale:
            self._split(previous, c_in - p_in, _difference(c_out, p_out))
        else:
            self.events.append(Event("list3_gap", s.meter_time))
        self._stale = False
        self._last_list3 = (clock, c_in, c_out)

    def _book(self, start: dt.datetime, e_in: Decimal, e_out: Decimal, source: str) -> None:
        if self._emitted_to is not None and start < self._emitted_to:
            self.skipped += 1  # a meter clock far behind the host's: that hour is already out
            return
        self._counted[start] = _Counted(e_in, e_out, source)

    def _split(self, first: dt.datetime, e_in: Decimal, e_out: Decimal) -> None:
        """Book one difference for two hours; it is shared when the first is handed out, by then
        the power readings of both hours are all in."""
        self._book(first, e_in, e_out, _TOTAL)
        self._book(first + HOUR, _ZERO, _ZERO, _SHARED)

    def _share_split(self, first: dt.datetime, total: _Counted) -> _Counted:
        """The first hour's part of a split by what the power of each hour integrates to; the
        second hour gets the rest (so the two add up to the difference exactly)."""
        second = first + HOUR
        a, b = self._power.get(first), self._power.get(second)
        in_a = _share(total.import_kwh, a.import_ws if a else None, b.import_ws if b else None)
        out_a = _share(total.export_kwh, a.export_ws if a else None, b.export_ws if b else None)
        if self._counted.get(second, _Counted(_ZERO, _ZERO, "")).source == _SHARED:
            self._counted[second] = _Counted(total.import_kwh - in_a, total.export_kwh - out_a, SPLIT)
        return _Counted(in_a, out_a, SPLIT)

    # -- handing out -----------------------------------------------------------------------

    def _settled(self, before: dt.datetime | None) -> Iterator[Hour]:
        starts = sorted(
            h for h in self._power.keys() | self._counted.keys() if before is None or h + HOUR <= before
        )
        for start in starts:
            yield self._hour(start)
            self._emitted_to = start + HOUR

    def _hour(self, start: dt.datetime) -> Hour:
        counted = self._counted.pop(start, None)
        if counted is not None and counted.source == _TOTAL:
            counted = self._share_split(start, counted)
        power = self._power.pop(start, None)
        if counted is not None:
            return Hour(start, counted.import_kwh, counted.export_kwh, counted.source, True)
        assert power is not None
        complete = power.covered >= SECONDS_PER_HOUR
        return Hour(start, power.import_kwh, power.export_kwh, ESTIMATE, complete)


def _difference(now: Decimal | None, before: Decimal | None) -> Decimal:
    return now - before if now is not None and before is not None else _ZERO


def _share(total: Decimal, a: Decimal | None, b: Decimal | None) -> Decimal:
    """The first hour's part of ``total``: in proportion to ``a``:``b``, or half without both."""
    if a is None or b is None or a + b <= 0:
        return total / 2
    return total * a / (a + b)
