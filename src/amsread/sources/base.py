"""Byte sources: one way to open whatever the user names.

* a serial device (``/dev/ttyUSB0``) or any pyserial URL (``socket://host:port``, ``rfc2217://``,
  ``loop://``, ``spy://``), opened with ``serial.serial_for_url``;
* a capture file: raw bytes, or hex text as people paste it (whitespace, ``0x``, colons, commas,
  ``#`` comments), told apart automatically unless ``input_format`` forces one;
* ``-`` for standard input (raw or hex, detected from the first bytes).

A source is iterated for chunks of bytes. Live sources also yield ``b""`` when a read timed out, so
the caller can notice silence (end a half-received frame, refresh a screen). Live serial sources
survive an unplugged adapter or a vanished TCP peer: they say so on stderr and reopen with backoff.
This module and ``cli`` are the only ones that touch the outside world.
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
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any, Final, Literal
from urllib.parse import urlsplit

import serial
from serial.urlhandler.protocol_socket import Serial as SocketSerial

from amsread.errors import (
    NoSuchDeviceError,
    PermissionDeniedError,
    PortBusyError,
    SourceError,
    SourceLostError,
    UnreadableFileError,
)
from amsread.settings import DEFAULT, SerialSettings

try:  # POSIX only: FIONREAD on sockets, and the error tcsetattr raises
    import fcntl
    import termios
except ImportError:
    fcntl = termios = None  # type: ignore[assignment]

InputFormat = Literal["auto", "raw", "hex"]

#: Seconds a live read waits before yielding an idle tick. Short, so a frame is handed on the
#: moment its closing flag arrives and never waits for a timeout.
READ_TIMEOUT: Final = 0.05
CHUNK: Final = 4096
#: Characters hex text may contain besides hex digits.
_HEX_TEXT_CHARS: Final = frozenset(b"0123456789abcdefABCDEFxX \t\r\n,:;-_|[]'\"")
_HEX_TOKEN = re.compile(rb"(?:0[xX])?([0-9a-fA-F]+)")
_COMMENT = re.compile(rb"(#|//)[^\n]*")

Log = Callable[[str], None]


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# hex text
# --------------------------------------------------------------------------------------------


def looks_like_hex_text(sample: bytes) -> bool:
    """True when ``sample`` is plausibly hex text rather than raw frames."""
    body = _COMMENT.sub(b"", sample)
    return bool(body.strip()) and all(b in _HEX_TEXT_CHARS for b in body)


def parse_hex_text(text: bytes | str) -> bytes:
    """Hex text to bytes: tolerate whitespace, ``0x`` prefixes, colons, commas and ``#`` comments.

    Raises ``ValueError`` when a token is not hex or the digits do not pair up into bytes.
    """
    if isinstance(text, str):
        text = text.encode("ascii", "replace")
    body = _COMMENT.sub(b"", text)
    out = bytearray()
    for token in re.split(rb"[\s,:;|\[\]'\"_-]+", body):
        if not token:
            continue
        m = _HEX_TOKEN.fullmatch(token)
        if m is None:
            raise ValueError(f"not hex: {token[:20].decode('ascii', 'replace')!r}")
        digits = m.group(1)
        if len(digits) % 2:
            raise ValueError(f"odd number of hex digits in {token[:20].decode('ascii', 'replace')!r}")
        out += bytes.fromhex(digits.decode())
    return bytes(out)


#: One pasted byte (``7E``, ``0x7E``) that is a word of its own: not the ``ab`` of ``about``.
_PASTED_BYTE = r"(?:0[xX])?[0-9a-fA-F]{2}(?![0-9a-zA-Z_])"
#: At least four bytes separated by whitespace/commas, or by colons, or one long run of digits;
#: never continuing a word, number, date or time (``2021-11-29 12:00:01.250``).
_HEX_RUN = re.compile(
    r"(?<![\w:.\-])(?:"
    rf"{_PASTED_BYTE}(?:(?:\s+|\s*,\s*){_PASTED_BYTE}){{3,}}"
    r"|[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){3,}(?![\w:])"
    r"|[0-9a-fA-F]{16,}(?!\w)"
    r")"
)


#: A lone hex digit right after a run of bytes: the paste lost half a byte.
_ODD_TAIL = re.compile(r"[ \t,:]*(?:0[xX])?[0-9a-fA-F](?![0-9a-zA-Z])")


def extract_hex(text: str) -> bytes:
    """Pull the hex bytes out of text pasted from anywhere: a forum post, a log line.

    Takes every run of at least four space/colon/comma-separated byte pairs (or one long run of
    digits) and joins them, ignoring timestamps and prose around them. A run that ends in a lone
    digit (a byte cut in half when pasting) is a ``ValueError``. Text with no such run is read
    whole, as ``parse_hex_text`` does; ``b""`` if it is not hex at all.
    """
    body = _COMMENT.sub(b"", text.encode()).decode()
    runs = list(_HEX_RUN.finditer(body))
    for m in runs:
        if _ODD_TAIL.match(body, m.end()):
            raise ValueError("odd number of hex digits: a lone digit after the bytes")
    if runs:
        return b"".join(parse_hex_text(m.group(0)) for m in runs)
    try:
        return parse_hex_text(text)
    except ValueError:
        return b""


#: Bytes that end a hex token, as ``parse_hex_text`` splits them.
_SEPARATORS: Final = tuple(bytes((b,)) for b in b" \t\r\n\f\v,:;|[]'\"_-")
_SEPARATOR_SET: Final = frozenset(b" \t\r\n\f\v,:;|[]'\"_-")
_DIGITS = re.compile(rb"[0-9a-fA-F]*")
_LONG_TOKEN = re.compile(rb"(?:0[xX])?([0-9a-fA-F]*)")
#: A partial token up to this long is held back whole; a longer one (hex with no separators at
#: all) is decoded as it arrives, so memory stays bounded whatever the text looks like.
_TOKEN_HOLD: Final = 64


class HexStreamDecoder:
    """Incremental hex text to bytes, for hex read in chunks from a file or a pipe.

    Chunks cut text anywhere: inside a token (``7E A`` | ``0``), inside a ``0x`` prefix, inside a
    ``#`` or ``//`` comment, or in the middle of a run of digits with no separator at all. What
    cannot be decided yet is held back, never more than a few dozen bytes: a long run of digits is
    decoded pair by pair with at most one odd digit carried over, and a comment that has not ended
    is dropped as it comes, remembering only that the text is still inside it. The result is the
    same as ``parse_hex_text`` on the whole text, errors included.
    """

    def __init__(self) -> None:
        self._pending = b""
        #: The current token's earlier digits were already decoded: ``_pending`` is its odd digit, if any.
        self._in_token = False
        #: A comment began and its line has not ended yet.
        self._in_comment = False

    def feed(self, text: bytes) -> bytes:
        """Decode what ``text`` completes; raise ``ValueError`` on text that is not hex."""
        data = self._pending + text
        self._pending = b""
        if self._in_comment:
            end = data.find(b"\n")
            if end < 0:
                return b""
            data, self._in_comment = data[end:], False
        out = bytearray()
        if self._in_token:
            rest = self._continue_token(data, out)
            if rest is None:
                return bytes(out)
            data = rest
        comment = _open_comment(data)
        if comment >= 0:  # the last line opens a comment: everything before it is complete
            complete, tail = data[:comment], b""
            self._in_comment = True
        else:
            cut = max(data.rfind(sep) for sep in _SEPARATORS)
            complete, tail = data[: cut + 1], data[cut + 1 :]
        out += parse_hex_text(complete)
        if len(tail) > _TOKEN_HOLD:
            out += self._start_long_token(tail)
        else:
            self._pending = tail
        return bytes(out)

    def close(self) -> bytes:
        """The text ended: decode what was held back."""
        rest, self._pending = self._pending, b""
        if self._in_comment:
            self._in_comment = False
            return b""
        if self._in_token:
            self._in_token = False
            if len(rest) % 2:
                raise ValueError("odd number of hex digits at the end of a long run")
            return bytes.fromhex(rest.decode())
        return parse_hex_text(rest)

    def _start_long_token(self, tail: bytes) -> bytes:
        """Decode the digit pairs of a token too long to hold back; keep an odd digit."""
        m = _LONG_TOKEN.match(tail)
        assert m is not None  # the pattern matches the empty string
        digits, rest = m.group(1), tail[m.end() :]
        if rest == b"/":  # perhaps the first half of a ``//`` comment: the token ends here
            if len(digits) % 2:
                raise ValueError(f"odd number of hex digits in {_shown(tail)}")
            self._pending = rest
            return bytes.fromhex(digits.decode())
        if rest:
            raise ValueError(f"not hex: {_shown(tail)}")
        even = len(digits) - len(digits) % 2
        self._pending, self._in_token = digits[even:], True
        return bytes.fromhex(digits[:even].decode())

    def _continue_token(self, data: bytes, out: bytearray) -> bytes | None:
        """Go on with a long token: decode its digits; the text after it, or None if it goes on."""
        end = _DIGITS.match(data).end()  # type: ignore[union-attr]
        digits = data[:end]
        if end == len(data):
            even = end - end % 2
            out += bytes.fromhex(digits[:even].decode())
            self._pending = digits[even:]
            return None
        self._in_token = False
        if end % 2:
            raise ValueError(f"odd number of hex digits at the end of a long run ({_shown(digits[-20:])})")
        out += bytes.fromhex(digits.decode())
        rest = data[end:]
        if rest[0] not in _SEPARATOR_SET and rest[:1] not in (b"#", b"/"):
            raise ValueError(f"not hex: {_shown(rest)}")
        return rest


def _open_comment(data: bytes) -> int:
    """Where a comment opens on the last line of ``data`` (which has not ended yet), or -1."""
    line = data.rfind(b"\n") + 1
    marks = [i for i in (data.find(b"#", line), data.find(b"//", line)) if i >= 0]
    return min(marks) if marks else -1


def _shown(token: bytes) -> str:
    return repr(token[:20].decode("ascii", "replace"))


# --------------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------------


@dataclass
class Source:
    """Something to read bytes from. Iterate for chunks; ``b""`` is an idle tick (live only)."""

    name: str
    live: bool
    _chunks: Callable[[], Iterator[bytes]]
    _close: Callable[[], None] = lambda: None
    record: IO[bytes] | None = None
    description: str = ""
    reconnects: int = field(default=0)
    #: Its reads return within ``READ_TIMEOUT``, so a stop can wait for the current one to end.
    stoppable: bool = False
    #: Set (by a signal handler) to end the iteration after the chunk in hand: what was read is
    #: handed on whole and the pipeline ends as at the end of a capture, counting every frame.
    stopping: bool = False
    #: True while waiting for the next chunk (no frame of it split yet), for the signal handler.
    reading: bool = False

    def __iter__(self) -> Iterator[bytes]:
        chunks = self._chunks()
        while not self.stopping:
            self.reading = True
            try:
                chunk = next(chunks, None)
            finally:
                self.reading = False
            if chunk is None:
                return
            if chunk and self.record is not None:
                self.record.write(chunk)
                self.record.flush()
            yield chunk

    def close(self) -> None:
        self._close()
        if self.record is not None:
            self.record.close()


@dataclass(frozen=True, slots=True)
class SourceRequest:
    """What a reading command was asked to read, and how: SOURCE and the options they all share.

    ``cli.source_options`` collapses the command line into one of these, so every command hands
    the same object to ``commands._run.running`` instead of nine loose arguments.
    """

    spec: str | None
    settings: SerialSettings = DEFAULT
    input_format: InputFormat = "auto"
    record: str | None = None
    count: int | None = None
    strict: bool = False
    quiet: bool = False
    verbose: bool = False
    #: Seconds without a byte before a live port or socket is called silent (0: never).
    idle_timeout: float = 30.0
    #: End the run (exit 7) when a live source is lost or silent, instead of reopening it.
    exit_on_loss: bool = False

    def open(self) -> Source:
        if self.spec is None:
            raise SourceError("no source given")
        return open_source(
            self.spec,
            self.settings,
            input_format=self.input_format,
            record=self.record,
            reconnect=not self.exit_on_loss,
            idle_timeout=self.idle_timeout or None,
        )


#: A name only a serial port has: a file by that name is a mistake, never a capture (see ``_what_it_is``).
_PORT_NAME: Final = re.compile(r"/dev/(tty|cu\.|rfcomm)[^/]*")


def is_serial_spec(spec: str) -> bool:
    """A URL or something that is not a regular file: open it with pyserial."""
    if "://" in spec:
        return True
    try:
        mode = os.stat(spec).st_mode
    except OSError:
        return spec.startswith("/dev/") or spec.upper().startswith("COM")
    return stat.S_ISCHR(mode) or bool(_PORT_NAME.fullmatch(spec))


def open_source(
    spec: str,
    settings: SerialSettings = DEFAULT,
    *,
    input_format: InputFormat = "auto",
    record: str | None = None,
    reconnect: bool = True,
    log: Log = _stderr,
    stdin: IO[bytes] | None = None,
    idle_timeout: float | None = None,
) -> Source:
    """Open ``spec`` as a byte source; raise a ``SourceError`` subclass with one clear message."""
    recorder = open_record(record) if record else None
    if spec == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        src = Source("stdin", _is_live_stream(stream), lambda: _stream_chunks(stream, input_format))
    elif is_serial_spec(spec):
        src = _serial_source(spec, settings, reconnect=reconnect, log=log, idle_timeout=idle_timeout)
    else:
        src = _file_source(spec, input_format)
    src.record = recorder
    return src


def _is_live_stream(stream: IO[bytes]) -> bool:
    """A pipe or terminal is live (stamp each frame's arrival); a redirected file is a replay."""
    try:
        return not stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, AttributeError):  # io.BytesIO and test doubles have no descriptor
        return False


