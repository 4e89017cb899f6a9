"""Standard streams that fail in words: a closed descriptor or a full disk is an ``Error:`` line.

A user can start amsread with a standard stream closed (``<&-``, ``>&-``) or pointed somewhere that
refuses data (``> /dev/full``). Python then sets ``sys.stdin``/``sys.stdout`` to None, or raises a
bare ``OSError`` deep inside a write that no message can place. ``guard()`` runs first thing in
``cli.main``: it parks ``/dev/null`` on a closed descriptor (opened the wrong way round, so any use
fails with EBADF, and so no file opened later lands on descriptor 1 and receives the rows), and
puts streams in front of descriptors 0 and 1 whose failures name the stream. A closed pipe
(EPIPE) stays a ``BrokenPipeError``: the reader left, which is a normal end.
"""

from __future__ import annotations

import io
import os
import sys

from amsread.errors import OutputError, UnreadableFileError


class _GuardedFd(io.RawIOBase):
    """A raw stream on ``fd`` that turns its ``OSError``s (but EPIPE) into a typed, worded error."""

    def __init__(self, fd: int, name: str, *, writing: bool) -> None:
        super().__init__()
        self._fd = fd
        self.name = name
        self._writing = writing
        #: After the first failure a writer drops what it is given: the error has been raised
        #: once, and the interpreter's last flush must not print a second, unhandled one.
        self._failed = False

    # ``close`` is RawIOBase's: it marks the wrapper closed and leaves descriptors 0 and 1 open.

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def readable(self) -> bool:
        return not self._writing

    def writable(self) -> bool:
        return self._writing

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = os.read(self._fd, len(buffer))
        except OSError as e:
            raise UnreadableFileError(f"cannot read {self.name}: {e.strerror or e}") from e
        buffer[: len(data)] = data
        return len(data)

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        if self._failed:
            return len(data)
        try:
            return os.write(self._fd, data)
        except BrokenPipeError:
            raise
        except OSError as e:
            self._failed = True
            raise OutputError(f"cannot write to {self.name}: {e.strerror or e}") from e


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return False
    return True


def _park(fd: int, flags: int) -> None:
    """Put ``/dev/null`` on the closed descriptor ``fd``."""
    parked = os.open(os.devnull, flags)
    if parked != fd:
        os.dup2(parked, fd)
        os.close(parked)


def guard() -> None:
    """Make the standard streams safe to use and their failures speak (see the module doc)."""
    if not _is_open(2):
        _park(2, os.O_WRONLY)
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115  (lives as long as the process)
    if not _is_open(0):
        _park(0, os.O_WRONLY)  # a read from it fails with EBADF, as from a closed descriptor
    if not _is_open(1):
        _park(1, os.O_RDONLY)  # a write to it fails with EBADF
    # Only the interpreter's own streams: a test harness that replaced them keeps its own.
    if sys.stdin is None or sys.stdin is sys.__stdin__:
        sys.stdin = io.TextIOWrapper(
            io.BufferedReader(_GuardedFd(0, "standard input", writing=False)),
            encoding=getattr(sys.stdin, "encoding", None) or "utf-8",
            errors=getattr(sys.stdin, "errors", None) or "strict",
        )
    if sys.stdout is None or sys.stdout is sys.__stdout__:
        if sys.stdout is not None:
            sys.stdout.flush()
        sys.stdout = io.TextIOWrapper(
            io.BufferedWriter(_GuardedFd(1, "standard output", writing=True)),
            encoding=getattr(sys.stdout, "encoding", None) or "utf-8",
            errors=getattr(sys.stdout, "errors", None) or "strict",
            line_buffering=os.isatty(1),
        )
