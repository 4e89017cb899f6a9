"""Helpers for tests that run amsread as a real process: bounded reads, a tiny terminal, a TCP meter.

Every wait here has a deadline and polls in short steps; nothing sleeps to synchronise.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
HARD_TIMEOUT = 30.0


def amsread(*args: str) -> list[str]:
    """The argv that runs this checkout's amsread with this interpreter."""
    return [sys.executable, "-m", "amsread", *args]


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def wait_until(predicate: Callable[[], bool], timeout: float = HARD_TIMEOUT, what: str = "condition") -> None:
    """Poll ``predicate`` every 20 ms until it holds; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


class Lines:
    """Lines from a child's pipe, read with deadlines."""

    def __init__(self, stream: IO[bytes] | None) -> None:
        assert stream is not None
        self.fd = stream.fileno()
        self.buf = b""
        self.lines: list[str] = []
        self.eof = False

    def poll(self, timeout: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if ready:
            data = os.read(self.fd, 65536)
            self.eof = not data
            self.buf += data
            *done, self.buf = self.buf.split(b"\n")
            self.lines += [line.decode(errors="replace") for line in done]

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = HARD_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for line in self.lines[seen:]:
                if predicate(line):
                    return line
            seen = len(self.lines)
            remaining = deadline - time.monotonic()
            assert remaining > 0 and not self.eof, f"no such line; lines so far: {self.lines}"
            self.poll(min(remaining, 0.05))

    def drain(self, timeout: float = HARD_TIMEOUT) -> list[str]:
        deadline = time.monotonic() + timeout
        while not self.eof:
            assert time.monotonic() < deadline, "the pipe stayed open"
            self.poll(0.05)
        if self.buf:
            self.lines.append(self.buf.decode(errors="replace"))
            self.buf = b""
        return self.lines


# --------------------------------------------------------------------------------------------
# a tiny terminal: enough VT100 for what rich.live emits
# --------------------------------------------------------------------------------------------

_CSI = re.compile(rb"\x1b\[([0-9;?]*)([A-Za-z])")


class Screen:
    """The visible text of a terminal of ``cols`` × ``rows`` fed with a program's output.

    Handles what ``rich.live`` writes: text, CR, LF, cursor up (``ESC[nA``), erase line (``ESC[2K``),
    cursor show/hide and colours (ignored). Enough to read the live view as a person sees it.
    """

    def __init__(self, cols: int = 80, rows: int = 24) -> None:
        self.cols, self.rows = cols, rows
        self.lines = [[" "] * cols for _ in range(rows)]
        self.row = self.col = 0
        self._pending = b""

    def _newline(self) -> None:
        self.row += 1
        if self.row >= self.rows:
            self.lines.pop(0)
            self.lines.append([" "] * self.cols)
            self.row = self.rows - 1

    def feed(self, data: bytes) -> None:
        data = self._pending + data
        self._pending = b""
        i = 0
        text = bytearray()

        def flush_text() -> None:
            for ch in text.decode("utf-8", errors="replace"):
                if self.col >= self.cols:
                    self.col = 0
                    self._newline()
                self.lines[self.row][self.col] = ch
                self.col += 1
            text.clear()

        while i < len(data):
            b = data[i]
            if b == 0x1B:
                m = _CSI.match(data, i)
                if m is None:
                    if len(data) - i < 16:  # an escape sequence cut by the read: wait for the rest
                        flush_text()
                        self._pending = data[i:]
                        return
                    i += 1
                    continue
                flush_text()
                params, final = m.group(1).decode(), m.group(2).decode()
                n = int(params) if params.isdigit() else 1
                if final == "A":
                    self.row = max(0, self.row - n)
                elif final == "B":
                    self.row = min(self.rows - 1, self.row + n)
                elif final == "K":
                    if params in ("2",):
                        self.lines[self.row] = [" "] * self.cols
                    else:
                        self.lines[self.row][self.col :] = [" "] * (self.cols - self.col)
                elif final == "G":
                    self.col = n - 1
                i = m.end()
            elif b == 0x0D:
                flush_text()
                self.col = 0
                i += 1
            elif b == 0x0A:
                flush_text()
                self._newline()
                i += 1
            else:
                # keep UTF-8 sequences whole
                if b >= 0xC0:
                    n = 2 if b < 0xE0 else 3 if b < 0xF0 else 4
                    if i + n > len(data):
                        flush_text()
                        self._pending = data[i:]
                        return
                    text += data[i : i + n]
                    i += n
                else:
                    text.append(b)
                    i += 1
        flush_text()

    def text(self) -> str:
        return "\n".join("".join(line).rstrip() for line in self.lines)


# --------------------------------------------------------------------------------------------
# TCP
# --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FrameServer:
    """A TCP 'bridge' on 127.0.0.1 that sends given frames to the first client, in a thread.

    ``serve(frames, interval)`` listens, accepts one client, sends the frames ``interval`` apart,
    then closes the client and the listening socket: the source disappears. A client that hangs up
    early (``probe`` once it has seen enough) ends the sending; ``sent`` says how far it got.
    """

    def __init__(self, port: int) -> None:
        self.port = port
        self.sent = 0
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def serve(
        self,
        frames: list[bytes],
        interval: float = 0.02,
        *,
        transform: Callable[[bytes], bytes] = bytes,
        go: threading.Event | None = None,
    ) -> None:
        """Serve in a thread; with ``go``, send only once it is set (a test that means to send
        to a running reader waits for its readiness line)."""
        ready = threading.Event()

        def run() -> None:
            try:
                with socket.create_server(("127.0.0.1", self.port)) as srv:
                    srv.settimeout(HARD_TIMEOUT)
                    ready.set()
                    conn, _ = srv.accept()
                    if go is not None:
                        assert go.wait(HARD_TIMEOUT), "never told to send"
                    with conn:
                        for frame in frames:
                            try:
                                conn.sendall(transform(frame))
                            except (BrokenPipeError, ConnectionResetError):
                                break  # the reader has seen enough and hung up: a bridge goes on
                            self.sent += 1
                            time.sleep(interval)  # the meter's cadence, not synchronisation
            except BaseException as e:  # reported by join()
                self.error = e
                ready.set()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(HARD_TIMEOUT), "server did not start"
        assert self.error is None, self.error

    def join(self) -> None:
        assert self._thread is not None
        self._thread.join(HARD_TIMEOUT)
        assert not self._thread.is_alive(), "server thread still running"
        if self.error is not None:
            raise self.error


@contextlib.contextmanager
def process(argv: list[str], **kwargs: object) -> Iterator[subprocess.Popen[bytes]]:
    """A child process that is always gone when the block ends."""
    proc = subprocess.Popen(argv, **kwargs)  # type: ignore[call-overload]
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(HARD_TIMEOUT)
        for stream in (proc.stdout, proc.stderr, proc.stdin):
            if stream is not None:
                stream.close()