def open_record(path: str) -> IO[bytes]:
    """The ``--record`` file, opened for appending raw bytes (closed by ``Source.close``)."""
    try:
        return open(path, "ab")
    except OSError as e:
        raise UnreadableFileError(f"cannot write record file {path}: {e.strerror}") from e


def memory_source(name: str, data: bytes) -> Source:
    """Bytes already in hand (hex given on the command line) as a replayed source."""
    return Source(name, False, lambda: iter((data,)), description=f"{name} ({len(data)} bytes)")


#: Bytes per read from a capture file: large enough that reading costs nothing next to splitting,
#: small enough that memory does not depend on the size of the file.
FILE_CHUNK: Final = 64 * 1024


def _file_source(path: str, input_format: InputFormat) -> Source:
    """A capture file, read in chunks as the pipeline asks for them, raw bytes or hex text.

    The format is decided from the first chunk, which is read (and, for hex, decoded) at once, so
    a file that is plainly not what ``input_format`` says fails before anything is printed.
    """
    try:
        f = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by Source.close or at the end
    except FileNotFoundError as e:
        raise UnreadableFileError(f"no such file: {path}") from e
    except IsADirectoryError as e:
        raise UnreadableFileError(f"{path} is a directory, not a capture file") from e
    except PermissionError as e:
        raise PermissionDeniedError(f"permission denied reading {path}") from e
    except OSError as e:
        raise UnreadableFileError(f"cannot read {path}: {e.strerror}") from e
    try:
        info = os.fstat(f.fileno())
        size = info.st_size
        first = _read_file(f, path)
        hexmode = input_format == "hex" or (input_format == "auto" and looks_like_hex_text(first[:CHUNK]))
        chunks = (
            _hex_chunks(first, lambda: _read_file(f, path), f"{path}: not a hex capture") if hexmode else None
        )
        head = next(chunks) if chunks is not None else first
        if chunks is not None and stat.S_ISREG(info.st_mode) and size <= len(first):
            head += b"".join(chunks)  # all of it was read: a bad ending fails now, before any output
    except BaseException:
        f.close()
        raise

    def read_all() -> Iterator[bytes]:
        with f:
            if head:
                yield head
            if chunks is not None:
                yield from (c for c in chunks if c)
                return
            while chunk := _read_file(f, path):
                yield chunk

    return Source(path, False, read_all, _close=f.close, description=f"{path} ({size} bytes)")


