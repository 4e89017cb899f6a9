"""A meter's month: its hours, daily maxima, peaks, capacity and (with a tariff) its cost, and the
contract's JSON object (docs/report-contract.md).

``Reporter`` streams: it takes readings in time order, keeps one month of hours per meter (at most
745 of them) and hands out each month as soon as the history has moved past it, so ``--all`` over
a year never holds more than a month.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from amsread.contract import Reading
from amsread.errors import TariffError
from amsread.report.capacity import DayMax, capacity, daily_maxima
from amsread.report.hours import Event, Hour, HourBuilder, sample_of
from amsread.report.quarter import MINIMUM_KW, QuarterMonth, QuarterPeak, QuarterTracker
from amsread.report.tariffs import EXCLUDES, Step, Tariff

KWH: Final = Decimal("0.001")
NOK: Final = Decimal("0.01")
_ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class GridCost:
    """What the month costs at a tariff (excluding VAT and consumption tax), or why not computed."""

    tariff: Tariff
    step: Step | None = None
    next_step: Step | None = None
    capacity_nok: Decimal | None = None
    energy_nok: Decimal | None = None
    not_computed: str | None = None

    @property
    def total_nok(self) -> Decimal | None:
        if self.capacity_nok is None or self.energy_nok is None:
            return None
        return self.capacity_nok + self.energy_nok


@dataclass(slots=True)
class MonthReport:
    """One meter's month."""

    meter_id: str | None
    month: str
    tz: dt.tzinfo
    hours: list[Hour]
    events: list[Event]
    daily: list[DayMax] = field(default_factory=list)
    peaks: list[DayMax] = field(default_factory=list)
    capacity_kwh: Decimal | None = None
    grid: GridCost | None = None
    grid_error: str | None = None
    quarter: QuarterMonth | None = None
    """The 15-minute peak, for a meter that sends the Belgian capacity-tariff lines."""

    @property
    def import_kwh(self) -> Decimal:
        return sum((h.import_kwh for h in self.hours), _ZERO)

    @property
    def export_kwh(self) -> Decimal:
        return sum((h.export_kwh for h in self.hours), _ZERO)


def month_key(when: dt.datetime, tz: dt.tzinfo) -> str:
    """``YYYY-MM`` of ``when`` in ``tz``."""
    return when.astimezone(tz).strftime("%Y-%m")


def month_bounds(month: str, tz: dt.tzinfo) -> tuple[dt.datetime, dt.datetime]:
    """The first instant of ``YYYY-MM`` in ``tz`` and the first of the next month (aware)."""
    year, number = (int(x) for x in month.split("-"))
    start = dt.datetime(year, number, 1, tzinfo=tz)
    end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)
    return start, end


def summarise(
    meter_id: str | None,
    month: str,
    tz: dt.tzinfo,
    hours: list[Hour],
    events: list[Event],
    tariff_for: Callable[[dt.date], Tariff] | None = None,
) -> MonthReport:
    """The month's report from its hours (in time order) and, with ``tariff_for``, its cost."""
    report = MonthReport(meter_id, month, tz, hours, events)
    report.daily = daily_maxima(hours, tz)
    method = "TRE_DØGNMAX_MND"
    if tariff_for is not None:
        try:
            tariff = tariff_for(dt.date.fromisoformat(month + "-01"))
        except TariffError as e:
            report.grid_error = str(e)
            tariff = None
        if tariff is not None:
            method = tariff.method
            report.grid = GridCost(tariff) if tariff.computed else GridCost(tariff, not_computed=_why(tariff))
    report.capacity_kwh, report.peaks = capacity(report.daily, method)
    if report.grid is not None and report.grid.not_computed is None:
        report.grid = _cost(report.grid.tariff, report.capacity_kwh, hours, tz)
    return report


def _why(tariff: Tariff) -> str:
    return f"{tariff.company} uses the method {tariff.method}, which amsread does not compute"


