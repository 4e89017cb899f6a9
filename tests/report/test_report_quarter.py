"""The Belgian month: the 15-minute peak from the meter's 1-0:1.6.0, from the energy counters and
from 1-0:1.4.0, the Flemish 2.5 kW minimum and the mean of the last 12 monthly peaks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from amsread.cli.main import cli
from amsread.contract import Reading
from amsread.decode.decoder import DecodeOptions, ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.report.month import Reporter, report_json
from amsread.report.quarter import COUNTERS, METER, QuarterMonth, QuarterPeak, QuarterTracker
from amsread.report.text import report_text
from amsread.simulator import SimulatedMeter
from amsread.store import HistoryStore
from helpers.telegrams import wire

D = Decimal
BRUSSELS = ZoneInfo("Europe/Brussels")
METER_ID = "1SAG3105200877"


def _report(*args: str) -> str:
    result = CliRunner().invoke(cli, ["report", *args, "--meter-tz", "Europe/Brussels"])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_real_fluvius_telegram_gives_the_meters_peak_and_its_history(tmp_path: Path) -> None:
    capture = tmp_path / "fluvius.bin"
    capture.write_bytes(wire("be_fluvius_sagemcom"))
    report = json.loads(_report(str(capture), "--month", "2023-06", "--format", "json").splitlines()[0])
    quarter = report["quarter_peak"]
    assert quarter["peak"] == {"kw": 6.235, "at": "2023-06-22T20:00:00+02:00", "source": "meter"}
    assert quarter["billed_kw"] == 6.235 and quarter["minimum_kw"] == 2.5
    # April and May from 0-0:98.1.0, June from 1-0:1.6.0: (6.985 + 6.748 + 6.235) / 3
    assert quarter["months"] == [
        {"month": "2023-04", "kw": 6.985},
        {"month": "2023-05", "kw": 6.748},
        {"month": "2023-06", "kw": 6.235},
    ]
    assert quarter["mean_kw"] == 6.656 and quarter["mean_months"] == 3
    text = _report(str(capture), "--month", "2023-06", "--format", "text")
    assert "15-minute peak: 6.235 kW at 2023-06-22 20:00 (the meter's 1-0:1.6.0)" in text
    assert "Mean of the last 3 monthly peaks: 6.656 kW (3 held; the tariff takes 12)" in text


def test_the_same_from_json_lines_and_from_the_history_database(tmp_path: Path) -> None:
    capture = tmp_path / "fluvius.bin"
    capture.write_bytes(wire("be_fluvius_sagemcom"))
    result = CliRunner().invoke(cli, ["json", str(capture), "--meter-tz", "Europe/Brussels"])
    (tmp_path / "h.jsonl").write_text(result.stdout, encoding="utf-8")
    db = tmp_path / "history.db"
    sent = dt.datetime(2023, 6, 29, 10, 22, 48, tzinfo=BRUSSELS)
    history = HistoryStore(db, clock=sent.timestamp)  # the telegram's day: not pruned as old
    decoder = ReadingDecoder(DecodeOptions(meter_tz=BRUSSELS))
    for reading in Pipeline().readings([capture.read_bytes()], decoder=decoder):
        history.handle(dataclasses.replace(reading, received_at=reading.meter_time))  # as `run` stamps it
    history.close()
    for path in (tmp_path / "h.jsonl", db):
        out = _report(str(path), "--month", "2023-06", "--format", "json")
        quarter = json.loads(out.splitlines()[0])["quarter_peak"]
        assert quarter["peak"]["kw"] == 6.235 and quarter["mean_kw"] == 6.656, path.name


def _belgian(when: dt.datetime, counter: Decimal | None, average_w: int | None = None) -> Reading:
    values: dict[str, object] = {"meter_id": METER_ID, "active_power_import": D(0)}
    if counter is not None:
        values["active_energy_import"] = counter
    if average_w is not None:
        values["active_power_import_average"] = D(average_w)
    return Reading(when, when, "flu", None, values, "p1")


def _steady(start: dt.datetime, quarters: list[int], step_s: int = 10) -> list[tuple[dt.datetime, Reading]]:
    """Readings every ``step_s`` seconds with the counter advancing at each quarter's power (W)."""
    out = []
    counter = D("1000.000")
    when = start
    for watts in quarters:
        for _ in range(15 * 60 // step_s):
            out.append((when, _belgian(when, counter, average_w=watts)))
            counter += D(watts) * step_s / D(3_600_000)
            when += dt.timedelta(seconds=step_s)
    out.append((when, _belgian(when, counter, average_w=0)))
    return out


def test_without_1_6_0_the_peak_comes_from_the_counters() -> None:
    start = dt.datetime(2024, 3, 5, 18, 0, tzinfo=BRUSSELS)
    tracker = QuarterTracker(BRUSSELS)
    for when, reading in _steady(start, [1800, 7200, 3600, 720]):
        tracker.add(when, reading)
    month = tracker.close("2024-03")
    assert month is not None
    # 7200 W for 18:15–18:30: 1.800 kWh in the quarter, 7.2 kW, stamped at the quarter's end
    assert month.peak == QuarterPeak(D("7.2"), dt.datetime(2024, 3, 5, 18, 30, tzinfo=BRUSSELS), COUNTERS)


def test_a_gap_at_a_boundary_leaves_both_quarters_out() -> None:
    start = dt.datetime(2024, 3, 5, 18, 0, tzinfo=BRUSSELS)
    items = [
        x
        for x in _steady(start, [1800, 7200, 3600])
        if not (18 * 60 + 30 <= x[0].hour * 60 + x[0].minute < 18 * 60 + 32)
    ]
    tracker = QuarterTracker(BRUSSELS)
    for when, reading in items:
        tracker.add(when, reading)
    month = tracker.close("2024-03")
    assert month is not None and month.peak is not None
    assert month.peak.kw == D("1.8")  # 18:15–18:30 and 18:30–18:45 have no counter at 18:30


def test_without_counters_the_largest_1_4_0_serves() -> None:
    start = dt.datetime(2024, 3, 5, 18, 0, tzinfo=BRUSSELS)
    tracker = QuarterTracker(BRUSSELS)
    for i, watts in enumerate((1200, 5432, 800)):
        when = start + dt.timedelta(minutes=5 * i)
        tracker.add(when, _belgian(when, None, average_w=watts))
    month = tracker.close("2024-03")
    assert month is not None and month.peak is not None
    assert (month.peak.kw, month.peak.source) == (D("5.432"), "average_demand")


def test_the_flemish_minimum_and_the_twelve_month_mean() -> None:
    # the worked year of nl.wikibooks "Energietransitie/Capaciteitstarief": May to April, kW
    peaks = [
        "0.632",
        "4.600",
        "0.000",
        "1.028",
        "3.444",
        "4.164",
        "4.564",
        "6.000",
        "9.200",
        "5.000",
        "4.120",
        "4.880",
    ]
    months = tuple((f"m{i:02d}", D(kw)) for i, kw in enumerate(peaks))
    year = QuarterMonth(QuarterPeak(D("4.880"), None, METER), months, from_history=False)
    # each month counts at least 2.5 kW: 53.472 / 12 (the page prints 4,546, a slip for 4,456)
    assert year.mean_kw == D("4.456")
    low = QuarterMonth(QuarterPeak(D("0.632"), None, METER), months[:1], from_history=True)
    assert low.billed_kw == D("2.5") and low.mean_kw == D("2.5")


def test_twelve_reported_months_make_the_mean_and_fewer_do_not() -> None:
    tracker = QuarterTracker(BRUSSELS)
    results = []
    for number in range(1, 14):
        year, month = 2023 + (number - 1) // 12, (number - 1) % 12 + 1
        when = dt.datetime(year, month, 10, 12, 0, tzinfo=BRUSSELS)
        peak = Reading(when, when, "flu", None, {"active_power_import_max_month": D(3000 + number)}, "p1")
        tracker.add(when, peak)
        results.append(tracker.close(f"{year}-{month:02d}"))
    assert all(r is not None and r.mean_kw is None for r in results[:11])
    twelfth, thirteenth = results[11], results[12]
    assert twelfth is not None and twelfth.mean_kw == D("3.0065")  # (3.001 + … + 3.012) / 12
    assert thirteenth is not None and thirteenth.mean_kw == D("3.0075")  # January 2023 dropped
    assert thirteenth.months[0][0] == "2023-02"


def test_a_mean_of_exactly_five_stays_five_in_json() -> None:
    months = (("2024-01", D("4.9")), ("2024-02", D("5.1")), ("2024-03", D("5.0")))
    quarter = QuarterMonth(QuarterPeak(D("5.0"), None, METER), months, from_history=True)
    assert quarter.mean_kw == D(5)
    reporter = Reporter(BRUSSELS)
    when = dt.datetime(2024, 3, 5, 18, 0, tzinfo=BRUSSELS)
    list(reporter.feed(when, _belgian(when, D("1.000"), average_w=5000)))
    (report,) = list(reporter.finish())
    report.quarter = quarter
    assert '"mean_kw": 5.000,' in report_json(report)


def test_a_belgian_month_through_the_reporter_shows_the_computed_peak() -> None:
    reporter = Reporter(BRUSSELS)
    start = dt.datetime(2024, 3, 5, 18, 0, tzinfo=BRUSSELS)
    out = [r for when, reading in _steady(start, [1800, 7200]) for r in reporter.feed(when, reading)]
    out += list(reporter.finish())
    (report,) = out
    assert json.loads(report_json(report))["quarter_peak"]["peak"] == {
        "kw": 7.2,
        "at": "2024-03-05T18:30:00+01:00",
        "source": "counters",
    }
    assert any(
        "7.200 kW at 2024-03-05 18:30 (computed from the energy counters)" in line
        for line in report_text(report)
    )


def test_a_norwegian_history_has_no_quarter_peak(tmp_path: Path) -> None:
    sim = SimulatedMeter("aidon", 3, seed=2, start=dt.datetime(2026, 10, 1, 0, 0, 0))
    pushes = sim.pushes()
    capture = tmp_path / "aidon.bin"
    capture.write_bytes(b"".join(next(pushes).frame for _ in range(800)))
    result = CliRunner().invoke(cli, ["report", str(capture), "--all", "--format", "json"])
    assert result.exit_code == 0 and result.stdout.strip()
    assert "quarter_peak" not in result.stdout
    text = CliRunner().invoke(cli, ["report", str(capture), "--all", "--format", "text"]).stdout
    assert "Capacity (mean of the peaks)" in text and "15-minute" not in text


def test_a_quarter_belongs_to_the_month_it_starts_in() -> None:
    """The last quarter of February (23:45–00:00 local) is February's even though it closes in
    March; March's peak is March's own."""
    start = dt.datetime(2024, 2, 29, 23, 30, tzinfo=BRUSSELS)
    tracker = QuarterTracker(BRUSSELS)
    for when, reading in _steady(start, [3600, 7200, 1800]):  # whole watt-hours every 10 s
        tracker.add(when, reading)
    february, march = tracker.close("2024-02"), tracker.close("2024-03")
    assert february is not None and february.peak is not None
    assert (february.peak.kw, february.peak.at) == (D("7.2"), dt.datetime(2024, 3, 1, 0, 0, tzinfo=BRUSSELS))
    assert march is not None and march.peak is not None and march.peak.kw == D("1.8")
    assert march.months == (("2024-02", D("7.2")), ("2024-03", D("1.8")))


def test_a_peak_history_that_grows_is_read_again() -> None:
    """The meter sends 0-0:98.1.0 with every telegram; a new month in it must still be taken."""
    april = "2023-05-01: 6985 W at 2023-04-23T20:30:00+02:00"
    may = april + "; 2023-06-01: 6748 W at 2023-05-24T19:30:00+02:00"
    tracker = QuarterTracker(BRUSSELS)
    for i, history in enumerate((april, april, may)):
        when = dt.datetime(2023, 6, 2, 12, i, tzinfo=BRUSSELS)
        tracker.add(
            when, Reading(when, when, "flu", None, {"active_power_import_max_history": history}, "p1")
        )
    june = tracker.close("2023-06")
    assert june is not None and june.months == (("2023-04", D("6.985")), ("2023-05", D("6.748")))
