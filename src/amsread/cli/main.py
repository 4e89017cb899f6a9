"""The ``amsread`` command line: a click group, shared options, and the error boundary.

Each subcommand lives in ``amsread.cli.<name>`` and is imported only when used, so
``amsread --help`` and ``--version`` answer at once (construct, pyserial and rich are imported
inside the commands that need them). Typed ``AmsReadError``s become one ``Error:`` line and a
distinct exit status here, and nowhere else; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import functools
import importlib
import sys
from typing import Final

import click

from amsread import __version__, stdio
from amsread.cli import runner
from amsread.cli.options import CONTEXT_SETTINGS
from amsread.cli.runner import silence_stdout
from amsread.errors import AmsReadError

#: name -> the module that holds the command.
COMMANDS: Final[dict[str, str]] = {
    "hex": "amsread.cli.hexdump",
    "decode": "amsread.cli.decode",
    "csv": "amsread.cli.csvout",
    "json": "amsread.cli.jsonout",
    "watch": "amsread.cli.watch",
    "simulate": "amsread.cli.simulate",
    "probe": "amsread.cli.probe",
    "ports": "amsread.cli.ports",
    "run": "amsread.cli.run",
    "report": "amsread.cli.report",
}

#: The line each command gets in ``amsread --help``: short enough for an 80-column terminal, where
#: click would cut the first sentence of the docstring off with "...".
SHORT_HELP: Final[dict[str, str]] = {
    "hex": "Show each frame in hex, and why a bad one is bad.",
    "decode": "Decode pasted hex, a capture file or stdin, readably.",
    "csv": "Print every reading as a CSV row.",
    "json": "Print every reading as a JSON line.",
    "watch": "Watch the meter live (try: amsread watch --demo).",
    "simulate": "Imitate a meter, for testing without one.",
    "probe": "Find the serial settings a port needs, or why none work.",
    "ports": "List the serial ports on this computer.",
    "run": "Feed MQTT, a history database, files and a share.",
    "report": "Hourly energy, capacity peaks and grid cost of a month.",
}

EXIT_ERROR: Final = 1
EXIT_INTERRUPTED: Final = 130


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._find(name) is not None]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._find(cmd_name)

    @staticmethod
    @functools.cache
    def _find(name: str) -> click.Command | None:
        module = COMMANDS.get(name)
        if module is None:
            return None
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as e:
            if e.name == module:
                return None
            raise
        command: click.Command = mod.command
        if name in SHORT_HELP:
            command.short_help = SHORT_HELP[name]
        if not any(p.name == "debug" for p in command.params):
            command.params.append(_debug_option())
        return command


def _set_debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        runner.set_debug()


def _debug_option() -> click.Option:
    """``--debug`` after the command too (``amsread json X --debug``): where people add flags."""
    return click.Option(
        ["--debug"], is_flag=True, hidden=True, expose_value=False, is_eager=True, callback=_set_debug
    )


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="amsread")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
def cli(debug: bool) -> None:
    """Read your electricity meter's HAN port: Aidon, Kaifa, Kamstrup, Landis+Gyr and more.

    SOURCE is a serial port (/dev/ttyUSB0), a pyserial URL (socket://host:2000, loop://),
    a capture file (raw bytes or hex text), or - for standard input.

    Examples:

    \b
        amsread watch --demo
        amsread watch /dev/ttyUSB0
        amsread csv /dev/ttyUSB0 >> power.csv
        amsread hex /dev/ttyUSB0 --annotate
    """
    if debug:
        runner.set_debug()


# --------------------------------------------------------------------------------------------
# the error boundary
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    stdio.guard()
    try:
        # Without standalone mode click returns the code of a ``ctx.exit(n)`` instead of raising it.
        code = cli.main(args=argv, prog_name="amsread", standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except click.exceptions.Exit as e:
        sys.exit(e.exit_code)
    except click.exceptions.Abort:
        sys.exit(EXIT_INTERRUPTED)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except BrokenPipeError:
        silence_stdout()
        sys.exit(0)
    except AmsReadError as e:
        if runner.debugging():
            raise
        click.echo(f"Error: {e}", err=True)
        sys.exit(e.exit_code)
    except OSError as e:
        if runner.debugging():
            raise
        click.echo(f"Error: {e.strerror or e}", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(0)
