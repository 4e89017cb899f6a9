"""``amsread csv``: the contract's columns, one flushed row per reading."""

from __future__ import annotations

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
@click.option("--no-header", is_flag=True, help="Leave out the header row (for appending to a file).")
def command(
    source: SourceRequest, options: Any, meter: str | None, columns: str | None, no_header: bool
) -> None:
    """Print every reading from SOURCE as a CSV row, header first.

    The columns are those of the output contract (docs/output-contract.md); an empty cell is a
    value the meter did not send. Each row is flushed, so `>> file` loses nothing when stopped.

    Examples:

    \b
        amsread csv /dev/ttyUSB0 >> power.csv
        amsread csv /dev/ttyUSB0 --no-header >> power.csv
        amsread csv capture.bin --columns meter_time,active_power_import,active_energy_import
    """
    from amsread.contract import COLUMNS
    from amsread.formats import CsvWriter

    chosen: tuple[str, ...] = COLUMNS
    if columns:
        chosen = tuple(c.strip() for c in columns.split(",") if c.strip())
        if not chosen:
            raise click.BadParameter("no column named", param_hint="--columns")
    writer = CsvWriter(sys.stdout, chosen, header=not no_header)
    each_reading(source, options, writer.write)
