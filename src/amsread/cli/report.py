"""``amsread report``: hourly energy, the month's capacity peaks and what the grid costs.

The rules live in ``amsread.report`` (pure, shared with ``watch --grid``); this module picks the
history's files, streams them through a ``Reporter`` and prints each month as text, JSON or CSV.
Heavy imports wait until the command runs, so ``amsread --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import click

from amsread.cli.options import CONTEXT_SETTINGS, TARIFF_CREDIT, group_option
from amsread.cli.runner import emit, note

if TYPE_CHECKING:
    from amsread.contract import Reading
    from amsread.report.month import MonthReport, Reporter

CSV_HEADER: Final = "start,import_kwh,export_kwh,source,complete"
GRID_HELP: Final = "Grid company (a file name, e.g. elvia): price the month by its tariff " + TARIFF_CREDIT


@click.command("report", context_settings=CONTEXT_SETTINGS)
@click.argument("history", nargs=-1, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--month", metavar="YYYY-MM", help="The month to report (default: this month).")
@click.option("--all", "all_months", is_flag=True, help="Every month in the history.")
@click.option(
    "--meter-tz", default="Europe/Oslo", show_default=True, metavar="ZONE", help="Time zone of the meter."
)
@click.option("--grid", metavar="COMPANY", help=GRID_HELP)
@group_option("Customer group.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv"]),
    help="text (default on a terminal), json (one object per meter and month) or csv (one row per hour).",
)
@click.option("--grids", is_flag=True, help="List the grid companies (file name and name) and stop.")
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Draw the chart (matplotlib).")
def command(
    history: tuple[Path, ...],
    month: str | None,
    all_months: bool,
    meter_tz: str,
    grid: str | None,
    group: str,
    fmt: str | None,
    grids: bool,
    png: Path | None,
) -> None:
    """Hourly energy and the capacity tariff of a month, from the meter's history.

    HISTORY is the history database `amsread run` keeps (the default when none is named), CSV or
    JSON-lines files from `amsread csv`/`amsread json` (several files are one history), or a raw
    capture. Hours come from the hourly counters (list 3); a resent hourly list is split, and hours
    without counters are estimated from the power readings (docs/report-contract.md). Prices
    exclude VAT and consumption tax.

    Examples:

    \b
        amsread report --grid elvia
        amsread report day-*.jsonl --month 2026-10 --format json
        amsread report --all --format csv > hours.csv
        amsread report --grids
    """
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if grids:
        _list_grids()
        return
    if month and all_months:
        raise click.UsageError("give either --month or --all, not both")
    try:
        tz = ZoneInfo(meter_tz)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise click.BadParameter(f"unknown time zone {meter_tz!r}", param_hint="--meter-tz") from e
    if not all_months:
        month = _month(month, tz)
    fmt = fmt or ("text" if sys.stdout.isatty() else "json")
    reporter = _reporter(tz, None if all_months else month, grid, group)
    skips: Counter[str] = Counter()
    count = 0
    if fmt == "csv":
        emit(CSV_HEADER)
    for report in _months(reporter, history, tz, skips):
        count += 1
        _print(report, fmt)
        if png is not None:
            _png(report, png)
    skipped = sum(skips.values()) + reporter.skipped
    if skipped:
        detail = ", ".join(f"{n} {why}" for why, n in sorted(skips.items()))
        note(f"skipped {skipped} lines ({detail or 'out of time order'})")
    if not count:
        note(f"no hours in {'the history' if all_months else month}")


def _month(month: str | None, tz: dt.tzinfo) -> str:
    if month is None:
        return dt.datetime.now(tz).strftime("%Y-%m")
    try:
        dt.datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise click.BadParameter(f"{month!r} is no YYYY-MM", param_hint="--month") from None
    return month


def _list_grids() -> None:
    from amsread.report.tariffs import CREDIT, company_keys, load_company

    for key in company_keys():
        emit(f"{key}\t{load_company(key).name}")
    note(CREDIT)


def _reporter(tz: Any, month: str | None, grid: str | None, group: str) -> Reporter:
    from amsread.report.month import Reporter
    from amsread.report.tariffs import load_company

    if grid is None:
        return Reporter(tz, month)
    company = load_company(grid)
    return Reporter(tz, month, lambda first: company.tariff(group, first))


def _months(
    reporter: Reporter, paths: tuple[Path, ...], tz: Any, skips: Counter[str]
) -> Iterator[MonthReport]:
    for at, reading in _readings(paths, tz, reporter.only, skips):
        yield from reporter.feed(at, reading)
    yield from reporter.finish()


def _readings(
    paths: tuple[Path, ...], tz: Any, month: str | None, skips: Counter[str]
) -> Iterator[tuple[dt.datetime, Reading]]:
    """Every reading of the history, in the order of the files named; with a month, only the
    readings near it (three hours either side: the hours around the month's edges need them)."""
    from amsread import store
    from amsread.report import history
    from amsread.report.month import month_bounds

    start = end = None
    if month is not None:
        first, last = month_bounds(month, tz)
        start, end = first - dt.timedelta(hours=3), last + dt.timedelta(hours=3)
    for path in paths or (store.default_path(),):
        kind = history.kind_of(path) if path.exists() else history.DATABASE
        if kind == history.DATABASE:
            yield from history.database(path, start, end)
            continue
        if kind == history.JSON_LINES:
            items = history.json_lines(path, tz, skips)
        elif kind == history.CSV:
            items = history.csv_rows(path, tz, skips)
        else:
            items = _capture(path, tz, skips)
        for at, reading in items:
            if (start is None or at >= start) and (end is None or at < end):
                yield at, reading


def _capture(path: Path, tz: Any, skips: Counter[str]) -> Iterator[tuple[dt.datetime, Reading]]:
    """A raw capture, decoded on the way through the usual pipeline."""
    from amsread.cli.options import make_decode_options
    from amsread.decode.decoder import ReadingDecoder
    from amsread.decode.pipeline import Pipeline
    from amsread.sources.base import SourceRequest

    options = make_decode_options(str(tz), None, "NO", None)
    src = SourceRequest(str(path)).open()
    try:
        for reading in Pipeline().readings(src, decoder=ReadingDecoder(options)):
            at = reading.received_at or reading.meter_time
            if at is None:
                skips["no time"] += 1
                continue
            yield at, reading
    finally:
        src.close()


def _print(report: MonthReport, fmt: str) -> None:
    from amsread.report.month import KWH, report_json
    from amsread.report.text import report_text

    if fmt == "json":
        emit(report_json(report))
    elif fmt == "csv":
        for h in report.hours:
            emit(
                f"{h.start.astimezone(report.tz).isoformat()},{format(h.import_kwh.quantize(KWH), 'f')},"
                f"{format(h.export_kwh.quantize(KWH), 'f')},{h.source},{'true' if h.complete else 'false'}"
            )
    elif sys.stdout.isatty():
        _print_terminal(report)
    else:
        for line in report_text(report):
            emit(line)
        emit("")


def _print_terminal(report: MonthReport) -> None:
    """The text report on a terminal: the same lines, the chart drawn by rich (``live.chart``);
    a pipe or a file gets the plain block-character chart, unchanged."""
    from amsread.live.chart import Bar, print_chart
    from amsread.report.text import Chart, chart_of, event_lines, head_lines

    for line in head_lines(report):
        emit(line)
    chart = chart_of(report)
    if chart is not None:
        bars = [Bar(label, kwh, peak) for label, kwh, peak in chart.days]
        print_chart(Chart.TITLE, bars, chart.thresholds, chart.scale)
    for line in event_lines(report):
        emit(line)
    emit("")


def _png(report: MonthReport, path: Path) -> None:
    try:
        _draw(report, path)
    except ImportError:
        raise click.ClickException("--png needs matplotlib: pip install 'amsread[plot]'") from None
    note(f"chart written to {path}")


def _draw(report: MonthReport, path: Path) -> None:
    """Write the month's chart to ``path`` (PNG); ``ImportError`` without matplotlib (imported here,
    it is the optional extra ``amsread[plot]``)."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed: the picture goes to a file
    import matplotlib.pyplot as plt

    from amsread.report.tariffs import CREDIT

    fig, (days, hours) = plt.subplots(2, 1, figsize=(10, 7))
    peak_days = {d.date for d in report.peaks}
    days.bar(
        [str(d.date)[5:] for d in report.daily],
        [float(d.import_kwh) for d in report.daily],
        color=["tab:red" if d.date in peak_days else "tab:blue" for d in report.daily],
    )
    if report.grid is not None and report.grid.step is not None:
        top = max((float(d.import_kwh) for d in report.daily), default=0.0)
        above = [s for s in report.grid.tariff.steps[1:] if float(s.from_kwh) > top][:1]
        for step in report.grid.tariff.steps[1:]:
            if float(step.from_kwh) <= top or step in above:
                days.axhline(float(step.from_kwh), color="grey", linestyle="--", linewidth=0.8)
    days.set_title(f"{report.month}: largest hour of each day (red: peaks), kWh")
    days.tick_params(axis="x", labelrotation=90, labelsize=6)
    hours.plot(
        [h.start.astimezone(report.tz) for h in report.hours],
        [float(h.import_kwh) for h in report.hours],
        linewidth=0.7,
    )
    hours.xaxis_date(report.tz)  # local hours on the axis, not UTC
    hours.set_title("hourly import, kWh")
    fig.text(0.01, 0.005, CREDIT if report.grid is not None else "amsread", fontsize=6)
    fig.tight_layout()
    fig.savefig(path, format="png")
    plt.close(fig)
