"""Options shared by the subcommands, each collapsed early into one value the command takes.

``serial_options`` gives a ``SerialSettings``, ``source_options`` a ``SourceRequest``,
``decode_options`` (with ``key_options``) a ``DecodeOptions``: the sqlite-utils way of stacking
shared option decorators. Importing this module must stay cheap (every subcommand is imported for
``amsread --help``): the makers' presets are looked up only when an option needs them.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final, cast

import click

from amsread.settings import DEFAULT, SerialSettings

if TYPE_CHECKING:
    from amsread.sources.source import InputFormat

CONTEXT_SETTINGS: Final = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class PresetChoice(click.Choice[str]):
    """``--meter``: a choice among the makers' serial presets, read from ``amsread.meters`` only
    when a command's help or value needs them (``amsread --help`` imports every subcommand)."""

    def __init__(self) -> None:
        super().__init__((), case_sensitive=False)

    @property  # type: ignore[override]
    def choices(self) -> Sequence[str]:
        return tuple(sorted(presets()))

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        """Set by ``click.Choice.__init__``; the presets are the choices."""


def presets() -> dict[str, SerialSettings]:
    """The serial presets by name (``amsread.meters.PRESETS``)."""
    from amsread.meters import PRESETS

    return PRESETS


def serial_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--meter, --baudrate, --parity, --bytesize, --stopbits collapsed into one ``settings``."""

    @click.option(
        "--meter",
        type=PresetChoice(),
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
        base = presets()[meter] if meter else DEFAULT
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
    func = live_options(func)  # --idle-timeout, --exit-on-loss

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
        from amsread.sources.base import SourceRequest

        fmt = cast("InputFormat", input_format)  # click.Choice allows only these
        kwargs["source"] = SourceRequest(source, settings, fmt, record, count, strict, quiet, verbose)
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
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError  # sysconfig: not for --help

    from amsread.decode.decoder import DecodeOptions
    from amsread.meters import BY_MAKER

    try:
        tz = ZoneInfo(meter_tz)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise click.BadParameter(f"unknown time zone {meter_tz!r}", param_hint="--meter-tz") from e
    ratio = parse_ct_ratio(ct_ratio) if ct_ratio is not None else None
    manufacturer = meter if meter in BY_MAKER else None
    return DecodeOptions(meter_tz=tz, ct_ratio=ratio, country=country, manufacturer=manufacturer)


#: A CT ratio's numerator and denominator stay below this, with at most ``CT_TERM_PLACES``
#: decimals: real transformers are 50/5 to 5000/1, and the bound keeps the ratio's numerator below
#: 10^18, so every scaled value stays exact in ``decode.decoder.VALUE_CONTEXT``.
MAX_CT_TERM: Final = 1_000_000
CT_TERM_PLACES: Final = 6


def parse_ct_ratio(text: str) -> Any:
    """``200/5``, ``40`` or ``7.5`` as an exact ``Fraction``; NaN, infinities, zero, negative and
    huge ratios (``1e999999``) are refused as a bad option, not met later as a crash."""

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
        keys = make_keys(key, auth_key, key_file)
        if keys:
            kwargs["options"] = dataclasses.replace(kwargs["options"], keys=keys)
        return func(*args, **kwargs)

    return wrapper


def make_keys(key: str | None, auth_key: str | None, key_file: str | None) -> Any:
    """The ``security.Keys`` from the options, the key file and the environment, in that order."""
    from amsread.cosem.ciphering import Keys, parse_key, read_key_file
    from amsread.errors import KeyMaterialError

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


def live_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """--idle-timeout and --exit-on-loss, folded into the ``source`` request (``SourceRequest``).

    ``source_options`` applies it, so every reading command has them.
    """

    @click.option(
        "--idle-timeout",
        type=click.FloatRange(min=0),
        default=30.0,
        show_default=True,
        metavar="SECONDS",
        help="Say so on stderr when a port or socket sends nothing this long (a socket is also "
        "reconnected); 0 never does.",
    )
    @click.option(
        "--exit-on-loss",
        is_flag=True,
        help="End with exit status 7 when a port or socket is lost or silent, instead of reopening it.",
    )
    @functools.wraps(func)
    def wrapper(*args: Any, idle_timeout: float, exit_on_loss: bool, **kwargs: Any) -> Any:
        request = kwargs["source"]
        kwargs["source"] = dataclasses.replace(request, idle_timeout=idle_timeout, exit_on_loss=exit_on_loss)
        return func(*args, **kwargs)

    return wrapper


# --------------------------------------------------------------------------------------------
# the grid tariff (report, watch, run)
# --------------------------------------------------------------------------------------------

#: The customer groups the tariffs of Fri nettleie price separately.
GROUPS: Final = ("husholdning", "fritid", "liten_næring")

#: The credit the tariff data's licence asks for (CC-BY-4.0), in every ``--grid`` help.
TARIFF_CREDIT: Final = (
    '(see `amsread report --grids`). Tariff data: "Fri nettleie", '
    "https://github.com/kraftsystemet/fri-nettleie (CC-BY-4.0)."
)


def group_option(help_text: str = "With --grid: the customer group.") -> Callable[..., Any]:
    """``--group``: which customer group's tariff ``--grid`` prices by."""
    return click.option(
        "--group", type=click.Choice(GROUPS), default="husholdning", show_default=True, help=help_text
    )
