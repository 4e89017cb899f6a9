"""``amsread simulate``: a simulated meter's frames, for trying amsread and testing it without a meter.

The frames go wherever a reader can take them: stdout (raw bytes, or hex lines), a file, a fresh
pseudo-terminal that looks like a serial port, or a TCP port like a serial-to-network bridge. A
real meter pushes whether or not anyone listens, so the simulated one does too: a pty nobody reads
drops frames once its buffer is full, and a TCP client gets the stream from when it connects.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from typing import TYPE_CHECKING

import click

from amsread.cli.options import CONTEXT_SETTINGS
from amsread.cli.runner import ending, note
from amsread.errors import DestinationError

if TYPE_CHECKING:
    from amsread.sinks import Destination


def parse_listen(value: str) -> tuple[str, int]:
    """``--listen``: ``HOST:PORT`` or ``:PORT`` (all interfaces) or ``PORT`` (localhost) to a pair."""
    from amsread.sinks.tcp import parse_address

    try:
        return parse_address(value)
    except DestinationError as e:
        raise click.BadParameter(str(e), param_hint="--listen") from None


def parse_start(value: str | None) -> dt.datetime | None:
    """``--start``: an ISO 8601 time (naive means the meter's local time), ``now``, or ``hour``."""
    from amsread.simulator import OSLO, next_hour_start

    if value is None or value == "now":
        return None
    if value == "hour":
        return next_hour_start()
    try:
        start = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"not an ISO 8601 time: {value!r} (e.g. 2024-03-05T14:59:50)", param_hint="--start"
        ) from None
    return start if start.tzinfo else start.replace(tzinfo=OSLO)


@click.command("simulate", context_settings=CONTEXT_SETTINGS)
@click.option(
    "--meter",
    type=click.Choice(["aidon", "kaifa", "kamstrup", "p1"], case_sensitive=False),
    default="aidon",
    show_default=True,
    help="Meter family to imitate: its lists, cadence, addresses and encodings.",
)
@click.option(
    "--phases", type=click.Choice(["1", "3"]), default="3", show_default=True, help="1- or 3-phase meter."
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Run the meter's clock this many times faster than real time; 0 = no waiting at all.",
)
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many frames.")
@click.option("--seed", type=int, help="Seed for the values: the same seed gives the same frames.")
@click.option(
    "--start",
    metavar="TIME",
    help="The meter's clock at the start: ISO 8601 (local time unless an offset is given), "
    "'now' (default) or 'hour' (just before the next full hour).",
)
@click.option("--hex", "as_hex", is_flag=True, help="Hex text, one frame per line, instead of raw bytes.")
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
@click.option(
    "--pty", "use_pty", is_flag=True, help="Create a pseudo-terminal and write to it; prints its path."
)
@click.option(
    "--listen", metavar="HOST:PORT", help="Serve the frames to every TCP client (port 0: any free port)."
)
@click.option("-q", "--quiet", is_flag=True, help="No status lines on stderr.")
def command(
    meter: str,
    phases: str,
    speed: float,
    count: int | None,
    seed: int | None,
    start: str | None,
    as_hex: bool,
    output: str | None,
    use_pty: bool,
    listen: str | None,
    quiet: bool,
) -> None:
    """Imitate a meter: push realistic frames at the real cadence (Aidon by default).

    The frames are built with the same declarations amsread decodes with, with moving values: a
    household's power through the day, currents and voltages per phase, energy counters that
    follow the power. Aidon pushes list 1 every 2.5 s, list 2 every 10 s and list 3 at the top
    of the hour; Kaifa 2 s / 10 s / hourly; Kamstrup 10 s / hourly; a P1 meter (--meter p1,
    a Swedish Aidon's telegram) every 10 s. On a terminal, stdout gets hex instead of raw bytes.

    Examples:

    \b
        amsread simulate --speed 100 | amsread csv -
        amsread simulate --pty                      # then: amsread watch /dev/pts/N
        amsread simulate --listen 127.0.0.1:2000    # then: amsread json socket://127.0.0.1:2000
        amsread simulate --meter kamstrup --phases 1 --count 10 --hex -o kamstrup.hex
        amsread simulate --meter p1 --speed 10 | amsread json -
    """
    from amsread.simulator import SimulatedMeter, paced
    from amsread.sinks import open_destination

    if sum(bool(x) for x in (output, use_pty, listen)) > 1:
        raise click.UsageError("use just one of -o/--output, --pty or --listen")
    address = parse_listen(listen) if listen else None
    sim = SimulatedMeter(meter.lower(), int(phases), seed=seed, start=parse_start(start))

    if use_pty:
        url = "pty://"
    elif address is not None:
        url = f"tcp://{address[0]}:{address[1]}"
    else:
        url = f"file://{output}" if output else "-"
    hex_out = as_hex
    if url == "-" and not as_hex and sys.stdout.isatty():
        hex_out = True
        if not quiet:
            note("stdout is a terminal: writing hex (pipe it into amsread, or use -o/--pty/--listen)")
    sink = open_destination(url, as_hex=hex_out, log=_silent if quiet else note)
    announced = sink.announce()
    # a pty's path is always said (a reader needs it), a port under -q only when the OS chose it
    if announced is not None and (use_pty or not quiet or (address is not None and address[1] == 0)):
        note(announced)

    lists: Counter[int] = Counter()
    label = f"{meter.lower()} {phases}-phase meter" + (f", seed {seed}" if seed is not None else "")
    if not quiet and (use_pty or address is not None):
        note(f"simulating: {label}, speed {speed:g}")
    with ending(sink.close, lambda: _summary(lists, sink), quiet=quiet) as end:
        for push in paced(sim.pushes(), speed):
            sink.write(push.frame)
            lists[push.list] += 1
            if count is not None and sum(lists.values()) >= count:
                break
    end.leave()


def _silent(message: str) -> None:
    """``-q``: the TCP server's client notes are not said."""


def _summary(lists: Counter[int], sink: Destination) -> str:
    total = sum(lists.values())
    if set(lists) == {0}:  # a P1 meter: telegrams, no lists
        return f"{total} P1 telegrams simulated" + sink.summary()
    parts = [f"{n} list {level}" for level, n in sorted(lists.items())]
    line = f"{total} frames simulated" + (f": {', '.join(parts)}" if parts else "")
    return line + sink.summary()
