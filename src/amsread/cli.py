"""The ``amsread`` command line: a click group, shared options, and the error boundary.

Each subcommand lives in ``amsread.commands.<name>`` and is imported only when used, so
``amsread --help`` and ``--version`` answer at once (construct, pyserial and rich are imported
inside the commands that need them). Typed ``AmsReadError``s become one ``Error:`` line and a
distinct exit status here, and nowhere else; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, Final

import click

from amsread import __version__
from amsread.settings import DEFAULT, PRESETS

#: name -> the module that holds the command.
COMMANDS: Final[dict[str, str]] = {
    "hex": "amsread.commands.hexdump",
    "decode": "amsread.commands.decode",
    "csv": "amsread.commands.csvout",
    "json": "amsread.commands.jsonout",
    "watch": "amsread.commands.watch",
    "simulate": "amsread.commands.simulate",
    "probe": "amsread.commands.probe",
    "ports": "amsread.commands.ports",
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
}

CONTEXT_SETTINGS: Final = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

EXIT_ERROR: Final = 1
EXIT_INTERRUPTED: Final = 130

_debug = False


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
    global _debug
    if value:
        _debug = True


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
    global _debug
    _debug = debug


# --------------------------------------------------------------------------------------------
# shared options
# --------------------------------------------------------------------------------------------


def serial_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--meter, --baudrate, --parity, --bytesize, --stopbits collapsed into one ``settings``."""

    @click.option(
        "--meter",
        type=click.Choice(sorted(PRESETS), case_sensitive=False),
        help="Serial preset for a meter family (Kamstrup pushes 8N1; the rest 8E1).",
    )
    @click.option("--baudrate", type=click.IntRange(50, 4_000_000), help=f"[default: {DEFAULT.baudrate}]")
    @click.option(
        "--parity", type=click.Choice(["N", "E", "O", "M", "S"], case_sensitive=False), help="[default: E]"
    )
    @click.option("--bytesize", type=click.Choice(["5", "6", "7", "8"]), help="[default: 8]")
    @click.option("--stopbits", type=click.Choice(["1", "1.5", "2"]), help="[default: 1]")
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        meter: str | None,
        baudrate: int | None,
        parity: str | None,
        bytesize: str | None,
        stopbits: str | None,
        **kwargs: Any,
    ) -> Any:
        base = PRESETS[meter] if meter else DEFAULT
        kwargs["settings"] = base.with_overrides(
            baudrate=baudrate,
            parity=parity.upper() if parity else None,
            bytesize=int(bytesize) if bytesize else None,
            stopbits=float(stopbits) if stopbits else None,
        )
        kwargs["meter"] = meter
        return func(*args, **kwargs)

    return wrapper


def source_options(func: Callable[..., Any] | None = None, *, required: bool = True) -> Any:
    """SOURCE and everything about reading it, shared by every reading command, collapsed into
    one ``source.SourceRequest`` passed as ``source``.

    ``@source_options(required=False)`` makes SOURCE optional (``watch --demo`` needs none).
    """
    if func is None:
        return functools.partial(source_options, required=required)
    from amsread.commands._run import live_options  # --idle-timeout, --exit-on-loss

    func = live_options(func)

    @click.argument("source", metavar="SOURCE" if required else "[SOURCE]", required=required)
    @serial_options
    @click.option(
        "--input-format",
        type=click.Choice(["auto", "raw", "hex"], case_sensitive=False),
        default="auto",
        show_default=True,
        help="How to read a capture file or stdin: raw bytes or hex text.",
    )
    @click.option("--record", metavar="FILE", help="Append every raw byte received to FILE, for replay.")
    @click.option("--count", type=click.IntRange(min=1), help="Stop after this many items.")
    @click.option("--strict", is_flag=True, help="Stop at the first bad frame (exit 1).")
    @click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
    @click.option("-v", "--verbose", is_flag=True, help="Report every skipped frame on stderr.")
    @functools.wraps(func)
    def wrapper(
        *args: Any,
        source: str | None,
        settings: Any,
        input_format: str,
        record: str | None,
        count: int | None,
        strict: bool,
        quiet: bool,
        verbose: bool,
        **kwargs: Any,
    ) -> Any:
        from amsread.source import SourceRequest

        kwargs["source"] = SourceRequest(
            source, settings, input_format, record, count, strict, quiet, verbose
        )  # type: ignore[arg-type]
        return func(*args, **kwargs)

    return wrapper