def _cost(tariff: Tariff, kwh: Decimal | None, hours: list[Hour], tz: dt.tzinfo) -> GridCost:
    step = tariff.step_for(kwh or _ZERO)
    energy = sum((h.import_kwh * tariff.ore_per_kwh(h.start.astimezone(tz)) for h in hours), _ZERO) / 100
    return GridCost(
        tariff,
        step=step,
        next_step=tariff.next_step(kwh or _ZERO),
        capacity_nok=(step.nok_per_year / 12).quantize(NOK),
        energy_nok=energy.quantize(NOK),
    )


# --------------------------------------------------------------------------------------------
# streaming
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Meter:
    quarters: QuarterTracker
    builder: HourBuilder = field(default_factory=HourBuilder)
    month: str | None = None
    hours: list[Hour] = field(default_factory=list)


class Reporter:
    """Readings in, month reports out, per meter; only the month ``only`` (``YYYY-MM``) if given."""

    def __init__(
        self,
        tz: dt.tzinfo,
        only: str | None = None,
        tariff_for: Callable[[dt.date], Tariff] | None = None,
    ) -> None:
        self.tz = tz
        self.only = only
        self.tariff_for = tariff_for
        self.meters: dict[str | None, _Meter] = {}
        self.current: str | None = None
        self.readings = 0

    @property
    def skipped(self) -> int:
        """Readings left out because they came out of time order."""
        return sum(m.builder.skipped for m in self.meters.values())

    def feed(self, at: dt.datetime, reading: Reading) -> Iterator[MonthReport]:
        """Take one reading seen at ``at``; yield the months it closes."""
        self.readings += 1
        meter = self._meter(reading.values.get("meter_id"))
        meter.quarters.add(at, reading)
        for hour in meter.builder.add(sample_of(reading, at)):
            yield from self._hour(meter, hour)

    def finish(self) -> Iterator[MonthReport]:
        """The months still open at the end of the history."""
        for key, meter in self.meters.items():
            for hour in meter.builder.finish():
                yield from self._hour(meter, hour)
            if meter.month is not None:
                yield self._close(key, meter)

    def _meter(self, meter_id: Any) -> _Meter:
        """The state of ``meter_id``; a reading without one (Aidon's list 1) belongs to the meter
        seen last, and readings before any id go to the first meter that names itself."""
        if meter_id is None:
            meter_id = self.current
        elif meter_id != self.current:
            if self.current is None and None in self.meters and meter_id not in self.meters:
                self.meters[meter_id] = self.meters.pop(None)
            self.current = str(meter_id)
        meter = self.meters.get(meter_id)
        if meter is None:
            meter = self.meters[meter_id] = _Meter(QuarterTracker(self.tz))
        return meter

    def _hour(self, meter: _Meter, hour: Hour) -> Iterator[MonthReport]:
        key = month_key(hour.start, self.tz)
        if self.only is not None and key != self.only:
            return
        if meter.month is not None and key != meter.month:
            yield self._close(self._key_of(meter), meter)
        meter.month = key
        meter.hours.append(hour)

    def _key_of(self, meter: _Meter) -> str | None:
        return next(k for k, m in self.meters.items() if m is meter)

    def _close(self, key: str | None, meter: _Meter) -> MonthReport:
        assert meter.month is not None
        _, end = month_bounds(meter.month, self.tz)
        events = [e for e in meter.builder.events if e.meter_time is None or e.meter_time < end]
        meter.builder.events = [e for e in meter.builder.events if e not in events]
        report = summarise(key, meter.month, self.tz, meter.hours, events, self.tariff_for)
        report.quarter = meter.quarters.close(meter.month)
        meter.month, meter.hours = None, []
        return report


# --------------------------------------------------------------------------------------------
# JSON
# --------------------------------------------------------------------------------------------


def _number(value: Decimal | None, places: Decimal = KWH) -> str:
    return "null" if value is None else format(value.quantize(places), "f")


def _time(when: dt.datetime) -> str:
    return when.isoformat()


def _hour_json(hour: Hour, tz: dt.tzinfo) -> str:
    return (
        f'{{"start": "{_time(hour.start.astimezone(tz))}", "import_kwh": {_number(hour.import_kwh)}, '
        f'"export_kwh": {_number(hour.export_kwh)}, "source": "{hour.source}", '
        f'"complete": {"true" if hour.complete else "false"}}}'
    )


