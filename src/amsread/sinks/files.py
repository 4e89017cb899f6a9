"""CSV and JSON-lines files as ``amsread run`` destinations: appended to, a new file per day.

A name may hold ``strftime`` fields (``power-%Y-%m-%d.csv``): each reading goes to the file its
received time (the host clock when the frame arrived; the host clock now for a replay) names, so
a new file starts at midnight without a restart or a cron job. Files are appended to, never
truncated: a service restarted ten times a day keeps one file. A CSV file gets its header only
when it is new or empty, so a restart adds no second header among the rows.

A write that fails (disk full, directory gone) raises to the caller's lane, which says so on
stderr; the file is closed and opened afresh for the next reading, which is the retry.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from pathlib import Path
from typing import Final, TextIO

from amsread.contract import COLUMNS, Frames, Reading
from amsread.formats import CsvWriter, json_line

#: Characters that make a name a strftime pattern.
_PATTERN_MARK: Final = "%"


def file_name(pattern: str, when: dt.datetime) -> Path:
    """The file a reading at ``when`` goes to: ``pattern`` with its strftime fields filled in."""
    return Path(when.strftime(pattern) if _PATTERN_MARK in pattern else pattern)


def reading_time(reading: Reading) -> dt.datetime:
    """When a reading arrived, in local time, by the host clock (now, for a replay)."""
    stamp = reading.received_at or dt.datetime.now().astimezone()
    return stamp.astimezone() if stamp.tzinfo is not None else stamp


class _AppendedFile:
    """A text file opened for appending, reopened when the name changes or after a failure."""

    name = "file"

    def __init__(self, pattern: str | os.PathLike[str]) -> None:
        self.pattern = str(pattern)
        self.path: Path | None = None
        self._stream: TextIO | None = None
        self.written = 0

    def _open_for(self, reading: Reading) -> TextIO:
        if self._stream is not None and _PATTERN_MARK not in self.pattern:
            return self._stream  # one file for ever: no clock to look at
        path = file_name(self.pattern, reading_time(reading))
        if self._stream is not None and path == self.path:
            return self._stream
        self._drop()
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        stream = open(path, "a", encoding="utf-8", newline="")  # noqa: SIM115 - held across readings
        self.path, self._stream = path, stream
        self._opened(stream)
        return stream

    def _opened(self, stream: TextIO) -> None:
        """A file has just been opened for appending (the CSV header goes here)."""

    def _drop(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(OSError):  # its last buffer failed: that is already told
                stream.close()

    def handle(self, reading: Reading, raw: Frames | None = None) -> None:
        try:
            self._write(self._open_for(reading), reading)
        except OSError as e:
            self._drop()  # the next reading opens the file afresh: the retry
            where = self.path or self.pattern
            raise OSError(e.errno, f"cannot write {where}: {e.strerror or e}") from None
        self.written += 1

    def _write(self, stream: TextIO, reading: Reading) -> None:
        raise NotImplementedError

    def idle(self) -> None:
        """Flush what was written: ``run`` calls this whenever the destination's queue runs dry, so
        a live port's row is in the file at once, and a replay costs a write per burst, not per row."""
        if self._stream is not None:
            try:
                self._stream.flush()
            except OSError as e:
                self._drop()
                raise OSError(e.errno, f"cannot write {self.path}: {e.strerror or e}") from None

    def close(self) -> None:
        self._drop()


class CsvFile(_AppendedFile):
    """``--csv FILE``: the contract's columns, one row per reading (flushed whenever its queue runs dry), header once per file."""

    name = "csv"

    def __init__(self, pattern: str | os.PathLike[str], columns: tuple[str, ...] = COLUMNS) -> None:
        super().__init__(pattern)
        self.columns = columns
        self._writer: CsvWriter | None = None

    def _opened(self, stream: TextIO) -> None:
        empty = stream.tell() == 0  # opened for appending: at the end, so 0 means new or empty
        self._writer = CsvWriter(stream, self.columns, header=empty, flush=False)  # flushed by idle()

    def _write(self, stream: TextIO, reading: Reading) -> None:
        assert self._writer is not None
        self._writer.write(reading)


class JsonlFile(_AppendedFile):
    """``--jsonl FILE``: one JSON object per line, exactly what ``amsread json`` prints."""

    name = "jsonl"

    def _write(self, stream: TextIO, reading: Reading) -> None:
        stream.write(json_line(reading) + "\n")  # flushed by idle()


__all__ = ["CsvFile", "JsonlFile", "file_name"]
