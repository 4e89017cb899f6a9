"""The simulated P1 meter (``simulate --meter p1``): telegrams built through ``wire.p1``'s
declaration that the real pipeline decodes back to the values put in, and ``watch --demo --meter p1``."""

from __future__ import annotations

import datetime as dt
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

import pytest

from amsread.decode.decoder import DecodeOptions, ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.simulator import SimulatedMeter
from amsread.wire.p1 import parse_telegram
from helpers.cli import run

OSLO = ZoneInfo("Europe/Oslo")
WINTER = dt.datetime(2024, 1, 12, 23, 17, 30, tzinfo=OSLO)
SUMMER = dt.datetime(2024, 7, 1, 12, 0, 0, tzinfo=OSLO)


@pytest.mark.parametrize("start", [WINTER, SUMMER], ids=["winter", "summer"])
@pytest.mark.parametrize("phases", [1, 3])
def test_every_telegram_decodes_to_the_values_put_in(start: dt.datetime, phases: int) -> None:
    pushes = list(islice(SimulatedMeter("p1", phases, seed=7, start=start).pushes(), 20))
    data = b"".join(p.frame for p in pushes)
    readings = list(
        Pipeline(strict=True).readings([data], decoder=ReadingDecoder(DecodeOptions(meter_tz=OSLO)))
    )
    assert len(readings) == len(pushes)
    for push, reading in zip(pushes, readings, strict=True):
        assert reading.manufacturer == push.manufacturer == "aidon"
        assert reading.meter_time == push.meter_time
        assert reading.meter_time.utcoffset() == start.utcoffset()  # the S/W letter carried the offset
        for name, value in push.values.items():
            assert reading.values[name] == value, name


def test_telegrams_come_every_ten_seconds_and_parse_with_the_declaration() -> None:
    pushes = list(islice(SimulatedMeter("p1", 3, seed=1, start=WINTER).pushes(), 3))
    assert [round(b.at - a.at) for a, b in pairwise(pushes)] == [10, 10]
    parsed = parse_telegram(pushes[0].frame)
    assert parsed.body.value.identification == "ADN9 6534"


def test_simulate_p1_through_json() -> None:
    code, out, err = run("simulate", "--meter", "p1", "--count", "3", "--speed", "0", "--seed", "2")
    assert code == 0
    code, out, err = run("json", "-", input=out.encode("latin-1") if isinstance(out, str) else out)
    assert code == 0, err
    assert len(out.splitlines()) == 3
    assert err.strip().endswith("discarded") and err.startswith("3 P1 telegrams: 3 readings")


def test_watch_demo_p1_prints_readings() -> None:
    code, out, err = run("watch", "--demo", "--meter", "p1", "--seed", "3", "--speed", "100", "--count", "2")
    assert code == 0, err
    lines = [line for line in out.splitlines() if line]
    assert len(lines) == 2 and all("aidon" in line and "P+ " in line for line in lines)
    assert "2 P1 telegrams: 2 readings" in err
