"""Long runs: a lost source is reopened with backoff, a recording replays to the same readings,
and memory does not grow with the number of frames.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import subprocess
import threading
import tracemalloc
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
import serial

import amsread.sources.serial as source_mod
from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.errors import NoSuchDeviceError, SourceLostError
from amsread.settings import DEFAULT
from amsread.simulator import OSLO, SimulatedMeter
from helpers.live import HARD_TIMEOUT, FrameServer, Lines, amsread, child_env, free_port, process

START = dt.datetime(2024, 1, 16, 16, 59, 55, tzinfo=OSLO)


def frames(meter: str, n: int, seed: int = 1) -> list[bytes]:
    return [p.frame for p in islice(SimulatedMeter(meter, 3, seed=seed, start=START).pushes(), n)]


# --------------------------------------------------------------------------------------------
# a TCP source that goes away and comes back, through the real command
# --------------------------------------------------------------------------------------------


def test_socket_source_that_disappears_and_comes_back(tmp_path: Path) -> None:
    port = free_port()
    record = tmp_path / "session.bin"
    before, after = frames("aidon", 6), frames("kamstrup", 5)
    first, go_first = FrameServer(port), threading.Event()
    first.serve(before, go=go_first)
    argv = amsread("json", f"socket://127.0.0.1:{port}", "--count", "11", "--record", str(record))
    with process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()) as client:
        err = Lines(client.stderr)
        err.wait_for(lambda line: line.startswith("reading socket://"))
        go_first.set()
        first.join()  # all sent, then the server closed the connection and stopped listening
        err.wait_for(lambda line: line.startswith(f"lost socket://127.0.0.1:{port}"))
        second, go_second = FrameServer(port), threading.Event()
        second.serve(after, go=go_second)
        err.wait_for(lambda line: line == f"reopened socket://127.0.0.1:{port}")
        go_second.set()
        out = Lines(client.stdout).drain()
        second.join()
        assert client.wait(HARD_TIMEOUT) == 0
        err.drain()
    readings = [json.loads(line) for line in out if line]
    # the first Aidon list 1 comes before any list 2 named the meter: no maker (issue 13)
    assert [r.get("manufacturer") for r in readings] == [None] + ["aidon"] * 5 + ["kamstrup"] * 5
    assert any(line == f"reopened socket://127.0.0.1:{port}" for line in err.lines)
    assert not any("Traceback" in line for line in err.lines)
    assert err.lines[-1] == f"11 frames: 11 readings; {len(b''.join(before + after))} bytes, 0 discarded"

    # the recording replays to the same readings (without the host's receive times)
    replay = subprocess.run(
        amsread("json", str(record), "-q"), capture_output=True, text=True, timeout=HARD_TIMEOUT
    )
    assert replay.returncode == 0, replay.stderr
    replayed = [json.loads(line) for line in replay.stdout.splitlines()]
    assert replayed == [{k: v for k, v in r.items() if k != "received_at"} for r in readings]
    assert record.read_bytes() == b"".join(before + after)


def test_refused_at_start_is_a_user_error_not_a_retry() -> None:
    out = subprocess.run(
        amsread("json", f"socket://127.0.0.1:{free_port()}"),
        capture_output=True,
        text=True,
        timeout=HARD_TIMEOUT,
    )
    assert out.returncode == 3
    assert "connection refused" in out.stderr and "Traceback" not in out.stderr


# --------------------------------------------------------------------------------------------
# the reopen loop itself, on fake ports and a fake clock
# --------------------------------------------------------------------------------------------


class FakeTime:
    """Stands in for the ``time`` module inside ``amsread.sources.base``: sleeping advances the clock."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.slept += seconds

    def time(self) -> float:
        return 1_700_000_000.0 + self.now


