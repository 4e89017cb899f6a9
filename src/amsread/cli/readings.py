"""The loop shared by the commands that print readings (csv, json, decode, watch's plain mode)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from amsread.cli.runner import flushed_per_read, running, take

if TYPE_CHECKING:
    from amsread.contract import Reading
    from amsread.decode.decoder import DecodeOptions
    from amsread.sources.base import Source, SourceRequest


def each_reading(
    request: SourceRequest,
    options: DecodeOptions,
    write: Callable[[Reading], None],
    *,
    opened: Source | None = None,
) -> None:
    """Open the requested source (or take ``opened``), decode it, and hand each reading to
    ``write`` the moment it is complete; what ``write`` prints with ``emit`` (or without
    flushing) is flushed before each read of the source (``flushed_per_read``)."""
    from amsread.decode.decoder import ReadingDecoder

    with running(request, opened=opened) as (src, pipeline), flushed_per_read() as each_read:
        readings: Iterator[Reading] = pipeline.readings(
            each_read(src), live=src.live, decoder=ReadingDecoder(options)
        )
        for reading in take(readings, request.count):
            write(reading)
