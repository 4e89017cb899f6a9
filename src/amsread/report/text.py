"""The report as text for a terminal: the month at a glance and a chart of each day's largest hour.

Plain text with block characters (no colour library), so it reads the same in a terminal, a pipe
and an e-mail: one bar per day, the three peaks marked, the step thresholds drawn as ``│`` (``┃`` inside a bar).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Final

from amsread.report.month import KWH, NOK, MonthReport
from amsread.report.quarter import MEAN_MONTHS, MINIMUM_KW, QuarterMonth
from amsread.report.tariffs import CREDIT, EXCLUDES

BAR_WIDTH: Final = 40
_EIGHTHS: Final = " ▏▎▍▌▋▊▉█"


def _kwh(value: Decimal | None) -> str:
    return "-" if value is None else format(value.quantize(KWH), "f")


def _nok(value: Decimal | None) -> str:
    return "-" if value is None else f"{format(value.quantize(NOK), 'f')} kr"


def _bar(value: Decimal, scale: Decimal, marks: list[Decimal]) -> str:
    """A bar of ``value`` over ``BAR_WIDTH`` cells for ``scale``, the thresholds drawn across it."""
    eighths = int(value / scale * BAR_WIDTH * 8) if scale > 0 else 0
    cells = list("█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else ""))
    cells += [" "] * (BAR_WIDTH - len(cells))
    for mark in marks:
        at = int(mark / scale * BAR_WIDTH) if scale > 0 else 0
        if 0 < at < BAR_WIDTH:
            cells[at] = "│" if cells[at] == " " else "┃"  # inside the bar: a heavier line
    return "".join(cells[:BAR_WIDTH])


def report_text(report: MonthReport) -> Iterator[str]:
    """The lines of one month's report: the month at a glance, the chart, the events."""
    yield from head_lines(report)
    yield from _chart(report)
    yield from event_lines(report)


def head_lines(report: MonthReport) -> Iterator[str]:
    """The month at a glance: energy, hours, peaks, capacity and (with a tariff) the cost."""
    yield f"Meter {report.meter_id or '?'} · {report.month} · {report.tz}"
    yield f"Energy: {_kwh(report.import_kwh)} kWh imported, {_kwh(report.export_kwh)} kWh exported"
    estimates = sum(1 for h in report.hours if h.source != "list3")
    incomplete = sum(1 for h in report.hours if not h.complete)
    yield f"Hours: {len(report.hours)} ({estimates} not from counters, {incomplete} incomplete)"
    yield "Peak hours (largest of three different days):"
    for day in report.peaks:
        yield f"  {day.start:%Y-%m-%d %H:%M}  {_kwh(day.import_kwh)} kWh"
    yield f"Capacity (mean of the peaks): {_kwh(report.capacity_kwh)} kWh/h"
    if report.quarter is not None:
        yield from _quarter_lines(report.quarter, report)
    yield from _grid_lines(report)


def event_lines(report: MonthReport) -> Iterator[str]:
    """One line per event of the month (a stale repeat, a counter that went down, …)."""
    for event in report.events:
        when = (
            "" if event.meter_time is None else f" at {event.meter_time.astimezone(report.tz):%Y-%m-%d %H:%M}"
        )
        yield f"Event: {event.type}{when}"


_FROM: Final = {
    "meter": "the meter's 1-0:1.6.0",
    "counters": "computed from the energy counters",
    "average_demand": "the largest 1-0:1.4.0 seen",
}


def _quarter_lines(quarter: QuarterMonth, report: MonthReport) -> Iterator[str]:
    """The Flemish capacity tariff's figures: the month's 15-minute peak and the billed mean."""
    peak = quarter.peak
    if peak is None:
        yield "15-minute peak: none in the history"
    else:
        when = "" if peak.at is None else f" at {peak.at.astimezone(report.tz):%Y-%m-%d %H:%M}"
        yield (
            f"15-minute peak: {_kwh(peak.kw)} kW{when} ({_FROM[peak.source]}); "
            f"billed as {_kwh(quarter.billed_kw)} kW (at least {MINIMUM_KW} kW)"
        )
    mean = quarter.mean_kw
    if mean is not None:
        n = len(quarter.months)
        held = "" if n >= MEAN_MONTHS else f" ({n} held; the tariff takes {MEAN_MONTHS})"
        yield f"  Mean of the last {n} monthly peaks: {_kwh(mean)} kW{held}"


def _grid_lines(report: MonthReport) -> Iterator[str]:
    if report.grid_error:
        yield f"Grid: {report.grid_error}"
    grid = report.grid
    if grid is None:
        return
    t = grid.tariff
    yield f"Grid: {t.company}, tariff from {t.valid_from}, method {t.method}"
    if grid.not_computed is not None:
        yield f"  not computed: {grid.not_computed}"
    else:
        step, nxt = grid.step, grid.next_step
        assert step is not None
        upper = f"{step.to_kwh}" if step.to_kwh is not None else "∞"
        yield f"  Step: {step.from_kwh}–{upper} kWh/h, {step.nok_per_year} kr/year"
        if nxt is not None:
            yield f"  Next step from {nxt.from_kwh} kWh/h: {nxt.nok_per_year} kr/year"
        yield f"  Capacity part: {_nok(grid.capacity_nok)} · energy part: {_nok(grid.energy_nok)}"
        yield f"  Month: {_nok(grid.total_nok)}, excluding {EXCLUDES}"
    yield f"  {CREDIT}"


@dataclass(frozen=True, slots=True)
class Chart:
    """What the chart of each day's largest hour shows, for any renderer: one bar per day
    (``MM-DD HH:MM`` of the hour, its kWh, whether it is one of the peaks), the step thresholds
    drawn (those up to the largest day and the next one above it) and the value of a full bar."""

    days: tuple[tuple[str, Decimal, bool], ...]
    thresholds: tuple[Decimal, ...]
    scale: Decimal

    TITLE: ClassVar[str] = "Largest hour of each day (◆ peak, │ step threshold):"


def chart_of(report: MonthReport) -> Chart | None:
    """The chart of ``report``, or None for a month without hours."""
    if not report.daily:
        return None
    marks: list[Decimal] = []
    if report.grid is not None and report.grid.step is not None:
        marks = [s.from_kwh for s in report.grid.tariff.steps if s.from_kwh > 0]
    top = max(d.import_kwh for d in report.daily)
    above = [m for m in marks if m > top][:1]  # the next threshold shows how far away it is
    shown = [m for m in marks if m <= top] + above
    scale = max([top, *above]) * Decimal("1.05")
    peak_days = {d.date for d in report.peaks}
    days = tuple((f"{d.start:%m-%d %H:%M}", d.import_kwh, d.date in peak_days) for d in report.daily)
    return Chart(days, tuple(shown), scale)


def _chart(report: MonthReport) -> Iterator[str]:
    chart = chart_of(report)
    if chart is None:
        return
    yield Chart.TITLE
    for label, kwh, peak in chart.days:
        mark = " ◆" if peak else ""
        bar = _bar(kwh, chart.scale, list(chart.thresholds))
        yield f"  {label} {_kwh(kwh):>8} {bar}{mark}"
