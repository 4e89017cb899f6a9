"""End to end on a real pseudo-terminal: ``python -m amsread hex <pty slave>`` reading frames written
to the pty master (style.md §3.8 item 7).

pyserial resets the input buffer when it opens the port, so bytes written before the open are lost
(style.md §3.9): the feeder waits for the readiness line on stderr before it writes anything. The
port is opened at 2400 8E1 with an exclusive lock; a pty ignores both speed and parity.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from amsread.wire.framer import IDLE_FLUSH
from helpers.live import Lines
from helpers.vectors import raw

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")

FRAMES = [raw("doc_aidon_6534_list1"), raw("fw_kaifa_list1_1"), raw("amshan_kamstrup_list1_1")]
HARD_TIMEOUT = 20.0


class Pipe(Lines):
    """``live_util.Lines`` with absolute deadlines: one deadline spans a whole test here."""

    def wait_for(self, predicate: Callable[[str], bool], deadline: float) -> str:  # type: ignore[override]
        return super().wait_for(predicate, deadline - time.monotonic())

    def drain(self, deadline: float) -> list[str]:  # type: ignore[override]
        return super().drain(deadline - time.monotonic())


Spawn = Callable[..., "subprocess.Popen[bytes]"]


@pytest.fixture
def spawn() -> Iterator[Spawn]:
    procs: list[subprocess.Popen[bytes]] = []

    def start(*args: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "amsread", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:  # only the processes this test started, by their own handle
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_hex_reads_three_frames_from_a_pty(pty: tuple[int, str], spawn: Spawn) -> None:
    master, name = pty
    deadline = time.monotonic() + HARD_TIMEOUT
    proc = spawn("hex", name, "--count", "3")
    err, out = Pipe(proc.stderr), Pipe(proc.stdout)
    assert err.wait_for(lambda line: line.startswith("reading "), deadline) == f"reading {name} 2400 8E1"
    data = b"".join(FRAMES)
    for i in range(0, len(data), 16):  # small chunks, as a UART delivers them
        os.write(master, data[i : i + 16])
    for frame in FRAMES:
        line = out.wait_for(lambda line, f=frame: line.endswith(f.hex()), deadline)
        fields = line.split()
        assert fields[1:3] == [str(len(frame)), "ok"]
        assert len(fields[0]) == 12 and fields[0][2] == ":"  # live: the wall-clock time, HH:MM:SS.mmm
    proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    assert proc.returncode == 0
    assert len(out.drain(deadline)) == 3
    assert err.drain(deadline)[1:] == [f"3 frames; {len(data)} bytes, 0 discarded"]


def test_frame_is_handed_on_when_its_closing_flag_arrives(pty: tuple[int, str], spawn: Spawn) -> None:
    # Two writes far apart (0.2 s today: forty byte-times at 2400 baud, four read timeouts), yet
    # under the idle flush that would end the frame as truncated. Bounds are generous on purpose.
    master, name = pty
    frame = FRAMES[2]
    deadline = time.monotonic() + HARD_TIMEOUT
    proc = spawn("hex", name, "--count", "1")
    err, out = Pipe(proc.stderr), Pipe(proc.stdout)
    err.wait_for(lambda line: line.startswith("reading "), deadline)
    os.write(master, frame[:100])
    gap_end = time.monotonic() + 0.4 * IDLE_FLUSH
    while (left := gap_end - time.monotonic()) > 0:
        out.poll(left)
    assert out.lines == [] and out.buf == b""  # nothing yet: the frame is not complete
    os.write(master, frame[100:])
    line = out.wait_for(lambda line: line.endswith(frame.hex()), deadline)
    assert line.split()[1:3] == [str(len(frame)), "ok"]
    # that it came by the read of its closing flag, not by a later idle tick, is checked without a
    # clock in tests/sources/test_streaming.py::test_a_frame_comes_out_of_the_read_that_brought_its_closing_flag
    proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
    assert proc.returncode == 0


def test_port_busy_from_the_command_line(pty: tuple[int, str], spawn: Spawn) -> None:
    _, name = pty
    deadline = time.monotonic() + HARD_TIMEOUT
    first = spawn("hex", name)
    Pipe(first.stderr).wait_for(lambda line: line.startswith("reading "), deadline)
    second = spawn("hex", name)
    second.wait(timeout=HARD_TIMEOUT)
    assert second.returncode == 5
    assert Pipe(second.stderr).drain(deadline) == [f"Error: port busy: {name} is in use by another program"]


@pytest.mark.parametrize("command", ["hex", "csv", "json"])
def test_a_line_is_out_while_amsread_waits_for_the_next_frame(
    command: str, pty: tuple[int, str], spawn: Spawn
) -> None:
    """Lines are flushed before each read of the port, not after each line (issue 15): a frame's
    line reaches the reader while amsread is still running, blocked on the port for more."""
    master, name = pty
    deadline = time.monotonic() + HARD_TIMEOUT
    proc = spawn(command, name)
    err, out = Pipe(proc.stderr), Pipe(proc.stdout)
    err.wait_for(lambda line: line.startswith("reading "), deadline)
    header = 1 if command == "csv" else 0
    for k, frame in enumerate(FRAMES[:2], 1):
        os.write(master, frame)
        while len(out.lines) < header + k:
            assert time.monotonic() < deadline and not out.eof, out.lines
            out.poll(0.05)
        assert proc.poll() is None  # printed, and still waiting for the port
        if command == "hex":
            assert out.lines[-1].endswith(frame.hex())
    proc.terminate()
    proc.wait(timeout=HARD_TIMEOUT)
    assert proc.returncode == 0
