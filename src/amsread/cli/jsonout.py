"""``amsread json``: one JSON object per reading, one per line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from amsread.cli.options import CONTEXT_SETTINGS, decode_options, key_options, source_options
from amsread.cli.readings import each_reading
from amsread.cli.runner import emit

if TYPE_CHECKING:
    from amsread.sources.base import SourceRequest


@click.command("json", context_settings=CONTEXT_SETTINGS)
@source_options
@decode_options
@key_options
def command(source: SourceRequest, options: Any, meter: str | None) -> None:
    """Print every reading from SOURCE as a JSON line (flushed at once).

    Keys are the output contract's names; quantities the meter did not send are absent, never 0.
    Numbers are exact decimals in W, var, A, V, kWh and kvarh.

    Examples:

    \b
        amsread json /dev/ttyUSB0 >> readings.jsonl
        amsread json socket://192.168.1.50:2000 --count 1
        amsread json capture.hex | jq .active_power_import
    """
    from amsread.formats import json_line

    each_reading(source, options, lambda r: emit(json_line(r)))
