"""Serial ports and pyserial URLs as sources: opened with ``serial.serial_for_url``, read without
loss, watched for silence, and reopened with backoff when lost.

A serial device (``/dev/ttyUSB0``) or any pyserial URL (``socket://host:port``, ``rfc2217://``,
``loop://``, ``spy://``). Live serial sources survive an unplugged adapter or a vanished TCP peer:
they say so on stderr and reopen with backoff.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import stat
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import serial
from serial.urlhandler.protocol_socket import Serial as SocketSerial

from amsread.errors import (
    NoSuchDeviceError,
    PermissionDeniedError,
    PortBusyError,
    SourceError,
    SourceLostError,
)
from amsread.settings import SerialSettings
from amsread.sources.source import READ_TIMEOUT, Log, Source

try:  # POSIX only: FIONREAD on sockets, and the error tcsetattr raises
    import fcntl
    import termios
except ImportError:
    fcntl = termios = None  # type: ignore[assignment]


def open_serial(
    spec: str, settings: SerialSettings, timeout: float = READ_TIMEOUT, *, pty_note: Log | None = None
) -> Any:
    """Open a port with pyserial, turning its exceptions into amsread's typed errors.

    A pseudo-terminal has no line, so no parity: some kernels drop the bit silently, others
    refuse it (EINVAL), and after one open has dropped it, the next open's request to set it
    again is refused too, so ``simulate --pty`` then ``watch /dev/pts/N`` failed. Given
    ``pty_note``, a pty that refuses the parity is opened without it and ``pty_note`` says so;
    without it (``probe`` judging settings) the refusal stands.
    """
    try:
        return _open_port(spec, settings, timeout)
    except SourceError as e:
        bare = settings.with_overrides(parity="N")
        if pty_note is None or bare == settings or not _refused(e) or not _is_pty(spec):
            raise
        port = _open_port(spec, bare, timeout)
        pty_note(
            f"note: {spec} is a pseudo-terminal, which takes no parity: opened as {bare}, not {settings}"
        )
        return port


def _refused(e: SourceError) -> bool:
    """The driver refused a setting (tcsetattr's EINVAL), as opposed to any other failure."""
    return bool(_TERMIOS_ERRORS) and isinstance(e.__cause__, _TERMIOS_ERRORS)


#: Device numbers of pseudo-terminal slaves on Linux (Unix98 ptys: majors 136 to 143).
_PTY_MAJORS: Final = range(136, 144)


def _is_pty(spec: str) -> bool:
    """A pseudo-terminal's slave side (Linux ``/dev/pts/N``, BSD/macOS ``/dev/ttysNNN``)."""
    try:
        rdev = os.stat(spec).st_rdev
    except OSError:
        return False
    path = os.path.realpath(spec)
    return (
        os.major(rdev) in _PTY_MAJORS
        or path.startswith("/dev/pts/")
        or bool(re.fullmatch(r"/dev/ttys\d+", path))
    )


def _open_port(spec: str, settings: SerialSettings, timeout: float) -> Any:
    """``open_serial`` without the pty fallback."""
    kwargs = settings.as_kwargs()
    if "://" not in spec and os.name == "posix":
        kwargs["exclusive"] = True
    _check_network_url(spec)
    try:
        if spec.startswith("socket://"):
            return _open_socket(spec, timeout, kwargs)
        return serial.serial_for_url(spec, timeout=timeout, **kwargs)
    except ValueError as e:  # bad settings or an unknown URL scheme
        raise SourceError(f"cannot open {spec}: {e}") from e
    except serial.SerialException as e:
        raise _classify_serial_error(spec, e) from e
    except _TERMIOS_ERRORS as e:  # pyserial lets tcsetattr's EINVAL through: the driver refused a setting
        refused = f"the port refused the settings {settings} ({e.args[-1]})"
        raise SourceError(f"cannot open {spec}: {refused}") from e


#: pyserial URL schemes that name a TCP host and port.
_NETWORK_SCHEMES: Final = ("socket", "rfc2217")


def _check_network_url(spec: str) -> None:
    """A ``socket://``/``rfc2217://`` URL must name a port: say so in words, before pyserial
    compares the missing port with a number and says something about ``NoneType``."""
    parts = urlsplit(spec)
    if parts.scheme not in _NETWORK_SCHEMES:
        return
    example = f"{parts.scheme}://{parts.hostname or '192.168.1.50'}:2000"
    try:
        port = parts.port
    except ValueError as e:
        raise SourceError(f"cannot open {spec}: bad port number ({e}); write it as {example}") from e
    if port is None:
        raise SourceError(
            f"cannot open {spec}: no port number: write {parts.scheme}://HOST:PORT, for example {example}"
        )


class KeepingSocket(SocketSerial):
    """pyserial's ``socket://`` port that keeps the bytes arriving with the connection (``_open_socket``)."""

    _opening = False
    _socket: socket.socket | None
    is_open: bool

    def open(self) -> None:
        self._opening = True
        try:
            super().open()
        finally:
            self._opening = False

    def reset_input_buffer(self) -> None:
        if not self._opening:
            super().reset_input_buffer()

    def close(self) -> None:
        """pyserial's close, without its 0.3 s sleep "for quick reconnects": a stop would
        wait for it, and a reconnect here waits its own backoff anyway."""
        sock, self._socket = self._socket, None
        if self.is_open and sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.is_open = False


def _open_socket(spec: str, timeout: float, kwargs: dict[str, Any]) -> Any:
    """A ``socket://`` port that keeps the bytes that came with the connection.

    pyserial's socket handler empties the receive queue as its last step of opening (a serial
    port's habit, meaningless on a fresh connection), so a bridge that sends the moment a client
    connects (a buffered frame, a meter push that happened to coincide) loses them, counted
    nowhere. This subclass skips that one reset; everything else but ``close`` is pyserial's.
    """
    port = KeepingSocket(None, timeout=timeout, **kwargs)
    port.port = spec
    port.open()
    return port


#: pyserial lets tcsetattr's EINVAL through on POSIX: the driver refused a setting.
_TERMIOS_ERRORS: Final[tuple[type[BaseException], ...]] = (termios.error,) if termios is not None else ()


def _classify_serial_error(spec: str, e: Exception) -> SourceError:
    code = getattr(e, "errno", None)
    text = str(e)
    if code == errno.ECONNREFUSED or "Connection refused" in text:
        return NoSuchDeviceError(
            f"cannot connect to {spec}: connection refused (is the bridge running, and is the port right?)"
        )
    if "Name or service not known" in text or "nodename nor servname" in text or "getaddrinfo" in text:
        return NoSuchDeviceError(f"cannot connect to {spec}: unknown host")
    if code == errno.ENOENT or "No such file" in text:
        return NoSuchDeviceError(f"no such device: {spec} (is the adapter plugged in? try `amsread ports`)")
    if code == errno.EACCES or "Permission denied" in text:
        return PermissionDeniedError(
            f"permission denied: {spec} (add yourself to the dialout group: "
            "sudo usermod -aG dialout $USER, then log in again)"
        )
    if code == errno.EBUSY or "lock" in text.lower() or "busy" in text.lower():
        return PortBusyError(f"port busy: {spec} is in use by another program")
    if code == errno.ENXIO or "No such device or address" in text:
        return NoSuchDeviceError(f"no such device: nothing answers behind {spec} (try `amsread ports`)")
    if "Could not configure port" in text:  # tcgetattr failed: no terminal behind the name
        return NoSuchDeviceError(f"not a serial port: {spec} {_what_it_is(spec)}")
    if "could not open port" in text.lower():
        detail = text.split(": ", 1)[-1]
        return SourceError(f"cannot open {spec}: {detail}")
    return SourceError(f"cannot open {spec}: {text}")


def _what_it_is(spec: str) -> str:
    """Words for a path that is no terminal: a capture file where a port was meant, or /dev/null."""
    try:
        mode = os.stat(spec).st_mode
    except OSError:
        return "cannot be configured"
    if stat.S_ISREG(mode):
        return "is a regular file (left by a write while no adapter was plugged in?), not a port"
    return "is a device that is not a terminal (try `amsread ports`)"


#: Longest wait between attempts to reopen a lost source.
MAX_BACKOFF: Final = 30.0


def serial_source(
    spec: str, settings: SerialSettings, *, reconnect: bool, log: Log, idle_timeout: float | None = None
) -> Source:
    """A live port or URL that survives being lost: it says so on stderr and reopens with backoff.

    While it waits it keeps yielding idle ticks, so a live view goes on counting the seconds since
    the last frame instead of freezing; Ctrl-C ends the wait at once.

    ``idle_timeout`` is the watchdog: a meter pushes every few seconds, so that long without a
    byte means the HAN port is closed, the cable wrong, or a bridge hung with its connection open.
    The silence is said once (until bytes come again); a network source is then reconnected,
    since a hung bridge or a half-open connection only recovers that way. Without ``reconnect``
    a silence is a loss like any other: ``SourceLostError``.
    """
    pty_note = _once(log)
    port = open_serial(spec, settings, pty_note=pty_note)
    state: dict[str, Any] = {"port": port}
    opened = settings if "://" in spec else settings.with_overrides(parity=getattr(port, "parity", None))
    src = Source(spec, True, lambda: iter(()), description=f"{spec} {opened}", stoppable=True)
    is_socket = spec.startswith("socket://")
    network = spec.split("://", 1)[0] in _NETWORK_SCHEMES

    def chunks() -> Iterator[bytes]:
        backoff = 0.5
        silence = _Silence(spec, idle_timeout, log, time.monotonic())
        while True:
            p = state["port"]
            try:
                while True:
                    data = read_available(p, is_socket)
                    now = time.monotonic()
                    if data:
                        silence.heard(now)
                    elif "://" not in spec and not _device_present(spec):
                        raise serial.SerialException("device disappeared")
                    elif silence.overdue(now):
                        if not reconnect or network:
                            raise SourceLostError(f"no bytes for {idle_timeout:g} s")
                        silence.report()
                    yield data
                    backoff = 0.5
            except (serial.SerialException, OSError, SourceLostError) as e:
                _close_quietly(p)
                if not reconnect:
                    raise SourceLostError(f"lost {spec}: {e}") from e
                if isinstance(e, SourceLostError):  # a silent network source
                    silence.report(" Reconnecting.")
                else:
                    log(f"lost {spec} ({_short(e)}); reopening")
                    silence.reported = False
            while True:
                deadline = time.monotonic() + backoff
                while (left := deadline - time.monotonic()) > 0:
                    time.sleep(min(left, READ_TIMEOUT * 2))
                    yield b""
                backoff = min(backoff * 2, MAX_BACKOFF)
                try:
                    state["port"] = open_serial(spec, settings, pty_note=pty_note)
                except SourceError as e:
                    log(f"still waiting for {spec}: {e}")
                    continue
                src.reconnects += 1
                if not silence.reported:  # after a reported silence, reconnects go unsaid
                    log(f"reopened {spec}")
                silence.since = time.monotonic()
                break

    src._chunks = chunks
    src._close = lambda: _close_quietly(state["port"])
    return src


#: What a silent HAN port usually means.
_SILENCE_HINT: Final = (
    "is the HAN port open (some grid companies open it only on request), and the adapter on its pins?"
)


@dataclass(slots=True)
class _Silence:
    """The idle watchdog of one live source: when the last byte came, and whether the silence
    going on has been reported (it is, once, until bytes come again)."""

    spec: str
    timeout: float | None
    log: Log
    since: float
    reported: bool = False

    def heard(self, now: float) -> None:
        self.since, self.reported = now, False

    def overdue(self, now: float) -> bool:
        return bool(self.timeout) and now - self.since >= (self.timeout or 0)

    def report(self, then: str = "") -> None:
        if not self.reported:
            self.log(f"no bytes from {self.spec} for {self.timeout:g} s: {_SILENCE_HINT}{then}")
            self.reported = True


def _once(log: Log) -> Log:
    """``log``, but each distinct message only the first time (a reopened port says it again)."""
    said: set[str] = set()

    def say(message: str) -> None:
        if message not in said:
            said.add(message)
            log(message)

    return say


def read_available(port: Any, is_socket: bool) -> bytes:
    """Wait up to the port's timeout for a byte, then take exactly what is already there.

    pyserial's socket handler reports ``in_waiting`` as 0 or 1 (readable or not), not a count,
    and a ``read`` that runs into the peer's close raises and drops what it had read in that call.
    So a socket is asked how much it holds (FIONREAD) and read exactly that: a frame sent just
    before the bridge went away still arrives.
    """
    data = port.read(1 if is_socket else max(1, port.in_waiting))
    if not data:
        return data
    more = _socket_pending(port) if is_socket else port.in_waiting
    if more:
        data += port.read(more)
    return data


def _socket_pending(port: Any) -> int:
    """Bytes waiting in a socket port's receive queue (0 where the platform cannot say)."""
    try:
        if fcntl is None or termios is None:
            raise OSError("no FIONREAD on this platform")
        answer = fcntl.ioctl(port.fileno(), termios.FIONREAD, b"\0\0\0\0")
    except (OSError, AttributeError):
        return int(port.in_waiting)  # pyserial's 0 or 1: one byte at a time, slow but right
    return int.from_bytes(answer, sys.byteorder)


def _device_present(spec: str) -> bool:
    return os.path.exists(spec)


def _close_quietly(port: Any) -> None:
    with contextlib.suppress(Exception):
        port.close()


def _short(e: BaseException) -> str:
    return str(e).split("\n")[0][:120]
