"""``amsread probe``: the right setting when one works, the right diagnosis when none does.

The probe logic runs on fake ports: a factory gives, for each serial setting, a port that reads
what a real adapter would deliver at that setting. A pseudo-terminal cannot model speed or parity
(it passes bytes through whatever the settings say), so the real-process tests on a pty and a TCP
socket cover only what they can: a working stream, silence, and a bridge that inserts CR.
"""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
from collections.abc import Callable
from itertools import islice

import pytest

from amsread.diagnose import (
    CANDIDATES,
    Observation,
    count_frames,
    describe_meter,
    diagnose,
    probe,
    repair_crlf,
    suggested_flags,
)
from amsread.errors import PortBusyError, SourceError
from amsread.settings import SerialSettings
from amsread.simulator import OSLO, SimulatedMeter
from helpers.live import HARD_TIMEOUT, FrameServer, Lines, amsread, child_env, free_port, process

E1 = SerialSettings(2400, 8, "E", 1)
N1 = SerialSettings(2400, 8, "N", 1)
START = dt.datetime(2024, 1, 16, 16, 59, 55, tzinfo=OSLO)


def meter_bytes(meter: str, n: int = 8) -> list[bytes]:
    return [p.frame for p in islice(SimulatedMeter(meter, 3, seed=3, start=START).pushes(), n)]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakePort:
    """Reads hand out ``chunks`` one by one; each read takes ``step`` seconds of the fake clock."""

    def __init__(
        self, chunks: list[bytes], clock: Clock, step: float = 0.1, error: OSError | None = None
    ) -> None:
        self.chunks = list(chunks)
        self.clock = clock
        self.step = step
        self.error = error
        self.closed = False

    def read(self, size: int = 1) -> bytes:
        self.clock.now += self.step
        if self.chunks:
            chunk = self.chunks.pop(0)
            assert len(chunk) <= size
            return chunk
        if self.error is not None:
            raise self.error
        return b""

    def close(self) -> None:
        self.closed = True


def garble(data: bytes) -> bytes:
    """What a receiver at the wrong speed or parity makes of the bytes: no flags, nothing valid."""
    return bytes(((b << 1) | 1) & 0xFF for b in data)


class FakeLine:
    """A meter's stream as seen through an adapter at each setting: intact only at ``native``."""

    def __init__(
        self, stream: list[bytes], native: SerialSettings | None, clock: Clock, *, gap: int = 10
    ) -> None:
        self.stream = stream
        self.native = native
        self.clock = clock
        self.gap = gap  # idle reads between frames: the meter's cadence
        self.opened: list[SerialSettings] = []
        self.ports: list[FakePort] = []

    def __call__(self, settings: SerialSettings) -> FakePort:
        self.opened.append(settings)
        chunks: list[bytes] = []
        for frame in self.stream:
            chunks.append(frame if settings == self.native or self.native is None else garble(frame))
            chunks += [b""] * self.gap
        port = FakePort(chunks, self.clock)
        self.ports.append(port)
        return port


def run_probe(
    line: Callable[[SerialSettings], FakePort], clock: Clock, seconds: float = 12.0
) -> list[Observation]:
    return probe(line, CANDIDATES, seconds, clock=clock)


# --------------------------------------------------------------------------------------------
# a setting that works
# --------------------------------------------------------------------------------------------


def test_aidon_is_found_at_8e1_first_and_named() -> None:
    clock = Clock()
    line = FakeLine(meter_bytes("aidon"), E1, clock)
    seen = run_probe(line, clock)
    assert line.opened == [E1]
    verdict = diagnose(seen)
    assert verdict.found == E1
    assert describe_meter(verdict.reading) == "an Aidon 6534 meter (id 7359992890941742, list 2)"
    assert suggested_flags(E1, "aidon") == ""
    assert all(p.closed for p in line.ports)


def test_kamstrup_frames_only_at_8n1() -> None:
    clock = Clock()
    line = FakeLine(meter_bytes("kamstrup"), N1, clock)
    seen = run_probe(line, clock)
    assert line.opened == [E1, N1]
    assert seen[0].good == 0 and seen[0].bytes > 0
    verdict = diagnose(seen)
    assert verdict.found == N1
    assert describe_meter(verdict.reading).startswith(
        "a Kamstrup 6841131BN243101040 meter (id 5706567202753025"
    )
    assert suggested_flags(N1, "kamstrup") == " --meter kamstrup"


