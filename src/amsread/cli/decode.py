"""``amsread decode``: what is this frame saying? Hex pasted from anywhere, or a capture."""

from __future__ import annotations

import os
from typing import Any

import click

from amsread.cli.options import CONTEXT_SETTINGS, decode_options, key_options, serial_options
from amsread.cli.readings import each_reading
from amsread.cli.runner import emit


@click.command("decode", context_settings=CONTEXT_SETTINGS)
@click.argument("data", nargs=-1, metavar="[HEX... | FILE | -]")
@serial_options
@decode_options
@key_options
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of the readable listing.")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many readings.")
@click.option("--strict", is_flag=True, help="Stop at the first bad frame (exit 1).")
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="Report every skipped frame on stderr.")
def command(
    data: tuple[str, ...],
    settings: Any,
    options: Any,
    meter: str | None,
    as_json: bool,
    count: int | None,
    strict: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Decode frames given as hex on the command line, in a FILE, or on stdin (-).

    Hex may be pasted as found in a forum post or a log line: spaces, colons, commas, 0x
    prefixes and text around the bytes are ignored. Prints every value with its unit and
    OBIS code; --json prints JSON lines instead.

    Examples:

    \b
        amsread decode 7E A0 2A 41 08 83 13 04 13 E6 E7 00 0F 40 00 00 00 00 01 01 02 03 09 06 01 00 01 07 00 FF 06 00 00 02 00 02 02 0F 00 16 1B C1 2C 7E
        amsread decode capture.hex --json
        pbpaste | amsread decode -
    """
    from amsread.errors import DecodeError
    from amsread.formats import json_line, text_listing
    from amsread.sources.base import SourceRequest, extract_hex, memory_source

    first = True

    def write(reading: Any) -> None:
        nonlocal first
        if as_json:
            emit(json_line(reading))
            return
        if not first:
            emit("")
        first = False
        emit(text_listing(reading))

    if not data:
        raise click.UsageError("give hex bytes, a capture FILE, or - for standard input")
    spec = data[0] if len(data) == 1 and (data[0] == "-" or os.path.exists(data[0])) else None
    request = SourceRequest(spec, settings, "auto", None, count, strict, quiet, verbose)
    if spec is not None:
        each_reading(request, options, write)
        return
    try:
        raw = extract_hex(" ".join(data))
    except ValueError as e:
        raise DecodeError(f"not hex: {e}") from None
    if not raw:
        raise DecodeError("no hex bytes found in the arguments")
    each_reading(request, options, write, opened=memory_source("arguments", raw))
