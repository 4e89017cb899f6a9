"""``amsread run`` as a real child process reading a real pseudo-terminal, for the run tests.

The test writes frames to the pty's master side as a meter would; the child reads the slave side
as its serial port. pyserial drops what was written before it opened the port, so ``start`` waits
for the readiness line (``reading /dev/pts/N``) before the test writes anything.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from helpers.live import Lines, child_env

HARD_TIMEOUT = 30.0


class RunProcess:
    """One ``amsread run PTY ARGS`` child with its stderr read line by line."""

    def __init__(self, master: int, pty_name: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.master = master
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "amsread", "run", pty_name, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(**(env or {})),
        )
        self.err = Lines(self.proc.stderr)
        self.err.wait_for(lambda line: line.startswith("reading "), HARD_TIMEOUT)

    def write(self, data: bytes) -> None:
        """Write to the meter side, all of it (a pty takes a few KiB at a time)."""
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]

    def wait_for(self, text: str) -> str:
        return self.err.wait_for(lambda line: text in line, HARD_TIMEOUT)

    def wait_count(self, text: str, count: int) -> None:
        """Until ``count`` lines on stderr hold ``text``."""
        deadline = time.monotonic() + HARD_TIMEOUT
        while sum(text in line for line in self.err.lines) < count:
            assert time.monotonic() < deadline and not self.err.eof, f"lines so far: {self.err.lines}"
            self.err.poll(0.05)

    def stop(self, signum: int = signal.SIGTERM) -> int:
        """Send ``signum``; the exit status once the child is gone (stderr read to its end)."""
        self.proc.send_signal(signum)
        self.err.drain(HARD_TIMEOUT)
        return self.proc.wait(HARD_TIMEOUT)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(HARD_TIMEOUT)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def row_count(db: Path) -> int:
    """Rows a reader sees in the history database now (0 before it exists)."""
    if not db.exists():
        return 0
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM readings").fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not migrated yet
    finally:
        conn.close()


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def wait_until(predicate: object, what: str, timeout: float = HARD_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)
