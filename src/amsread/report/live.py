"""How much more may this hour use before the month climbs a capacity step (report contract, "Live").

Pure, so that ``watch --grid`` and ``run --grid`` share one computation. With S the daily maxima of
the month's other days, k = min(3, days with data including today), T the next threshold and E the
energy so far this hour, the hour may reach X = k·T − (sum of the k − 1 largest of S) before the
mean of the three peaks reaches T; kWh left = max(0, X − E).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from amsread.report.capacity import PEAK_DAYS

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
