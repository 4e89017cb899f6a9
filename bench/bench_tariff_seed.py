"""How long ``run --grid`` and ``watch`` take to start the month from the history database, and what
the live figures cost per reading afterwards.

At the first reading, ``report.live.LiveTariff`` takes the month so far from the database through
the report's hour rules. The worst case is the last day of a month: about 31 days of an Aidon
meter's readings (list 1 every 2.5 s, list 2 every 10 s, list 3 hourly, ~1.1 million rows). The
history is synthesised as ``bench_report.py`` does (the very rows ``amsread run`` stores).

Two roads are timed: the one ``run`` and ``watch`` take (``history.database``: the hourly lists,
the first row of each hour, and only the hours the hourly lists do not settle), and the full
replay of every stored reading (``store.read_readings``, what they did before). Prints the median
seed time of each, the readings each read, whether their figures are the same, and then the time
per live reading of ``LiveFigures.handle`` (figures and their JSON).

    python bench/bench_tariff_seed.py [--days 30.95] [--repeat 5] [--no-full] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import statistics
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bench_report import METER, START, write_db

from amsread import store
from amsread.contract import Reading
from amsread.report import history
from amsread.report.live import History, LiveFigures, LiveTariff
from amsread.report.tariffs import load_company

OSLO = ZoneInfo("Europe/Oslo")
COMPANY = load_company("elvia")


def full_replay(db: Path, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.datetime, Reading]]:
    """Every stored reading of the range: the road before the fast one."""
    for stored in store.read_readings(db, start, end):
        yield stored.at, stored.reading


def seed(road: History, first: dt.datetime) -> tuple[float, LiveFigures, list[str]]:
    """Seconds to take the first live reading (the month's replay), the lane, what it handed on."""
    live = LiveTariff(functools.partial(COMPANY.tariff, "husholdning"), OSLO, history=road)
    sent: list[str] = []
    lane = LiveFigures(live, [lambda meter, figures: sent.append(figures)], "husholdning")
    t0 = time.perf_counter()
    lane.handle(Reading(first, None, "aidon", 2, {"meter_id": METER, "active_power_import": Decimal(1500)}))
    return time.perf_counter() - t0, lane, sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.95)
    parser.add_argument(
        "--repeat", type=int, default=5, help="seeds timed on each road (the median is shown)"
    )
    parser.add_argument(
        "--no-full", action="store_true", help="skip the full replay (it takes tens of seconds)"
    )
    parser.add_argument("--live", type=int, default=20_000, help="live readings after the seed")
    parser.add_argument("--keep", type=Path, help="write the database here (else a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        db = directory / "history.db"
        rows = write_db(db, args.days)
        first = START + dt.timedelta(days=args.days, seconds=1)  # the stored month goes on live
        roads = {"fast": functools.partial(history.database, db)}
        if not args.no_full:
            roads["full"] = functools.partial(full_replay, db)
        results = {}
        for name, road in roads.items():
            runs = [seed(road, first) for _ in range(args.repeat if name == "fast" else 1)]
            seconds = statistics.median(r[0] for r in runs)
            lane, sent = runs[-1][1], runs[-1][2]
            results[name] = sent[-1].split(", ", 2)[2]  # the figures without the time
            print(
                f"seed ({name}): {lane.live.seeded:,} of {rows:,} stored readings ({args.days:g} days)"
                f" read in {seconds:.2f} s (median of {len(runs)})"
            )
        if "full" in results:
            print(f"figures of the two roads the same: {results['fast'] == results['full']}")
        _, lane, sent = seed(roads["fast"], first)
        t0 = time.perf_counter()
        for i in range(1, args.live + 1):
            when = first + dt.timedelta(seconds=2.5 * i)
            lane.handle(Reading(when, None, "aidon", 1, {"active_power_import": Decimal(1500 + i % 700)}))
        spent = time.perf_counter() - t0
        print(f"live: {args.live:,} readings in {spent:.2f} s, {spent / args.live * 1e6:.0f} µs a reading")
        print(f"      figures handed on {len(sent):,} times; the last: {sent[-1][:120]}…")


if __name__ == "__main__":
    main()
