"""Byte streams as destinations: standard output and files, raw or as hex lines."""

from __future__ import annotations

from typing import IO

from amsread.errors import UnreadableFileError


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

    def announce(self) -> str | None:
        return None

    def summary(self) -> str:
        return ""


def open_file(path: str) -> IO[bytes]:
    """A file to write frames to (truncated), or an ``UnreadableFileError`` saying why not."""
    try:
        return open(path, "wb")
    except OSError as e:
        raise UnreadableFileError(f"cannot write {path}: {e.strerror}") from e
