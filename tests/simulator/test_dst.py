"""The daylight-saving changes (issue 13): every hourly list's time right, across both changes.

Aidon NO sends local time with deviation 0 all year and clock status 0; Kamstrup sends local
time with the deviation unspecified and the DST bit in its status. In autumn 02:00-02:59 comes
twice: the second pass is +01:00, told by Kamstrup's DST bit and, for Aidon, by the order of
arrival. The simulated meters (``amsread.simulator``) build the frames; their ``meter_time`` is
the true instant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from itertools import takewhile

import pytest

from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import STALE_HOURLY, Pipeline
from amsread.simulator import OSLO, Push, SimulatedMeter

#: 2026: summer time ends on 25 October at 03:00 CEST, begins on 29 March at 02:00 CET.
AUTUMN = dt.datetime(2026, 10, 24, 23, 30, tzinfo=dt.UTC)  # 01:30 CEST
SPRING = dt.datetime(2026, 3, 28, 23, 30, tzinfo=dt.UTC)  # 00:30 CET
HOURS = 3


def clocked(meter: str, start: dt.datetime) -> Iterator[Push]:
    """The pushes that carry a clock, for ``HOURS`` hours from ``start``."""
    end = start.timestamp() + HOURS * 3600
    every = SimulatedMeter(meter, 3, seed=3, start=start).pushes()
    return (p for p in takewhile(lambda p: p.at < end, every) if p.meter_time is not None)


def decode(frames: list[bytes]) -> tuple[list[dt.datetime | None], list[str], Pipeline]:
    warnings: list[str] = []
    pipeline = Pipeline(on_warning=warnings.append)
    readings = list(pipeline.readings([b"".join(frames)], decoder=ReadingDecoder()))
    return [r.meter_time for r in readings], warnings, pipeline


@pytest.mark.parametrize("meter", ["aidon", "kamstrup"])
@pytest.mark.parametrize("start", [AUTUMN, SPRING], ids=["autumn", "spring"])
def test_every_clock_is_the_true_instant_across_the_change(meter: str, start: dt.datetime) -> None:
    pushes = [p for p in clocked(meter, start) if meter == "kamstrup" or p.list == 3]
    hourly = [p for p in pushes if p.list == 3]
    assert len(hourly) >= HOURS - 1
    times, warnings, pipeline = decode([p.frame for p in pushes])
    assert len(times) == len(pushes)
    for push, got in zip(pushes, times, strict=True):
        assert got is not None and push.meter_time is not None
        # as instants: an ambiguous zone time never equals a time of another zone (PEP 495)
        assert got.astimezone(dt.UTC) == push.meter_time.astimezone(dt.UTC), (
            push.meter_time.isoformat(),
            got.isoformat(),
        )
        assert got.utcoffset() == push.meter_time.utcoffset(), (
            push.meter_time.isoformat(),
            got.isoformat(),
        )
    assert STALE_HOURLY not in pipeline.stats.warnings and warnings == []
    offsets = {t.utcoffset() for t in times if t is not None}
    assert offsets == {dt.timedelta(hours=1), dt.timedelta(hours=2)}  # the change is inside


def test_the_autumn_hour_twice_reads_plus_two_then_plus_one() -> None:
    both = [p for p in clocked("aidon", AUTUMN) if p.list == 3]
    times, warnings, _ = decode([p.frame for p in both])
    assert [t.isoformat() for t in times if t is not None and t.hour == 2] == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
    ]
    assert warnings == []


@pytest.mark.parametrize("meter", ["aidon", "kamstrup"])
def test_a_real_repeat_in_the_hour_twice_is_still_stale(meter: str) -> None:
    hourly = [p for p in clocked(meter, AUTUMN) if p.list == 3]
    first_two = next(
        p for p in hourly if p.meter_time is not None and p.meter_time.astimezone(OSLO).hour == 2
    )
    k = hourly.index(first_two)
    frames = [p.frame for p in hourly[: k + 1]] + [first_two.frame]  # the 02:00 +02:00 list sent again
    _, warnings, pipeline = decode(frames)
    assert pipeline.stats.warnings[STALE_HOURLY] == 1 and len(warnings) == 1
