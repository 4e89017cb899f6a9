"""``amsread run``: one process owns the port and feeds every destination.

The destinations (``--mqtt``, the history database, ``--csv``, ``--jsonl``) each sit behind their
own queue and thread (``sinks.fanout``), so a broker away or a full disk is told on stderr and
retried without slowing the port or the others. ``--share`` hands the raw bytes to TCP clients
from the reading thread itself, without ever waiting (``sinks.share``).

Every option can also come from a TOML file (``--config FILE``) and from the environment
(``AMSREAD_<OPTION>``, e.g. ``AMSREAD_MQTT``, ``AMSREAD_NO_DB=1``, ``AMSREAD_SOURCE``); the
command line wins over the environment, which wins over the file. click gives that order for free:
the file becomes the command's ``default_map``, below ``auto_envvar_prefix``. Heavy imports (paho,
sqlite3, the decoder) happen inside the command so that ``amsread --help`` stays fast.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
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
from amsread.cli.runner import note, running, take
from amsread.errors import ConfigError

if TYPE_CHECKING:
    from amsread.contract import Reading
    from amsread.decode.decoder import ReadingDecoder
    from amsread.report.tariffs import Company
    from amsread.sinks import ReadingSink
    from amsread.sinks.share import RawShare
    from amsread.sources.base import SourceRequest
    from amsread.wire.framer import Envelope

#: Environment variables are ``AMSREAD_`` and the option's name in capitals (``--mqtt-prefix``:
#: ``AMSREAD_MQTT_PREFIX``). SOURCE, an argument, is ``AMSREAD_SOURCE``.
ENV_PREFIX: Final = "AMSREAD"
SOURCE_ENV: Final = "AMSREAD_SOURCE"


def load_config(path: str) -> dict[str, Any]:
    """The TOML file's keys as option names (``mqtt-prefix`` and ``mqtt_prefix`` alike)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as e:
        raise ConfigError(f"cannot read the config file {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"the config file {path} is not valid TOML: {e}") from None
    return {key.replace("-", "_"): value for key, value in data.items()}


def _config_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """Eager: before any other option is read, make the file (and AMSREAD_SOURCE) the defaults."""
    defaults = load_config(value) if value else {}
    known = {p.name for p in ctx.command.params if p.name and p.name != "config"}
    unknown = sorted(set(defaults) - known)
    if unknown:
        raise ConfigError(
            f"the config file {value} has unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(unknown)}; the keys are the options of amsread run (see docs/service.md)"
        )
    if os.environ.get(SOURCE_ENV):  # an argument has no envvar of its own: above the file
        defaults["source"] = os.environ[SOURCE_ENV]
    ctx.default_map = {**(ctx.default_map or {}), **defaults}


class _KeepFrames:
    """The decoder, remembering the raw frames of the message it decoded last (for ``raw``)."""

    def __init__(self, decoder: ReadingDecoder) -> None:
        self._decoder = decoder
        self.frames: tuple[bytes, ...] = ()

    def decode(self, envelope: Envelope) -> Reading | None:
        self.frames = envelope.frames
        return self._decoder.decode(envelope)


def _shared(chunks: Iterator[bytes], share: RawShare) -> Iterator[bytes]:
    """The source's chunks, each handed to the share's clients as it passes."""
    for chunk in chunks:
        share.write(chunk)
        yield chunk


@click.command(
    "run", context_settings={**CONTEXT_SETTINGS, "auto_envvar_prefix": ENV_PREFIX, "show_default": True}
)
@click.option(
    "--config",
    type=click.Path(dir_okay=False),
    is_eager=True,
    expose_value=False,
    callback=_config_callback,
    help="TOML file of options (keys are the option names: mqtt, db, csv, meter, source, ...). "
    "Command line > environment (AMSREAD_<OPTION>) > file.",
)
@source_options(required=False)
@decode_options
@key_options
@click.option(
    "--mqtt", metavar="URL", help="Publish to this broker: mqtt://[user@]host[:port], mqtts:// for TLS."
)
@click.option(
    "--mqtt-password-file",
    type=click.Path(dir_okay=False),
    help="File whose first line is the broker password (else AMSREAD_MQTT_PASSWORD; keeps it out of ps).",
)
@click.option(
    "--mqtt-cafile",
    type=click.Path(dir_okay=False),
    help="CA certificate(s) for mqtts:// (default: system CAs).",
)
@click.option("--mqtt-certfile", type=click.Path(dir_okay=False), help="Client certificate for mqtts://.")
@click.option(
    "--mqtt-keyfile", type=click.Path(dir_okay=False), help="Client certificate's key for mqtts://."
)
@click.option("--mqtt-prefix", default="amsread", metavar="TOPIC", help="Topics are PREFIX/<meter id>/...")
@click.option(
    "--discovery-prefix", default="homeassistant", metavar="TOPIC", help="Home Assistant's discovery prefix."
)
@click.option("--no-discovery", is_flag=True, help="Publish no Home Assistant discovery config.")
@click.option(
    "--state-throttle",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="SECONDS",
    help="Publish state at most once per SECONDS (the latest wins); 0: every reading.",
)
@click.option(
    "--mqtt-raw",
    type=click.Choice(["binary", "hex"], case_sensitive=False),
    help="Also publish every frame on <base>/raw, as bytes or hex text.",
)
@click.option(
    "--db", metavar="FILE", help="History database (SQLite)  [default: ~/.local/share/amsread/history.db]"
)
@click.option("--no-db", is_flag=True, help="Keep no history database.")
@click.option(
    "--retention-days",
    type=click.FloatRange(min=0, min_open=True),
    default=40.0,
    metavar="DAYS",
    help="Keep power readings this long in the database (hourly lists are kept for ever).",
)
@click.option(
    "--csv", metavar="FILE", help="Append CSV rows to FILE; strftime fields (%Y-%m-%d) start a file a day."
)
@click.option(
    "--jsonl", metavar="FILE", help="Append JSON lines to FILE; strftime fields start a file a day."
)
@click.option(
    "--grid",
    metavar="COMPANY",
    help="Keep the live capacity-tariff figures of this grid company's tariff (this hour's kWh, the "
    "month's peaks, the step, kWh left this hour) in the database and, with --mqtt, on the retained "
    "<base>/tariff topic " + TARIFF_CREDIT,
)
@group_option()
@click.option(
    "--share",
    metavar="HOST:PORT",
    help="Serve the port's raw bytes to TCP clients (amsread watch socket://HOST:PORT elsewhere).",
)
def command(source: SourceRequest, options: Any, meter: str | None, **dest: Any) -> None:
    """Read SOURCE for good and feed every destination: MQTT with Home Assistant discovery, a
    history database, CSV and JSON-lines files, and a raw TCP share. With --grid, the live
    capacity-tariff figures too (docs/mqtt.md).

    The history database is on by default. Each destination is on its own: one that fails is told
    on stderr and retried, and never stops the others or the reading. SIGTERM ends cleanly with
    exit 0 (a service stop), Ctrl-C with 130. Run as a service: docs/service.md.

    Examples:

    \b
        amsread run /dev/ttyUSB0 --mqtt mqtt://homeassistant.local
        amsread run /dev/ttyUSB0 --csv 'power-%Y-%m-%d.csv' --share 0.0.0.0:2000
        amsread run /dev/ttyUSB0 --mqtt mqtt://homeassistant.local --grid elvia
        amsread run --config /etc/amsread.toml
    """
    if source.spec is None:
        raise click.UsageError(f"Missing argument 'SOURCE' (or source = ... in --config, or {SOURCE_ENV}).")
    feed(source, options, **dest)


def feed(source: SourceRequest, options: Any, **dest: Any) -> None:
    """Open the destinations, then read: every reading to each, the raw bytes to the share."""
    from amsread.decode.decoder import ReadingDecoder
    from amsread.sinks.fanout import Fanout

    sinks: list[ReadingSink] = []
    share: RawShare | None = None
    fan: Fanout | None = None
    try:
        sinks = open_sinks(dest, quiet=source.quiet, tz=options.meter_tz)
        share = open_share(dest.get("share"))
        fan = Fanout(sinks, log=note)
        keeper = _KeepFrames(ReadingDecoder(options))
        with running(source) as (src, pipeline):
            fan.patient = not src.live  # a replay waits for its destinations: nothing is lost
            try:
                chunks: Iterator[bytes] = iter(src)
                if share is not None:
                    chunks = _shared(chunks, share)
                for reading in take(pipeline.readings(chunks, live=src.live, decoder=keeper), source.count):
                    fan.handle(reading, keeper.frames)
            finally:
                _close(fan, share, quiet=source.quiet)
    finally:
        _close(fan, share, quiet=True, sinks=sinks)


def _close(fan: Any, share: RawShare | None, *, quiet: bool, sinks: list[ReadingSink] | None = None) -> None:
    """Flush and close every destination (idempotent), then say how each did."""
    if fan is not None:
        fan.close()
    elif sinks:
        for sink in sinks:  # opened before the fanout was made: close them directly
            sink.close()
    if share is not None:
        share.close()
    if not quiet:
        parts = [fan.summary()] if fan is not None and fan.lanes else []
        if share is not None:
            parts.append(share.summary())
        if parts:
            note("; ".join(parts))


def open_sinks(dest: dict[str, Any], *, quiet: bool, tz: dt.tzinfo | None = None) -> list[ReadingSink]:
    """The reading destinations the options ask for; each says where it writes, on stderr."""
    sinks: list[ReadingSink] = []
    try:
        company = _company(dest)  # an unknown company or group stops here, before anything opens
        if not dest.get("no_db"):
            sinks.append(_open_store(dest, quiet=quiet))
        if dest.get("mqtt"):
            sinks.append(_open_mqtt(dest, quiet=quiet))
        if company is not None:
            # first: its lane is closed first, so its last figures reach the others before they close
            sinks.insert(0, _open_tariff(company, dest, sinks, tz or _oslo(), quiet=quiet))
        if dest.get("csv"):
            from amsread.sinks.files import CsvFile

            sinks.append(CsvFile(dest["csv"]))
        if dest.get("jsonl"):
            from amsread.sinks.files import JsonlFile

            sinks.append(JsonlFile(dest["jsonl"]))
    except BaseException:
        for sink in sinks:
            sink.close()
        raise
    return sinks


def _company(dest: dict[str, Any]) -> Company | None:
    """The ``--grid`` company, checked to have a tariff for ``--group`` this month."""
    if not dest.get("grid"):
        return None
    from amsread.report.tariffs import load_company

    company = load_company(dest["grid"])
    company.tariff(dest.get("group") or "husholdning", dt.date.today().replace(day=1))
    return company


def _oslo() -> dt.tzinfo:
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Oslo")


def _open_tariff(
    company: Company, dest: dict[str, Any], sinks: list[ReadingSink], tz: dt.tzinfo, *, quiet: bool
) -> ReadingSink:
    """``--grid``: the live tariff figures (``report.live``), seeded with the month so far from the
    history database, handed to the database and the MQTT publisher whenever they change."""
    import functools

    from amsread.report import history
    from amsread.report.live import History, LiveFigures, LiveTariff, told
    from amsread.sinks.mqtt import MqttPublisher
    from amsread.store import HistoryStore

    group = dest.get("group") or "husholdning"
    outputs: list[Callable[[str, str], None]] = []
    seed: History | None = None
    for sink in sinks:
        if isinstance(sink, HistoryStore):
            outputs.append(sink.put_tariff)
            seed = functools.partial(history.database, sink.path)
            seed = seed if quiet else told(seed, sink.path, note)
        elif isinstance(sink, MqttPublisher):
            outputs.append(sink.publish_tariff)
    live = LiveTariff(functools.partial(company.tariff, group), tz, history=seed)
    if not quiet:
        where = " and ".join(s.name for s in sinks if isinstance(s, (HistoryStore, MqttPublisher)))
        note(f"tariff: {company.name} ({group}), live figures to {where or 'nowhere (no --db, no --mqtt)'}")
    return LiveFigures(live, outputs, group)


def _open_store(dest: dict[str, Any], *, quiet: bool) -> ReadingSink:
    from amsread.store import HistoryStore, default_path

    path = Path(dest["db"]) if dest.get("db") else default_path()
    store = HistoryStore(path, retention_days=dest["retention_days"], on_error=note)
    if not quiet:
        note(f"history database: {path} (power readings kept {dest['retention_days']:g} days)")
    return store


def _open_mqtt(dest: dict[str, Any], *, quiet: bool) -> ReadingSink:
    from amsread.sinks.mqtt import MqttPublisher, TlsFiles

    ctx = click.get_current_context()
    publisher = MqttPublisher(
        dest["mqtt"],
        prefix=dest["mqtt_prefix"],
        discovery_prefix=dest["discovery_prefix"],
        discovery=not dest["no_discovery"],
        throttle=dest["state_throttle"],
        raw=dest["mqtt_raw"].lower() if dest.get("mqtt_raw") else None,
        password_file=dest.get("mqtt_password_file"),
        tls_files=TlsFiles(dest.get("mqtt_cafile"), dest.get("mqtt_certfile"), dest.get("mqtt_keyfile")),
        on_notice=note,
    )
    if publisher.url.password is not None and (
        ctx.get_parameter_source("mqtt") == click.core.ParameterSource.COMMANDLINE
    ):
        note(
            "note: the MQTT password is on the command line, where ps shows it to every user; "
            "use AMSREAD_MQTT_PASSWORD, --mqtt-password-file or the config file instead"
        )
    if not quiet:
        note(f"mqtt: publishing to {publisher.url} under {publisher.prefix}/<meter id>")
    return publisher


def open_share(address: str | None) -> RawShare | None:
    """The ``--share`` server, listening before the port is opened (its address said on stderr)."""
    if not address:
        return None
    from amsread.sinks.share import RawShare
    from amsread.sinks.tcp import parse_address

    share = RawShare(*parse_address(address), log=note)
    host, port = share.address
    note(f"share: serving the raw bytes on {host}:{port}")
    return share
