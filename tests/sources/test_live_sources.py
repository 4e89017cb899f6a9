"""Live sources lose neither bytes nor time (issue 8): what a bridge sends at once, the arrival time
of frames the idle flush recovers, the summary on SIGTERM/SIGHUP, a silent source, a pty that
takes no parity, and clear words for sources that are not ports.

Real parts only: sockets on 127.0.0.1, pseudo-terminals, child processes.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path

import pytest

from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.errors import NoSuchDeviceError, SourceError
from amsread.settings import DEFAULT
from amsread.sources.base import is_serial_spec, open_source
from amsread.sources.serial import open_serial
from amsread.wire.hdlc import FrameSplitter
from helpers.live import HARD_TIMEOUT, FrameServer, Lines, amsread, child_env, free_port, process, wait_until
from helpers.vectors import raw

# --------------------------------------------------------------------------------------------
# the idle flush keeps each frame's arrival time
# --------------------------------------------------------------------------------------------


def test_frames_recovered_by_the_idle_flush_keep_their_arrival_time() -> None:
    """A false start (a good header whose length runs past the frame behind it) hides a real frame
    until the line falls silent; the flush that finds it must stamp it with the time its closing
    flag arrived, like any other live frame, not leave it without a time."""
    false_start = raw("fw_kamstrup_list3_2")[:20]  # header and HCS verify; 302 bytes promised
    frame = raw("amshan_aidon_list1_1")
    windows: list[tuple[float, float]] = []

    def live() -> Iterator[bytes]:
        for chunk in (false_start + frame[:10], frame[10:]):
            before = time.time()
            yield chunk
            windows.append((before, time.time()))
        yield b""  # silence: the pipeline (idle_flush=0) ends the false start

    pipeline = Pipeline(idle_flush=0)
    readings = list(pipeline.readings(live(), live=True, decoder=ReadingDecoder()))
    assert len(readings) == 1 and pipeline.stats.splitter.truncated == 1
    _, (lo, hi) = windows
    stamp = readings[0].received_at
    assert stamp is not None
    # the second chunk brought the closing flag (a datetime keeps whole microseconds)
    assert lo - 1e-6 <= stamp.timestamp() <= hi + 1e-6


def test_splitter_flush_stamps_each_frame_with_its_own_closing_flag() -> None:
    """Two frames behind one false start, arrived at different (given) times, keep them apart."""
    a, b = raw("amshan_aidon_list1_1"), raw("amshan_aidon6525_list1_2")
    stream = raw("fw_kamstrup_list3_2")[:20] + a + b
    splitter = FrameSplitter()
    assert splitter.feed(stream, 1.0) == []
    ends = {20 + len(a) - 1: 10.0, 20 + len(a) + len(b) - 1: 20.0}
    frames = splitter.flush(lambda offset: ends.get(offset, -1.0))
    assert [f.raw for f in frames] == [a, b]
    assert [f.received_at for f in frames] == [10.0, 20.0]


# --------------------------------------------------------------------------------------------
# socket://: what the bridge sends with the connection is kept
# --------------------------------------------------------------------------------------------


def _sends_on_connect(
    data: bytes, go: threading.Event | None = None
) -> tuple[socket.socket, threading.Thread]:
    """A bridge on 127.0.0.1 that sends ``data`` the instant a client connects (or once ``go`` is
    set), then stays open until the client leaves."""
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(HARD_TIMEOUT)

    def run() -> None:
        with srv, srv.accept()[0] as conn:
            if go is not None:
                go.wait(HARD_TIMEOUT)
            conn.sendall(data)
            conn.settimeout(HARD_TIMEOUT)
            with contextlib.suppress(OSError):
                while conn.recv(4096):
                    pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return srv, thread


def test_socket_keeps_the_bytes_that_arrive_while_it_opens() -> None:
    """The bridge's frame lands in the receive queue while pyserial is still opening the port.

    Which comes first, the frame or the end of ``open``, is a race on a real network; here it is
    decided, not left to chance: a profile hook holds the opening thread at the input reset that
    ends ``open`` until the frame is readable. Nothing is replaced; only the order is fixed, to
    the order that lost the frame.
    """
    frame = raw("amshan_aidon_list1_1")
    srv, bridge = _sends_on_connect(frame)
    address = f"127.0.0.1:{srv.getsockname()[1]}"

    def hold_reset_until_readable(frame_: types.FrameType, event: str, arg: object) -> None:
        if event == "call" and frame_.f_code.co_name == "reset_input_buffer":
            sock = frame_.f_locals["self"]._socket
            assert select.select([sock], [], [], HARD_TIMEOUT)[0], "the bridge never sent"

    sys.setprofile(hold_reset_until_readable)
    try:
        src = open_source(f"socket://{address}", reconnect=False)
    finally:
        sys.setprofile(None)
    try:
        got = b""
        chunks = iter(src)
        deadline = time.monotonic() + HARD_TIMEOUT
        while len(got) < len(frame) and time.monotonic() < deadline:
            got += next(chunks)
    finally:
        src.close()
    bridge.join(HARD_TIMEOUT)
    assert got == frame


def test_a_bridge_that_sends_at_once_is_read_through_the_command() -> None:
    frame = raw("amshan_aidon_list1_1")
    srv, bridge = _sends_on_connect(frame)
    argv = amsread("json", f"socket://127.0.0.1:{srv.getsockname()[1]}", "--count", "1")
    result = subprocess.run(argv, capture_output=True, text=True, timeout=HARD_TIMEOUT, env=child_env())
    bridge.join(HARD_TIMEOUT)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["active_power_import"] == 1661
    assert result.stderr.splitlines()[-1] == "1 frame: 1 reading; 44 bytes, 0 discarded"


# --------------------------------------------------------------------------------------------
# a pty takes no parity
# --------------------------------------------------------------------------------------------


def test_a_pty_that_refuses_parity_is_opened_without_it(pty: tuple[int, str]) -> None:
    """``simulate --pty`` then ``watch /dev/pts/N``: this kernel drops the parity bit of a pty on
    the first open and refuses to set it on the next one (EINVAL); amsread reads on, without the
    parity, and says so once."""
    master, path = pty
    open_serial(path, DEFAULT).close()  # an earlier reader: the kernel drops PARENB
    try:
        open_serial(path, DEFAULT).close()
    except SourceError as e:
        assert "refused the settings 2400 8E1" in str(e)
    else:
        pytest.skip("this kernel sets a parity on a pty again: nothing to fall back from")
    frame = raw("amshan_aidon_list1_1")
    argv = amsread("csv", path, "--count", "1", "--no-header")
    with process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()) as reader:
        err = Lines(reader.stderr)
        err.wait_for(lambda line: line.startswith("reading "))
        os.write(master, frame)
        out = Lines(reader.stdout).drain()
        assert reader.wait(HARD_TIMEOUT) == 0
        err.drain()
    assert out[0].endswith(",,1,,,,1661,,,,,,,,,,,,,")  # a lone list 1 names no maker (issue 13)
    assert err.lines[:2] == [
        f"note: {path} is a pseudo-terminal, which takes no parity: opened as 2400 8N1, not 2400 8E1",
        f"reading {path} 2400 8N1",
    ]


def test_the_pty_fallback_is_only_for_readers_that_ask(pty: tuple[int, str]) -> None:
    """``probe`` opens ports without ``pty_note``: for it a refused parity stays refused."""
    _, path = pty
    open_serial(path, DEFAULT).close()
    notes: list[str] = []
    open_serial(path, DEFAULT, pty_note=notes.append).close()
    if notes:  # this kernel refused the parity, and the reader who asked got the pty without it
        with pytest.raises(SourceError, match="refused the settings 2400 8E1"):
            open_serial(path, DEFAULT)


# --------------------------------------------------------------------------------------------
# sources that are not ports: one clear line and the right exit status
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "status", "message"),
    [
        (
            "socket://localhost",
            2,
            "cannot open socket://localhost: no port number: write socket://HOST:PORT, "
            "for example socket://localhost:2000",
        ),
        ("socket://", 2, "cannot open socket://: no port number: write socket://HOST:PORT"),
        ("socket://bridge:99999", 2, "cannot open socket://bridge:99999: bad port number"),
        ("rfc2217://bridge", 2, "cannot open rfc2217://bridge: no port number"),
        ("/dev/null", 3, "not a serial port: /dev/null is a device that is not a terminal"),
    ],
)
def test_not_a_port_is_one_clear_line(spec: str, status: int, message: str) -> None:
    result = subprocess.run(
        amsread("csv", spec), capture_output=True, text=True, timeout=HARD_TIMEOUT, env=child_env()
    )
    assert result.returncode == status
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1
    assert result.stderr.startswith(f"Error: {message}")


def test_a_capture_file_where_a_port_is_expected(tmp_path: Path) -> None:
    """A regular file named like a port (``echo … > /dev/ttyUSB0`` with no adapter creates one)
    is read as a port, and the refusal says what it is; other files stay captures."""
    capture = tmp_path / "capture.bin"
    capture.write_bytes(raw("amshan_aidon_list1_1"))
    with pytest.raises(NoSuchDeviceError, match=r"not a serial port: .*capture.bin is a regular file"):
        open_serial(str(capture), DEFAULT)
    assert is_serial_spec("/dev/ttyUSB0") and not is_serial_spec(str(capture))


# --------------------------------------------------------------------------------------------
# SIGINT, SIGTERM, SIGHUP: the summary, and every frame split before the stop in it
# --------------------------------------------------------------------------------------------

BURST = 200


def _small_pipe() -> tuple[int, int]:
    """A pipe that holds one page, so a child writing rows to it blocks after a few dozen."""
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETPIPE_SZ, 4096)
    return r, w


def _pipe_full(fd: int) -> bool:
    held = fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0")
    return int.from_bytes(held, sys.byteorder) >= 4096 - 200  # less than a row of room left


@pytest.mark.parametrize(
    ("signum", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 0), (signal.SIGHUP, 0)]
)
def test_a_stop_signal_summarises_every_frame_already_split(signum: int, status: int) -> None:
    """A bridge sends a burst of frames; the reader splits them at once but blocks printing the
    rows (stdout is full); then the signal. Every frame split must still be decoded, printed and
    counted before the summary: rows printed = readings counted = frames counted."""
    frame = raw("amshan_aidon_list1_1")
    go = threading.Event()  # send after the readiness line: this is not about the connection
    srv, bridge = _sends_on_connect(frame * BURST, go)
    r, w = _small_pipe()
    argv = amsread("csv", f"socket://127.0.0.1:{srv.getsockname()[1]}", "--no-header")
    with process(argv, stdout=w, stderr=subprocess.PIPE, env=child_env()) as reader:
        os.close(w)
        err = Lines(reader.stderr)
        err.wait_for(lambda line: line.startswith("reading socket://"))
        go.set()
        wait_until(lambda: _pipe_full(r), what="the reader to fill its stdout")
        reader.send_signal(signum)
        with os.fdopen(r, "rb") as out:
            rows = out.read().decode().splitlines()
        assert reader.wait(HARD_TIMEOUT) == status
        err.drain()
    bridge.join(HARD_TIMEOUT)
    summary = err.lines[-1]
    assert summary == f"{len(rows)} frames: {len(rows)} readings; {len(rows) * len(frame)} bytes, 0 discarded"
    assert len(rows) > 4096 // len(rows[0])  # more than fitted in the pipe when the signal came
    assert not any("Traceback" in line for line in err.lines)


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 0), (signal.SIGHUP, 0)])
def test_a_stop_signal_on_a_silent_port_ends_with_the_summary(
    pty_path: str, signum: int, status: int
) -> None:
    with process(
        amsread("json", pty_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()
    ) as reader:
        err = Lines(reader.stderr)
        err.wait_for(lambda line: line.startswith("reading "))
        reader.send_signal(signum)
        assert reader.wait(HARD_TIMEOUT) == status
        err.drain()
    assert err.lines[-1] == "0 frames; 0 bytes, 0 discarded"


# --------------------------------------------------------------------------------------------
# a silent source: the watchdog, reconnecting, and exit 7
# --------------------------------------------------------------------------------------------

SILENCE_HINT = (
    "is the HAN port open (some grid companies open it only on request), and the adapter on its pins?"
)


def test_a_silent_port_is_reported_once_and_read_on(pty: tuple[int, str]) -> None:
    master, path = pty
    frame = raw("amshan_aidon_list1_1")
    argv = amsread("json", path, "--idle-timeout", "0.2", "--count", "1")
    with process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()) as reader:
        err = Lines(reader.stderr)
        err.wait_for(lambda line: line.startswith(f"no bytes from {path} for 0.2 s"))
        os.write(master, frame)
        out = Lines(reader.stdout).drain()
        assert reader.wait(HARD_TIMEOUT) == 0
        err.drain()
    assert json.loads(out[0])["active_power_import"] == 1661
    silences = [line for line in err.lines if line.startswith("no bytes")]
    assert silences == [f"no bytes from {path} for 0.2 s: {SILENCE_HINT}"]


def test_a_silent_socket_is_reconnected() -> None:
    """A bridge that accepts and then sends nothing (hung, or its serial side dead): the reader
    says so once and connects again; the second connection brings a frame."""
    frame = raw("amshan_aidon_list1_1")
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(HARD_TIMEOUT)
    spec = f"socket://127.0.0.1:{srv.getsockname()[1]}"
    argv = amsread("json", spec, "--idle-timeout", "0.3", "--count", "1")
    with srv, process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()) as reader:
        first, _ = srv.accept()  # and stays silent
        with first:
            second, _ = srv.accept()  # the reader gave up on the first connection
        with second:
            second.sendall(frame)
            out = Lines(reader.stdout).drain()
        assert reader.wait(HARD_TIMEOUT) == 0
        err = Lines(reader.stderr).drain()
    assert json.loads(out[0])["active_power_import"] == 1661
    assert [line for line in err if line.startswith("no bytes")] == [
        f"no bytes from {spec} for 0.3 s: {SILENCE_HINT} Reconnecting."
    ]


def test_exit_on_loss_ends_with_7_after_the_summary() -> None:
    """README: exit 7, source lost. With --exit-on-loss a bridge that goes away ends the run."""
    port, go = free_port(), threading.Event()
    bridge = FrameServer(port)
    bridge.serve([raw("amshan_aidon_list1_1")], go=go)  # one frame, then it closes and stops listening
    spec = f"socket://127.0.0.1:{port}"
    argv = amsread("json", spec, "--exit-on-loss")
    with process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()) as reader:
        err = Lines(reader.stderr)
        err.wait_for(lambda line: line.startswith("reading socket://"))
        go.set()
        out = Lines(reader.stdout).drain()
        assert reader.wait(HARD_TIMEOUT) == 7
        err.drain()
    bridge.join()
    assert json.loads(out[0])["active_power_import"] == 1661
    assert err.lines[-2] == "1 frame: 1 reading; 44 bytes, 0 discarded"
    assert err.lines[-1].startswith(f"Error: lost {spec}")


def test_exit_on_loss_counts_a_silence_as_a_loss(pty_path: str) -> None:
    result = subprocess.run(
        amsread("csv", pty_path, "--idle-timeout", "0.2", "--exit-on-loss"),
        capture_output=True,
        text=True,
        timeout=HARD_TIMEOUT,
        env=child_env(),
    )
    assert result.returncode == 7
    assert result.stderr.splitlines()[-2:] == [
        "0 frames; 0 bytes, 0 discarded",
        f"Error: lost {pty_path}: no bytes for 0.2 s",
    ]


def test_sigterm_on_stdin_ends_with_the_summary_and_0() -> None:
    """Standard input may block in a read for ever, so it is not asked to stop but stopped at
    once, as Ctrl-C always did; SIGTERM still ends with the summary and exit 0."""
    frame = raw("amshan_aidon_list1_1")
    argv = amsread("json", "-")
    with process(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()
    ) as reader:
        assert reader.stdin is not None
        reader.stdin.write(frame)
        reader.stdin.flush()
        Lines(reader.stdout).wait_for(lambda line: line.startswith("{"))
        reader.send_signal(signal.SIGTERM)
        assert reader.wait(HARD_TIMEOUT) == 0
        err = Lines(reader.stderr).drain()
    assert err[-1] == "1 frame: 1 reading; 44 bytes, 0 discarded"


def test_ctrl_c_on_stdin_in_the_middle_of_a_chunk_counts_every_frame_split() -> None:
    """Standard input stops at once only while it waits for bytes; in the middle of a chunk the
    frames already split are printed and counted first. The stop leaves the frame the chunk cut in
    half, which the summary counts as truncated."""
    frame = raw("amshan_aidon_list1_1")
    r, w = _small_pipe()
    argv = amsread("csv", "-", "--no-header")
    with process(argv, stdin=subprocess.PIPE, stdout=w, stderr=subprocess.PIPE, env=child_env()) as reader:
        os.close(w)
        assert reader.stdin is not None
        reader.stdin.write(frame * BURST)
        reader.stdin.flush()
        wait_until(lambda: _pipe_full(r), what="the reader to fill its stdout")
        reader.send_signal(signal.SIGINT)
        with os.fdopen(r, "rb") as out:
            rows = out.read().decode().splitlines()
        assert reader.wait(HARD_TIMEOUT) == 130
        err = Lines(reader.stderr).drain()
    m = re.fullmatch(r"(\d+) frames: (\d+) readings(, 1 truncated)?; \d+ bytes, \d+ discarded", err[-1])
    assert m is not None, err
    assert int(m.group(1)) == int(m.group(2)) == len(rows) > 4096 // len(rows[0])
