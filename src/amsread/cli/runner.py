"""The loop every reading command shares: open the source, run the pipeline, summarise at the end.

The summary goes to stderr at every exit: the end of a capture, ``--count`` reached, Ctrl-C
(then exit 130), SIGTERM or SIGHUP (then exit 0), or a closed pipe (then quietly). ``note`` and
``emit`` are the two ways a command speaks: diagnostics to stderr, data to stdout.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Final, TypeVar

import click

from amsread.errors import AmsReadError, OutputError

if TYPE_CHECKING:
    from amsread.decode.pipeline import Pipeline
    from amsread.sources.base import Source, SourceRequest

T = TypeVar("T")


@contextlib.contextmanager
def running(
    request: SourceRequest,
    *,
    opened: Source | None = None,
    on_error: Callable[[AmsReadError], None] | None = None,
    on_discard: Callable[[bytes], None] | None = None,
) -> Iterator[tuple[Source, Pipeline]]:
    """Open the requested source (or take ``opened``) and a pipeline; yield both; always summarise."""
    from amsread.decode.pipeline import Pipeline

    advised: set[str] = set()

    def report(err: AmsReadError) -> None:
        advice = err.advice
        if advice and advice not in advised:  # once, even under -q: else the output is just empty
            advised.add(advice)
            note(advice)
        if request.verbose:
            note(f"skipped: {err.reason}: {err}")
        if on_error is not None:
            on_error(err)

    src = opened if opened is not None else request.open()
    pipeline = Pipeline(
        on_error=report,
        on_discard=on_discard,
        strict=request.strict,
        on_warning=None if request.quiet else note,
    )
    pipeline.debug = debugging()  # --debug: an internal error's warning carries its traceback
    quiet = request.quiet
    stop = _Stop()
    restore_signals = _stop_on_signals(src, stop)
    if opened is None and src.live and src.description and not quiet:  # the readiness line of a port
        note(f"reading {src.description}")
    with ending(src.close, pipeline.stats.summary, quiet=quiet, then=restore_signals) as end:
        yield src, pipeline
    # Ctrl-C exits 130; SIGTERM and SIGHUP end like a capture's end, 0
    end.leave(interrupted=stop.signum == signal.SIGINT or (end.interrupted and stop.signum is None))


class Ending:
    """How a command's main block ended, as ``ending`` saw it."""

    interrupted = False
    """By Ctrl-C (``KeyboardInterrupt``)."""
    broken_pipe = False
    """The reader of stdout left (``| head``)."""

    def leave(self, *, interrupted: bool | None = None) -> None:
        """End the command as the block ended: interrupted, exit 130 (``interrupted`` overrides
        what was seen); the reader gone, exit 0 quietly; else carry on."""
        if self.interrupted if interrupted is None else interrupted:
            raise click.exceptions.Abort()
        if self.broken_pipe:
            silence_stdout()
            raise click.exceptions.Exit(0)


@contextlib.contextmanager
def ending(
    close: Callable[[], None],
    summary: Callable[[], str],
    *,
    quiet: bool,
    then: Callable[[], None] = lambda: None,
) -> Iterator[Ending]:
    """The end every command shares: whatever ends the block, ``close`` the source or sink, then
    say ``summary()`` on stderr, then ``then()``. Ctrl-C and a closed pipe are normal ends (see
    ``Ending.leave``); a stdout that refuses data keeps its one error line, with no summary.
    """
    end = Ending()
    try:
        yield end
    except KeyboardInterrupt:
        end.interrupted = True
    except BrokenPipeError:
        end.broken_pipe = True  # the reader of stdout left (`| head`): end quietly
    except OutputError:
        quiet = True  # stdout refused the output: its one error line says all
        raise
    finally:
        close()
        if not quiet and not end.broken_pipe:
            with contextlib.suppress(Exception):
                note(summary())
        then()


class _Stop:
    """The first stop signal received, if any."""

    signum: int | None = None


#: Signals that end a run like the end of a capture: the summary, then exit 130 for Ctrl-C, 0 for
#: SIGTERM and SIGHUP (a stop asked of a service or a closed session is an orderly end, and a
#: service manager counts 143 as a failure).
STOP_SIGNALS: Final = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def _stop_on_signals(src: Source, stop: _Stop) -> Callable[[], None]:
    """Turn SIGINT, SIGTERM and SIGHUP into an orderly end until the returned function is called.

    A live source is asked to stop after the chunk in hand, so every frame already split is
    decoded, printed and counted before the summary. Stopped at once with ``KeyboardInterrupt``:
    a live source blocked in a read that may never return (stdin; nothing of the next chunk is
    split yet, so nothing is lost), a replay (a long capture must not run to its end), and any
    source at a second signal. A signal the parent set to be ignored (``nohup``) stays ignored.
    """

    def handle(signum: int, frame: object) -> None:
        first = stop.signum is None
        if first:
            stop.signum = signum
        if first and src.live and (src.stoppable or not src.reading):
            src.stopping = True
            return
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():  # only the main thread may
        return lambda: None
    previous = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, handle)

    def restore() -> None:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

    return restore


def take(items: Iterator[T], count: int | None) -> Iterator[T]:
    """At most ``count`` items (all when None), never asking ``items`` for one more."""
    return items if count is None else itertools.islice(items, count)


def emit(line: str) -> None:
    """One line of data on stdout, flushed at once (a row must survive a kill), or, inside
    ``flushed_per_read``, before amsread next reads its source."""
    sys.stdout.write(line + "\n")
    if _flush_each_line:
        sys.stdout.flush()


#: Whether ``emit`` flushes every line (off inside ``flushed_per_read``).
_flush_each_line = True


@contextlib.contextmanager
def flushed_per_read() -> Iterator[Callable[[Iterable[bytes]], Iterator[bytes]]]:
    """Flush stdout before each read of the source instead of after each line; yields the wrapper
    to put around the source's chunks.

    A line is never held back while amsread waits: every line a chunk of input produced is on its
    way before the next read, which is where a live port blocks (and a kill can come). What it
    spares is a write system call per line where one chunk holds many frames (a replayed capture
    holds thousands per 64 KiB read): that call was a third of ``amsread hex``'s time and a sixth
    of ``csv``'s (issue 15). At the end, however it comes, stdout is flushed once more.
    """
    global _flush_each_line
    _flush_each_line = False

    def each_read(chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            yield chunk
            sys.stdout.flush()  # the lines of this chunk, before the next read may block

    try:
        yield each_read
    finally:
        _flush_each_line = True
        sys.stdout.flush()


#: Where ``note`` sends its lines instead of stderr while something owns the terminal (the live
#: view of ``watch`` prints them above itself, so they neither tear it nor get drawn over).
_note_sink: Callable[[str], None] | None = None


def note(message: str) -> None:
    """A diagnostic line on stderr (never stdout: stdout carries data only)."""
    if _note_sink is not None:
        _note_sink(message)
        return
    click.echo(message, err=True)


@contextlib.contextmanager
def notes_to(sink: Callable[[str], None]) -> Iterator[None]:
    """Send every ``note`` to ``sink`` inside the block."""
    global _note_sink
    before, _note_sink = _note_sink, sink
    try:
        yield
    finally:
        _note_sink = before


def silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


class _Debug:
    """``--debug`` was given (before or after the command): tracebacks instead of one-line errors."""

    on = False


_DEBUG: Final = _Debug()


def set_debug() -> None:
    _DEBUG.on = True


def debugging() -> bool:
    return _DEBUG.on
