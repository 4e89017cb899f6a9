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


def test_live_view_draws_the_tariff_panel() -> None:
    from rich.console import Console

    from amsread.live.state import WatchState
    from amsread.live.view import View
    from amsread.wire.framer import Stats

    live = _tariff({dt.date(2026, 10, 1): Decimal(4)})
    for i in range(0, 61, 10):
        live.update(at("2026-10-02T18:00") + dt.timedelta(seconds=i), Decimal(1000))
    status = live.status()
    assert status is not None
    view = View(WatchState(), Stats(), "x", extra=("Capacity tariff", status.lines))
    console = Console(width=100, record=True, force_terminal=False, color_system=None)
    console.print(view)
    text = console.export_text()
    assert "Capacity tariff" in text and "Left before 5 kWh/h" in text


def test_png_draws_or_says_what_is_missing(tmp_path: Path) -> None:
    import importlib.util

    lines = []
    for i in range(3):
        when = at("2026-10-01T10:00") + dt.timedelta(hours=i)
        lines.append(
            f'{{"received_at": "{when.isoformat()}", "meter_time": "{when.isoformat()}", "list": 3, '
            f'"meter_id": "m", "active_energy_import": {100 + i}}}'
        )
    history = tmp_path / "h.jsonl"
    history.write_text("\n".join(lines) + "\n")
    png = tmp_path / "month.png"
    result = CliRunner().invoke(cli, ["report", str(history), "--month", "2026-10", "--png", str(png)])
    if importlib.util.find_spec("matplotlib") is None:
        assert result.exit_code == 1 and "pip install 'amsread[plot]'" in result.output
    else:
        assert result.exit_code == 0 and png.read_bytes().startswith(b"\x89PNG")
