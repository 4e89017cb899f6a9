"""The hour rules of docs/report-contract.md, on small hand-made histories."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from amsread.report.hours import ESTIMATE, LIST3, SPLIT
from amsread.report.month import Reporter
from helpers.histories import OSLO, at, hourly, hours_of, steady

H = dt.timedelta(hours=1)


def test_hour_closed_by_the_list_whose_clock_ends_it() -> None:
    hours, _ = hours_of([hourly(at("2026-10-01T10:00"), "100.00"), hourly(at("2026-10-01T11:00"), "101.25")])
    assert [(h.start.astimezone(OSLO), h.import_kwh, h.source, h.complete) for h in hours] == [
        (at("2026-10-01T10:00"), Decimal("1.25"), LIST3, True)
    ]


def test_meter_clock_a_few_seconds_late_still_closes_the_hour() -> None:
    late = at("2026-10-01T11:00:05")
    hours, _ = hours_of([hourly(at("2026-10-01T10:00:05"), "100.00"), hourly(late, "101.00")])
    assert hours[0].start == at("2026-10-01T10:00")


def _stale_history(with_power: bool) -> list:
    t10, t11, t12, t13 = (at(f"2026-10-01T{h}:00") for h in (10, 11, 12, 13))
    items = [
        hourly(t10, "100.0"),
        hourly(t11, "101.0"),
        hourly(t12 + dt.timedelta(seconds=9), "101.0", clock=t11),
    ]
    items.append(hourly(t13, "105.0"))
    if with_power:
        items += list(steady(t11, t12, 1000)) + list(steady(t12, t13 + dt.timedelta(seconds=5), 3000))
    return items


def test_stale_repeat_split_by_power() -> None:
    hours, builder = hours_of(_stale_history(with_power=True))
    split = {h.start.astimezone(OSLO).hour: h for h in hours if h.source == SPLIT}
    assert split[11].import_kwh == Decimal("1") and split[12].import_kwh == Decimal("3")
    assert [e.type for e in builder.events] == ["stale_list3"]


def test_stale_repeat_split_in_half_without_power() -> None:
    hours, _ = hours_of(_stale_history(with_power=False))
    assert [(h.start.astimezone(OSLO).hour, h.import_kwh, h.source) for h in hours] == [
        (10, Decimal("1.0"), LIST3),
        (11, Decimal("2.0"), SPLIT),
        (12, Decimal("2.0"), SPLIT),
    ]


def test_missing_list3_estimated_from_power_and_gaps_make_it_incomplete() -> None:
    t10, t11, t12 = at("2026-10-01T10:00"), at("2026-10-01T11:00"), at("2026-10-01T12:00")
    whole = list(steady(t10 - dt.timedelta(seconds=5), t11 + dt.timedelta(seconds=5), 3600))
    gappy = [p for p in steady(t11, t12 + dt.timedelta(seconds=5), 1800) if not (30 <= p[0].minute < 32)]
    hours, _ = hours_of(whole + gappy)
    by_hour = {h.start.astimezone(OSLO).hour: h for h in hours}
    assert by_hour[10].source == ESTIMATE and by_hour[10].complete
    assert by_hour[10].import_kwh == Decimal("3.6")
    assert by_hour[11].source == ESTIMATE and not by_hour[11].complete
    assert by_hour[11].import_kwh == Decimal("1.735")  # 130 s of gap left out


def test_capture_started_mid_hour_is_incomplete() -> None:
    hours, _ = hours_of(list(steady(at("2026-10-01T10:30"), at("2026-10-01T11:00:05"), 1000)))
    assert not hours[0].complete and hours[0].import_kwh == Decimal("0.5")


def test_counter_that_goes_down_is_not_spread() -> None:
    t = [at(f"2026-10-01T{h}:00") for h in (10, 11, 12)]
    hours, builder = hours_of([hourly(t[0], "100"), hourly(t[1], "99"), hourly(t[2], "100.5")])
    assert [(h.start.astimezone(OSLO).hour, h.import_kwh) for h in hours] == [(11, Decimal("1.5"))]
    assert [e.type for e in builder.events] == ["counter_down"]


def test_gap_of_two_hours_between_lists_is_not_spread() -> None:
    hours, builder = hours_of([hourly(at("2026-10-01T10:00"), "100"), hourly(at("2026-10-01T12:00"), "104")])
    assert hours == [] and [e.type for e in builder.events] == ["list3_gap"]


def _day_of_lists(day: str) -> list:
    start = dt.datetime.fromisoformat(day).replace(tzinfo=OSLO).astimezone(dt.UTC)
    return [hourly(start + i * H, str(100 + i)) for i in range(27)]


def _hours_on(day: str) -> int:
    reporter = Reporter(OSLO)
    reports = [r for w, rd in _day_of_lists(day) for r in reporter.feed(w, rd)]
    reports += list(reporter.finish())
    local = [h.start.astimezone(OSLO) for r in reports for h in r.hours]
    return sum(1 for t in local if str(t.date()) == day)


def test_25_hour_day_in_october() -> None:
    assert _hours_on("2026-10-25") == 25


def test_23_hour_day_in_march() -> None:
    assert _hours_on("2026-03-29") == 23
