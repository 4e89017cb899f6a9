"""Text for people, for ``watch``: grouped numbers, ages, the one-line form and the power trend.

Pure functions of readings and numbers: no rich, no terminal. ``live.view`` lays them out on a
terminal; ``cli.watch`` prints ``reading_line`` where stdout is not one.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from amsread.contract import ENERGY, IDENTITY, PHASES, POWER, Reading
from amsread.formats import format_value
from amsread.text import visible

BLOCKS: Final = "▁▂▃▄▅▆▇█"

#: Short labels for the one-line form.
SHORT: Final = {
    "active_power_import": "P+",
    "active_power_export": "P-",
    "reactive_power_import": "Q+",
    "reactive_power_export": "Q-",
    "active_energy_import": "A+",
    "active_energy_export": "A-",
    "reactive_energy_import": "R+",
    "reactive_energy_export": "R-",
}


def number(value: object) -> str:
    """A value for people: exact digits, thousands grouped with a space (``23 456.78``); text
    with its control characters made visible, so a meter's string cannot drive the terminal."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, float)):
        return visible(str(value))
    if isinstance(value, Decimal):
        return f"{value:,f}".replace(",", " ")
    return f"{value:,}".replace(",", " ")


def age_text(seconds: float) -> str:
    """``0.4 s``, ``12 s``, ``3 min``, ``1 h 5 min``: precise when recent, coarse when old."""
    if seconds < 10:
        return f"{max(seconds, 0.0):.1f} s"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:.0f} min"


def _stamp(reading: Reading) -> str:
    when = reading.received_at or reading.meter_time
    if when is None:
        return "-"
    if reading.received_at is not None:
        when = when.astimezone()
    return when.strftime("%Y-%m-%d %H:%M:%S")


def reading_line(reading: Reading) -> str:
    """One reading on one readable line, for ``watch`` when stdout is not a terminal.

    Numbers are printed as in CSV (exact, ungrouped), so the line stays easy to grep and cut.
    """
    values = dict(reading.values)
    units = reading.units
    parts = [_stamp(reading), reading.manufacturer or "?", f"list {reading.list}" if reading.list else "-"]

    def take_value(name: str) -> str | None:
        if name not in values:
            return None
        unit = units.get(name, "")
        return format_value(values.pop(name)) + (f" {unit}" if unit else "")

    for name in POWER:
        if (text := take_value(name)) is not None:
            parts.append(f"{SHORT[name]} {text}")
    for quantity, label, unit in (("current", "I", "A"), ("voltage", "U", "V")):
        names = [f"{quantity}_{p}" for p in PHASES]
        if any(n in values for n in names):
            shown = [format_value(values.pop(n)) if n in values else "-" for n in names]
            while shown and shown[-1] == "-":
                shown.pop()
            parts.append(f"{label} {'/'.join(shown)} {unit}")
    for name in ENERGY:
        if (text := take_value(name)) is not None:
            parts.append(f"{SHORT[name]} {text}")
    if reading.meter_time is not None and reading.received_at is not None:
        parts.append(f"clock {reading.meter_time.strftime('%Y-%m-%d %H:%M:%S')}")
    for name in IDENTITY:
        if name in values:
            parts.append(format_value(values.pop(name)))
    for name in list(values):
        parts.append(f"{name} {take_value(name)}")
    return "  ".join(parts)


def sparkline(
    samples: Iterable[tuple[float, float]], now: float, window: float, width: int, rows: int = 1
) -> list[str]:
    """Samples ``(time, value)`` of the last ``window`` seconds as ``rows`` lines of block characters.

    Each column averages the samples in its slice of time, scaled between the lowest and highest
    column; columns without samples stay blank, so the trend grows from the right as history
    accumulates. Several rows stack the blocks for a finer vertical resolution.
    """
    sums = [0.0] * width
    counts = [0] * width
    start = now - window
    for t, v in samples:
        if t < start:
            continue
        i = min(width - 1, int((t - start) / window * width))
        sums[i] += v
        counts[i] += 1
    means = [s / c if c else None for s, c in zip(sums, counts, strict=True)]
    present = [m for m in means if m is not None]
    if not present:
        return [" " * width for _ in range(rows)]
    lo, hi = min(present), max(present)
    span = hi - lo
    steps = len(BLOCKS) * rows - 1
    lines = [[" "] * width for _ in range(rows)]
    for i, m in enumerate(means):
        if m is None:
            continue
        level = 0 if span <= 0 else round((m - lo) / span * steps)
        for r in range(rows):  # r = 0 is the bottom row
            within = level - r * len(BLOCKS)
            if within >= len(BLOCKS):
                lines[rows - 1 - r][i] = BLOCKS[-1]
            elif within >= 0:
                lines[rows - 1 - r][i] = BLOCKS[within]
    return ["".join(line) for line in lines]