def test_unusual_setting_found_and_spelled_out() -> None:
    clock = Clock()
    odd = SerialSettings(9600, 8, "N", 1)
    line = FakeLine(meter_bytes("kaifa"), odd, clock)
    verdict = diagnose(run_probe(line, clock))
    assert verdict.found == odd
    assert suggested_flags(odd, "kaifa") == " --baudrate 9600 --parity N"


def test_wrong_settings_give_up_early_on_plenty_of_garbage() -> None:
    clock = Clock()
    line = FakeLine(meter_bytes("aidon", 40), N1, clock, gap=0)
    seen = run_probe(line, clock)
    assert seen[0].settings == E1 and seen[0].good == 0
    assert seen[0].seconds < 12  # stopped on the garbage, not at the deadline


# --------------------------------------------------------------------------------------------
# diagnoses
# --------------------------------------------------------------------------------------------


def test_silent_port_is_no_bytes_and_stops_after_one_setting() -> None:
    clock = Clock()
    line = FakeLine([], None, clock)
    seen = run_probe(line, clock, seconds=3)
    assert line.opened == [E1]
    assert seen[0].silent and seen[0].seconds >= 3
    verdict = diagnose(seen)
    assert verdict.found is None and verdict.cause == "no bytes"
    text = "\n".join(verdict.explanation + verdict.next_steps)
    assert "grid company" in text and "pins 1 and 2" in text and "M-Bus slave" in text


def test_cr_before_lf_is_named_and_confirmed_by_repair() -> None:
    stream = [f.replace(b"\n", b"\r\n") + b"\r\n" for f in meter_bytes("aidon", 12)]
    assert any(b"\r\n" in f[:-2] for f in stream), "the test needs a 0A inside a frame"
    clock = Clock()
    seen = run_probe(FakeLine(stream, None, clock, gap=2), clock)
    assert all(o.good < len(stream) for o in seen)
    verdict = diagnose(seen)
    assert verdict.cause == "CR LF inserted"
    assert "frames pass their checksums" in " ".join(verdict.explanation)
    assert "raw" in " ".join(verdict.next_steps)


def test_question_marks_for_high_bytes() -> None:
    stream = [bytes(0x3F if b >= 0x80 else b for b in f) for f in meter_bytes("kaifa", 12)]
    clock = Clock()
    verdict = diagnose(run_probe(FakeLine(stream, None, clock, gap=2), clock))
    assert verdict.cause == "0x3F substitution"
    assert "binary" in " ".join(verdict.next_steps)


def test_only_ff_bytes() -> None:
    clock = Clock()
    verdict = diagnose(run_probe(FakeLine([b"\xff" * 300] * 6, None, clock, gap=1), clock))
    assert verdict.cause == "only 0xFF / 0x00"
    assert "speed" in " ".join(verdict.explanation)


def test_text_telegrams() -> None:
    telegram = b"/KFM5KAIFA-METER\r\n\r\n1-0:1.7.0(00.411*kW)\r\n1-0:32.7.0(231.0*V)\r\n!6F4A\r\n"
    clock = Clock()
    verdict = diagnose(run_probe(FakeLine([telegram] * 20, None, clock, gap=1), clock))
    assert verdict.cause == "text"
    assert "P1" in " ".join(verdict.explanation)


def test_damaged_frames_at_every_setting() -> None:
    frames = meter_bytes("aidon", 30)
    damaged = [f[:20] + bytes([f[20] ^ 0x10]) + f[21:] for f in frames]
    clock = Clock()
    seen = run_probe(FakeLine(damaged, None, clock, gap=1), clock)
    verdict = diagnose(seen)
    assert verdict.cause == "bad checksums"
    assert sum(seen[0].bad.values()) > 0


def test_garbage_without_flags() -> None:
    clock = Clock()
    seen = run_probe(FakeLine([garble(f) for f in meter_bytes("aidon", 30)], None, clock, gap=1), clock)
    assert len(seen) == len(CANDIDATES)
    verdict = diagnose(seen)
    assert verdict.cause == "garbage"
    assert "no 7E flag" in verdict.explanation[0]


def test_read_error_stops_and_is_reported() -> None:
    clock = Clock()

    def factory(settings: SerialSettings) -> FakePort:
        return FakePort([], clock, error=OSError("device reports readiness to read but returned no data"))

    seen = probe(factory, CANDIDATES, 5, clock=clock)
    assert len(seen) == 1 and seen[0].read_error
    assert diagnose(seen).cause == "port error"


def test_busy_port_is_a_user_error_at_once() -> None:
    def factory(settings: SerialSettings) -> FakePort:
        raise PortBusyError("port busy: /dev/ttyUSB0 is in use by another program")

    with pytest.raises(PortBusyError):
        probe(factory, CANDIDATES, 1, clock=Clock())


