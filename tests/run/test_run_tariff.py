"""``amsread run --grid``: the live capacity-tariff figures in the history database and on the
retained ``<base>/tariff`` topic, checked against ``amsread report`` on the same history.

Real parts only: simulated Kamstrup frames (every list carries its clock, so a replay places each
reading in time) through the real ``run`` processes, a real SQLite file, a real broker. Three runs
on three evenings of one month: each run starts where the last left the database, so the month's
peaks of the last run can only come from the database (a restart mid-month).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from amsread.simulator import OSLO, SimulatedMeter
from amsread.store import read_tariff
from helpers.cli import run as run_cli
from helpers.live import child_env
from helpers.mqtt_broker import TIMEOUT, Broker, Subscriber

KAMSTRUP = "5706567202753025"
#: Power readings older than 40 days (of the host's clock) are pruned: keep this month's.
KEEP = ("--retention-days", "100000")


def evening(path: Path, start: dt.datetime, hours: float, seed: int) -> Path:
    """A capture of a simulated Kamstrup meter from ``start`` for ``hours``."""
    sim = SimulatedMeter("kamstrup", 3, seed=seed, start=start)
    end = start + dt.timedelta(hours=hours)
    with path.open("wb") as f:
        for push in sim.pushes():
            if sim.now > end:
                break
            f.write(push.frame)
    return path


def amsread(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "amsread", *args],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=60,
        check=False,
    )


def month_report(db: Path) -> dict[str, object]:
    done = amsread("report", str(db), "--month", "2026-10", "--grid", "elvia", "--format", "json")
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    return dict(json.loads(line, parse_float=Decimal))


def same_month(figures: dict[str, object], report: dict[str, object]) -> None:
    """The live figures say what the report says of the month: peaks, their mean, the step."""
    peaks = report["peaks"]
    assert isinstance(peaks, list)
    assert figures["peaks"] == [{"date": p["date"], "import_kwh": p["import_kwh"]} for p in peaks]
    assert figures["capacity_kwh"] == report["capacity_kwh"]
    grid = report["grid"]
    assert isinstance(grid, dict)
    assert figures["step"] == grid["step"] and figures["company"] == grid["company"]


def test_run_grid_keeps_the_months_figures_in_the_database_and_on_mqtt_across_restarts(
    tmp_path: Path, broker: Broker
) -> None:
    db = tmp_path / "history.db"
    topic = f"amsread/{KAMSTRUP}/tariff"
    seen: list[int] = []
    for day, seed in ((1, 11), (2, 12), (3, 13)):
        capture = evening(
            tmp_path / f"oct{day}.bin", dt.datetime(2026, 10, day, 17, 0, 1, tzinfo=OSLO), 2.5, seed
        )
        done = amsread("run", str(capture), "--db", str(db), *KEEP, "--grid", "elvia", "--mqtt", broker.url())
        assert done.returncode == 0, done.stderr
        assert "tariff: Elvia AS (husholdning), live figures to db and mqtt" in done.stderr
        assert re.search(rf"the month so far: [\d,]+ readings from {re.escape(str(db))} in ", done.stderr)
        (stored,) = read_tariff(db)
        assert stored.meter_id == KAMSTRUP and stored.month == "2026-10"
        report = month_report(db)
        same_month(stored.figures, report)
        seen.append(len(stored.figures["peaks"]))  # type: ignore[arg-type]
    assert seen == [1, 2, 3]  # each run started from the month the database held
    assert stored.figures["hour_start"] == "2026-10-03T19:00:00+02:00"
    assert stored.figures["time"] == "2026-10-03T19:30:00+02:00"
    subscriber = Subscriber(broker, topic)
    try:
        (retained,) = subscriber.wait_for(topic, timeout=TIMEOUT)
        assert retained.retain
        assert json.loads(retained.payload, parse_float=Decimal) == stored.figures
    finally:
        subscriber.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--grid", "no-such-company"), "no grid company 'no-such-company'"),
        (("--grid", "elvia", "--group", "nobody"), "'nobody' is not one of"),
    ],
)
def test_an_unknown_company_or_group_is_one_clear_line_and_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    code, out, err = run_cli("run", str(tmp_path / "never-opened.bin"), "--no-db", *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert message in err and len([x for x in lines if x.startswith("Error")]) == 1
