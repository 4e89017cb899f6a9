"""``amsread watch``: what is my house doing now? A live view on a terminal, a line per reading otherwise.

``--demo`` runs the simulated meter in-process, so the command can be tried without a meter. The
state (``live.state``), the view (``live.view``, rich) and the text (``live.formats``) live in
``amsread.live``; this module parses the options and runs the loop.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

import click

from amsread.cli.options import (
    CONTEXT_SETTINGS,
    TARIFF_CREDIT,
    decode_options,
    group_option,
    key_options,
    source_options,
)
from amsread.cli.runner import emit, note, notes_to, running, take

if TYPE_CHECKING:
    from amsread.contract import Reading
    from amsread.decode.decoder import ReadingDecoder
    from amsread.decode.pipeline import Pipeline
    from amsread.report.live import LiveTariff
    from amsread.sources.base import Source, SourceRequest

#: The live view redraws at most this often (and at every reading).
REFRESH: Final = 0.25


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def ticking(chunks: Iterable[bytes], on_tick: Callable[[], None]) -> Iterator[bytes]:
    """Pass chunks through, calling ``on_tick`` before each: live sources tick on silence too."""
    for chunk in chunks:
        on_tick()
        yield chunk


def demo_start() -> tuple[dt.datetime, str]:
    """Where the demo meter's clock starts, and the line that says why (said once)."""
    from amsread.simulator import next_hour_start

    start = next_hour_start(2.0)
    why = (
        f"demo: the meter's clock starts at {start:%H:%M:%S}, just before a full hour, "
        "so the hourly list 3 (energy counters) comes within seconds"
    )
    return start, why