class FakeSerial:
    """Hands out ``chunks``, then fails the way a vanished peer does."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = list(chunks)
        self.closed = False
        self.timeout = 0.05

    @property
    def in_waiting(self) -> int:
        return len(self.chunks[0]) if self.chunks else 0

    def read(self, size: int = 1) -> bytes:
        if not self.chunks:
            raise serial.SerialException("socket disconnected")
        chunk, rest = self.chunks[0][:size], self.chunks[0][size:]
        if rest:
            self.chunks[0] = rest
        else:
            self.chunks.pop(0)
        return chunk

    def fileno(self) -> int:
        raise AttributeError("no fd")

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(source_mod, "time", fake)
    return fake


def opener(monkeypatch: pytest.MonkeyPatch, outcomes: list[Any]) -> list[Any]:
    """Make ``open_serial`` return (or raise) each of ``outcomes`` in turn."""
    opened: list[Any] = []

    def fake_open(spec: str, settings: Any, timeout: float = 0.05, **options: Any) -> Any:
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        opened.append(outcome)
        return outcome

    monkeypatch.setattr(source_mod, "open_serial", fake_open)
    return opened


def test_lost_source_reopens_with_backoff_and_ticks_meanwhile(
    monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime
) -> None:
    a, b = frames("aidon", 2), frames("aidon", 2, seed=9)
    refused = NoSuchDeviceError("cannot connect to socket://x:1: connection refused")
    opened = opener(monkeypatch, [FakeSerial(a), refused, refused, FakeSerial(b)])
    log: list[str] = []
    src = source_mod.serial_source("socket://x:1", DEFAULT, reconnect=True, log=log.append)
    chunks: Iterator[bytes] = iter(src)
    data = [next(chunks) for _ in range(2)]
    assert data == a
    got: list[bytes] = []
    ticks = 0
    while len(got) < 2:
        chunk = next(chunks)
        if chunk:
            got.append(chunk)
        else:
            ticks += 1
    assert got == b
    assert src.reconnects == 1
    assert log[0] == "lost socket://x:1 (socket disconnected); reopening"
    assert log[1:3] == [f"still waiting for socket://x:1: {refused}"] * 2
    assert log[3] == "reopened socket://x:1"
    assert fake_time.slept == pytest.approx(0.5 + 1 + 2)  # backoff doubles
    assert ticks >= 3.5 / 0.1 - 3  # an idle tick at least every 0.1 s of waiting
    assert opened[0].closed
    src.close()
    assert opened[1].closed


def test_backoff_is_capped(monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime) -> None:
    refused = NoSuchDeviceError("refused")
    opener(monkeypatch, [FakeSerial([]), *([refused] * 9), FakeSerial([b"\x7e"])])
    src = source_mod.serial_source("socket://x:1", DEFAULT, reconnect=True, log=lambda _: None)
    for chunk in src:
        if chunk:
            break
    waits = [0.5 * 2**k for k in range(10)]
    assert fake_time.slept == pytest.approx(sum(min(w, source_mod.MAX_BACKOFF) for w in waits))


def test_without_reconnect_a_lost_source_is_a_typed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    opener(monkeypatch, [FakeSerial([b"\x7e"])])
    src = source_mod.serial_source("socket://x:1", DEFAULT, reconnect=False, log=lambda _: None)
    with pytest.raises(SourceLostError, match="lost socket://x:1"):
        list(src)
    assert SourceLostError.exit_code == 7


def test_a_vanished_device_file_counts_as_lost(monkeypatch: pytest.MonkeyPatch, fake_time: FakeTime) -> None:
    class Quiet(FakeSerial):
        def read(self, size: int = 1) -> bytes:
            return b""

    opener(monkeypatch, [Quiet([]), FakeSerial([b"\x7e\x7e"])])
    log: list[str] = []
    src = source_mod.serial_source("/dev/ttyUSB-gone", DEFAULT, reconnect=True, log=log.append)
    for chunk in src:
        if chunk:
            break
    assert log[0].startswith("lost /dev/ttyUSB-gone (device disappeared)")


# --------------------------------------------------------------------------------------------
# memory stays flat
# --------------------------------------------------------------------------------------------


def test_memory_does_not_grow_with_frames() -> None:
    """The pipeline keeps no history: 3 000 more frames cost no more memory than 600."""
    pool = frames("aidon", 400) + frames("kaifa", 100) + frames("kamstrup", 100)
    pipeline = Pipeline()

    def run(n: int) -> None:
        chunks = (pool[i % len(pool)] for i in range(n))
        for _ in pipeline.readings(chunks, live=True, decoder=ReadingDecoder()):
            pass

    run(600)  # warm up caches (compiled layouts, OBIS slots)
    gc.collect()
    tracemalloc.start()
    try:
        run(600)
        gc.collect()
        small = tracemalloc.get_traced_memory()[0]
        run(3_000)
        gc.collect()
        large = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert large - small < 64 * 1024, (small, large)
