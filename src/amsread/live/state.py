"""What ``watch`` shows, as plain data: the latest value of every quantity across lists, and a trend.

The meter sends different lists at different rates (Aidon: power alone every 2.5 s, the phases
every 10 s, the counters once an hour), so the view keeps the latest value of every quantity
across lists, each with when it came: a counter from 50 minutes ago next to a power from 1 second
ago must not look equally fresh. That is display state only; the readings themselves stay one per
frame (docs/output-contract.md): ``csv`` and ``json`` never merge. Pure: the clock is handed in.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from amsread.contract import Reading

#: How much history the power trend shows, in seconds of host time.
TREND_WINDOW: Final = 300.0


def net_power(values: dict[str, Any]) -> float | None:
    """Import minus export in W (negative while the house exports), for the trend; None when the
    reading has no import power, or a value that is no finite number (the trend plots floats, and
    one NaN would break its scale and its title)."""
    power = values.get("active_power_import")
    if power is None:
        return None
    export = values.get("active_power_export") or 0
    try:
        net = float(Decimal(power) - Decimal(export))
    except (ArithmeticError, TypeError, ValueError):
        return None
    return net if math.isfinite(net) else None


@dataclass(slots=True)
class Latest:
    """The latest value of one quantity, with where and when it came."""

    value: Any
    unit: str
    at: float
    list: int | None


class WatchState:
    """The latest value per quantity across lists, and a power trend, for the live view only."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, window: float = TREND_WINDOW) -> None:
        self.clock = clock
        self.window = window
        self.latest: dict[str, Latest] = {}
        self.trend: deque[tuple[float, float]] = deque(maxlen=8192)
        self.clock_reading: tuple[dt.datetime, float] | None = None
        self.manufacturer: str | None = None
        self.lists: Counter[int] = Counter()
        self.readings = 0
        self.started = clock()

    def update(self, reading: Reading) -> None:
        now = self.clock()
        units = reading.units
        for name, value in reading.values.items():
            self.latest[name] = Latest(value, units.get(name, ""), now, reading.list)
        if reading.meter_time is not None:
            self.clock_reading = (reading.meter_time, now)
        if reading.manufacturer:
            self.manufacturer = reading.manufacturer
        net = net_power(reading.values)
        if net is not None:
            self.trend.append((now, net))
            while self.trend and self.trend[0][0] < now - self.window:
                self.trend.popleft()
        self.lists[reading.list or 0] += 1
        self.readings += 1

    def age(self, names: Iterable[str]) -> tuple[float, set[int]] | None:
        """Seconds since the newest of ``names`` came, and the lists they came in."""
        found = [self.latest[n] for n in names if n in self.latest]
        if not found:
            return None
        newest = max(x.at for x in found)
        return self.clock() - newest, {x.list for x in found if x.list}


class ReplayClock:
    """The meter's own clock, for a capture replayed in a blink: ages and the trend's window then
    span the meter's minutes, not the milliseconds the replay took on this host.

    Time is the newest ``received_at`` (a recording stamps it) or ``meter_time`` seen so far; a
    reading without either (Aidon's list 1 sends no clock) counts as the time of the last one.
    """

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def advance(self, reading: Reading) -> None:
        when = reading.received_at or reading.meter_time
        if when is not None:
            self.now = max(self.now, when.timestamp())
