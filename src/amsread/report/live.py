"""How much more may this hour use before the month climbs a capacity step (report contract, "Live").

Pure, so that ``watch`` and ``run --grid`` share one computation. With S the daily maxima of the
month's other days, k = min(3, days with data including today), T the next threshold and E the
energy so far this hour, the hour may reach X = k·T − (sum of the k − 1 largest of S) before the
mean of the three peaks reaches T; kWh left = max(0, X − E).

Why the report's own hour code: the finished hours of the month (the daily maxima the peaks come
from) are taken by the very rules of ``amsread report`` (``hours.HourBuilder``: counters first, the
stale repeat split, estimates from power), so the live figures and the report never disagree about
the same history. Only the hour in progress is the power integrated since it began. A restart loses
nothing: the month so far is replayed from the history database through the same builder (the
readings its hours depend on: ``report.history.database``).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from amsread.contract import Reading
from amsread.errors import TariffError
from amsread.report.capacity import PEAK_DAYS, DayMax, mean, peaks
from amsread.report.hours import HOUR, MAX_GAP, SETTLE, Hour, HourBuilder, sample_of, seconds
from amsread.report.tariffs import CREDIT, EXCLUDES, Step, Tariff

_ZERO: Final = Decimal(0)
KWH: Final = Decimal("0.001")
NOK: Final = Decimal("0.01")
#: What the figures say instead of a step when there is no ``--grid``.
NO_GRID: Final = "--grid COMPANY adds the step and the kWh left this hour"

#: Readings of the history, in time order: ``(start, end)`` -> ``(at, reading)`` with start <= at < end.
History = Callable[[dt.datetime, dt.datetime], Iterable[tuple[dt.datetime, Reading]]]


@dataclass(frozen=True, slots=True)
class Headroom:
    """The answer for this hour: the threshold aimed at, the hour's ceiling X, kWh and kW left."""

    threshold: Decimal | None
    ceiling_kwh: Decimal | None
    left_kwh: Decimal | None
    allowed_kw: Decimal | None
    passed: tuple[Decimal, ...]


def month_mean(other_days: Sequence[Decimal], today: Decimal, count: int = PEAK_DAYS) -> Decimal:
    """The mean of the month's peaks with today's largest hour so far (``today``) included."""
    best = sorted([*other_days, today], reverse=True)[:count]
    return mean(best) or _ZERO


def headroom(
    other_days: Sequence[Decimal],
    today_max: Decimal,
    energy_so_far: Decimal,
    thresholds: Sequence[Decimal],
    hours_left: Decimal,
    count: int = PEAK_DAYS,
) -> Headroom:
    """kWh left this hour and the power allowed for the rest of it.

    ``today_max`` is today's largest hour so far, this hour's ``energy_so_far`` included. When the
    month's mean is already at or past a threshold, that step is reached (listed in ``passed``) and
    the next threshold is the aim; above the last one there is nothing left to watch (None).
    ``count`` is how many peaks the tariff takes (3, or 1 for ``MND_MAX``).
    """
    level = month_mean(other_days, max(today_max, energy_so_far), count)
    passed = tuple(t for t in sorted(thresholds) if 0 < t <= level)
    ahead = [t for t in sorted(thresholds) if t > level]
    if not ahead:
        return Headroom(None, None, None, None, passed)
    target = ahead[0]
    k = min(count, len(other_days) + 1)
    others = sorted(other_days, reverse=True)[: k - 1]
    ceiling = k * target - sum(others, _ZERO)
    left = max(_ZERO, ceiling - energy_so_far)
    allowed = left / hours_left if hours_left > 0 else None
    return Headroom(target, ceiling, left, allowed, passed)


def told(history: History, where: object, say: Callable[[str], None]) -> History:
    """``history``, saying when its replay begins and ends, how many readings it took and how long:
    from the history database only those the hour rules need (``report.history.database``), a
    fraction of a second at a month's end (bench/bench_tariff_seed.py); a file of another kind
    may be slower."""

    def replay(start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.datetime, Reading]]:
        say(f"reading the month so far from {where}…")
        began, count = time.monotonic(), 0
        for item in history(start, end):
            count += 1
            yield item
        say(f"the month so far: {count:,} readings from {where} in {time.monotonic() - began:.1f} s")

    return replay


