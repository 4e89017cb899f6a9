"""``amsread probe``: which serial settings does this port need, and if none, why not?"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from amsread.cli.options import CONTEXT_SETTINGS
from amsread.cli.runner import note

if TYPE_CHECKING:
    from amsread.settings import SerialSettings


@click.command("probe", context_settings=CONTEXT_SETTINGS)
@click.argument("port", metavar="PORT")
@click.option(
    "--seconds",
    type=click.FloatRange(min=0.5),
    default=12.0,
    show_default=True,
    help="Longest time to listen at each setting (a Kamstrup pushes every 10 s).",
)
def command(port: str, seconds: float) -> None:
    """Find the serial settings PORT needs, the meter behind it, or the reason nothing works.

    Listens at 2400 8E1 (Aidon, Kaifa), 2400 8N1 (Kamstrup), then less likely settings and
    115200 8N1 (a P1 port), for up to --seconds each, and stops at the first whose frames or P1
    telegrams pass their checksums. When none does,
    it says what it saw and what that usually means: a closed HAN port or wrong pins (no bytes),
    the wrong speed or parity (bytes but no frames), a bridge in text mode (CR LF inserted),
    or a reader that decoded the bytes as text (0x3F in place of high bytes).

    Examples:

    \b
        amsread probe /dev/ttyUSB0
        amsread probe socket://192.168.1.50:2000 --seconds 20
    """
    from amsread.diagnose import CANDIDATES, describe_meter, diagnose, probe, suggested_flags
    from amsread.sources.serial import open_serial, read_available

    refuse_a_file(port)
    network = port.startswith("socket://")
    candidates = CANDIDATES[:1] if network else CANDIDATES  # a TCP bridge ignores serial settings

    class Reader:
        """A pyserial port read the way the sources read it: nothing lost when a bridge hangs up."""

        def __init__(self, settings: SerialSettings) -> None:
            self.port = open_serial(port, settings, timeout=0.2)

        def read(self, size: int = 1) -> bytes:
            return read_available(self.port, network)

        def close(self) -> None:
            self.port.close()

    def open_port(settings: SerialSettings) -> Reader:
        return Reader(settings)

    def started(settings: SerialSettings) -> None:
        what = "listening" if network else f"trying {settings}"
        note(f"{what} for up to {seconds:g} s ...")

    label = "network" if network else None
    seen = probe(
        open_port, candidates, seconds, on_start=started, on_done=lambda o: note("  " + o.line(label).strip())
    )
    verdict = diagnose(seen, network=network)
    if verdict.found is not None:
        manufacturer = verdict.reading.manufacturer if verdict.reading is not None else None
        if verdict.reading is not None and verdict.reading.layout == "p1":
            manufacturer = "p1"  # the port's preset, whoever made the meter
        setting = "(network: settings do not apply)" if network else str(verdict.found)
        flags = "" if network else suggested_flags(verdict.found, manufacturer)
        click.echo(f"Found: {setting}: {describe_meter(verdict.reading, verdict.encrypted)}.")
        if verdict.reading is None and verdict.encrypted is not None:
            click.echo("       Its frames are encrypted: give the key from your grid company (--key).")
            flags += " --key HEX"
        click.echo(f"Next:  amsread watch {port}{flags}")
        return
    if any(o.good for o in seen):
        click.echo("Frames arrive, but most of them damaged.")
    else:
        click.echo("No frames arrived." if network else "No setting worked.")
    click.echo("")
    click.echo("What arrived:")
    for obs in seen:
        click.echo("  " + obs.line(label))
    tried = {str(o.settings) for o in seen}
    if not network and seen and seen[0].silent and len(seen) < len(candidates):
        click.echo("  (the other settings were not tried: a silent line is silent at any speed)")
    elif not network and len(tried) < len(candidates):
        click.echo("  (probing stopped early)")
    click.echo("")
    click.echo(f"Likely cause: {verdict.cause}.")
    for line in verdict.explanation:
        click.echo(line)
    click.echo("")
    for line in verdict.next_steps:
        click.echo(line)
    raise click.exceptions.Exit(1)


def refuse_a_file(port: str) -> None:
    """A capture file has no serial settings to find: say what reads it instead (exit 2)."""
    import os
    import stat

    try:
        mode = os.stat(port).st_mode
    except OSError:
        return  # a URL, or a port that is not there: opening it says why
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        raise click.BadParameter(
            f"{port} is a file, not a serial port: probe listens to a port (/dev/ttyUSB0, "
            f"socket://host:port) to find its settings. To read a capture: amsread decode {port}",
            param_hint="PORT",
        )
