"""``amsread hex``: the frames in hex, for debugging the wiring."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import click

from amsread.cli.options import CONTEXT_SETTINGS, source_options
from amsread.cli.runner import emit, running

if TYPE_CHECKING:
    from amsread.sources.base import SourceRequest


@click.command("hex", context_settings=CONTEXT_SETTINGS)
@source_options
@click.option("--annotate", is_flag=True, help="Break each frame into its fields, like a protocol analyser.")
@click.option("--raw", "show_raw", is_flag=True, help="Also show the bytes that fell outside any good frame.")
def command(source: SourceRequest, meter: str | None, annotate: bool, show_raw: bool) -> None:
    """Print each HDLC frame from SOURCE in hex: time, length, ok or why not.

    Bad frames are shown with the reason they were rejected (bad HCS, bad FCS, no closing flag, ...),
    so broken wiring or a wrong parity is visible as such. A one-line summary of the counters goes
    to stderr at the end and on Ctrl-C.

    Examples:

    \b
        amsread hex /dev/ttyUSB0
        amsread hex /dev/ttyUSB0 --annotate --count 3
        amsread hex --raw --meter kamstrup /dev/ttyUSB0
        amsread hex capture.hex
    """
    from amsread.errors import AmsReadError
    from amsread.formats import annotate_frame, format_hex_line
    from amsread.wire.hdlc import Frame

    events: list[Any] = []
    count = source.count
    with running(source, on_error=events.append, on_discard=events.append if show_raw else None) as (
        src,
        pipeline,
    ):
        pipeline.splitter.on_frame = events.append
        live = src.live

        def lines() -> Any:
            try:
                for _ in pipeline.steps(src, live=live):
                    batch, events[:] = list(events), []
                    yield from batch
            except AmsReadError:  # --strict: show what came before, and the bad frame, then stop
                batch, events[:] = list(events), []
                yield from batch
                raise

        shown = 0
        for ev in lines():
            stamp = time.time() if live else None
            if isinstance(ev, Frame):
                if annotate:
                    emit(annotate_frame(ev.raw, stamp=ev.received_at))
                else:
                    emit(format_hex_line(ev.raw, "ok", ev.received_at))
                shown += 1
            elif isinstance(ev, (bytes, bytearray)):
                emit(format_hex_line(bytes(ev), "outside frames", stamp))
                continue
            else:
                emit(format_hex_line(ev.raw, ev.reason, stamp))
                shown += 1
            if count is not None and shown >= count:
                break
