"""The history database at the real cadence: write speed, bytes per month, peak memory.

A Raspberry Pi on an SD card keeps the history for months, so three figures matter:

* rows/s: how fast ``HistoryStore`` takes readings with its batched commits (the writer thread
  commits about once a second); a meter sends one reading every 2-2.5 s, so anything above a few
  hundred rows/s is headroom, and replaying a long capture is bounded by it;
* bytes per month: a simulated Aidon (``amsread.simulator``) at its real cadence, list 1 every
  2.5 s, list 2 every 10 s, list 3 hourly, each reading stamped with its simulated arrival time
  (``received_at``, as a live run stores it), written for ``--days`` days; the file size after
  closing, per day and per 30 days, and at the default 40-day retention (the steady state);
* peak memory (resident set, ``ru_maxrss``) of the whole run.

    python bench/bench_store.py [--days 30] [--meter aidon] [--rows 100000]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from amsread.contract import Reading
from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.simulator import METERS, OSLO, SimulatedMeter
from amsread.store import DEFAULT_RETENTION_DAYS, HistoryStore, read_readings


def peak_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def simulated(meter: str, days: float):  # type: ignore[no-untyped-def]
    """Readings of a simulated meter for ``days`` days, with ``received_at`` = the push time."""
    sim = SimulatedMeter(meter, 3, seed=11, start=dt.datetime(2026, 1, 1, tzinfo=OSLO))
    end = sim.start_ms / 1000 + days * 86400
    pipeline, decoder = Pipeline(), ReadingDecoder()
    for push in sim.pushes():
        if push.at >= end:
            return
        arrived = dt.datetime.fromtimestamp(push.at + 0.35, OSLO)
        for reading in pipeline.readings([push.frame], decoder=decoder):
            yield push.at, dataclasses.replace(reading, received_at=arrived)


def rows_per_second(directory: Path, readings: list[Reading]) -> tuple[float, float]:
    """(rows/s taken by ``handle``, rows/s until committed and closed)."""
    store = HistoryStore(directory / "speed.db", retention_days=1e6)
    start = time.perf_counter()
    for r in readings:
        store.handle(r)
    queued = time.perf_counter() - start
    store.close(timeout=None)
    done = time.perf_counter() - start
    return len(readings) / queued, len(readings) / done


def month(directory: Path, meter: str, days: float) -> dict[str, float]:
    path = directory / "history.db"
    now = [0.0]
    store = HistoryStore(path, clock=lambda: now[0])
    counts = {1: 0, 2: 0, 3: 0}
    start = time.perf_counter()
    for at, reading in simulated(meter, days):
        now[0] = at
        store.handle(reading)
        counts[reading.list or 0] = counts.get(reading.list or 0, 0) + 1
    store.close(timeout=None)
    seconds = time.perf_counter() - start
    size = path.stat().st_size
    conn = sqlite3.connect(path)
    rows = conn.execute("SELECT count(*) FROM readings").fetchone()[0]
    conn.close()
    # the hourly lists alone, as the history keeps them for ever (less an empty file's pages)
    HistoryStore(directory / "empty.db").close()
    empty = (directory / "empty.db").stat().st_size
    hourly = HistoryStore(directory / "hourly.db", retention_days=1e6)
    for stored in read_readings(path, lists=(3,)):
        hourly.handle(stored.reading)
    hourly.close(timeout=None)
    return {
        "hourly_bytes_per_year": ((directory / "hourly.db").stat().st_size - empty) / counts[3] * 24 * 365,
        "rows": rows,
        "list1": counts[1],
        "list2": counts[2],
        "list3": counts[3],
        "bytes": size,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=30.0, help="simulated days to write (default 30)")
    parser.add_argument("--meter", choices=METERS, default="aidon")
    parser.add_argument("--rows", type=int, default=100_000, help="readings for the rows/s figure")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        sample = [r for _, (_, r) in zip(range(args.rows), simulated(args.meter, 365), strict=False)]
        taken, committed = rows_per_second(directory, sample)
        del sample
        m = month(directory, args.meter, args.days)

    per_day = m["bytes"] / args.days
    print(f"history database, simulated {args.meter} ({args.days:g} days at the real cadence)")
    print(f"{'figure':<44} {'value':>14}")
    print(f"{'rows/s taken by handle()':<44} {taken:>14,.0f}")
    print(f"{'rows/s written and committed':<44} {committed:>14,.0f}")
    print(f"{'rows written (list 1 / 2 / 3)':<44} {m['list1']:,.0f} / {m['list2']:,.0f} / {m['list3']:,.0f}")
    print(f"{f'file size after {args.days:g} days (MiB)':<44} {m['bytes'] / 2**20:>14.1f}")
    print(f"{'bytes per row':<44} {m['bytes'] / m['rows']:>14.0f}")
    print(f"{'MiB per 30 days':<44} {per_day * 30 / 2**20:>14.1f}")
    print(
        f"{f'MiB at {DEFAULT_RETENTION_DAYS}-day retention (steady state)':<44} {per_day * DEFAULT_RETENTION_DAYS / 2**20:>14.1f}"
    )
    print(f"{'hourly lists per year kept for ever (KiB)':<44} {m['hourly_bytes_per_year'] / 1024:>14.0f}")
    print(f"{'seconds to simulate, decode and write':<44} {m['seconds']:>14.0f}")
    print(f"{'peak memory, whole run (MiB RSS)':<44} {peak_mib():>14.1f}")


if __name__ == "__main__":
    main()
