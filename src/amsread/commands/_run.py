"""The loop every reading command shares: open the source, run the pipeline, summarise at the end.

The summary goes to stderr at every exit: the end of a capture, ``--count`` reached, Ctrl-C
(then exit 130), or a closed pipe (then quietly).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from amsread import cli
from amsread.cli import note
from amsread.errors import AmsReadError

if TYPE_CHECKING:
    from amsread.pipeline import Pipeline
    from amsread.source import Source, SourceRequest


@contextlib.contextmanager
def running(
    request: SourceRequest,
    *,
    opened: Source | None = None,
    on_error: Callable[[AmsReadError], None] | None = None,
    on_discard: Callable[[bytes], None] | None = None,
) -> Iterator[tuple[Source, Pipeline]]:
    """Open the requested source (or take ``opened``) and a pipeline; yield both; always summarise."""
    from amsread.pipeline import Pipeline

    def report(err: AmsReadError) -> None:
        if request.verbose:
            note(f"skipped: {getattr(err, 'reason', type(err).__name__)}: {err}")
        if on_error is not None:
            on_error(err)

    src = opened if opened is not None else request.open()
    pipeline = Pipeline(
        on_error=report,
        on_discard=on_discard,
        strict=request.strict,
        on_warning=None if request.quiet else note,
    )
    pipeline.debug = cli._debug  # --debug: an internal error's warning carries its traceback
    quiet = request.quiet
    if opened is None and src.live and src.description and not quiet:  # the readiness line of a port
        note(f"reading {src.description}")
    interrupted = False
    broken_pipe = False
    try:
        yield src, pipeline
    except KeyboardInterrupt:
        interrupted = True
    except BrokenPipeError:
        broken_pipe = True  # the reader of stdout left (`| head`): end quietly
    finally:
        src.close()
        if not quiet and not broken_pipe:
            with contextlib.suppress(Exception):
                note(pipeline.stats.summary())
    if interrupted:
        raise click.exceptions.Abort()
    if broken_pipe:
        from amsread.cli import silence_stdout

        silence_stdout()
        raise click.exceptions.Exit(0)


def take(items: Iterator[Any], count: int | None) -> Iterator[Any]:
    """At most ``count`` items (all when None)."""
    if count is None:
        yield from items
        return
    for i, item in enumerate(items, 1):
        yield item
        if i >= count:
            return


def emit(line: str) -> None:
    """One line of data on stdout, flushed at once (a row must survive a kill)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