def _day_json(day: DayMax) -> str:
    return f'{{"date": "{day.date}", "start": "{_time(day.start)}", "import_kwh": {_number(day.import_kwh)}}}'


def _step_json(step: Step | None) -> str:
    if step is None:
        return "null"
    return (
        f'{{"from_kwh": {format(step.from_kwh, "f")}, '
        f'"to_kwh": {"null" if step.to_kwh is None else format(step.to_kwh, "f")}, '
        f'"nok_per_year": {format(step.nok_per_year, "f")}}}'
    )


def _grid_json(grid: GridCost | None) -> str:
    if grid is None:
        return "null"
    t = grid.tariff
    parts = [
        f'"company": {json.dumps(t.company, ensure_ascii=False)}',
        f'"method": {json.dumps(t.method, ensure_ascii=False)}',
        f'"valid_from": "{t.valid_from}"',
        f'"step": {_step_json(grid.step)}',
        f'"capacity_nok": {_number(grid.capacity_nok, NOK)}',
        f'"energy_nok": {_number(grid.energy_nok, NOK)}',
        f'"total_nok": {_number(grid.total_nok, NOK)}',
        f'"excludes": "{EXCLUDES}"',
    ]
    if grid.not_computed is not None:
        parts.append(f'"not_computed": {json.dumps(grid.not_computed, ensure_ascii=False)}')
    return "{" + ", ".join(parts) + "}"


def _event_json(event: Event, tz: dt.tzinfo) -> str:
    when = "null" if event.meter_time is None else f'"{_time(event.meter_time.astimezone(tz))}"'
    return f'{{"type": "{event.type}", "meter_time": {when}}}'


def _peak_json(peak: QuarterPeak | None, tz: dt.tzinfo) -> str:
    if peak is None:
        return "null"
    when = "null" if peak.at is None else f'"{_time(peak.at.astimezone(tz))}"'
    return f'{{"kw": {_number(peak.kw)}, "at": {when}, "source": "{peak.source}"}}'


def quarter_json(quarter: QuarterMonth, tz: dt.tzinfo) -> str:
    """The extra key ``quarter_peak`` (not in the contract, which is Norwegian): the month's
    15-minute peak in kW, what the Flemish tariff bills of it, and the mean of the monthly peaks."""
    months = ", ".join(f'{{"month": "{m}", "kw": {_number(kw)}}}' for m, kw in quarter.months)
    return (
        f'{{"peak": {_peak_json(quarter.peak, tz)}, "billed_kw": {_number(quarter.billed_kw)}, '
        f'"minimum_kw": {_number(MINIMUM_KW)}, "mean_kw": {_number(quarter.mean_kw)}, '
        f'"mean_months": {len(quarter.months)}, "months": [{months}]}}'
    )


def report_json(report: MonthReport) -> str:
    """The contract's object on one line: energies with 3 decimals, money with 2, exact; a
    Belgian meter's month gains ``quarter_peak`` at the end."""
    tz = report.tz
    quarter = "" if report.quarter is None else f', "quarter_peak": {quarter_json(report.quarter, tz)}'
    return (
        "{"
        f'"meter_id": {json.dumps(report.meter_id)}, "month": "{report.month}", '
        f'"timezone": {json.dumps(str(tz))}, '
        f'"import_kwh": {_number(report.import_kwh)}, "export_kwh": {_number(report.export_kwh)}, '
        f'"hours": [{", ".join(_hour_json(h, tz) for h in report.hours)}], '
        f'"daily_max": [{", ".join(_day_json(d) for d in report.daily)}], '
        f'"peaks": [{", ".join(_day_json(d) for d in report.peaks)}], '
        f'"capacity_kwh": {_number(report.capacity_kwh)}, '
        f'"grid": {_grid_json(report.grid)}, '
        f'"events": [{", ".join(_event_json(e, tz) for e in report.events)}]'
        f"{quarter}}}"
    )
