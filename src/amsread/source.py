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
import stat
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Literal

from amsread.errors import (
    NoSuchDeviceError,
    PermissionDeniedError,
    PortBusyError,
    SourceError,
    UnreadableFileError,
)
from amsread.settings import DEFAULT, SerialSettings

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


def extract_hex(text: str) -> bytes:
    """Pull the hex bytes out of text pasted from anywhere: a forum post, a log line.

    Takes every run of at least four space/colon/comma-separated byte pairs (or one long run of
    digits) and joins them, ignoring timestamps and prose around them.
    """
    try:
        return parse_hex_text(text)
    except ValueError:
        pass
    runs = re.findall(
        r"(?:(?:0[xX])?[0-9a-fA-F]{2}[\s,:]*){4,}|[0-9a-fA-F]{16,}", _COMMENT.sub(b"", text.encode()).decode()
    )
    return b"".join(parse_hex_text(r) for r in runs)


class HexStreamDecoder:
    """Incremental hex text to bytes, for hex arriving on a pipe; keeps a partial token back."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, text: bytes) -> bytes:
        data = self._pending + text
        cut = max(data.rfind(b"\n"), data.rfind(b" "), data.rfind(b","))
        if cut < 0:
            self._pending = data
            return b""
        self._pending = data[cut + 1 :]
        return parse_hex_text(data[: cut + 1])

    def close(self) -> bytes:
        rest, self._pending = self._pending, b""
        return parse_hex_text(rest)


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

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks():
            if chunk and self.record is not None:
                self.record.write(chunk)
                self.record.flush()
            yield chunk

    def close(self) -> None:
        self._close()
        if self.record is not None:
            self.record.close()


def is_serial_spec(spec: str) -> bool:
    """A URL or something that is not a regular file: open it with pyserial."""
    if "://" in spec:
        return True
    try:
        mode = os.stat(spec).st_mode
    except OSError:
        return spec.startswith("/dev/") or spec.upper().startswith("COM")
    return stat.S_ISCHR(mode)


def open_source(
    spec: str,
    settings: SerialSettings = DEFAULT,
    *,
    input_format: InputFormat = "auto",
    record: str | None = None,
    reconnect: bool = True,
    log: Log = _stderr,
    stdin: IO[bytes] | None = None,
) -> Source:
    """Open ``spec`` as a byte source; raise a ``SourceError`` subclass with one clear message."""
    recorder = _open_record(record) if record else None
    if spec == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        src = Source("stdin", False, lambda: _stream_chunks(stream, input_format))
    elif is_serial_spec(spec):
        src = _serial_source(spec, settings, reconnect=reconnect, log=log)
    else:
        src = _file_source(spec, input_format)
    src.record = recorder
    return src


def _open_record(path: str) -> IO[bytes]:
    try:
        return open(path, "ab")
    except OSError as e:
        raise UnreadableFileError(f"cannot write record file {path}: {e.strerror}") from e


def _file_source(path: str, input_format: InputFormat) -> Source:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as e:
        raise UnreadableFileError(f"no such file: {path}") from e
    except IsADirectoryError as e:
        raise UnreadableFileError(f"{path} is a directory, not a capture file") from e
    except PermissionError as e:
        raise PermissionDeniedError(f"permission denied reading {path}") from e
    except OSError as e:
        raise UnreadableFileError(f"cannot read {path}: {e.strerror}") from e
    if input_format == "hex" or (input_format == "auto" and looks_like_hex_text(data[:4096])):
        try:
            data = parse_hex_text(data)
        except ValueError as e:
            raise UnreadableFileError(f"{path}: not a hex capture: {e}") from e
    return Source(path, False, lambda: iter((data,)), description=f"{path} ({len(data)} bytes)")


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
    dec = HexStreamDecoder()
    chunk = first
    while chunk:
        try:
            yield dec.feed(chunk)
        except ValueError as e:
            raise UnreadableFileError(f"stdin: not hex text: {e}") from e
        chunk = read(CHUNK)
    try:
        yield dec.close()
    except ValueError as e:
        raise UnreadableFileError(f"stdin: not hex text: {e}") from e


# --------------------------------------------------------------------------------------------
# serial ports and URLs
# --------------------------------------------------------------------------------------------


def open_serial(spec: str, settings: SerialSettings, timeout: float = READ_TIMEOUT) -> Any:
    """Open a port with pyserial, turning its exceptions into amsread's typed errors."""
    import serial  # imported here: --help must not pay for it

    kwargs = settings.as_kwargs()
    if "://" not in spec and os.name == "posix":
        kwargs["exclusive"] = True
    try:
        return serial.serial_for_url(spec, timeout=timeout, **kwargs)
    except ValueError as e:  # bad settings or an unknown URL scheme
        raise SourceError(f"cannot open {spec}: {e}") from e
    except serial.SerialException as e:
        raise _classify_serial_error(spec, e) from e


def _classify_serial_error(spec: str, e: Exception) -> SourceError:
    code = getattr(e, "errno", None)
    text = str(e)
    if code == errno.ENOENT or "No such file" in text:
        return NoSuchDeviceError(f"no such device: {spec} (is the adapter plugged in? try `amsread ports`)")
    if code == errno.EACCES or "Permission denied" in text:
        return PermissionDeniedError(
            f"permission denied: {spec} (add yourself to the dialout group: "
            "sudo usermod -aG dialout $USER, then log in again)"
        )
    if code == errno.EBUSY or "lock" in text.lower() or "busy" in text.lower():
        return PortBusyError(f"port busy: {spec} is in use by another program")
    if "Connection refused" in text or "could not open port" in text.lower():
        detail = text.split(": ", 1)[-1]
        return SourceError(f"cannot open {spec}: {detail}")
    return SourceError(f"cannot open {spec}: {text}")


def _serial_source(spec: str, settings: SerialSettings, *, reconnect: bool, log: Log) -> Source:
    port = open_serial(spec, settings)
    state: dict[str, Any] = {"port": port}
    src = Source(spec, True, lambda: iter(()), description=f"{spec} {settings}")

    def chunks() -> Iterator[bytes]:
        import serial

        backoff = 0.5
        while True:
            p = state["port"]
            try:
                while True:
                    data = p.read(max(1, p.in_waiting))
                    if data:
                        more = p.in_waiting
                        if more:
                            data += p.read(more)
                    elif "://" not in spec and not _device_present(spec):
                        raise serial.SerialException("device disappeared")
                    yield data
                    backoff = 0.5
            except (serial.SerialException, OSError) as e:
                _close_quietly(p)
                if not reconnect:
                    raise SourceError(f"lost {spec}: {e}") from e
                log(f"lost {spec} ({_short(e)}); reopening")
            while True:
                time.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
                try:
                    state["port"] = open_serial(spec, settings)
                except SourceError as e:
                    log(f"still waiting for {spec}: {e}")
                    continue
                src.reconnects += 1
                log(f"reopened {spec}")
                break

    src._chunks = chunks
    src._close = lambda: _close_quietly(state["port"])
    return src


def _device_present(spec: str) -> bool:
    return os.path.exists(spec)


def _close_quietly(port: Any) -> None:
    with contextlib.suppress(Exception):
        port.close()


def _short(e: BaseException) -> str:
    return str(e).split("\n")[0][:120]
