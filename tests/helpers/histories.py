"""Small hand-made histories for the report rules: power readings and hourly lists at given times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

from amsread.contract import Reading
from amsread.report.hours import Hour, HourBuilder, sample_of

OSLO = ZoneInfo("Europe/Oslo")
METER = "7359992890941742"


def at(text: str) -> dt.datetime:
    """A local Oslo time from ``2026-10-01T00:00``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=OSLO)


def power(when: dt.datetime, watts: int | str) -> tuple[dt.datetime, Reading]:
    return when, Reading(when, None, "aidon", 1, {"active_power_import": Decimal(watts)})


def hourly(
    when: dt.datetime, kwh: str, export: str = "0", clock: dt.datetime | None = None
) -> tuple[dt.datetime, Reading]:
    """A list 3 received at ``when`` whose meter clock is ``clock`` (default ``when``)."""
    values = {
        "meter_id": METER,
        "active_energy_import": Decimal(kwh),
        "active_energy_export": Decimal(export),
    }
    return when, Reading(when, clock or when, "aidon", 3, values)


def steady(start: dt.datetime, end: dt.datetime, watts: int, step: float = 10.0) -> Iterator[tuple]:
    """Power readings every ``step`` seconds from ``start`` up to (not including) ``end``."""
    t = start
    while t < end:
        yield power(t, watts)
        t += dt.timedelta(seconds=step)


def hours_of(items: list[tuple[dt.datetime, Reading]]) -> tuple[list[Hour], HourBuilder]:
    builder = HourBuilder()
    out: list[Hour] = []
    for when, reading in sorted(items, key=lambda x: x[0]):
        out.extend(builder.add(sample_of(reading, when)))
    out.extend(builder.finish())
    return out, builder
