"""``amsread csv``: the contract's columns, one flushed row per reading."""

from __future__ import annotations

import os
import stat
import sys
from typing import TYPE_CHECKING, Any

import click

from amsread.cli.options import CONTEXT_SETTINGS, decode_options, key_options, source_options
from amsread.cli.readings import each_reading

if TYPE_CHECKING:
    from amsread.sources.base import SourceRequest


@click.command("csv", context_settings=CONTEXT_SETTINGS)
@source_options
@decode_options
@key_options
@click.option(
    "--columns",
    metavar="A,B,...",
    help="Columns to print, in this order (contract names, or extras such as power_factor).",
)
@click.option(
    "--no-header",
    is_flag=True,
    help="Leave out the header row (left out anyway when appending to a file that holds data).",
)
def command(
    source: SourceRequest, options: Any, meter: str | None, columns: str | None, no_header: bool
) -> None:
    """Print every reading from SOURCE as a CSV row, header first.

        The columns are those of the output contract (docs/output-contract.md); an empty cell is a
        value the meter did not send. Each row is flushed, so `>> file` loses nothing when stopped, and
    appending to a file that already holds rows adds no second header. --columns takes the
    contract's names, extra quantities such as power_factor, or OBIS codes.

        Examples:

        \b
            amsread csv /dev/ttyUSB0 >> power.csv
            amsread csv capture.bin --columns meter_time,active_power_import,active_energy_import
    """
    from amsread.formats import CsvWriter

    chosen = parse_columns(columns)
    # each_reading flushes the rows before every read of the source
    writer = CsvWriter(sys.stdout, chosen, header=not no_header and not appending(sys.stdout), flush=False)
    each_reading(source, options, writer.write)


def known_columns() -> tuple[str, ...]:
    """Every name a reading can carry: the contract's columns, then the extra quantities by name
    (obis.py's tables, and the names only P1 telegrams carry, such as the Belgian peaks)."""
    from amsread import obis
    from amsread.contract import COLUMNS
    from amsread.decode import p1

    extras = {info.name for table in (obis._BY_CDEF, obis._EXACT) for info in table.values()}
    extras.update(p1.NAMES)
    return COLUMNS + tuple(sorted(extras - set(COLUMNS)))


def parse_columns(text: str | None) -> tuple[str, ...]:
    """The ``--columns`` list, checked: a misspelt name would log an empty cell for months.

    OBIS codes (``1-0:31.7.0.255``) are accepted too: that is how a quantity without a name is keyed.
    """
    from amsread.contract import COLUMNS

    if not text:
        return COLUMNS
    known = known_columns()
    chosen = tuple(c.strip() for c in text.split(",") if c.strip())
    if not chosen:
        raise click.BadParameter("no column named", param_hint="--columns")
    unknown = [c for c in chosen if c not in known and ":" not in c]
    if unknown:
        raise click.BadParameter(
            f"unknown column{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"choose from: {', '.join(known)}",
            param_hint="--columns",
        )
    return chosen


def appending(stream: Any) -> bool:
    """True when ``stream`` is a regular file that already holds data (``>> power.csv`` after a
    restart): its header is already there, and a second one would sit among the rows."""
    try:
        info = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # closed, or not a real file (tests, pipes in memory)
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size > 0
