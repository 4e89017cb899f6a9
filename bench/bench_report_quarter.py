"""What the Belgian 15-minute peak costs ``amsread report``: the same P1 history as JSON lines,
with and without the capacity-tariff lines, timed, with the child's peak resident memory.

A Fluvius meter sends a telegram every second; each line here is one, as ``amsread json`` prints
it: clock, meter id, power and counters; in the second history also 1-0:1.4.0 and 0-0:98.1.0, in
the third 1-0:1.6.0 as well. Without 1-0:1.6.0 the report computes the peak from the counters,
quarter by quarter: the path that does the most work. Each report runs as its own process (the
peak RSS is the largest of the children so far, so it can only grow down the list).

    python bench/bench_report_quarter.py [--days 7] [--keep DIR]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = dt.datetime(2026, 3, 1, tzinfo=dt.timezone(dt.timedelta(hours=1)))
#: 0-0:98.1.0 as ``amsread json`` prints it: the meter sends it with every telegram.
HISTORY = "2026-01-01: 4120 W at 2025-12-24T18:30:00+01:00; 2026-02-01: 3980 W at 2026-01-12T19:15:00+01:00"


def watts(t: int) -> int:
    """A household: a base load and an evening peak."""
    hour = (t / 3600) % 24
    return int(400 + 2600 * math.exp(-((hour - 18.5) ** 2) / 3) + 150 * math.sin(t / 97))


def write_history(path: Path, days: int, belgian: bool, meter_peak: bool) -> int:
    """One line per second for ``days`` days; the number of lines."""
    counter_wh = 1_000_000.0
    peak, peak_at = 0, ""
    lines = 0
    with path.open("w", encoding="utf-8") as f:
        for t in range(days * 86400):
            w = watts(t)
            counter_wh += w / 3600
            when = (START + dt.timedelta(seconds=t)).isoformat()
            record: dict[str, object] = {
                "received_at": when,
                "meter_time": when,
                "manufacturer": "flu",
                "meter_id": "1SAG3105200877",
                "active_power_import": w,
                "active_energy_import": round(counter_wh / 1000, 3),
            }
            if belgian:
                record["active_power_import_average"] = w
                record["active_power_import_max_history"] = HISTORY
                if meter_peak:
                    if w > peak:  # the register and its stamp change only with a new peak
                        peak, peak_at = w, when
                    record["active_power_import_max_month"] = peak
                    record["active_power_import_max_month_at"] = peak_at
            f.write(json.dumps(record) + "\n")
            lines += 1
    return lines


def report(path: Path) -> tuple[float, float, str]:
    """Seconds, the child's peak RSS (MiB) and the report's first line."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "amsread", "report", "--all", "--meter-tz", "Europe/Brussels", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    seconds = time.perf_counter() - start
    rss = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    return seconds, rss, done.stdout.splitlines()[0] if done.stdout else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    directory = args.keep or Path(tempfile.mkdtemp(prefix="amsread-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    for name, belgian, meter_peak in (
        ("no capacity lines", False, False),
        ("1.4.0, peak from counters", True, False),
        ("1.4.0 and the meter's 1.6.0", True, True),
    ):
        path = directory / f"{name.split()[0].strip(',')}-{int(belgian)}{int(meter_peak)}.jsonl"
        lines = write_history(path, args.days, belgian, meter_peak)
        seconds, rss, first = report(path)
        peak = json.loads(first).get("quarter_peak", {}).get("peak") if first else None
        print(
            f"{name:30} {lines:>9} lines  {seconds:6.1f} s  {lines / seconds:>9,.0f} lines/s  "
            f"peak RSS {rss:5.0f} MiB  peak {peak}"
        )


if __name__ == "__main__":
    main()
