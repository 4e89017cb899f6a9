"""How much more may this hour use before the month climbs a capacity step (report contract, "Live").

Pure, so that ``watch --grid`` and ``run --grid`` share one computation. With S the daily maxima of
the month's other days, k = min(3, days with data including today), T the next threshold and E the
energy so far this hour, the hour may reach X = k·T − (sum of the k − 1 largest of S) before the
mean of the three peaks reaches T; kWh left = max(0, X − E).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from amsread.report.capacity import PEAK_DAYS
from amsread.report.hours import HOUR, MAX_GAP, seconds
from amsread.report.tariffs import CREDIT, EXCLUDES, Step, Tariff

_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class Headroom:
    """The answer for this hour: the threshold aimed at, the hour's ceiling X, kWh and kW left."""

    threshold: Decimal | None
    ceiling_kwh: Decimal | None
    left_kwh: Decimal | None
    allowed_kw: Decimal | None
    passed: tuple[Decimal, ...]


def month_mean(other_days: Sequence[Decimal], today: Decimal) -> Decimal:
    """The mean of the month's peaks with today's largest hour so far (``today``) included."""
    best = sorted([*other_days, today], reverse=True)[:PEAK_DAYS]
    return sum(best, _ZERO) / len(best)


def headroom(
    other_days: Sequence[Decimal],
    today_max: Decimal,
    energy_so_far: Decimal,
    thresholds: Sequence[Decimal],
    hours_left: Decimal,
) -> Headroom:
    """kWh left this hour and the power allowed for the rest of it.

    ``today_max`` is today's largest hour so far, this hour's ``energy_so_far`` included. When the
    month's mean is already at or past a threshold, that step is reached (listed in ``passed``) and
    the next threshold is the aim; above the last one there is nothing left to watch (None).
    """
    mean = month_mean(other_days, max(today_max, energy_so_far))
    passed = tuple(t for t in sorted(thresholds) if 0 < t <= mean)
    ahead = [t for t in sorted(thresholds) if t > mean]
    if not ahead:
        return Headroom(None, None, None, None, passed)
    target = ahead[0]
    k = min(PEAK_DAYS, len(other_days) + 1)
    others = sorted(other_days, reverse=True)[: k - 1]
    ceiling = k * target - sum(others, _ZERO)
    left = max(_ZERO, ceiling - energy_so_far)
    allowed = left / hours_left if hours_left > 0 else None
    return Headroom(target, ceiling, left, allowed, passed)


def _hour_start(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


class LiveTariff:
    """The month so far, kept current from live readings: this hour's energy (power integrated since
    the hour began), each day's largest hour, and what the tariff makes of them.

    Seed it with the month's daily maxima from the history database when there is one; without it
    the month starts with what the watch itself sees. Pure: times come from the readings.
    """

    def __init__(
        self,
        tariff_for: Callable[[dt.date], Tariff],
        tz: dt.tzinfo,
        daily: dict[dt.date, Decimal] | None = None,
    ) -> None:
        self.tariff_for = tariff_for
        self.tz = tz
        self.daily: dict[dt.date, Decimal] = dict(daily or {})
        self.hour: dt.datetime | None = None
        self._ws = _ZERO  # watt-seconds this hour: exact, divided into kWh only when asked
        self.now: dt.datetime | None = None
        self._last: tuple[dt.datetime, Decimal] | None = None

    @property
    def energy(self) -> Decimal:
        """This hour's kWh so far."""
        return self._ws / 3_600_000

    def update(self, at: dt.datetime, power_w: Decimal | None) -> None:
        """Take the import power (W) seen at ``at``; other readings only move the clock."""
        if self.now is not None and at < self.now:
            return
        self.now = at
        if self.hour is None:
            self.hour = _hour_start(at)
        last = self._last
        if last is not None and dt.timedelta(0) < at - last[0] <= MAX_GAP:
            self._integrate(last[0], at, last[1])
        elif _hour_start(at) != self.hour:
            self._close(_hour_start(at))
        if power_w is not None:
            self._last = (at, power_w)

    def _integrate(self, start: dt.datetime, end: dt.datetime, watts: Decimal) -> None:
        while start < end:
            hour = _hour_start(start)
            if hour != self.hour:
                self._close(hour)
            stop = min(end, hour + HOUR)
            self._ws += watts * seconds(stop - start)
            start = stop

    def _close(self, new_hour: dt.datetime) -> None:
        """The hour is over: it counts for its day's maximum; a new one begins."""
        if self.hour is not None:
            day = self.hour.astimezone(self.tz).date()
            self.daily[day] = max(self.daily.get(day, _ZERO), self.energy)
        self.hour, self._ws = new_hour, _ZERO

    def status(self) -> Status | None:
        """Where the month stands now, or None before the first reading."""
        if self.now is None or self.hour is None:
            return None
        local = self.hour.astimezone(self.tz)
        today = local.date()
        month = [d for d in self.daily if (d.year, d.month) == (today.year, today.month)]
        others = [self.daily[d] for d in month if d != today]
        today_max = max(self.daily.get(today, _ZERO), self.energy)
        tariff = self.tariff_for(today.replace(day=1))
        thresholds = [s.from_kwh for s in tariff.steps]
        left = seconds(self.hour + HOUR - self.now) / 3600
        room = headroom(others, today_max, self.energy, thresholds, max(left, _ZERO))
        peaks = sorted([*others, today_max], reverse=True)[:PEAK_DAYS]
        mean = month_mean(others, today_max)
        return Status(tariff, self.energy, tuple(peaks), mean, tariff.step_for(mean), room)


@dataclass(frozen=True, slots=True)
class Status:
    """The live figures: this hour's kWh, the month's peaks and mean, the step, the headroom."""

    tariff: Tariff
    hour_kwh: Decimal
    peaks: tuple[Decimal, ...]
    mean: Decimal
    step: Step
    room: Headroom

    def lines(self) -> list[str]:
        """The figures as short lines for the live view."""
        q = Decimal("0.001")
        out = [
            f"This hour so far: {self.hour_kwh.quantize(q)} kWh",
            f"Peaks this month: {', '.join(str(p.quantize(q)) for p in self.peaks)} kWh"
            f" · mean {self.mean.quantize(q)} kWh/h",
            f"Step: from {self.step.from_kwh} kWh/h ({self.step.nok_per_year} kr/year)",
        ]
        room = self.room
        for passed in room.passed:
            if passed >= self.step.from_kwh:
                out.append(f"Step from {passed} kWh/h reached this month")
                break
        if room.threshold is None:
            out.append("Top step: no threshold above")
        else:
            allowed = (
                ""
                if room.allowed_kw is None
                else f", {room.allowed_kw.quantize(q)} kW for the rest of the hour"
            )
            out.append(
                f"Left before {room.threshold} kWh/h: {room.left_kwh.quantize(q) if room.left_kwh is not None else '-'} kWh{allowed}"
            )
        out.append(f"{self.tariff.company}; prices exclude {EXCLUDES} · {CREDIT}")
        return out
