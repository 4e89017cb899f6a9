"""The month's 15-minute peak of a Belgian (Flemish) meter, for the capacity tariff.

Why: since 1 January 2023 the Flemish grid charge ("capaciteitstarief") is priced by demand, not
only by energy. Each quarter hour's average power is a "kwartierpiek"; the month's largest is the
"maandpiek"; the grid bills the mean of the last 12 monthly peaks, each counted as at least
2.5 kW. Sources: VREG, "Capaciteitstarief: van kwartiervermogen tot gemiddelde maandpiek"
(https://www.vreg.be/nl/capaciteitstarief-van-kwartiervermogen-tot-gemiddelde-maandpiek) and its
FAQ (https://www.vreg.be/nl/faq/capaciteitstarief); the per-month 2.5 kW floor before the mean as
worked through in https://nl.wikibooks.org/wiki/Energietransitie/Capaciteitstarief.

Where the figure comes from, best first:

- ``meter``: the meter's own month peak ``1-0:1.6.0`` (decoded as
  ``active_power_import_max_month`` with its time); it is the figure the grid bills.
- ``counters``: computed from the energy counters, which a P1 meter sends in every telegram: a
  quarter ``[b, b + 15 min)`` used ``counter(b + 15 min) − counter(b)`` kWh, so its mean demand is
  four times that in kW; the counter at a boundary is the first reading at most ``MAX_GAP`` after
  it. Decimal throughout, so the figure is as exact as the counters' resolution (1 Wh).
- ``average_demand``: the largest ``1-0:1.4.0`` (the running quarter's average demand) seen in the
  month, where no quarter could be taken from counters; the meter's 1.6.0 is the largest of these.

The 12-month mean takes the peaks of earlier months from the meter's history ``0-0:98.1.0``
(decoded as ``active_power_import_max_history``) and from the months reported before.

Times: quarters follow the meter's clock (``meter_time``) where the reading has one, since the
meter cuts its quarters by that clock; a computed peak is stamped with its quarter's end, as the
meter stamps its own.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from amsread.contract import Reading
from amsread.decode import p1
from amsread.report.hours import MAX_GAP, exact_decimal

QUARTER: Final = dt.timedelta(minutes=15)
#: The least monthly peak the Flemish tariff counts (kW).
MINIMUM_KW: Final = Decimal("2.5")
#: Months in the billed mean.
MEAN_MONTHS: Final = 12
QUARTERS_PER_HOUR: Final = 4

METER: Final = "meter"
COUNTERS: Final = "counters"
AVERAGE_DEMAND: Final = "average_demand"

#: The decoder's names for the Belgian capacity-tariff lines (decode/p1.py).
_AVERAGE: Final = p1.AVERAGE_DEMAND
_PEAK: Final = p1.MONTH_PEAK
_PEAK_AT: Final = p1.MONTH_PEAK_AT
_HISTORY: Final = p1.PEAK_HISTORY
_BELGIAN: Final = (_AVERAGE, _PEAK, _HISTORY)
#: One entry of the decoded history: ``2023-05-01: 6985 W at 2023-04-23T20:30:00+02:00``.
_ENTRY: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2}): ([-+]?\d+(?:\.\d+)?) (W|kW) at (\S+)")
_KW_PER_W: Final = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class QuarterPeak:
    """A 15-minute peak: its mean demand (kW), when (the meter's stamp, or the quarter's end) and
    where the figure comes from (``METER``, ``COUNTERS`` or ``AVERAGE_DEMAND``)."""

    kw: Decimal
    at: dt.datetime | None
    source: str


@dataclass(frozen=True, slots=True)
class QuarterMonth:
    """What a month's report says about the 15-minute peak."""

    peak: QuarterPeak | None
    months: tuple[tuple[str, Decimal], ...]
    """The monthly peaks (kW) of the last ``MEAN_MONTHS`` months that the history holds, oldest first."""
    from_history: bool
    """The meter sent its peak history (0-0:98.1.0)."""

    @property
    def billed_kw(self) -> Decimal | None:
        """The month's peak as the tariff counts it: at least ``MINIMUM_KW``."""
        return None if self.peak is None else max(self.peak.kw, MINIMUM_KW)

    @property
    def mean_kw(self) -> Decimal | None:
        """The mean of the monthly peaks held, each at least ``MINIMUM_KW``: shown when the meter
        sent its own history or the history holds all ``MEAN_MONTHS`` months (a mean of the few
        months a file happens to span is no figure the grid uses)."""
        if not self.months or not (self.from_history or len(self.months) >= MEAN_MONTHS):
            return None
        total = sum((max(kw, MINIMUM_KW) for _, kw in self.months), Decimal(0))
        result = total / len(self.months)
        return result.quantize(Decimal(1)) if result == result.to_integral_value() else result


def _time(value: Any, tz: dt.tzinfo) -> dt.datetime | None:
    """A datetime as decoded, or as written back from a JSON line, CSV row or the database."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, str) and value:
        try:
            return _time(dt.datetime.fromisoformat(value), tz)
        except ValueError:
            return None
    return None


def floor_quarter(when: dt.datetime) -> dt.datetime:
    """The start (UTC) of the quarter hour holding ``when`` (quarters are the same in every zone
    whose offset is whole quarter hours, Belgium's included)."""
    utc = when.astimezone(dt.UTC)
    return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)


