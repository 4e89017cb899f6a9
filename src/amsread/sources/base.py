"""Byte sources: one way to open whatever the user names (``open_source``, ``SourceRequest``).

* a serial device or any pyserial URL (``sources.serial``);
* a capture file, read in chunks: raw bytes, or hex text as people paste it (``sources.hextext``),
  told apart automatically unless ``input_format`` forces one;
* ``-`` for standard input (raw or hex, detected from the first bytes).

A source is iterated for chunks of bytes. Live sources also yield ``b""`` when a read timed out, so
the caller can notice silence (end a half-received frame, refresh a screen). This package and
``cli`` are the only ones that touch the outside world.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Final

from amsread.errors import PermissionDeniedError, SourceError, UnreadableFileError
from amsread.settings import DEFAULT, SerialSettings
from amsread.sources.hextext import HexStreamDecoder, looks_like_hex_text
from amsread.sources.serial import serial_source
from amsread.sources.source import CHUNK, InputFormat, Log, Source, stderr_log


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
    log: Log = stderr_log,
    stdin: IO[bytes] | None = None,
    idle_timeout: float | None = None,
) -> Source:
    """Open ``spec`` as a byte source; raise a ``SourceError`` subclass with one clear message."""
    recorder = open_record(record) if record else None
    if spec == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        src = Source("stdin", _is_live_stream(stream), lambda: _stream_chunks(stream, input_format))
    elif is_serial_spec(spec):
        src = serial_source(spec, settings, reconnect=reconnect, log=log, idle_timeout=idle_timeout)
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
