"""``watch --grid``: the live month (report.live.LiveTariff) and the command's hourly note."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from click.testing import CliRunner

from amsread.cli.main import cli
from amsread.report.live import LiveTariff
from amsread.report.tariffs import load_company
from helpers.histories import OSLO, at

ELVIA = load_company("elvia")


def _tariff(daily: dict[dt.date, Decimal] | None = None) -> LiveTariff:
    return LiveTariff(lambda first: ELVIA.tariff("husholdning", first), OSLO, daily)


def test_hour_so_far_and_kwh_left_from_the_contract_formula() -> None:
    live = _tariff({dt.date(2026, 10, 1): Decimal(4), dt.date(2026, 10, 2): Decimal(3)})
    t = at("2026-10-03T18:00")
    for i in range(0, 1801, 10):  # 1.2 kWh in the first half hour: 2400 W
        live.update(t + dt.timedelta(seconds=i), Decimal(2400))
    status = live.status()
    assert status is not None
    assert status.hour_kwh == Decimal("1.2")
    assert status.room.threshold == Decimal(5) and status.room.left_kwh == Decimal("6.8")
    assert status.room.allowed_kw == Decimal("13.6")  # 6.8 kWh in the half hour left
    assert status.peaks == (Decimal(4), Decimal(3), Decimal("1.2"))


def test_a_finished_hour_counts_for_its_day() -> None:
    live = _tariff()
    t = at("2026-10-03T18:00")
    for i in range(0, 3601 + 600, 10):
        live.update(t + dt.timedelta(seconds=i), Decimal(3000))
    assert live.daily[dt.date(2026, 10, 3)] == Decimal(3)
    status = live.status()
    assert status is not None and status.hour_kwh == Decimal("0.5")


def test_watch_grid_piped_notes_the_month_at_each_hourly_list(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "watch",
            "--demo",
            "--speed",
            "1000",
            "--count",
            "20",
            "--grid",
            "elvia",
            "--history",
            str(tmp_path / "none.db"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Left before 2 kWh/h" in result.output and "Fri nettleie" in result.output