def history_entries(text: str, tz: dt.tzinfo) -> list[tuple[str, QuarterPeak]]:
    """The decoded 0-0:98.1.0 text as (month, peak): each entry is stamped with the first
    instant after its month (``2023-05-01`` holds April's peak), so its month is the one before."""
    entries = []
    for m in _ENTRY.finditer(text):
        stored = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))) - dt.timedelta(days=1)
        value = Decimal(m.group(4))
        kw = value * _KW_PER_W if m.group(5) == "W" else value
        entries.append((stored.strftime("%Y-%m"), QuarterPeak(kw, _time(m.group(6), tz), METER)))
    return entries


def _larger(found: QuarterPeak | None, new: QuarterPeak) -> QuarterPeak:
    return new if found is None or new.kw > found.kw else found


def previous_months(month: str, count: int) -> list[str]:
    """``month`` and the ``count − 1`` months before it, oldest first."""
    year, number = (int(x) for x in month.split("-"))
    index = year * 12 + number - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1)]


@dataclass(slots=True)
class QuarterTracker:
    """One meter's 15-minute peaks, fed its readings in time order; a few numbers per month."""

    tz: dt.tzinfo
    seen: bool = False
    """The meter sent a Belgian capacity-tariff line: only then does its report show the peak."""
    from_history: bool = False
    _meter: dict[str, QuarterPeak] = field(default_factory=dict)
    _counted: dict[str, QuarterPeak] = field(default_factory=dict)
    _average: dict[str, QuarterPeak] = field(default_factory=dict)
    _past: dict[str, Decimal] = field(default_factory=dict)
    _open: tuple[dt.datetime, Decimal] | None = None
    _last: dt.datetime | None = None
    _month: tuple[dt.datetime, dt.datetime, str] | None = None
    _quarter_end: dt.datetime | None = None
    _last_peak: tuple[Any, Any] | None = None
    _last_history: str | None = None

    def add(self, at: dt.datetime, reading: Reading) -> None:
        """Take one reading seen at ``at``."""
        values = reading.values
        if not self.seen and not any(name in values for name in _BELGIAN):
            return
        self.seen = True
        when = reading.meter_time or at
        month = self._month_of(when)
        self._meter_peak(values, month)
        average = exact_decimal(values.get(_AVERAGE))
        if average is not None:
            kw = average * _KW_PER_W
            found = self._average.get(month)
            if found is None or kw > found.kw:
                self._average[month] = QuarterPeak(kw, when.astimezone(self.tz), AVERAGE_DEMAND)
        history = values.get(_HISTORY)
        if isinstance(history, str) and history and history != self._last_history:
            self._last_history = history  # sent with every telegram, read once per change
            self.from_history = True
            for key, peak in history_entries(history, self.tz):
                self._past[key] = peak.kw
        counter = exact_decimal(values.get("active_energy_import"))
        if counter is not None:
            self._counter(when, counter)

    def _month_of(self, when: dt.datetime) -> str:
        """``YYYY-MM`` of ``when`` in the meter's zone; worked out once a month, not per reading."""
        if self._month is None or not self._month[0] <= when < self._month[1]:
            local = when.astimezone(self.tz)
            first = dt.datetime(local.year, local.month, 1, tzinfo=self.tz).astimezone(dt.UTC)
            after = dt.datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=self.tz)
            after = after.astimezone(dt.UTC)  # UTC bounds: the cheapest to compare with
            self._month = (first, after, f"{local.year:04d}-{local.month:02d}")
        return self._month[2]

    def _meter_peak(self, values: dict[str, Any], month: str) -> None:
        """The meter's 1.6.0, filed under the month of its stamp (the register restarts monthly);
        the same value and stamp as the last telegram's (nearly every time) is not read again."""
        raw = (values.get(_PEAK), values.get(_PEAK_AT))
        if raw[0] is None or raw == self._last_peak:
            return
        self._last_peak = raw
        peak = exact_decimal(raw[0])
        if peak is None:
            return
        stamp = _time(values.get(_PEAK_AT), self.tz)
        key = stamp.astimezone(self.tz).strftime("%Y-%m") if stamp is not None else month
        self._meter[key] = _larger(self._meter.get(key), QuarterPeak(peak * _KW_PER_W, stamp, METER))

    def _counter(self, when: dt.datetime, counter: Decimal) -> None:
        """Close a quarter when a reading comes soon enough after its end."""
        last, self._last = self._last, when
        if last is not None and when < last:
            return
        if self._quarter_end is not None and when < self._quarter_end:
            return  # still the same quarter
        boundary = floor_quarter(when)
        self._quarter_end = boundary + QUARTER
        if when - boundary > MAX_GAP:
            self._open = None  # no reading near the boundary: neither quarter around it is known
            return
        opened, self._open = self._open, (boundary, counter)
        if opened is None or opened[0] + QUARTER != boundary or counter < opened[1]:
            return
        kw = (counter - opened[1]) * QUARTERS_PER_HOUR
        month = opened[0].astimezone(self.tz).strftime("%Y-%m")
        self._counted[month] = _larger(
            self._counted.get(month), QuarterPeak(kw, boundary.astimezone(self.tz), COUNTERS)
        )

    def close(self, month: str) -> QuarterMonth | None:
        """What ``month``'s report shows (None for a meter that sent no Belgian line); forgets
        what it kept for that month and before, but the monthly peaks for the later means."""
        if not self.seen:
            return None
        peak = self._meter.get(month) or self._counted.get(month) or self._average.get(month)
        if peak is not None:
            self._past[month] = peak.kw
        wanted = previous_months(month, MEAN_MONTHS)
        months = tuple((key, self._past[key]) for key in wanted if key in self._past)
        for kept in (self._meter, self._counted, self._average):
            for key in [k for k in kept if k <= month]:
                del kept[key]
        for key in [k for k in self._past if k < wanted[0]]:
            del self._past[key]
        return QuarterMonth(peak, months, self.from_history)
