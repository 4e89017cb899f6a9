"""``amsread report`` end to end: a simulated meter's capture through the real pipeline, the same
history as JSON lines and in the history database, and the tariff list."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from amsread.cli.main import cli
from amsread.contract import Reading
from amsread.decode.decoder import DecodeOptions, ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.simulator import SimulatedMeter
from amsread.store import HistoryStore


def _capture(tmp_path: Path) -> Path:
    sim = SimulatedMeter("kamstrup", 3, seed=1, start=dt.datetime(2026, 10, 1, 0, 0, 0))
    pushes = sim.pushes()
    data = b"".join(next(pushes).frame for _ in range(1500))  # 10 s cadence: about four hours
    path = tmp_path / "meter.bin"
    path.write_bytes(data)
    return path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.output


def test_report_from_a_capture_json(tmp_path: Path) -> None:
    code, out = _run(
        "report", str(_capture(tmp_path)), "--month", "2026-10", "--format", "json", "--grid", "elvia"
    )
    assert code == 0, out
    report = json.loads(out.splitlines()[0])
    assert report["month"] == "2026-10" and report["grid"]["company"] == "Elvia AS"
    sources = [h["source"] for h in report["hours"]]
    assert sources[:3] == ["list3"] * 3 and sources[-1] == "estimate"


def test_report_csv_from_the_history_database(tmp_path: Path) -> None:
    capture = _capture(tmp_path)
    decoder = ReadingDecoder(DecodeOptions(meter_tz=ZoneInfo("Europe/Oslo")))
    db = tmp_path / "history.db"
    history = HistoryStore(db)
    readings: list[Reading] = list(Pipeline().readings([capture.read_bytes()], decoder=decoder))
    for reading in readings:
        history.handle(reading)
    history.close()
    code, out = _run("report", str(db), "--month", "2026-10", "--format", "csv")
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "start,import_kwh,export_kwh,source,complete"
    assert lines[1].startswith("2026-10-01T00:00:00+02:00,") and lines[1].endswith(",list3,true")


def test_grids_lists_companies_and_credits() -> None:
    result = CliRunner().invoke(cli, ["report", "--grids"])
    assert "elvia\tElvia AS" in result.output
    assert "Fri nettleie" in CliRunner().invoke(cli, ["report", "--help"]).output


def test_unknown_grid_is_one_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", str(_capture(tmp_path)), "--grid", "nope"])
    assert result.exit_code != 0 and "nope" in str(result.exception)


def test_a_real_aidon_hourly_list_resent_is_a_stale_repeat(tmp_path: Path) -> None:
    """A real Aidon list 3 capture, sent twice (as the meters do when they resend an old list):
    the second is no counter reading but an event, and no hour is made of it."""
    from helpers.vectors import raw

    capture = tmp_path / "aidon.bin"
    capture.write_bytes(raw("hassams_aidon6534_list3_1") * 2)
    code, out = _run("report", str(capture), "--month", "2020-07", "--format", "json")
    assert code == 0, out
    report = json.loads(out.splitlines()[0])
    assert report["events"] == [{"type": "stale_list3", "meter_time": "2020-07-21T21:00:00+02:00"}]
    # its power reading says something of 21:00-22:00, but no counter closes that hour
    assert [(h["source"], h["complete"]) for h in report["hours"]] == [("estimate", False)]
