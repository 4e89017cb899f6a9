"""``Source``: something to read bytes from, whatever it is (a port, a socket, a file, stdin)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Final, Literal

InputFormat = Literal["auto", "raw", "hex"]

#: Seconds a live read waits before yielding an idle tick. Short, so a frame is handed on the
#: moment its closing flag arrives and never waits for a timeout.
READ_TIMEOUT: Final = 0.05
CHUNK: Final = 4096

Log = Callable[[str], None]


def stderr_log(msg: str) -> None:
    """The default ``Log``: a line on stderr, flushed."""
    print(msg, file=sys.stderr, flush=True)


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
