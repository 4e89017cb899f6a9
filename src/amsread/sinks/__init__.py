"""Destinations: byte streams by URL scheme, and the sinks ``amsread run`` feeds readings to.

Byte destinations are opened by URL scheme, the way pyserial's ``serial_for_url`` opens sources.

A destination takes bytes (frames now; rows later) and is opened from a URL: ``pty://`` (a new
pseudo-terminal that looks like a serial port), ``tcp://HOST:PORT`` (a server every client gets
the stream from, like a serial-to-network bridge), ``file://PATH`` or a plain path, and ``-`` for
standard output. Each scheme's module registers its opener in ``SCHEMES``; a new destination is
one module and one line there.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

from amsread.contract import Frames, Reading
from amsread.errors import DestinationError
from amsread.sinks.pty import PtySink
from amsread.sinks.stream import StreamSink, open_file
from amsread.sinks.tcp import TcpSink, parse_address

Log = Callable[[str], None]


class Destination(Protocol):
    """Where the bytes go: ``write`` once per frame (flushed at once), ``close`` at the end."""

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...

    def announce(self) -> str | None:
        """The line a reader needs to find the destination (a pty's path, a port), or None."""
        ...

    def summary(self) -> str:
        """What to add to the end-of-run summary (frames dropped, clients served), or ""."""
        ...


class ReadingSink(Protocol):
    """A destination of readings (``mqtt.MqttPublisher``, ``store.HistoryStore``): one reader feeds
    them all. ``handle`` takes one reading and the frame it came in (``raw`` None when there is
    none); it returns at once and never blocks on I/O. ``close`` flushes and releases; idempotent.
    A sink may also have ``idle()``, called whenever its queue runs dry (files flush there), and
    ``summary()``, what it adds to its clause of the end-of-run line (the store: readings too old
    for its retention)."""

    name: str

    def handle(self, reading: Reading, raw: Frames | None) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class QueuingSink(ReadingSink, Protocol):
    """A destination of readings with a queue and a thread of its own (``store.HistoryStore``):
    the fanout offers it each reading from the reading thread instead of through one more queue
    and thread (two hand-overs per reading cost more than the store's whole row). ``offer`` waits
    at most ``patience`` seconds for room and says whether it took the reading; ``waiting`` is
    what it has not written yet; ``finish`` closes, saying whether it did within ``timeout``."""

    @property
    def waiting(self) -> int: ...

    def offer(self, reading: Reading, raw: Frames | None, patience: float | None) -> bool: ...

    def finish(self, timeout: float | None) -> bool: ...


Opener = Callable[[str, bool, Log], Destination]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _open_stdout(rest: str, as_hex: bool, log: Log) -> Destination:
    return StreamSink(sys.stdout.buffer, as_hex=as_hex)


def _open_file(rest: str, as_hex: bool, log: Log) -> Destination:
    return StreamSink(open_file(rest), as_hex=as_hex, close=True)


def _open_pty(rest: str, as_hex: bool, log: Log) -> Destination:
    return PtySink()


def _open_tcp(rest: str, as_hex: bool, log: Log) -> Destination:
    return TcpSink(*parse_address(rest), log=log)


#: URL scheme -> opener (``rest`` is what follows ``scheme://``).
SCHEMES: Final[dict[str, Opener]] = {
    "stdout": _open_stdout,
    "file": _open_file,
    "pty": _open_pty,
    "tcp": _open_tcp,
}


def open_destination(url: str, *, as_hex: bool = False, log: Log = _stderr) -> Destination:
    """Open ``url`` by its scheme; ``-`` is standard output and a URL without a scheme a file path.

    ``as_hex`` writes streams as hex lines, one frame per line; ``log`` hears of TCP clients.
    """
    if url == "-":
        scheme, rest = "stdout", ""
    elif "://" in url:
        scheme, _, rest = url.partition("://")
    else:
        scheme, rest = "file", url
    opener = SCHEMES.get(scheme.lower())
    if opener is None:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        raise DestinationError(f"unknown destination scheme {scheme}:// (known: {known})")
    return opener(rest, as_hex, log)
