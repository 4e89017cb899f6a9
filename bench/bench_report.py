"""``amsread report --all`` over a year of history at the real cadence: time and peak memory.

The history is an Aidon meter's: list 1 (power) every 2.5 s, list 2 (power and meter id) every 10 s,
list 3 (counters) every hour, about 15.8 million readings a year. The rows are synthesised directly
(a household's daily power curve, counters that follow it; a stale repeat of the hourly list once a
week) rather than made with the simulator's frames, because simulating, framing and decoding a
year takes far longer than the report does; the report sees the very rows ``amsread run`` (the
database, without retention, as if kept for a year) and ``amsread json`` (JSON lines) would hold.
Each report runs as its own process (the installed command), timed, with its peak resident memory
(``ru_maxrss`` of the child): a report that streams stays flat however long the history is.

    python bench/bench_report.py [--days 365] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from amsread.store import migrate, open_database

METER = "7359992890941742"
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC) - dt.timedelta(hours=1)  # local midnight in Oslo


def watts(t: float) -> int:
    """A household: a base load, a morning and an evening peak, more in winter."""
    hour = (t / 3600 + 1) % 24
    day = t / 86400
    winter = 1.6 + 0.6 * math.cos(2 * math.pi * day / 365)
    peaks = 1800 * math.exp(-((hour - 7.5) ** 2) / 2) + 2600 * math.exp(-((hour - 18.5) ** 2) / 3)
    return int((400 + peaks) * winter + 150 * math.sin(t / 97))


def rows(days: float) -> Iterator[tuple[float, int, int, Decimal | None, bool]]:
    """(seconds since START, list, power W, counter kWh or None, stale) in time order."""
    counter_ws = 0  # watt-seconds imported
    base = Decimal("12345.67")
    end = days * 86400
    t = 0.0
    step = 2.5
    last_counter = base
    while t < end:
        p = watts(t)
        counter_ws += int(p * step)
        second = int(t)
        if t % 3600 == 0 and t > 0:
            stale = (second // 3600) % 168 == 100
            if not stale:
                last_counter = base + Decimal(counter_ws // 36000) / 100  # 10 Wh steps, as Aidon
            yield t + 1.2, 3, p, last_counter, stale
        yield t, 2 if t % 10 == 0 else 1, p, None, False
        t += step


def iso(t: float) -> str:
    return (START + dt.timedelta(seconds=t)).isoformat(timespec="milliseconds")


def write_json(path: Path, days: float) -> int:
    n = 0
    with path.open("w") as f:
        for t, level, p, counter, stale in rows(days):
            n += 1
            if level == 3:
                # a stale repeat carries the previous hour's clock, as in the database
                meter = iso(round(t / 3600) * 3600 - (3600 if stale else 0))
                f.write(
                    f'{{"received_at": "{iso(t)}", "meter_time": "{meter}", "list": 3, "meter_id": "{METER}", '
                    f'"active_power_import": {p}, "active_energy_import": {counter}, "active_energy_export": 0}}\n'
                )
            elif level == 2:
                f.write(
                    f'{{"received_at": "{iso(t)}", "list": 2, "meter_id": "{METER}", "active_power_import": {p}}}\n'
                )
            else:
                f.write(f'{{"received_at": "{iso(t)}", "list": 1, "active_power_import": {p}}}\n')
    return n


def write_db(path: Path, days: float) -> int:
    path.unlink(missing_ok=True)  # a kept directory from an earlier run: start afresh
    conn = open_database(path)
    migrate(conn)
    batch = []
    n = 0
    hour_clock = None
    for t, level, p, counter, stale in rows(days):
        n += 1
        at = int((START.timestamp() + t) * 1000)
        if level == 3:
            clock = hour_clock if stale else iso(round(t / 3600) * 3600)
            hour_clock = clock
            batch.append((at, iso(t), clock, "aidon", 3, METER, p, str(counter), 0, int(stale)))
        else:
            batch.append((at, iso(t), None, "aidon", level, METER if level == 2 else None, p, None, None, 0))
        if len(batch) >= 50_000:
            _insert(conn, batch)
    _insert(conn, batch)
    conn.close()
    return n


def _insert(conn, batch: list) -> None:  # type: ignore[no-untyped-def]
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO readings (at, received_at, meter_time, manufacturer, list, meter_id, active_power_import,"
        " active_energy_import, active_energy_export, stale) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        batch,
    )
    conn.execute("COMMIT")
    batch.clear()


def report(history: Path, out: Path) -> tuple[float, float, int]:
    """(seconds, peak MiB RSS, months) of ``amsread report --all --format json`` in a child."""
    # a fresh parent per report: RUSAGE_CHILDREN's peak is then this report's alone
    probe = (
        "import resource, subprocess, sys, time\n"
        "start = time.perf_counter()\n"
        "with open(sys.argv[2], 'w') as f:\n"
        "    subprocess.run([sys.executable, '-m', 'amsread', 'report', sys.argv[1], '--all',"
        " '--format', 'json'], stdout=f, check=True)\n"
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe, str(history), str(out)], capture_output=True, text=True, check=True
    )
    seconds, peak_kib = done.stdout.split()
    months = sum(1 for _ in out.open())
    return float(seconds), int(peak_kib) / 1024, months


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365.0)
    parser.add_argument("--keep", type=Path, help="write the histories here (else a temporary directory)")
    parser.add_argument("--reuse", action="store_true", help="report on the histories already in --keep")
    parser.add_argument("--only", choices=("database", "json"), help="time one history only")
    parser.add_argument(
        "--repeat", type=int, default=1, help="reports timed per history (the median is shown)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.keep or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        if args.reuse and args.keep is not None:
            n = sum(1 for _ in rows(args.days))
        else:
            n = 0 if args.only == "database" else write_json(directory / "history.jsonl", args.days)
            n = write_db(directory / "history.db", args.days) if args.only != "json" else n
        made = time.perf_counter() - t0
        print(f"report --all over {args.days:g} days of synthesised Aidon history: {n:,} readings")
        sizes = ", ".join(
            f"{name} {(directory / file).stat().st_size / 2**20:,.0f} MiB"
            for name, file in (("JSON lines", "history.jsonl"), ("database", "history.db"))
            if (directory / file).exists()
        )
        print(f"(synthesised in {made:.0f} s; {sizes})")
        print(f"{'history':<14} {'seconds':>9} {'readings/s':>12} {'peak MiB':>9} {'months':>7}")
        outputs = {}
        for name, path in (
            ("database", directory / "history.db"),
            ("JSON lines", directory / "history.jsonl"),
        ):
            if args.only is not None and not name.lower().startswith(args.only):
                continue
            out = directory / f"{name}.out"
            runs = [report(path, out) for _ in range(args.repeat)]
            seconds = statistics.median(r[0] for r in runs)
            peak, months = max(r[1] for r in runs), runs[-1][2]
            print(f"{name:<14} {seconds:>9.1f} {n / seconds:>12,.0f} {peak:>9.1f} {months:>7}")
            outputs[name] = out.read_text()
        if len(outputs) == 2:
            # the database is read by the fast road, the JSON lines reading by reading: same months?
            print(f"the same months from both: {outputs['database'] == outputs['JSON lines']}")


if __name__ == "__main__":
    main()