def test_a_setting_the_driver_refuses_is_skipped() -> None:
    clock = Clock()
    line = FakeLine(meter_bytes("kamstrup"), N1, clock)

    def factory(settings: SerialSettings) -> FakePort:
        if settings == E1:
            raise SourceError("cannot open /dev/x: the port refused the settings 2400 8E1")
        return line(settings)

    seen = probe(factory, CANDIDATES, 12, clock=clock)
    assert seen[0].open_error and "could not open" in seen[0].line()
    assert diagnose(seen).found == N1


def test_repair_crlf_and_count_frames() -> None:
    frames = meter_bytes("aidon", 12)
    data = b"".join(frames)
    assert count_frames(data) == 12
    assert count_frames(repair_crlf(data.replace(b"\n", b"\r\n"))) == 12


# --------------------------------------------------------------------------------------------
# the command, on real ports
# --------------------------------------------------------------------------------------------


def test_probe_command_finds_the_simulated_meter_on_a_pty() -> None:
    with process(
        amsread("simulate", "--pty", "--speed", "20", "--seed", "1"), stderr=subprocess.PIPE, env=child_env()
    ) as sim:
        path = Lines(sim.stderr).wait_for(lambda line: line.startswith("pty: ")).split(": ", 1)[1]
        out = subprocess.run(
            amsread("probe", path, "--seconds", "5"), capture_output=True, text=True, timeout=HARD_TIMEOUT
        )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Found: 2400 8E1: an Aidon 6534 meter (id 7359992890941742")
    assert f"Next:  amsread watch {path}\n" in out.stdout
    assert "trying 2400 8E1" in out.stderr and "Traceback" not in out.stderr


def test_probe_command_on_a_silent_port(pty_path: str) -> None:
    out = subprocess.run(
        amsread("probe", pty_path, "--seconds", "0.5"), capture_output=True, text=True, timeout=HARD_TIMEOUT
    )
    assert out.returncode == 1
    assert "No setting worked." in out.stdout
    assert "Likely cause: no bytes." in out.stdout
    assert "a silent line is silent at any speed" in out.stdout
    assert "Traceback" not in out.stderr


def test_probe_command_names_a_bridge_that_inserts_cr() -> None:
    port = free_port()
    server = FrameServer(port)
    frames = [f + b"\n" for f in meter_bytes("aidon", 30)]  # text-mode bridges also end lines
    server.serve(frames, interval=0.01, transform=lambda b: b.replace(b"\n", b"\r\n"))
    out = subprocess.run(
        amsread("probe", f"socket://127.0.0.1:{port}", "--seconds", "3"),
        capture_output=True,
        text=True,
        timeout=HARD_TIMEOUT,
    )
    server.join()
    assert out.returncode == 1, out.stdout
    assert "Likely cause: CR LF inserted." in out.stdout
    assert "listening for up to 3 s" in out.stderr


def test_probe_command_no_such_device() -> None:
    out = subprocess.run(
        amsread("probe", "/dev/ttyNOPE0"), capture_output=True, text=True, timeout=HARD_TIMEOUT
    )
    assert out.returncode == 3
    assert out.stderr.strip().splitlines()[-1].startswith("Error: no such device: /dev/ttyNOPE0")


def test_probe_command_refused_connection() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connections are refused
        out = subprocess.run(
            amsread("probe", f"socket://127.0.0.1:{port}"),
            capture_output=True,
            text=True,
            timeout=HARD_TIMEOUT,
        )
    assert out.returncode == 3
    assert "connection refused" in out.stderr


# --------------------------------------------------------------------------------------------
# a P1 port (115200 8N1)
# --------------------------------------------------------------------------------------------

P1_SETTINGS = SerialSettings(115200, 8, "N", 1)


def test_a_p1_port_is_found_at_115200_and_named() -> None:
    """Swedish Aidon telegrams, intact only at 115200 8N1: every other setting is tried first,
    then the P1 one is found, named and its preset suggested."""
    clock = Clock()
    line = FakeLine(meter_bytes("p1", 3), P1_SETTINGS, clock)
    seen = run_probe(line, clock)
    assert line.opened[-1] == P1_SETTINGS
    verdict = diagnose(seen)
    assert verdict.found == P1_SETTINGS
    assert describe_meter(verdict.reading) == "a P1 (DSMR) port: an Aidon 6534 meter"
    assert suggested_flags(P1_SETTINGS, "p1") == " --meter p1"