def _demo_source(
    meter: str, phases: int, speed: float, seed: int | None, record: str | None, start: dt.datetime
) -> Source:
    from amsread.simulator import SimulatedMeter, live_chunks
    from amsread.sources.base import Source, open_record

    # Start the meter's clock just before a full hour: all three lists arrive in the first seconds.
    sim = SimulatedMeter(meter, phases, seed=seed, start=start)
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
@click.option(
    "--grid",
    metavar="COMPANY",
    help="Show the month's capacity peaks, step and kWh left this hour by this grid company's tariff "
    + TARIFF_CREDIT,
)
@group_option()
@click.option(
    "--db",
    "--history",
    "db",
    type=click.Path(dir_okay=False),
    help="The history database `amsread run` keeps: the month so far comes from it, so the view "
    "shows the month's peaks (and with --grid the step) from the first reading. "
    "Default: run's, when it exists (not with --demo).",
)
def command(
    source: SourceRequest,
    options: Any,
    meter: str | None,
    demo: bool,
    phases: str,
    speed: float,
    seed: int | None,
    plain: bool,
    grid: str | None = None,
    group: str = "husholdning",
    db: str | None = None,
) -> None:
    """Watch the meter live: power, phases, counters, updating in place.

    On a terminal the view shows every quantity with its unit and how old it is (list 1 brings
    only the power, list 2 the phases, list 3 the hourly counters), a trend of the power over
    the last minutes, and counters of good and bad frames. Piped, it prints one line per
    reading instead. A capture file is replayed by the meter's own clock (ages and trend are the
    meter's; the footer says "replay"). --demo runs a simulated meter (Aidon unless --meter says
    otherwise) whose clock starts just before a full hour, so the hourly list comes at once.
    With the history database of `amsread run` (its default path, or --db) the month so far
    counts: this hour's energy, the month's peaks and their mean; --grid adds the step and the
    kWh left this hour.

    Examples:

    \b
        amsread watch --demo
        amsread watch --demo --meter kamstrup --phases 1 --speed 10
        amsread watch --demo --meter p1
        amsread watch /dev/ttyUSB0
        amsread watch socket://192.168.1.50:2000 --plain
        amsread watch /dev/ttyUSB0 --grid elvia
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
        if sim_meter not in ("aidon", "kaifa", "kamstrup", "p1"):
            raise click.BadParameter("the demo meter is aidon, kaifa, kamstrup or p1", param_hint="--meter")
        start, why = demo_start()
        if sim_meter == "p1":
            why = "demo: a simulated P1 meter, a Swedish Aidon's telegram every 10 s"
        ctx = running(source, opened=_demo_source(sim_meter, int(phases), speed, seed, source.record, start))
    else:
        ctx = running(source)
        why = None
    count = source.count
    live_view = not plain and sys.stdout.isatty()
    # a simulated meter's month is not the house's: the demo takes a database only when named
    tariff = _live_tariff(grid, group, db, options.meter_tz, quiet=source.quiet, default_db=not demo)
    with ctx as (src, pipeline):
        decoder = ReadingDecoder(options)
        if not live_view:
            from amsread.live.formats import reading_line

            if why and not source.quiet:
                note(why)
            for reading in take(pipeline.readings(src, live=src.live, decoder=decoder), count):
                emit(reading_line(reading))
                if tariff is not None:
                    _feed_tariff(tariff, reading, hourly_note=True)
            return
        _live(src, pipeline, decoder, count, demo, why, tariff)


def _live(
    src: Source,
    pipeline: Pipeline,
    decoder: ReadingDecoder,
    count: int | None,
    demo: bool,
    why: str | None = None,
    tariff: LiveTariff | None = None,
) -> None:
    """The rich live view: redrawn on every reading and at least every ``REFRESH`` seconds.

    A capture (``src.live`` false) is replayed by the meter's clock (``ReplayClock``). While the
    view runs, diagnostics meant for a terminal's stderr are printed above it by rich, so they
    neither tear the view nor get drawn over; a stderr sent elsewhere keeps them.
    """
    from amsread.live.state import ReplayClock, WatchState
    from amsread.live.view import LiveScreen, View

    replay = not src.live
    replay_clock = ReplayClock() if replay else None
    state = WatchState(clock=replay_clock) if replay_clock is not None else WatchState()
    title = "Capacity tariff" if tariff is not None and tariff.tariff_for is not None else "This month"
    extra = (title, lambda: _tariff_lines(tariff)) if tariff is not None else None
    view = View(state, pipeline.stats, src.description or src.name, demo=demo, replay=replay, extra=extra)
    on_terminal = _stderr_is_terminal()
    with (
        LiveScreen(view, REFRESH, redirect_stderr=on_terminal) as screen,
        notes_to(screen.say) if on_terminal else contextlib.nullcontext(),
    ):
        if why:
            screen.say(why, style="dim")
        screen.draw()
        readings = pipeline.readings(ticking(src, screen.tick), live=src.live, decoder=decoder)
        for reading in take(readings, count):
            if replay_clock is not None:
                replay_clock.advance(reading)
            state.update(reading)
            if tariff is not None:
                _feed_tariff(tariff, reading)
            screen.shown()


def _live_tariff(
    grid: str | None, group: str, db: str | None, tz: Any, *, quiet: bool = False, default_db: bool = True
) -> LiveTariff | None:
    """The live month (``report.live``): with ``--grid``, or with a history database (``--db``, or
    run's default one when it exists), whose month so far it starts from. None: neither."""
    from pathlib import Path

    from amsread import store
    from amsread.errors import StoreError
    from amsread.report import history
    from amsread.report.live import LiveTariff, told
    from amsread.report.tariffs import load_company

    path = Path(db) if db else store.default_path() if default_db else None
    if path is not None and db and not path.exists():
        raise StoreError(f"no history database at {path}")
    if grid is None and (path is None or not path.exists()):
        return None
    tariff_for = None
    if grid is not None:
        company = load_company(grid)
        company.tariff(group, dt.date.today().replace(day=1))  # an unknown group fails now, not later
        tariff_for = functools.partial(company.tariff, group)
    if path is None or not path.exists():
        return LiveTariff(tariff_for, tz)
    seed = functools.partial(history.database, path)
    return LiveTariff(tariff_for, tz, history=seed if quiet else told(seed, path, note))


def _feed_tariff(tariff: LiveTariff, reading: Reading, *, hourly_note: bool = False) -> None:
    """Hand a reading to the live month; piped (``hourly_note``), say where the month stands at each
    hourly list, on stderr (stdout keeps one line per reading)."""
    tariff.feed(reading)
    if hourly_note and reading.list == 3:
        for line in _tariff_lines(tariff):
            note(line)


def _tariff_lines(tariff: LiveTariff) -> list[str]:
    status = tariff.status()
    return status.lines() if status is not None else ["Waiting for the first power reading…"]
