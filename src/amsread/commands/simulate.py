"""``amsread simulate``: a simulated meter's frames, for trying amsread and testing it without a meter.

The frames go wherever a reader can take them: stdout (raw bytes, or hex lines), a file, a fresh
pseudo-terminal that looks like a serial port, or a TCP port like a serial-to-network bridge. A
real meter pushes whether or not anyone listens, so the simulated one does too: a pty nobody reads
drops frames once its buffer is full, and a TCP client gets the stream from when it connects.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import select
import socket
import sys
import time
from collections import Counter
from typing import IO, Any, Protocol

import click

from amsread.cli import CONTEXT_SETTINGS, note
from amsread.errors import (
    OutputError,
    PermissionDeniedError,
    PortBusyError,
    SourceError,
    UnreadableFileError,
)


class Sink(Protocol):
    """Where the frames go; ``write`` is called once per frame."""

    def write(self, frame: bytes) -> None: ...

    def close(self) -> None: ...


def hex_line(frame: bytes) -> bytes:
    """One frame as a line of spaced upper-case hex: what ``amsread`` reads back as hex text."""
    return frame.hex(" ").upper().encode("ascii") + b"\n"


class StreamSink:
    """A binary stream (stdout, a file): each frame written and flushed at once."""

    def __init__(self, stream: IO[bytes], *, as_hex: bool, close: bool = False) -> None:
        self._stream = stream
        self._hex = as_hex
        self._close = close

    def write(self, frame: bytes) -> None:
        self._stream.write(hex_line(frame) if self._hex else frame)
        self._stream.flush()

    def close(self) -> None:
        if self._close:
            self._stream.close()


class PtySink:
    """A new pseudo-terminal: amsread (or anything else) opens the slave as if it were a serial port.

    The slave is kept open here and set raw, so the line discipline never rewrites bytes (no CR
    before LF) and a reader may come and go. The master is non-blocking: with nobody reading, the
    buffer fills and frames are dropped, like a meter pushing into an unplugged cable.
    """

    def __init__(self) -> None:
        import tty

        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self.dropped = 0

    def write(self, frame: bytes) -> None:
        view = memoryview(frame)
        deadline = time.monotonic() + 1.0
        while view:
            try:
                view = view[os.write(self.master, view) :]
            except BlockingIOError:
                if len(view) == len(frame):  # nothing of this frame sent yet: drop it whole
                    self.dropped += 1
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not select.select([], [self.master], [], remaining)[1]:
                    self.dropped += 1
                    return

    def close(self) -> None:
        for fd in (self.master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)


class TcpSink:
    """A TCP server that sends every frame to each connected client, like a serial-to-network bridge."""

    def __init__(self, host: str, port: int, *, quiet: bool = False) -> None:
        self.quiet = quiet
        try:
            self.server = socket.create_server((host, port))
        except OSError as e:
            if e.errno == errno.EADDRINUSE:
                raise PortBusyError(f"cannot listen on {host}:{port}: the port is in use") from e
            if e.errno == errno.EACCES:
                raise PermissionDeniedError(f"cannot listen on {host}:{port}: permission denied") from e
            raise SourceError(f"cannot listen on {host}:{port}: {e.strerror or e}") from e
        self.server.setblocking(False)
        self.address = self.server.getsockname()[:2]
        self.clients: list[socket.socket] = []
        self.served = 0

    def _accept(self) -> None:
        while True:
            try:
                conn, peer = self.server.accept()
            except (BlockingIOError, InterruptedError):
                return
            conn.setblocking(True)
            conn.settimeout(5.0)  # a client that stops reading is dropped, not waited for
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.clients.append(conn)
            self.served += 1
            self._say(f"client {peer[0]}:{peer[1]} connected")

    def write(self, frame: bytes) -> None:
        self._accept()
        for conn in list(self.clients):
            try:
                conn.sendall(frame)
            except OSError:
                self.clients.remove(conn)
                with contextlib.suppress(OSError):
                    conn.close()
                self._say("client disconnected")

    def _say(self, message: str) -> None:
        """A status line on stderr, unless ``-q`` asked for none."""
        if not self.quiet:
            note(message)

    def close(self) -> None:
        for conn in self.clients:
            with contextlib.suppress(OSError):
                conn.close()
        self.server.close()


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``:PORT`` (all interfaces) or ``PORT`` (localhost) to a pair."""
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host = "127.0.0.1"
    host = host.strip("[]") or "0.0.0.0"
    try:
        port = int(port_text)
    except ValueError:
        raise click.BadParameter(f"expected HOST:PORT, got {value!r}", param_hint="--listen") from None
    if not 0 <= port <= 65535:
        raise click.BadParameter(f"port {port} out of range 0-65535", param_hint="--listen")
    return host, port


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
    type=click.Choice(["aidon", "kaifa", "kamstrup"], case_sensitive=False),
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
    of the hour; Kaifa 2 s / 10 s / hourly; Kamstrup 10 s / hourly. On a terminal, stdout gets
    hex instead of raw bytes.

    Examples:

    \b
        amsread simulate --speed 100 | amsread csv -
        amsread simulate --pty                      # then: amsread watch /dev/pts/N
        amsread simulate --listen 127.0.0.1:2000    # then: amsread json socket://127.0.0.1:2000
        amsread simulate --meter kamstrup --phases 1 --count 10 --hex -o kamstrup.hex
    """
    from amsread.simulator import SimulatedMeter, paced

    if sum(bool(x) for x in (output, use_pty, listen)) > 1:
        raise click.UsageError("use just one of -o/--output, --pty or --listen")
    address = parse_listen(listen) if listen else None
    sim = SimulatedMeter(meter.lower(), int(phases), seed=seed, start=parse_start(start))

    sink: Sink
    if use_pty:
        pty_sink = PtySink()
        sink = pty_sink
        note(f"pty: {pty_sink.path}")  # always said: a reader needs the path
    elif address is not None:
        tcp = TcpSink(*address, quiet=quiet)
        sink = tcp
        if not quiet or address[1] == 0:  # with port 0 this is the only way to learn the port
            note(f"listening on {tcp.address[0]}:{tcp.address[1]}")
    elif output:
        try:
            stream = open(output, "wb")  # noqa: SIM115  (closed by the sink)
        except OSError as e:
            raise UnreadableFileError(f"cannot write {output}: {e.strerror}") from e
        sink = StreamSink(stream, as_hex=as_hex, close=True)
    else:
        hex_out = as_hex or sys.stdout.isatty()
        if hex_out and not as_hex and not quiet:
            note("stdout is a terminal: writing hex (pipe it into amsread, or use -o/--pty/--listen)")
        sink = StreamSink(sys.stdout.buffer, as_hex=hex_out)

    lists: Counter[int] = Counter()
    label = f"{meter.lower()} {phases}-phase meter" + (f", seed {seed}" if seed is not None else "")
    if not quiet and (use_pty or address is not None):
        note(f"simulating: {label}, speed {speed:g}")
    interrupted = broken_pipe = False
    try:
        for push in paced(sim.pushes(), speed):
            sink.write(push.frame)
            lists[push.list] += 1
            if count is not None and sum(lists.values()) >= count:
                break
    except KeyboardInterrupt:
        interrupted = True
    except BrokenPipeError:
        broken_pipe = True  # the reader left (`| head`, a closed csv): stop quietly, like the readers do
    except OutputError:
        quiet = True  # stdout refused the frames: its one error line says all
        raise
    finally:
        sink.close()
        if not quiet and not broken_pipe:
            with contextlib.suppress(Exception):
                note(_summary(lists, sink))
    if interrupted:
        raise click.exceptions.Abort()
    if broken_pipe:
        from amsread.cli import silence_stdout

        silence_stdout()
        raise click.exceptions.Exit(0)


def _summary(lists: Counter[int], sink: Any) -> str:
    total = sum(lists.values())
    parts = [f"{n} list {level}" for level, n in sorted(lists.items())]
    line = f"{total} frames simulated" + (f": {', '.join(parts)}" if parts else "")
    if getattr(sink, "dropped", 0):
        line += f"; {sink.dropped} dropped (nobody reading the pty)"
    if getattr(sink, "served", None) is not None:
        line += f"; {sink.served} clients served"
    return line
