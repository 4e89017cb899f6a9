"""The loop shared by the commands that print readings (csv, json, decode, watch's plain mode)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from amsread.commands._run import running, take


def each_reading(
    source: str,
    settings: Any,
    options: Any,
    *,
    input_format: str,
    record: str | None,
    count: int | None,
    strict: bool,
    quiet: bool,
    verbose: bool,
    write: Callable[[Any], None],
) -> None:
    """Open ``source``, decode it, and hand each reading to ``write`` the moment it is complete."""
    from amsread.readings import ReadingDecoder

    with running(
        source,
        settings,
        input_format=input_format,
        record=record,
        quiet=quiet,
        verbose=verbose,
        strict=strict,
    ) as (src, pipeline):
        readings: Iterator[Any] = pipeline.readings(src, live=src.live, decoder=ReadingDecoder(options))
        for reading in take(readings, count):
            write(reading)
