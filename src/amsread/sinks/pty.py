"""A new pseudo-terminal as a destination: readers open its slave as if it were a serial port."""

from __future__ import annotations

import contextlib
import os
import select
import time
import tty


class PtySink:
    """A new pseudo-terminal: amsread (or anything else) opens the slave as if it were a serial port.

    The slave is kept open here and set raw, so the line discipline never rewrites bytes (no CR
    before LF) and a reader may come and go. The master is non-blocking: with nobody reading, the
    buffer fills and frames are dropped, like a meter pushing into an unplugged cable.
    """

    def __init__(self) -> None:
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

    def announce(self) -> str | None:
        return f"pty: {self.path}"  # always said: a reader needs the path

    def summary(self) -> str:
        return f"; {self.dropped} dropped (nobody reading the pty)" if self.dropped else ""
