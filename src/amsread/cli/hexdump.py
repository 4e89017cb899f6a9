"""``amsread hex``: the frames in hex, for debugging the wiring."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

import click

from amsread.cli.options import CONTEXT_SETTINGS, source_options
from amsread.cli.runner import emit, flushed_per_read, running

if TYPE_CHECKING:
    from amsread.errors import AmsReadError
    from amsread.sources.base import SourceRequest
    from amsread.wire.hdlc import Frame
    from amsread.wire.mbus import MbusFrame
    from amsread.wire.p1 import P1Telegram


class _Enough(Exception):
    """``--count`` lines were shown: stop reading."""


def _hex_line(raw: bytes, status: str, stamp: float | None) -> str:
    """``formats.format_hex_line``, imported on first use and then called directly: an ``import``
    statement per frame cost about 1 µs of the 13 µs a frame takes here."""
    global _hex_line
    from amsread.formats import format_hex_line

    _hex_line = format_hex_line
    return format_hex_line(raw, status, stamp)


class _Printer:
    """Prints each event the moment the splitters report it, so nothing piles up in memory.

    A flood of rejected candidates (``7E A0`` repeated is one every two bytes) used to be
    collected per chunk before printing; printing from the callbacks keeps memory flat and the
    lines in stream order: HDLC frames, M-Bus frames, rejections and (with ``--raw``) the bytes
    between them.
    """

    def __init__(self, *, annotate: bool, count: int | None) -> None:
        from zoneinfo import ZoneInfo

        self.annotate = annotate
        #: P1 clocks are shown in the meter's zone (Sweden, the Netherlands and Belgium share
        #: Oslo's offsets, which ``hex`` has no option to change).
        self.meter_tz: dt.tzinfo = ZoneInfo("Europe/Oslo")
        self.count = count
        self.live = False
        self.shown = 0
        #: the last rejection shown (bytes, reason) and how often it came again since: a flood
        #: (``7E A0`` repeated is a rejection every two bytes) prints one line and a count, the
        #: way syslog says "last message repeated N times", instead of a million equal lines.
        self._last_error: tuple[bytes, str] | None = None
        self._repeats = 0

    def _stamp(self) -> float | None:
        return time.time() if self.live else None

    def flush_repeats(self) -> None:
        """Say how often the last rejection came again, before anything else is printed."""
        if self._repeats:
            times = "once" if self._repeats == 1 else f"{self._repeats} times"
            emit(f"-{' ' * 11} the line above came again {times}")
            self._repeats = 0
        self._last_error = None

    def _counted(self) -> None:
        self.shown += 1
        if self.count is not None and self.shown >= self.count:
            raise _Enough

    def frame(self, frame: Frame) -> None:
        self.flush_repeats()
        if self.annotate:
            from amsread.formats import annotate_frame

            emit(annotate_frame(frame.raw, stamp=frame.received_at))
        else:
            emit(_hex_line(frame.raw, "ok", frame.received_at))
        self._counted()

    def mbus_frame(self, frame: MbusFrame) -> None:
        self.flush_repeats()
        from amsread.formats import annotate_mbus_frame, format_hex_line

        if self.annotate:
            emit(annotate_mbus_frame(frame.raw, stamp=frame.received_at))
        else:
            emit(format_hex_line(frame.raw, "M-Bus ok", frame.received_at))
        self._counted()

    def telegram(self, telegram: P1Telegram) -> None:
        self.flush_repeats()
        from amsread.formats import annotate_telegram, format_hex_line

        if self.annotate:
            emit(annotate_telegram(telegram.raw, self.meter_tz, stamp=telegram.received_at))
        else:
            emit(format_hex_line(telegram.raw, "P1 ok", telegram.received_at))
        self._counted()

    def error(self, err: AmsReadError) -> None:
        from amsread.formats import format_hex_line

        key = (err.raw, err.reason)
        if key == self._last_error:
            self._repeats += 1
        else:
            self.flush_repeats()
            self._last_error = key
            emit(format_hex_line(err.raw, err.reason, self._stamp()))
        self._counted()

    def outside(self, data: bytes) -> None:
        self.flush_repeats()
        from amsread.formats import format_hex_line

        emit(format_hex_line(data, "outside frames", self._stamp()))


@click.command("hex", context_settings=CONTEXT_SETTINGS)
@source_options
@click.option("--annotate", is_flag=True, help="Break each frame into its fields, like a protocol analyser.")
@click.option(
    "--raw",
    "show_raw",
    is_flag=True,
    help="Also show the bytes that fell outside any good frame or telegram.",
)
def command(source: SourceRequest, meter: str | None, annotate: bool, show_raw: bool) -> None:
    """Print each frame from SOURCE in hex: time, length, ok or why not.

    HDLC frames, M-Bus long frames and P1 telegrams alike, one line each; --annotate shows
    a P1 telegram line by line with what each line means. Bad frames are shown with the reason
    they were rejected (bad HCS, bad FCS, no closing flag, ...), so broken wiring or a wrong
    parity is visible as such. A one-line summary of the counters goes to stderr at the end and
    on Ctrl-C.

    Examples:

    \b
        amsread hex /dev/ttyUSB0
        amsread hex /dev/ttyUSB0 --annotate --count 3
        amsread hex --raw --meter kamstrup /dev/ttyUSB0
        amsread hex capture.hex
    """
    printer = _Printer(annotate=annotate, count=source.count)
    with (
        running(source, on_error=printer.error, on_discard=printer.outside if show_raw else None) as (
            src,
            pipeline,
        ),
        flushed_per_read() as each_read,
    ):
        pipeline.splitter.on_frame = printer.frame
        pipeline.mbus.on_frame = printer.mbus_frame
        pipeline.p1.on_frame = printer.telegram
        printer.live = src.live
        try:
            for _ in pipeline.steps(each_read(src), live=src.live):
                pass
        except _Enough:
            pass
        finally:
            printer.flush_repeats()
