"""``amsread json``: one JSON object per reading, one per line."""

from __future__ import annotations

from typing import Any

import click

from amsread.cli import CONTEXT_SETTINGS, decode_options, key_options, source_options
from amsread.commands._readings import each_reading
from amsread.commands._run import emit


@click.command("json", context_settings=CONTEXT_SETTINGS)
@source_options
@decode_options
@key_options
def command(source: str, settings: Any, options: Any, meter: str | None, **kw: Any) -> None:
    """Print every reading from SOURCE as a JSON line (flushed at once).

    Keys are the output contract's names; quantities the meter did not send are absent, never 0.
    Numbers are exact decimals in W, var, A, V, kWh and kvarh.

    Examples:

    \b
        amsread json /dev/ttyUSB0 >> readings.jsonl
        amsread json socket://192.168.1.50:2000 --count 1
        amsread json capture.hex | jq .active_power_import
    """
    from amsread.output import json_line

    each_reading(source, settings, options, write=lambda r: emit(json_line(r)), **kw)
