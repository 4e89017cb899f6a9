"""``report``'s chart of each day's largest hour, drawn with rich on a terminal (issue 12).

Why here: rich stays in the live layer, the terminal renderers (``view`` for ``watch``, this for
``report``); ``amsread.report`` computes and prints plain text and never imports it (the import
contract "rich only in the live view" lists it). The layers beside each other do not import each
other, so the chart comes in as plain values (``Bar``), which ``cli.report`` takes from
``report.text.chart_of``: the same days, peaks, thresholds and scale as the block-character chart
that a pipe or a file gets, byte for byte as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Columns the bar may take at most, and at least on a narrow terminal.
MAX_BAR: Final = 60
MIN_BAR: Final = 10
#: What sits beside the bar: the label (11), the value (8), the peak mark (2) and the gaps.
_BESIDE: Final = 26
_EIGHTHS: Final = " ▏▎▍▌▋▊▉█"


@dataclass(frozen=True, slots=True)
class Bar:
    """One day: ``MM-DD HH:MM`` of its largest hour, that hour's kWh, and whether it is a peak."""

    label: str
    kwh: Decimal
    peak: bool


def _cells(kwh: Decimal, scale: Decimal, width: int) -> list[str]:
    eighths = int(kwh / scale * width * 8) if scale > 0 else 0
    cells = list("█" * (eighths // 8) + (_EIGHTHS[eighths % 8] if eighths % 8 else ""))
    return (cells + [" "] * width)[:width]


def bar_text(bar: Bar, scale: Decimal, thresholds: Sequence[Decimal], width: int) -> Text:
    """The bar of one day, ``width`` cells for ``scale``: a peak red, another day blue, the step
    thresholds drawn across it in yellow (``┃`` inside the bar, ``│`` beyond it)."""
    cells = _cells(bar.kwh, scale, width)
    marks = {int(t / scale * width) for t in thresholds} if scale > 0 else set()
    colour = "bold red" if bar.peak else "blue"
    runs: list[tuple[str, str]] = []  # (style, cells): one span per run, not one per cell
    for i, cell in enumerate(cells):
        mark = 0 < i < width and i in marks
        style = "yellow" if mark else (colour if cell != " " else "")
        shown = ("│" if cell == " " else "┃") if mark else cell
        if runs and runs[-1][0] == style:
            runs[-1] = (style, runs[-1][1] + shown)
        else:
            runs.append((style, shown))
    return Text.assemble(*((shown, style) for style, shown in runs))


def chart_table(
    title: str, bars: Sequence[Bar], thresholds: Sequence[Decimal], scale: Decimal, width: int
) -> Table:
    """The chart as a rich table fitting a terminal ``width`` columns wide."""
    bar_width = max(MIN_BAR, min(MAX_BAR, width - _BESIDE))
    table = Table(title=title, title_justify="left", box=None, show_header=False, padding=(0, 1))
    table.add_column("hour", style="dim", no_wrap=True)
    table.add_column("kWh", justify="right", no_wrap=True)
    table.add_column("bar", no_wrap=True, width=bar_width)
    table.add_column("peak", no_wrap=True, width=1)
    for bar in bars:
        value = Text(format(bar.kwh.quantize(Decimal("0.001")), "f"), style="bold" if bar.peak else "")
        mark = Text("◆", style="bold red") if bar.peak else Text("")
        table.add_row(bar.label, value, bar_text(bar, scale, thresholds, bar_width), mark)
    return table


def print_chart(
    title: str,
    bars: Sequence[Bar],
    thresholds: Sequence[Decimal],
    scale: Decimal,
    console: Console | None = None,
) -> None:
    """Draw the chart on ``console`` (a fresh one on stdout by default)."""
    console = console or Console(highlight=False)
    console.print(chart_table(title, bars, thresholds, scale, console.width))