def _read_file(f: IO[bytes], path: str) -> bytes:
    try:
        return f.read(FILE_CHUNK) or b""
    except IsADirectoryError as e:
        raise UnreadableFileError(f"{path} is a directory, not a capture file") from e
    except OSError as e:
        raise UnreadableFileError(f"cannot read {path}: {e.strerror}") from e


def _hex_chunks(first: bytes, read: Callable[[], bytes], what: str) -> Iterator[bytes]:
    """Decode hex text chunk by chunk; the first item is ``first`` decoded, the last the remainder.

    A decoding error becomes an ``UnreadableFileError`` that starts with ``what``.
    """
    dec = HexStreamDecoder()
    chunk = first
    try:
        while chunk:
            yield dec.feed(chunk)
            chunk = read()
        yield dec.close()
    except ValueError as e:
        raise UnreadableFileError(f"{what}: {e}") from e


def _stream_chunks(stream: IO[bytes], input_format: InputFormat) -> Iterator[bytes]:
    read = getattr(stream, "read1", stream.read)
    first = read(CHUNK)
    if not first:
        return
    hexmode = input_format == "hex" or (input_format == "auto" and looks_like_hex_text(first[:512]))
    if not hexmode:
        yield first
        while chunk := read(CHUNK):
            yield chunk
        return
    yield from _hex_chunks(first, lambda: read(CHUNK), "stdin: not hex text")


# --------------------------------------------------------------------------------------------
# serial ports and URLs
# --------------------------------------------------------------------------------------------


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


def _serial_source(
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
