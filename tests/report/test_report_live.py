"""``watch --grid``: the live month (report.live.LiveTariff) and the command's hourly note."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from amsread.cli.main import cli
from amsread.contract import Reading
from amsread.report.live import LiveFigures, LiveTariff, figures_json, headroom
from amsread.report.month import Reporter
from amsread.report.tariffs import load_company
from helpers.histories import OSLO, at, hourly, steady
from helpers.live import ROOT

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
    assert status.room is not None
    assert status.room.threshold == Decimal(5) and status.room.left_kwh == Decimal("6.8")
    assert status.room.allowed_kw == Decimal("13.6")  # 6.8 kWh in the half hour left
    assert tuple(p.import_kwh for p in status.peaks) == (Decimal(4), Decimal(3), Decimal("1.2"))


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
        ],
        env={"XDG_DATA_HOME": str(tmp_path)},  # no default history database there
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


# --------------------------------------------------------------------------------------------
# the month by the report's hour rules, and a restart that keeps it
# --------------------------------------------------------------------------------------------


def _month_history() -> list[tuple[dt.datetime, Reading]]:
    """Four evenings of Oct 2026: power every 10 s and the hourly list at each full hour, the
    counters following the power; on the 3rd the 19:00 list comes twice (a stale repeat)."""
    items: list[tuple[dt.datetime, Reading]] = []
    counter = Decimal("1000")
    loads = {1: (2000, 4100, 3000), 2: (6000, 1000, 1500), 3: (2500, 5200, 4400), 4: (3600, 2200, 900)}
    for day, watts in loads.items():
        start = at(f"2026-10-0{day}T17:00")
        items.append(hourly(start, str(counter)))
        for i, w in enumerate(watts):
            hour = start + dt.timedelta(hours=i)
            items += steady(hour, hour + dt.timedelta(hours=1), w)
            counter += Decimal(w) / 1000
            items.append(hourly(hour + dt.timedelta(hours=1, seconds=1), str(counter)))
        if day == 3:  # the 19:00 list again, with the 18:00 counters: a stale repeat
            items[-2] = hourly(start + dt.timedelta(hours=2, seconds=2), str(counter - Decimal(3)))
            items.insert(-1, hourly(start + dt.timedelta(hours=2, seconds=1), str(counter - Decimal(3))))
    items += steady(at("2026-10-04T20:00:01"), at("2026-10-04T20:30:01"), 3000)  # the hour in progress
    return sorted(items, key=lambda x: x[0])


def _report(items: list[tuple[dt.datetime, Reading]]) -> Any:
    reporter = Reporter(OSLO, "2026-10", lambda first: ELVIA.tariff("husholdning", first))
    reports = [r for when, reading in items for r in reporter.feed(when, reading)]
    reports += list(reporter.finish())
    (report,) = reports
    return report


def test_the_live_month_is_the_reports_month_and_a_restart_keeps_it() -> None:
    """The peaks, mean and step of the live figures are the report's for the same history, also
    when most of it was stored before (replayed from ``history`` at the first reading); without
    the history the month starts from zero and the peaks differ."""
    items = _month_history()
    cut = at("2026-10-04T18:30")
    stored, live_part = [x for x in items if x[0] < cut], [x for x in items if x[0] >= cut]
    report = _report(items)
    seen: list[tuple[dt.datetime, dt.datetime]] = []

    def history(start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, Reading]]:
        seen.append((start, end))
        return [x for x in stored if start <= x[0] < end]

    live = LiveTariff(lambda first: ELVIA.tariff("husholdning", first), OSLO, history=history)
    fresh = _tariff()
    for when, reading in live_part:
        live.feed(reading, when)
        fresh.feed(reading, when)
    assert seen == [(at("2026-09-30T21:00"), cut)]  # the month, and the hours its first one needs
    assert live.seeded == len(stored)
    status = live.status()
    assert status is not None and status.step is not None
    assert [(p.date, p.import_kwh) for p in status.peaks] == [(p.date, p.import_kwh) for p in report.peaks]
    assert status.mean == report.capacity_kwh and status.step == report.grid.step
    assert {d: v for d, v in live.daily.items() if d.month == 10} == {
        d.date: d.import_kwh for d in report.daily if d.date != dt.date(2026, 10, 4)
    } | {dt.date(2026, 10, 4): Decimal("3.6")}
    # 900 W for its first second (the evening's last power holds until the next reading), then 3000 W
    assert status.hour_kwh == (900 + 3000 * Decimal(1790)) / 3_600_000
    restarted = fresh.status()
    assert restarted is not None and len(restarted.peaks) == 1  # no history: only what it saw


def test_a_reading_on_the_full_hour_begins_the_new_hour() -> None:
    live = _tariff()
    for i in range(0, 361, 10):
        live.update(at("2026-10-03T18:54") + dt.timedelta(seconds=i), Decimal(3600))
    status = live.status()
    assert status is not None
    assert status.hour == at("2026-10-03T19:00") and status.hour_kwh == 0
    assert live.daily == {dt.date(2026, 10, 3): Decimal("0.36")}


def test_without_a_grid_the_month_is_shown_and_the_step_is_left_to_grid() -> None:
    live = LiveTariff(None, OSLO, {dt.date(2026, 10, 1): Decimal(4), dt.date(2026, 10, 2): Decimal(3)})
    for i in range(0, 1801, 10):
        live.update(at("2026-10-03T18:00") + dt.timedelta(seconds=i), Decimal(2400))
    status = live.status()
    assert status is not None and status.step is None and status.room is None
    assert status.lines() == [
        "This hour so far: 1.200 kWh",
        "Peaks this month: 4.000, 3.000, 1.200 kWh · mean 2.733 kWh/h",
        "--grid COMPANY adds the step and the kWh left this hour",
    ]
    figures = json.loads(figures_json(status, "m"), parse_float=Decimal)
    assert figures["step"] is None and figures["left_kwh"] is None and figures["company"] is None
    assert figures["capacity_kwh"] == Decimal("2.733")


def test_a_month_without_a_tariff_is_said_not_a_crash() -> None:
    live = _tariff()
    live.update(at("2020-01-03T18:00"), Decimal(1000))  # before any Elvia tariff in the data
    status = live.status()
    assert status is not None and status.step is None
    assert status.note is not None and "no tariff" in status.note
    assert status.lines()[-1] == status.note


def test_the_figures_object_has_the_documented_fields_exactly() -> None:
    live = _tariff({dt.date(2026, 10, 1): Decimal(4), dt.date(2026, 10, 2): Decimal(3)})
    for i in range(0, 1801, 10):
        live.update(at("2026-10-03T18:00") + dt.timedelta(seconds=i), Decimal(2400))
    status = live.status()
    assert status is not None
    figures = json.loads(figures_json(status, "7359992890941742", "husholdning"), parse_float=Decimal)
    assert figures == {
        "meter_id": "7359992890941742",
        "time": "2026-10-03T18:30:00+02:00",
        "month": "2026-10",
        "hour_start": "2026-10-03T18:00:00+02:00",
        "hour_kwh": Decimal("1.200"),
        "peaks": [
            {"date": "2026-10-01", "import_kwh": Decimal("4.000")},
            {"date": "2026-10-02", "import_kwh": Decimal("3.000")},
            {"date": "2026-10-03", "import_kwh": Decimal("1.200")},
        ],
        "capacity_kwh": Decimal("2.733"),
        "company": "Elvia AS",
        "group": "husholdning",
        "method": "TRE_DØGNMAX_MND",
        "step": {"from_kwh": 2, "to_kwh": 5, "nok_per_year": figures["step"]["nok_per_year"]},
        "capacity_nok": (Decimal(figures["step"]["nok_per_year"]) / 12).quantize(Decimal("0.01")),
        "next_threshold_kwh": Decimal("5.000"),
        "left_kwh": Decimal("6.800"),
        "allowed_kw": Decimal("13.600"),
        "note": None,
        "excludes": "VAT and consumption tax",
    }
    documented = re.findall(r"^\| `([a-z_]+)` \|", (ROOT / "docs" / "mqtt.md").read_text(), re.MULTILINE)
    assert [k for k in figures if k in documented] == list(figures)


def test_mnd_max_takes_the_single_largest_hour() -> None:
    h = headroom([Decimal(4), Decimal(3)], Decimal(1), Decimal(1), [Decimal(0), Decimal(5)], Decimal(1), 1)
    assert h.ceiling_kwh == Decimal(5) and h.left_kwh == Decimal(4)


def test_live_figures_go_out_when_they_change_and_only_with_a_meter_id() -> None:
    sent: list[tuple[str, str]] = []
    lane = LiveFigures(_tariff(), [lambda meter, figures: sent.append((meter, figures))], "husholdning")
    t = at("2026-10-03T18:00")
    lane.handle(Reading(t, None, "aidon", 1, {"active_power_import": Decimal(0)}))
    assert sent == []  # no meter id yet: nothing to name the figures by
    lane.handle(Reading(t, t, "aidon", 2, {"meter_id": "m", "active_power_import": Decimal(0)}))
    lane.handle(Reading(t, t, "aidon", 2, {"meter_id": "m", "active_power_import": Decimal(0)}))
    assert len(sent) == 1  # the same figures again: not sent again
    lane.handle(
        Reading(t + dt.timedelta(seconds=10), None, "aidon", 1, {"active_power_import": Decimal(360)})
    )
    lane.handle(
        Reading(t + dt.timedelta(seconds=20), None, "aidon", 1, {"active_power_import": Decimal(360)})
    )
    assert len(sent) == 3 and sent[-1][0] == "m" and json.loads(sent[-1][1])["hour_kwh"] == 0.001


def test_watch_with_an_unknown_company_is_one_clear_line_and_exit_2() -> None:
    from helpers.cli import run

    code, out, err = run("watch", "--demo", "--plain", "--count", "1", "--grid", "no-such-company")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        "Error: no grid company 'no-such-company'; `amsread report --grids` lists them"
    ]