def decode_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """What the frames cannot say, collapsed into one ``options`` (a ``DecodeOptions``)."""

    @click.option(
        "--meter-tz",
        default="Europe/Oslo",
        show_default=True,
        metavar="ZONE",
        help="Time zone of the meter's clock where the meter sends no UTC offset.",
    )
    @click.option(
        "--ct-ratio",
        metavar="N",
        help="Current-transformer ratio (e.g. 200/5 or 40): multiplies currents, powers and energies "
        "of CT meters that report secondary values.",
    )
    @click.option(
        "--country",
        type=click.Choice(["NO", "SE", "DK", "AT", "CH"], case_sensitive=False),
        default="NO",
        show_default=True,
        help="Where the meter is: Swedish Kamstrup meters count energy in Wh, not 10 Wh.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, meter_tz: str, ct_ratio: str | None, country: str, **kwargs: Any) -> Any:
        kwargs["options"] = make_decode_options(meter_tz, ct_ratio, country.upper(), kwargs.get("meter"))
        return func(*args, **kwargs)

    return wrapper


def make_decode_options(meter_tz: str, ct_ratio: str | None, country: str, meter: str | None) -> Any:
    """Validate the decode options; bad values are usage errors with one clear line."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from amsread.readings import DecodeOptions

    try:
        tz = ZoneInfo(meter_tz)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise click.BadParameter(f"unknown time zone {meter_tz!r}", param_hint="--meter-tz") from e
    ratio = parse_ct_ratio(ct_ratio) if ct_ratio is not None else None
    manufacturer = meter if meter in ("aidon", "kaifa", "kamstrup", "landisgyr") else None
    return DecodeOptions(meter_tz=tz, ct_ratio=ratio, country=country, manufacturer=manufacturer)


#: A CT ratio's numerator and denominator stay below this, with at most ``CT_TERM_PLACES``
#: decimals: real transformers are 50/5 to 5000/1, and the bound keeps the ratio's numerator below
#: 10^18, so every scaled value stays exact in ``readings.VALUE_CONTEXT``.
MAX_CT_TERM: Final = 1_000_000
CT_TERM_PLACES: Final = 6


def parse_ct_ratio(text: str) -> Any:
    """``200/5``, ``40`` or ``7.5`` as an exact ``Fraction``; NaN, infinities, zero, negative and
    huge ratios (``1e999999``) are refused as a bad option, not met later as a crash."""
    from decimal import Decimal, InvalidOperation
    from fractions import Fraction

    def term(part: str) -> Fraction:
        try:
            number = Decimal(part.strip())
        except InvalidOperation:
            raise click.BadParameter(f"not a ratio: {text!r}", param_hint="--ct-ratio") from None
        places = -int(number.as_tuple().exponent) if number.is_finite() else 0
        if not number.is_finite() or not 0 < number < MAX_CT_TERM or places > CT_TERM_PLACES:
            raise click.BadParameter(
                f"{text!r}: give a positive ratio such as 200/5 or 40 (terms below {MAX_CT_TERM:,})",
                param_hint="--ct-ratio",
            )
        return Fraction(number)

    num, slash, den = text.partition("/")
    return term(num) / (term(den) if slash else 1)


def key_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--key, --auth-key and --key-file: the keys of an encrypted meter, put into ``options.keys``.

    Stack it below ``@decode_options`` (it completes the ``options`` that one makes). Where a key
    comes from, first found wins: --key/--auth-key, then --key-file, then the AMSREAD_KEY and
    AMSREAD_AUTH_KEY environment variables (a file or the environment keeps keys out of shell
    history and ``ps``). No error message ever repeats a key, even a malformed one.
    """

    @click.option(
        "--key",
        metavar="HEX",
        help="Encryption key (32 hex digits) for meters that encrypt their push (Denmark, Austria, ...). "
        "[env var: AMSREAD_KEY]",
    )
    @click.option(
        "--auth-key",
        metavar="HEX",
        help="Authentication key (32 hex digits): checks each message's tag; optional. "
        "[env var: AMSREAD_AUTH_KEY]",
    )
    @click.option(
        "--key-file",
        type=click.Path(dir_okay=False),
        help="File with lines key=HEX and auth_key=HEX (# comments allowed).",
    )
    @functools.wraps(func)
    def wrapper(
        *args: Any, key: str | None, auth_key: str | None, key_file: str | None, **kwargs: Any
    ) -> Any:
        import dataclasses

        keys = make_keys(key, auth_key, key_file)
        if keys:
            kwargs["options"] = dataclasses.replace(kwargs["options"], keys=keys)
        return func(*args, **kwargs)

    return wrapper


def make_keys(key: str | None, auth_key: str | None, key_file: str | None) -> Any:
    """The ``security.Keys`` from the options, the key file and the environment, in that order."""
    from amsread.errors import KeyMaterialError
    from amsread.security import Keys, parse_key, read_key_file

    try:
        from_file = read_key_file(key_file) if key_file else Keys()
    except KeyMaterialError as e:
        raise click.BadParameter(str(e), param_hint="--key-file") from None
    found: dict[str, bytes | None] = {}
    for field, what, given, env, hint in (
        ("encryption_key", "encryption key", key, "AMSREAD_KEY", "--key"),
        ("authentication_key", "authentication key", auth_key, "AMSREAD_AUTH_KEY", "--auth-key"),
    ):
        if given is not None:
            text, source = given, hint
        elif getattr(from_file, field) is not None:
            found[field] = getattr(from_file, field)
            continue
        elif os.environ.get(env):
            text, source = os.environ[env], env
        else:
            continue
        try:
            found[field] = parse_key(text, what)
        except KeyMaterialError as e:
            raise click.BadParameter(str(e), param_hint=source) from None
    return Keys(**found)


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


# --------------------------------------------------------------------------------------------
# the error boundary
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    from amsread import stdio
    from amsread.errors import AmsReadError

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
        if _debug:
            raise
        click.echo(f"Error: {e}", err=True)
        sys.exit(getattr(e, "exit_code", EXIT_ERROR))
    except OSError as e:
        if _debug:
            raise
        click.echo(f"Error: {e.strerror or e}", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(0)


def silence_stdout() -> None:
    """After EPIPE, point stdout at /dev/null so the interpreter's final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