def _hour_start(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def month_start(when: dt.datetime, tz: dt.tzinfo) -> dt.datetime:
    """The first instant of the local month holding ``when``."""
    local = when.astimezone(tz)
    return dt.datetime(local.year, local.month, 1, tzinfo=tz)


def _merge(days: dict[dt.date, DayMax], hours: Iterable[Hour], tz: dt.tzinfo) -> None:
    """Each hour counts for its local date's maximum (the earlier hour wins a tie, as in the report)."""
    for hour in hours:
        local = hour.start.astimezone(tz)
        found = days.get(local.date())
        if found is None or hour.import_kwh > found.import_kwh:
            days[local.date()] = DayMax(local.date(), local, hour.import_kwh)


class LiveTariff:
    """The month so far, kept current from live readings: this hour's energy (power integrated since
    the hour began), each day's largest hour (the report's hour rules), and what the tariff makes
    of them.

    ``history`` gives the readings already stored (the history database): at the first reading
    the month so far is replayed from it, so a restart keeps the month's peaks. ``tariff_for``
    None: no grid, the figures without a step. ``daily`` seeds daily maxima directly (tests).
    """

    def __init__(
        self,
        tariff_for: Callable[[dt.date], Tariff] | None,
        tz: dt.tzinfo,
        daily: dict[dt.date, Decimal] | None = None,
        *,
        history: History | None = None,
    ) -> None:
        self.tariff_for = tariff_for
        self.tz = tz
        self.history = history
        self.seeded = 0
        """Readings replayed from the history at the start."""
        self.skipped = 0
        """Readings that could not be placed in time (no clock, before any clock)."""
        self._settled: dict[dt.date, DayMax] = {}
        for day, kwh in (daily or {}).items():
            self._settled[day] = DayMax(day, dt.datetime.combine(day, dt.time(), tz), kwh)
        self._recent: dict[dt.date, DayMax] = {}
        self._builder = HourBuilder()
        self.hour: dt.datetime | None = None
        self._ws = _ZERO  # watt-seconds this hour: exact, divided into kWh only when asked
        self.now: dt.datetime | None = None
        self._last: tuple[dt.datetime, Decimal] | None = None

    @property
    def energy(self) -> Decimal:
        """This hour's kWh so far."""
        return self._ws / 3_600_000

    def days(self) -> dict[dt.date, DayMax]:
        """Each day's largest finished hour so far (the hour in progress not included)."""
        days = dict(self._settled)
        for day, found in self._recent.items():
            if day not in days or found.import_kwh > days[day].import_kwh:
                days[day] = found
        return dict(sorted(days.items()))

    @property
    def daily(self) -> dict[dt.date, Decimal]:
        """``days`` as kWh by date."""
        return {day: found.import_kwh for day, found in self.days().items()}

    def update(self, at: dt.datetime, power_w: Decimal | None) -> None:
        """Take the import power (W) seen at ``at`` alone (a reading of nothing else)."""
        values = {} if power_w is None else {"active_power_import": power_w}
        self.feed(Reading(at, None, None, 1, values), at)

    def feed(self, reading: Reading, at: dt.datetime | None = None) -> None:
        """Take one reading seen at ``at`` (default: its own clock, else the last time seen)."""
        at = at or reading.received_at or reading.meter_time or self.now
        if at is None or (self.now is not None and at < self.now - MAX_GAP):
            self.skipped += 1  # cannot be placed in time, or far out of order
            return
        if self.now is None and self.history is not None:
            self._seed(at)
        self._take(reading, at)

    def _seed(self, first: dt.datetime) -> None:
        """Replay the month so far (and the hours the month's first hour needs) from the history."""
        history, self.history = self.history, None
        assert history is not None
        start = month_start(first, self.tz) - SETTLE
        # only the hour in progress is integrated here; the hours before are the builder's
        recent = _hour_start(first) - MAX_GAP
        for at, reading in history(start, first):
            self._take(reading, at, live=at >= recent)
            self.seeded += 1
        self._provisional()

    def _take(self, reading: Reading, at: dt.datetime, *, live: bool = True) -> None:
        sample = sample_of(reading, at)
        hours = list(self._builder.add(sample))
        self._builder.events.clear()  # the report's events are not shown live
        _merge(self._settled, hours, self.tz)
        if not live:
            return
        new_hour = _hour_start(at) != self.hour
        self._power(max(at, self.now) if self.now is not None else at, sample.power_import)
        if new_hour or sample.hourly_clock is not None or hours:
            self._provisional()

    def _power(self, at: dt.datetime, power_w: Decimal | None) -> None:
        """Integrate the power into this hour's energy (the live part: the hour in progress)."""
        self.now = at
        if self.hour is None:
            self.hour = _hour_start(at)
        last = self._last
        if last is not None and dt.timedelta(0) < at - last[0] <= MAX_GAP:
            self._integrate(last[0], at, last[1])
        if _hour_start(at) != self.hour:  # a gap, or a reading right on the full hour
            self.hour, self._ws = _hour_start(at), _ZERO
        if power_w is not None:
            self._last = (at, power_w)

    def _integrate(self, start: dt.datetime, end: dt.datetime, watts: Decimal) -> None:
        while start < end:
            hour = _hour_start(start)
            if hour != self.hour:
                self.hour, self._ws = hour, _ZERO
            stop = min(end, hour + HOUR)
            self._ws += watts * seconds(stop - start)
            start = stop

    def _provisional(self) -> None:
        """The finished hours not yet settled (a later hourly list may still change them): what
        the report would say of them if the history ended now, from a copy of the builder."""
        self._recent = {}
        ahead = copy.deepcopy(self._builder)
        _merge(self._recent, (h for h in ahead.finish() if self.hour is None or h.start < self.hour), self.tz)

    def status(self) -> Status | None:
        """Where the month stands now, or None before the first reading."""
        if self.now is None or self.hour is None:
            return None
        local = self.hour.astimezone(self.tz)
        today = local.date()
        finished = self.days()
        days = [d for d in finished.values() if (d.date.year, d.date.month) == (today.year, today.month)]
        before = finished.get(today)
        days = [d for d in days if d.date != today]
        today_max = before if before is not None and before.import_kwh >= self.energy else None
        today_max = today_max or DayMax(today, local, self.energy)
        tariff, note = self._tariff(today.replace(day=1))
        count = 1 if tariff is not None and tariff.method == "MND_MAX" else PEAK_DAYS
        chosen = peaks([*days, today_max], count)
        level = mean(d.import_kwh for d in chosen) or _ZERO
        step = room = None
        if tariff is not None:
            thresholds = [s.from_kwh for s in tariff.steps]
            left = max(seconds(self.hour + HOUR - self.now) / 3600, _ZERO)
            others = [d.import_kwh for d in days]
            room = headroom(others, today_max.import_kwh, self.energy, thresholds, left, count)
            step = tariff.step_for(level)
        return Status(
            self.now, self.hour, self.tz, self.energy, tuple(chosen), level, tariff, step, room, note
        )

    def _tariff(self, month: dt.date) -> tuple[Tariff | None, str | None]:
        """The tariff of the month, or None and why not (no grid, no tariff, a method not computed)."""
        if self.tariff_for is None:
            return None, NO_GRID
        try:
            tariff = self.tariff_for(month)
        except TariffError as e:
            return None, str(e)
        if not tariff.computed:
            return None, f"{tariff.company} uses the method {tariff.method}, which amsread does not compute"
        return tariff, None


def _q(value: Decimal | None, places: Decimal = KWH) -> Decimal | None:
    return None if value is None else value.quantize(places)


@dataclass(frozen=True, slots=True)
class Status:
    """The live figures: this hour's kWh, the month's peaks and mean, the step, the headroom.

    ``tariff`` None: no grid (or none usable, ``note`` says why): no step, no headroom.
    """

    at: dt.datetime
    hour: dt.datetime
    tz: dt.tzinfo
    hour_kwh: Decimal
    peaks: tuple[DayMax, ...]
    mean: Decimal
    tariff: Tariff | None = None
    step: Step | None = None
    room: Headroom | None = None
    note: str | None = None

    @property
    def month(self) -> str:
        return self.hour.astimezone(self.tz).strftime("%Y-%m")

    def lines(self) -> list[str]:
        """The figures as short lines for the live view and the piped note."""
        out = [
            f"This hour so far: {self.hour_kwh.quantize(KWH)} kWh",
            f"Peaks this month: {', '.join(str(p.import_kwh.quantize(KWH)) for p in self.peaks)} kWh"
            f" · mean {self.mean.quantize(KWH)} kWh/h",
        ]
        if self.tariff is None or self.step is None or self.room is None:
            out.append(self.note or NO_GRID)
            return out
        out.append(f"Step: from {self.step.from_kwh} kWh/h ({self.step.nok_per_year} kr/year)")
        room = self.room
        for passed in room.passed:
            if passed >= self.step.from_kwh:
                out.append(f"Step from {passed} kWh/h reached this month")
                break
        if room.threshold is None or room.left_kwh is None:
            out.append("Top step: no threshold above")
        else:
            allowed = (
                ""
                if room.allowed_kw is None
                else f", {room.allowed_kw.quantize(KWH)} kW for the rest of the hour"
            )
            out.append(f"Left before {room.threshold} kWh/h: {room.left_kwh.quantize(KWH)} kWh{allowed}")
        out.append(f"{self.tariff.company}; prices exclude {EXCLUDES} · {CREDIT}")
        return out


def _number(value: Decimal | None, places: Decimal = KWH) -> str:
    return "null" if value is None else format(value.quantize(places), "f")


def _step_json(step: Step | None) -> str:
    if step is None:
        return "null"
    to = "null" if step.to_kwh is None else format(step.to_kwh, "f")
    return (
        f'{{"from_kwh": {format(step.from_kwh, "f")}, "to_kwh": {to}, '
        f'"nok_per_year": {format(step.nok_per_year, "f")}}}'
    )


def figures_json(
    status: Status, meter_id: str | None, group: str | None = None, *, timed: bool = True
) -> str:
    """The live figures as one JSON object (docs/mqtt.md, "The tariff topic"): kWh with 3 decimals
    and money with 2, exact. ``timed`` False leaves out ``time`` (to tell whether anything else
    changed)."""
    tz = status.tz
    room, step, tariff = status.room, status.step, status.tariff
    peaks_json = ", ".join(
        f'{{"date": "{p.date}", "import_kwh": {_number(p.import_kwh)}}}' for p in status.peaks
    )
    parts = [f'"meter_id": {json.dumps(meter_id)}']
    if timed:
        parts.append(f'"time": "{status.at.astimezone(tz).isoformat()}"')
    parts += [
        f'"month": "{status.month}"',
        f'"hour_start": "{status.hour.astimezone(tz).isoformat()}"',
        f'"hour_kwh": {_number(status.hour_kwh)}',
        f'"peaks": [{peaks_json}]',
        f'"capacity_kwh": {_number(status.mean)}',
        f'"company": {json.dumps(tariff.company if tariff else None, ensure_ascii=False)}',
        f'"group": {json.dumps(group if tariff else None, ensure_ascii=False)}',
        f'"method": {json.dumps(tariff.method if tariff else None, ensure_ascii=False)}',
        f'"step": {_step_json(step)}',
        f'"capacity_nok": {_number(step.nok_per_year / 12 if step else None, NOK)}',
        f'"next_threshold_kwh": {_number(room.threshold if room else None)}',
        f'"left_kwh": {_number(room.left_kwh if room else None)}',
        f'"allowed_kw": {_number(room.allowed_kw if room else None)}',
        f'"note": {json.dumps(status.note, ensure_ascii=False)}',
    ]
    if tariff is not None:
        parts.append(f'"excludes": "{EXCLUDES}"')
    return "{" + ", ".join(parts) + "}"


class LiveFigures:
    """``run --grid``'s destination: every reading into a ``LiveTariff``, and the figures, when
    they change, to each of ``outputs`` (the history database, the MQTT publisher) as
    ``(meter_id, figures JSON)``. It has the shape of every ``run`` destination (``name``,
    ``handle``, ``close``), so it runs on its own lane and never holds up the port.

    Nothing goes out before a reading has named the meter (an Aidon list 1 does not).
    """

    name = "tariff"

    def __init__(
        self,
        live: LiveTariff,
        outputs: Sequence[Callable[[str, str], None]],
        group: str | None = None,
    ) -> None:
        self.live = live
        self.outputs = outputs
        self.group = group
        self.meter_id: str | None = None
        self.published = 0
        self._last: str | None = None

    def handle(self, reading: Reading, raw: object = None) -> None:
        """Take one reading; hand the figures on if they changed."""
        self.live.feed(reading)
        meter = reading.values.get("meter_id")
        if meter:
            self.meter_id = str(meter)
        status = self.live.status()
        if self.meter_id is None or status is None:
            return
        key = figures_json(status, self.meter_id, self.group, timed=False)
        if key == self._last:
            return
        self._last = key
        figures = figures_json(status, self.meter_id, self.group)
        for output in self.outputs:
            output(self.meter_id, figures)
        self.published += 1

    def close(self) -> None:
        """Nothing to release: the outputs are closed by their own lanes."""
