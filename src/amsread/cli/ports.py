"""``amsread ports``: which serial ports are there? The first question with a new USB adapter."""

from __future__ import annotations

from typing import Any

import click

from amsread.cli.options import CONTEXT_SETTINGS
from amsread.cli.runner import note


def port_line(port: Any) -> str:
    """``/dev/ttyUSB0  FT232R USB UART - FT232R USB UART  [USB VID:PID=0403:6001 ...]``."""
    description = port.description if port.description and port.description != "n/a" else ""
    hwid = port.hwid if port.hwid and port.hwid != "n/a" else ""
    line = port.device
    if description:
        line += f"  {description}"
    if hwid:
        line += f"  [{hwid}]"
    return line


@click.command("ports", context_settings=CONTEXT_SETTINGS)
@click.option("-a", "--all", "show_all", is_flag=True, help="Also list ports with no hardware behind them.")
def command(show_all: bool) -> None:
    """List the serial ports on this computer, one per line, with a description.

    A USB M-Bus adapter usually shows up as /dev/ttyUSB0 (Linux), /dev/cu.usbserial-… (macOS)
    or COM3 (Windows). Probe it next to find its settings.

    Examples:

    \b
        amsread ports
        amsread probe /dev/ttyUSB0
    """
    from serial.tools import list_ports

    ports = sorted(list_ports.comports(include_links=False), key=lambda p: p.device)
    if not show_all:
        ports = [p for p in ports if p.hwid and p.hwid != "n/a"]
    for port in ports:
        click.echo(port_line(port))
    if not ports:
        note(
            "No serial ports found. Plug in the USB adapter and look again; on Linux, "
            "`dmesg | tail` shows whether the kernel saw it (and which driver it needs)."
            + ("" if show_all else " --all also lists ports without hardware behind them.")
        )
