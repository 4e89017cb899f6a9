"""What ``watch`` shows, as plain data: the latest value of every quantity across lists, and a trend.

The meter sends different lists at different rates (Aidon: power alone every 2.5 s, the phases
every 10 s, the counters once an hour), so the view keeps the latest value of every quantity
across lists, each with when it came: a counter from 50 minutes ago next to a power from 1 second
ago must not look equally fresh. That is display state only; the readings themselves stay one per
frame (docs/output-contract.md): ``csv`` and ``json`` never merge. Pure: the clock is handed in.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final

from amsread.contract import Reading

#: How much history the power trend shows, in seconds of host time.
TREND_WINDOW: Final = 300.0


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
        power = reading.values.get("active_power_import")
        if power is not None:
            net = float(power) - float(reading.values.get("active_power_export") or 0)
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
