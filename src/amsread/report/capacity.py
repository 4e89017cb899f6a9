"""The month by the capacity-tariff rules (docs/report-contract.md, "The month").

Why three peaks on different days: since July 2022 Norwegian grid companies price the capacity
part by the mean of the three largest hourly consumptions of the month, taken on three different
days; the mean picks a price step. All arithmetic is Decimal, so a mean of 5, 5 and 5 is 5, and a
mean exactly on a threshold is decided by the tariff's rule, not by a rounding error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from amsread.report.hours import Hour

PEAK_DAYS: Final = 3


@dataclass(frozen=True, slots=True)
class DayMax:
    """A local date's largest hour."""

    date: dt.date
    start: dt.datetime
    import_kwh: Decimal


def daily_maxima(hours: Iterable[Hour], tz: dt.tzinfo) -> list[DayMax]:
    """For each local date (of the hour's start), its largest hourly import; the earliest hour wins
    a tie. In date order."""
    best: dict[dt.date, DayMax] = {}
    for hour in hours:
        local = hour.start.astimezone(tz)
        day = local.date()
        found = best.get(day)
        if found is None or hour.import_kwh > found.import_kwh:
            best[day] = DayMax(day, local, hour.import_kwh)
    return [best[d] for d in sorted(best)]


def peaks(daily: Iterable[DayMax], count: int = PEAK_DAYS) -> list[DayMax]:
    """The ``count`` largest daily maxima (each from a different day), largest first; fewer when
    the month has fewer days of data. Ties go to the earlier day."""
    return sorted(daily, key=lambda d: (-d.import_kwh, d.date))[:count]


def mean(values: Iterable[Decimal]) -> Decimal | None:
    """The exact mean, or None of nothing."""
    items = list(values)
    if not items:
        return None
    result = sum(items, Decimal(0)) / len(items)
    # 28 significant digits may leave a tail (20/3); an exact quotient stays exact (15/3 = 5)
    return result.quantize(Decimal(1)) if result == result.to_integral_value() else result


def capacity(daily: list[DayMax], method: str = "TRE_DØGNMAX_MND") -> tuple[Decimal | None, list[DayMax]]:
    """The month's capacity figure in kWh/h and the hours it is taken from, by the tariff method:
    ``TRE_DØGNMAX_MND`` the mean of three peaks on different days, ``MND_MAX`` the largest hour."""
    chosen = peaks(daily, 1 if method == "MND_MAX" else PEAK_DAYS)
    return mean(d.import_kwh for d in chosen), chosen
