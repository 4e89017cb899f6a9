"""The month, the tariff rules and the live headroom of docs/report-contract.md."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from amsread.errors import TariffError
from amsread.report.capacity import DayMax, capacity, daily_maxima, mean
from amsread.report.hours import LIST3, Hour
from amsread.report.live import headroom
from amsread.report.month import report_json, summarise
from amsread.report.tariffs import Company, company_from_yaml, load_company, parse_hours
from helpers.histories import OSLO, at

D = Decimal


def _hour(local: str, kwh: str) -> Hour:
    return Hour(at(local).astimezone(dt.UTC), D(kwh), D(0), LIST3, True)


def _days(*values: str) -> list[DayMax]:
    return [
        DayMax(dt.date(2026, 10, i + 1), at(f"2026-10-{i + 1:02d}T18:00"), D(v)) for i, v in enumerate(values)
    ]


def test_peaks_on_different_days_and_their_mean() -> None:
    hours = [_hour("2026-10-01T17:00", "6"), _hour("2026-10-01T18:00", "7"), _hour("2026-10-02T08:00", "3")]
    hours += [_hour("2026-10-03T08:00", "2"), _hour("2026-10-04T08:00", "5")]
    daily = daily_maxima(hours, OSLO)
    cap, peaks = capacity(daily)
    assert [str(p.date) for p in peaks] == ["2026-10-01", "2026-10-04", "2026-10-02"]
    assert cap == D(5)


def test_mean_of_exactly_five_stays_five() -> None:
    assert mean([D("5.1"), D("4.9"), D("5.0")]) == D(5)
    report = summarise(
        "m",
        "2026-10",
        OSLO,
        [_hour(f"2026-10-0{i}T18:00", v) for i, v in ((1, "5.1"), (2, "4.9"), (3, "5.0"))],
        [],
    )
    assert '"capacity_kwh": 5.000,' in report_json(report)
    assert "5.000000000000001" not in report_json(report)


def test_month_with_fewer_than_three_days() -> None:
    cap, peaks = capacity(_days("4", "3"))
    assert len(peaks) == 2 and cap == D("3.5")


def test_mnd_max_takes_the_single_largest_hour() -> None:
    cap, peaks = capacity(_days("4", "3", "2"), "MND_MAX")
    assert cap == D(4) and len(peaks) == 1


TARIFF = """
netteier: Test Nett AS
tariffer:
  - kundegrupper: [husholdning]
    gyldig_fra: 2026-01-01
    fastledd:
      metode: TRE_DØGNMAX_MND
      terskel_inkludert: {included}
      terskler:
        - {{terskel: 0, pris: 1200}}
        - {{terskel: 5, pris: 2400}}
        - {{terskel: 10, pris: 3600}}
    energiledd:
      grunnpris: 10.5
      unntak:
        - {{navn: Helligdag, dager: [helligdager], pris: 1}}
        - {{navn: Vinterdag, timer: 6-21, dager: [virkedag], måneder: [januar, februar], pris: 30.25}}
        - {{navn: Natt, timer: 22-5, pris: 5}}
"""


def _company(included: str = "true") -> Company:
    return company_from_yaml("test", TARIFF.format(included=included))


@pytest.mark.parametrize(("included", "step"), [("true", D(5)), ("false", D(0))])
def test_threshold_exactly_met(included: str, step: Decimal) -> None:
    tariff = _company(included).tariff("husholdning", dt.date(2026, 10, 1))
    assert tariff.step_for(D("5.000")).from_kwh == step


def test_energy_prices_by_hour_day_type_and_month_and_holiday() -> None:
    t = _company().tariff("husholdning", dt.date(2026, 1, 1))
    assert t.ore_per_kwh(at("2026-01-05T07:00")) == D("30.25")  # Monday in January, day
    assert t.ore_per_kwh(at("2026-01-05T21:00")) == D("30.25")  # 6-21 includes 21:00-21:59
    assert t.ore_per_kwh(at("2026-01-05T23:00")) == D(5)  # night over midnight
    assert t.ore_per_kwh(at("2026-01-10T07:00")) == D("10.5")  # Saturday: no virkedag
    assert t.ore_per_kwh(at("2026-03-02T07:00")) == D("10.5")  # March: not in the months
    assert t.ore_per_kwh(at("2026-04-03T07:00")) == D(1)  # Good Friday: public holiday
    assert t.ore_per_kwh(at("2026-05-17T12:00")) == D(1)  # Constitution Day


def test_month_cost_exact() -> None:
    hours = [_hour("2026-10-05T08:00", "2"), _hour("2026-10-06T08:00", "2"), _hour("2026-10-07T08:00", "2")]
    company = _company()
    report = summarise("m", "2026-10", OSLO, hours, [], lambda first: company.tariff("husholdning", first))
    assert report.grid is not None
    assert report.grid.capacity_nok == D("100.00") and report.grid.energy_nok == D("0.63")
    assert '"total_nok": 100.63' in report_json(report)


def test_shipped_tariffs_and_methods_not_computed() -> None:
    elvia = load_company("elvia").tariff("husholdning", dt.date(2026, 10, 1))
    assert elvia.company == "Elvia AS" and elvia.computed
    fjellnett = load_company("fjellnett")
    tariff = next(t for t in fjellnett.tariffs if t.method == "FEM_VEKTET_ÅR")
    report = summarise("m", "2026-10", OSLO, [_hour("2026-10-05T08:00", "2")], [], lambda first: tariff)
    assert report.grid is not None and report.grid.not_computed and report.grid.total_nok is None
    with pytest.raises(TariffError):
        load_company("no-such-company")


def test_hours_text() -> None:
    assert parse_hours("22-5") == frozenset([22, 23, 0, 1, 2, 3, 4, 5])
    assert parse_hours("6-21") == frozenset(range(6, 22))


def test_live_contract_examples() -> None:
    h = headroom([D(4), D(3)], D("1.2"), D("1.2"), [D(0), D(5), D(10)], D("0.5"))
    assert h.ceiling_kwh == D(8) and h.left_kwh == D("6.8") and h.allowed_kw == D("13.6")
    second_day = headroom([D(4)], D(0), D(0), [D(0), D(5)], D(1))
    assert second_day.ceiling_kwh == D(6)


def test_live_past_the_threshold_aims_at_the_next() -> None:
    h = headroom([D(6), D(6)], D(6), D(1), [D(0), D(5), D(10)], D(1))
    assert h.passed == (D(5),) and h.threshold == D(10)


def test_text_shows_peaks_step_cost_thresholds_and_credit() -> None:
    from amsread.report.text import report_text

    elvia = load_company("elvia")
    hours = [_hour(f"2026-10-0{d}T18:00", v) for d, v in ((1, "6.19"), (2, "3.2"), (3, "1.5"), (4, "4.1"))]
    report = summarise("m", "2026-10", OSLO, hours, [], lambda first: elvia.tariff("husholdning", first))
    text = "\n".join(report_text(report))
    assert "Capacity (mean of the peaks): 4.497 kWh/h" in text
    assert "Step: 2–5 kWh/h" in text and "Next step from 5 kWh/h" in text
    assert "excluding VAT and consumption tax" in text and "Fri nettleie" in text
    chart = [line for line in text.splitlines() if line.startswith("  10-0")]
    assert [line.endswith("◆") for line in chart] == [True, True, False, True]
    assert all("│" in line or "┃" in line for line in chart)
