"""``amsread watch``: what is my house doing now? A live view on a terminal, a line per reading otherwise.

``--demo`` runs the simulated meter in-process, so the command can be tried without a meter. The
state (``live.state``), the view (``live.view``, rich) and the text (``live.formats``) live in
``amsread.live``; this module parses the options and runs the loop.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

import click

from amsread.cli.options import CONTEXT_SETTINGS, decode_options, key_options, source_options
from amsread.cli.runner import emit, running, take

if TYPE_CHECKING:
    from amsread.decode.decoder import ReadingDecoder
    from amsread.decode.pipeline import Pipeline
    from amsread.sources.base import Source, SourceRequest

#: The live view redraws at most this often (and at every reading).
REFRESH: Final = 0.25


def ticking(chunks: Iterable[bytes], on_tick: Callable[[], None]) -> Iterator[bytes]:
    """Pass chunks through, calling ``on_tick`` before each: live sources tick on silence too."""
    for chunk in chunks:
        on_tick()
        yield chunk


def _demo_source(meter: str, phases: int, speed: float, seed: int | None, record: str | None) -> Source:
    from amsread.simulator import SimulatedMeter, live_chunks, next_hour_start
    from amsread.sources.base import Source, open_record

    # Start the meter's clock just before a full hour: all three lists arrive in the first seconds.
    sim = SimulatedMeter(meter, phases, seed=seed, start=next_hour_start(2.0))
    desc = f"demo: simulated {meter.capitalize()}, {phases}-phase"
    if speed != 1:
        desc += f", {speed:g}× speed"
    src = Source("demo", True, lambda: live_chunks(sim.pushes(), speed), description=desc)
    if record:
        src.record = open_record(record)
    return src


@click.command("watch", context_settings=CONTEXT_SETTINGS)
@source_options(required=False)
@decode_options
@key_options
@click.option("--demo", is_flag=True, help="Watch a simulated meter (no meter needed).")
@click.option("--phases", type=click.Choice(["1", "3"]), default="3", show_default=True, help="With --demo.")
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="With --demo: run the meter's clock this many times faster.",
)
@click.option("--seed", type=int, help="With --demo: the same seed gives the same values.")
@click.option("--plain", is_flag=True, help="One line per reading even on a terminal.")
def command(
    source: SourceRequest,
    options: Any,
    meter: str | None,
    demo: bool,
    phases: str,
    speed: float,
    seed: int | None,
    plain: bool,
) -> None:
    """Watch the meter live: power, phases, counters, updating in place.

    On a terminal the view shows every quantity with its unit and how old it is (list 1 brings
    only the power, list 2 the phases, list 3 the hourly counters), a trend of the power over
    the last minutes, and counters of good and bad frames. Piped, it prints one line per
    reading instead. --demo runs a simulated meter (Aidon unless --meter says otherwise).

    Examples:

    \b
        amsread watch --demo
        amsread watch --demo --meter kamstrup --phases 1 --speed 10
        amsread watch /dev/ttyUSB0
        amsread watch socket://192.168.1.50:2000 --plain
    """
    from amsread.decode.decoder import ReadingDecoder

    if demo and source.spec:
        raise click.UsageError("give either a SOURCE or --demo, not both")
    if not demo and not source.spec:
        raise click.UsageError(
            "give a SOURCE (a serial port, socket://host:port, a capture file or -), or --demo"
        )
    if not demo:
        given = [
            n
            for n, v in (("--speed", speed != 1.0), ("--seed", seed is not None), ("--phases", phases != "3"))
            if v
        ]
        if given:
            raise click.UsageError(f"{', '.join(given)} only apply to --demo")
    if demo:
        sim_meter = meter or "aidon"
        if sim_meter not in ("aidon", "kaifa", "kamstrup"):
            raise click.BadParameter("the demo meter is aidon, kaifa or kamstrup", param_hint="--meter")
        ctx = running(source, opened=_demo_source(sim_meter, int(phases), speed, seed, source.record))
    else:
        ctx = running(source)
    count = source.count
    live_view = not plain and sys.stdout.isatty()
    with ctx as (src, pipeline):
        decoder = ReadingDecoder(options)
        if not live_view:
            from amsread.live.formats import reading_line

            for reading in take(pipeline.readings(src, live=src.live, decoder=decoder), count):
                emit(reading_line(reading))
            return
        _live(src, pipeline, decoder, count, demo)


def _live(src: Source, pipeline: Pipeline, decoder: ReadingDecoder, count: int | None, demo: bool) -> None:
    """The rich live view: redrawn on every reading and at least every ``REFRESH`` seconds."""
    from amsread.live.state import WatchState
    from amsread.live.view import LiveScreen, View

    state = WatchState()
    view = View(state, pipeline.stats, src.description or src.name, demo=demo)
    with LiveScreen(view, REFRESH) as screen:
        readings = pipeline.readings(ticking(src, screen.tick), live=src.live, decoder=decoder)
        for reading in take(readings, count):
            state.update(reading)
            screen.shown()
