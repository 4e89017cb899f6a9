"""The history database's fast road (``report.history.database``) against the full replay.

The fast road reads the hourly lists, the first row of every hour and the rows of only the hours
the hourly lists do not settle; these tests hold it to the very figures that every stored reading
gives (``store.read_readings``): the report's JSON of each month (hours, sources, completeness,
daily maxima, peaks, cost, events) and the live month that ``run --grid`` and ``watch`` start
from. The histories are written to real SQLite files through ``HistoryStore`` and have what real
ones have: missing and stale hourly lists, counters that go down, power gaps, hours with nothing,
meter clocks off the host's, both daylight-saving days and a month's edge.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from amsread.contract import Reading
from amsread.formats import json_line
from amsread.report import history
from amsread.report.live import LiveTariff, figures_json, month_start
from amsread.report.month import Reporter, month_bounds, report_json
from amsread.report.tariffs import load_company
from amsread.store import MIGRATIONS, HistoryStore, read_readings
from helpers.cli import run
from helpers.histories import METER, OSLO

ELVIA = load_company("elvia")
HOUR = dt.timedelta(hours=1)
UTC = dt.UTC


def _tariff(first: dt.date):  # type: ignore[no-untyped-def]
    return ELVIA.tariff("husholdning", first)


def _meter_history(
    rng: random.Random,
    start: dt.datetime,
    hours: int,
    *,
    meter: str = METER,
    clock_offset: dt.timedelta = dt.timedelta(0),
) -> Iterator[Reading]:
    """An Aidon-like meter: power about every 40 s (gaps up to 60 s are integrated) (list 2 with the id every fifth), the hourly
    list a few seconds after each full hour, its counters following the power. Now and then an
    hourly list is missing or resent (stale), the counters go down, the power stops for minutes,
    or everything stops for hours."""
    t = start
    end = start + hours * HOUR
    counter_ws = Decimal(0)
    base = Decimal("5000")
    watts = 1500
    previous: tuple[dt.datetime, Decimal, Decimal] | None = None
    next_hour = start.replace(minute=0, second=0, microsecond=0) + HOUR
    n = 0
    while t < end:
        if t >= next_hour:
            hourly_at = next_hour + dt.timedelta(seconds=rng.uniform(0.5, 9))
            clock = next_hour + clock_offset + dt.timedelta(seconds=rng.choice((0, 0, 2, -3)))
            kwh = base + (counter_ws / 3_600_000).quantize(Decimal("0.01"), rounding="ROUND_FLOOR")
            dice = rng.random()
            if dice < 0.05 and previous is not None:  # the previous list again: a stale repeat
                yield _hourly(hourly_at, previous[0], previous[1], previous[2], meter)
            elif dice < 0.08:
                pass  # missing
            else:
                if dice < 0.10:
                    base -= Decimal("3.5")  # a counter that goes down
                    kwh -= Decimal("3.5")
                previous = (clock, kwh, kwh / 7)
                yield _hourly(hourly_at, clock, kwh, kwh / 7, meter)
            next_hour += HOUR
            dice = rng.random()
            if dice < 0.02:
                t += dt.timedelta(hours=rng.randint(2, 4), minutes=rng.randint(0, 59))  # nothing at all
                next_hour = t.replace(minute=0, second=0, microsecond=0) + HOUR
                continue
        if rng.random() < 0.001:
            t += dt.timedelta(minutes=rng.randint(2, 40))  # no power readings for a while
            continue
        if rng.random() < 0.05:
            watts = rng.randint(150, 7500)
        step = dt.timedelta(seconds=rng.choice((29, 37, 41, 59)), milliseconds=rng.randint(0, 999))
        counter_ws += watts * Decimal(step // dt.timedelta(milliseconds=1)) / 1000
        n += 1
        if n % 5 == 0:
            yield Reading(t, None, "aidon", 2, {"meter_id": meter, "active_power_import": Decimal(watts)})
        else:
            yield Reading(t, None, "aidon", 1, {"active_power_import": Decimal(watts)})
        t += step


def _hourly(when: dt.datetime, clock: dt.datetime, kwh: Decimal, out: Decimal, meter: str) -> Reading:
    values = {
        "meter_id": meter,
        "active_power_import": Decimal(900),
        "active_energy_import": kwh,
        "active_energy_export": out.quantize(Decimal("0.01")),
    }
    return Reading(when, clock.astimezone(OSLO), "aidon", 3, values)


def _database(path: Path, readings: list[Reading]) -> Path:
    store = HistoryStore(path, retention_days=1e6, max_queued=100_000)
    for reading in sorted(readings, key=lambda r: r.received_at or dt.datetime.min.replace(tzinfo=UTC)):
        store.handle(reading)
    store.close()
    return path


def _full(path: Path, start: dt.datetime | None, end: dt.datetime | None) -> Iterator[tuple]:
    for stored in read_readings(path, start, end):
        yield stored.at, stored.reading


def _months(items: Iterator[tuple], only: str | None = None) -> list[str]:
    reporter = Reporter(OSLO, only, _tariff)
    out = [report_json(m) for at, reading in items for m in reporter.feed(at, reading)]
    return out + [report_json(m) for m in reporter.finish()]


def _live(path: Path, road, first: dt.datetime) -> tuple[str, dict, int]:  # type: ignore[no-untyped-def]
    live = LiveTariff(_tariff, OSLO, history=lambda start, end: road(path, start, end))
    live.feed(Reading(first, None, "aidon", 2, {"meter_id": METER, "active_power_import": Decimal(2500)}))
    status = live.status()
    assert status is not None
    return figures_json(status, METER, "husholdning"), live.daily, live.seeded


def _assert_same(path: Path, cuts: list[dt.datetime]) -> None:
    """Every month, each month on its own as ``report --month`` reads it, and the live month
    started at each of ``cuts``: the fast road's figures are the full replay's."""
    whole = _months(_full(path, None, None))
    assert whole and _months(history.database(path)) == whole
    for month in sorted({r.split('"month": "')[1][:7] for r in whole}):
        first, last = month_bounds(month, OSLO)
        start, end = first - 3 * HOUR, last + 3 * HOUR
        assert _months(history.database(path, start, end), month) == _months(_full(path, start, end), month)
    for cut in cuts:
        fast, full = _live(path, history.database, cut), _live(path, _full, cut)
        assert fast[:2] == full[:2], cut


SCENES = {
    # (first hour in UTC, hours, clock offset): a winter month's end, both daylight-saving days
    "month-end": (dt.datetime(2026, 1, 29, 7, 13, 5, tzinfo=UTC), 100, dt.timedelta(0)),
    "spring-forward": (dt.datetime(2026, 3, 27, 20, 0, tzinfo=UTC), 80, dt.timedelta(0)),
    "fall-back": (dt.datetime(2026, 10, 23, 21, 30, tzinfo=UTC), 80, dt.timedelta(seconds=4)),
    "clock-3h30-behind": (dt.datetime(2026, 10, 2, 0, 0, tzinfo=UTC), 60, -dt.timedelta(hours=3, minutes=30)),
    "clock-2h-ahead": (dt.datetime(2026, 10, 2, 0, 0, tzinfo=UTC), 60, dt.timedelta(hours=2)),
}


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("scene", sorted(SCENES))
def test_the_fast_road_gives_the_full_replays_figures(tmp_path: Path, scene: str, seed: int) -> None:
    start, hours, offset = SCENES[scene]
    rng = random.Random(f"{scene}-{seed}")
    path = _database(tmp_path / "h.db", list(_meter_history(rng, start, hours, clock_offset=offset)))
    cuts = [start + dt.timedelta(hours=rng.uniform(2, hours), seconds=rng.uniform(0, 59)) for _ in range(2)]
    _assert_same(path, cuts)


def test_the_fast_road_reads_a_small_part_of_the_month(tmp_path: Path) -> None:
    """What makes it fast: of four days of readings every 40 s, the hourly lists, the first row of
    each hour and the few hours without a good hourly list; the live month likewise."""
    rng = random.Random(7)
    start = dt.datetime(2026, 1, 27, 23, 0, tzinfo=UTC)
    path = _database(tmp_path / "h.db", list(_meter_history(rng, start, 96)))
    stored = sum(1 for _ in read_readings(path))
    read = sum(1 for _ in history.database(path))
    assert stored > 8_000 and read < stored / 4
    cut = start + 95 * HOUR
    figures, daily, seeded = _live(path, history.database, cut)
    assert seeded < stored / 4 and (figures, daily) == _live(path, _full, cut)[:2]


@pytest.mark.parametrize("other", ["7359992890941743", ""])
def test_two_meters_in_the_range_are_read_whole(tmp_path: Path, other: str) -> None:
    """A meter swapped mid-month (or one whose id is empty): the report gives a reading without an
    id (Aidon's list 1) to the meter seen last, so every row is read; the figures are the full
    replay's."""
    rng = random.Random(11)
    start = dt.datetime(2026, 10, 5, 0, 0, tzinfo=UTC)
    readings = list(_meter_history(rng, start, 30))
    readings += _meter_history(rng, start + 30 * HOUR, 30, meter=other)
    path = _database(tmp_path / "h.db", readings)
    assert sum(1 for _ in history.database(path)) == len(readings)
    _assert_same(path, [start + 50 * HOUR])


def test_a_file_of_schema_2_takes_the_fast_road_read_only(tmp_path: Path) -> None:
    """``amsread report`` reads a file an older ``run`` wrote without migrating it: without the
    meter index it finds the meters by scanning, and the figures are the same."""
    rng = random.Random(5)
    start = dt.datetime(2026, 10, 5, 0, 0, tzinfo=UTC)
    path = _database(tmp_path / "h.db", list(_meter_history(rng, start, 40)))
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP INDEX readings_meter")
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    _assert_same(path, [start + 39 * HOUR])
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone() == (2,)  # read, not migrated
    conn.close()
    assert len(MIGRATIONS) == 3


def test_an_empty_range_and_a_month_start_mid_history(tmp_path: Path) -> None:
    rng = random.Random(3)
    start = dt.datetime(2026, 10, 30, 12, 0, tzinfo=UTC)
    path = _database(tmp_path / "h.db", list(_meter_history(rng, start, 60)))
    assert list(history.database(path, start - 10 * HOUR, start)) == []
    cut = start + 58 * HOUR
    begin = month_start(cut, OSLO) - 3 * HOUR
    assert [(a, r.values) for a, r in history.database(path, begin, cut)][-5:] == [
        (a, r.values) for a, r in _full(path, begin, cut)
    ][-5:]


def test_amsread_report_from_the_database_is_its_report_from_json_lines(tmp_path: Path) -> None:
    """End to end: the same readings as the history database (the fast road) and as ``amsread
    json`` lines (read line by line) give the same months, a daylight-saving day among them."""
    rng = random.Random(13)
    readings = list(_meter_history(rng, dt.datetime(2026, 10, 23, 21, 30, tzinfo=UTC), 100))
    db = _database(tmp_path / "h.db", readings)
    lines = tmp_path / "h.jsonl"
    lines.write_text("".join(json_line(r) + "\n" for r in readings))
    for args in (["--all"], ["--month", "2026-10"], ["--month", "2026-10", "--format", "csv"]):
        code, from_db, err = run("report", str(db), "--format", "json", "--grid", "elvia", *args)
        assert code == 0, err
        code, from_lines, err = run("report", str(lines), "--format", "json", "--grid", "elvia", *args)
        assert code == 0, err
        assert from_db == from_lines and ('"source": "split"' in from_db or ",split," in from_db)
