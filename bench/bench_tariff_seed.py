"""How long ``run --grid`` and ``watch`` take to start the month from the history database, and what
the live figures cost per reading afterwards.

At the first reading, ``report.live.LiveTariff`` replays the month so far from the database through
the report's hour rules (``history.database`` -> ``HourBuilder``), so a restart keeps the month's
peaks. The worst case is the last day of a month: about 31 days of an Aidon meter's readings (list 1
every 2.5 s, list 2 every 10 s, list 3 hourly, ~1.1 million rows). The history is synthesised as
``bench_report.py`` does (the very rows ``amsread run`` stores). Prints the seed time, the rows per
second, and then the time per live reading of ``LiveFigures.handle`` (figures and their JSON).

    python bench/bench_tariff_seed.py [--days 30.95] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from bench_report import METER, START, write_db

from amsread.contract import Reading
from amsread.report import history
from amsread.report.live import LiveFigures, LiveTariff
from amsread.report.tariffs import load_company

OSLO = ZoneInfo("Europe/Oslo")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.95)
    parser.add_argument("--live", type=int, default=20_000, help="live readings after the seed")
    parser.add_argument("--keep", type=Path, help="write the database here (else a temporary directory)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        db = directory / "history.db"
        rows = write_db(db, args.days)
        company = load_company("elvia")
        live = LiveTariff(
            functools.partial(company.tariff, "husholdning"),
            OSLO,
            history=functools.partial(history.database, db),
        )
        sent: list[str] = []
        lane = LiveFigures(live, [lambda meter, figures: sent.append(figures)], "husholdning")
        first = START + dt.timedelta(days=args.days, seconds=1)  # the stored month goes on live
        t0 = time.perf_counter()
        lane.handle(
            Reading(first, None, "aidon", 2, {"meter_id": METER, "active_power_import": Decimal(1500)})
        )
        seeded = time.perf_counter() - t0
        print(f"seed: {live.seeded:,} of {rows:,} stored readings ({args.days:g} days) in {seeded:.1f} s")
        print(f"      {live.seeded / seeded:,.0f} readings/s")
        t0 = time.perf_counter()
        for i in range(1, args.live + 1):
            when = first + dt.timedelta(seconds=2.5 * i)
            lane.handle(Reading(when, None, "aidon", 1, {"active_power_import": Decimal(1500 + i % 700)}))
        spent = time.perf_counter() - t0
        print(f"live: {args.live:,} readings in {spent:.2f} s, {spent / args.live * 1e6:.0f} µs a reading")
        print(f"      figures handed on {len(sent):,} times; the last: {sent[-1][:120]}…")


if __name__ == "__main__":
    main()
