"""The simulated meter: real frames that decode to what was put in, at the real cadence, plausibly.

han-protocol.md §3.1 (intervals), §3.3 (encodings), §4.2 (addresses and control), §5.3 (header
date-time forms). Every frame the simulator builds goes through the real pipeline here.
"""

from __future__ import annotations

import datetime as dt
import math
import subprocess
from decimal import Decimal
from itertools import islice, pairwise
from typing import Any

import pytest

from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.errors import SimulatorError
from amsread.meters import MODELS
from amsread.simulator import (
    OSLO,
    Push,
    SimulatedMeter,
    live_chunks,
    model_for,
    paced,
)
from amsread.wire.hdlc import FrameSplitter
from helpers.live import HARD_TIMEOUT, Lines, amsread, child_env, free_port, process

ALL = sorted(MODELS)
#: A winter afternoon ten seconds before the hour: lists 1, 2 and 3 all come within a minute.
WINTER = dt.datetime(2024, 1, 16, 16, 59, 50, tzinfo=OSLO)
SUMMER = dt.datetime(2024, 7, 6, 18, 59, 50, tzinfo=OSLO)


def pushes(meter: str, phases: int, n: int, *, seed: int = 7, start: dt.datetime = WINTER) -> list[Push]:
    return list(islice(SimulatedMeter(meter, phases, seed=seed, start=start).pushes(), n))


def decode(frames: list[bytes]) -> list[Any]:
    return list(Pipeline(strict=True).readings([b"".join(frames)], decoder=ReadingDecoder()))


# --------------------------------------------------------------------------------------------
# round trip through the real pipeline
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [WINTER, SUMMER], ids=["winter", "summer"])
@pytest.mark.parametrize(("meter", "phases"), ALL, ids=[f"{m}-{p}p" for m, p in ALL])
def test_every_frame_decodes_to_the_values_put_in(meter: str, phases: int, start: dt.datetime) -> None:
    got = pushes(meter, phases, 40, start=start)
    assert {p.list for p in got} == set(model_for(meter, phases).layouts), "every list of the meter"
    readings = decode([p.frame for p in got])
    assert len(readings) == len(got)
    named = False  # an Aidon list 1 names its maker only after a list with a list id (issue 13)
    for push, reading in zip(got, readings, strict=True):
        assert reading.layout == push.layout
        assert reading.list == push.list
        assert push.manufacturer == meter
        named = named or push.list != 1
        shared = reading.layout == "aidon-list1" and not named
        assert reading.manufacturer == (None if shared else meter)
        assert reading.values == push.values
        assert reading.meter_time == push.meter_time


@pytest.mark.parametrize(("meter", "phases"), ALL, ids=[f"{m}-{p}p" for m, p in ALL])
def test_values_are_exact_in_the_meters_resolution(meter: str, phases: int) -> None:
    """Kaifa currents in mA, Aidon in 0.1 A, Kamstrup voltage in whole volts, energy in 10 Wh or Wh."""
    model = model_for(meter, phases)
    for push in pushes(meter, phases, 40):
        for name, value in push.values.items():
            kind = name.split("_")[0]
            step = {"current": "current", "voltage": "voltage", "active": None, "reactive": None}.get(kind)
            if "energy" in name:
                step = "energy"
            if step is None or not isinstance(value, Decimal):
                continue
            assert value % model.resolution[step] == 0, (name, value)


# --------------------------------------------------------------------------------------------
# framing as each meter family does it
# --------------------------------------------------------------------------------------------

FRAMING = {
    # meter: (destination, source, control, APDU head up to the body or date-time)
    "aidon": (b"\x41", b"\x08\x83", 0x13, bytes.fromhex("0F 40000000 00")),
    "kaifa": (b"\x01", b"\x02\x01", 0x10, bytes.fromhex("0F 40000000 09 0C")),
    "kamstrup": (b"\x2b", b"\x21", 0x13, bytes.fromhex("0F 00000000 0C")),
}


@pytest.mark.parametrize(("meter", "phases"), ALL, ids=[f"{m}-{p}p" for m, p in ALL])
def test_addresses_control_and_header_date_time_form(meter: str, phases: int) -> None:
    destination, source, control, head = FRAMING[meter]
    for push in pushes(meter, phases, 12):
        (frame,) = FrameSplitter().feed(push.frame)
        assert (frame.destination, frame.source, frame.control) == (destination, source, control)
        assert frame.information[:3] == b"\xe6\xe7\x00"
        assert frame.information[3 : 3 + len(head)] == head


def test_kaifa_and_kamstrup_clocks_follow_their_vendors() -> None:
    """Aidon: Sunday = 0, deviation 0; Kaifa: 1-7, deviation 0x8000, status 0; Kamstrup: DST bit."""
    sunday = dt.datetime(2024, 7, 7, 11, 59, 50, tzinfo=OSLO)  # a Sunday in summer
    aidon = next(p for p in pushes("aidon", 3, 10, start=sunday) if p.list == 3)
    clock = aidon.frame[aidon.frame.index(b"\x09\x0c\x07\xe8") + 2 :][:12]
    assert clock[4] == 0 and clock[9:11] == b"\x00\x00" and clock[11] == 0
    kaifa = pushes("kaifa", 3, 1, start=sunday)[0]
    stamp = kaifa.frame[kaifa.frame.index(b"\x09\x0c") + 2 :][:12]
    assert stamp[4] == 7 and stamp[9:11] == b"\x80\x00" and stamp[11] == 0
    kamstrup = pushes("kamstrup", 1, 1, start=sunday)[0]
    stamp = kamstrup.frame[kamstrup.frame.index(b"\x0c\x07\xe8") + 1 :][:12]
    assert stamp[4] == 7 and stamp[9:11] == b"\x80\x00" and stamp[11] == 0x80
    winter = pushes("kamstrup", 1, 1)[0]
    stamp = winter.frame[winter.frame.index(b"\x0c\x07\xe8") + 1 :][:12]
    assert stamp[11] == 0x00


def test_unknown_meter_is_a_typed_error() -> None:
    with pytest.raises(SimulatorError, match="no simulated landisgyr meter"):
        SimulatedMeter("landisgyr")
    with pytest.raises(SimulatorError):
        SimulatedMeter("aidon", phases=2)


# --------------------------------------------------------------------------------------------
# cadence
# --------------------------------------------------------------------------------------------


def _times(got: list[Push], level: int) -> list[float]:
    return [p.at for p in got if p.list == level]


@pytest.mark.parametrize(
    ("meter", "list1", "list3_at"), [("aidon", 2.5, 10), ("kaifa", 2.0, 10), ("kamstrup", None, 5)]
)
def test_cadence(meter: str, list1: float | None, list3_at: int) -> None:
    got = pushes(meter, 3, 400, start=dt.datetime(2024, 1, 16, 16, 50, 0, tzinfo=OSLO))
    # list 2 every 10 s at xx:xx:x0; where list 3 falls on the same instant, it replaces list 2
    tens = sorted(_times(got, 2) + [t for t in _times(got, 3) if t % 10 == 0])
    assert tens and {b - a for a, b in pairwise(tens)} == {10} and all(t % 10 == 0 for t in tens)
    if list1 is None:
        assert not _times(got, 1)
    else:
        every = sorted(_times(got, 1) + _times(got, 2) + _times(got, 3))
        assert {round(b - a, 3) for a, b in pairwise(every)} == {list1}
    (hourly,) = [p for p in got if p.list == 3]
    sent = dt.datetime.fromtimestamp(hourly.at, OSLO)
    assert (sent.hour, sent.minute, sent.second) == (17, 0, list3_at)
    assert hourly.meter_time is not None
    expected_clock = sent.replace(second=0) if meter != "kamstrup" else sent
    assert hourly.meter_time == expected_clock


# --------------------------------------------------------------------------------------------
# plausibility
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("meter", "phases"), ALL, ids=[f"{m}-{p}p" for m, p in ALL])
def test_currents_follow_power_and_voltage(meter: str, phases: int) -> None:
    for push in pushes(meter, phases, 200):
        v = push.values
        if push.list == 1:
            continue
        p = v["active_power_import"]
        q = v["reactive_power_import"] - v["reactive_power_export"]
        apparent = math.hypot(p, q)
        volts = [float(v[f"voltage_l{k}"]) for k in range(1, phases + 1)]
        amps = [float(v[f"current_l{k}"]) for k in range(1, phases + 1)]
        assert all(215 <= u <= 245 for u in volts), volts
        assert sum(u * i for u, i in zip(volts, amps, strict=True)) == pytest.approx(
            apparent, rel=0.03, abs=8
        )


def test_voltages_move_but_stay_near_230() -> None:
    got = [p for p in pushes("aidon", 3, 2000) if p.list != 1]
    seen = {p.values["voltage_l1"] for p in got}
    assert len(seen) > 5
    assert all(Decimal(220) < u < Decimal(240) for u in seen)


def test_energy_counters_follow_power() -> None:
    """Counter difference between two hourly lists = the mean power over that hour."""
    got = pushes("kamstrup", 3, 800, start=dt.datetime(2024, 1, 16, 16, 59, 0, tzinfo=OSLO))
    hourly = [p for p in got if p.list == 3]
    assert len(hourly) >= 2
    a, b = hourly[0], hourly[1]
    delta_kwh = b.values["active_energy_import"] - a.values["active_energy_import"]
    powers = [p.values["active_power_import"] for p in got if a.at <= p.at < b.at]
    mean_kw = sum(powers) / len(powers) / 1000
    assert float(delta_kwh) == pytest.approx(mean_kw, rel=0.05)
    for name in ("active_energy_import", "reactive_energy_import", "reactive_energy_export"):
        assert b.values[name] >= a.values[name]


def test_power_has_a_daily_shape() -> None:
    def mean(hour: int) -> float:
        start = dt.datetime(2024, 1, 16, hour, 0, tzinfo=OSLO)
        values = [
            p.values["active_power_import"]
            for seed in (1, 2, 3)
            for p in pushes("kamstrup", 3, 120, seed=seed, start=start)
        ]
        return sum(values) / len(values)

    assert mean(18) > 2 * mean(3)


def test_power_random_walks() -> None:
    values = [p.values["active_power_import"] for p in pushes("aidon", 3, 300)]
    steps = [abs(b - a) for a, b in pairwise(values)]
    assert len(set(values)) > 100
    assert max(steps) > 0 and sorted(steps)[len(steps) // 2] < 200  # moves, mostly by small steps


def test_same_seed_same_frames_other_seed_other_frames() -> None:
    a = [p.frame for p in pushes("kaifa", 3, 50, seed=1)]
    b = [p.frame for p in pushes("kaifa", 3, 50, seed=1)]
    c = [p.frame for p in pushes("kaifa", 3, 50, seed=2)]
    assert a == b
    assert a != c


# --------------------------------------------------------------------------------------------
# pacing
# --------------------------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_paced_follows_the_meter_clock_scaled_by_speed() -> None:
    t = FakeTime()
    sim = SimulatedMeter("aidon", 3, seed=1, start=WINTER)
    out = []
    for push in islice(paced(sim.pushes(), 10.0, clock=t.clock, sleep=t.sleep), 9):
        out.append((push.at, t.now))
    first_at, first_now = out[0]
    for at, now in out:
        assert now - first_now == pytest.approx((at - first_at) / 10.0)


def test_speed_zero_never_waits() -> None:
    t = FakeTime()
    sim = SimulatedMeter("aidon", 3, seed=1, start=WINTER)
    list(islice(paced(sim.pushes(), 0, clock=t.clock, sleep=t.sleep), 50))
    assert t.sleeps == []


def test_live_chunks_tick_while_waiting() -> None:
    t = FakeTime()
    sim = SimulatedMeter("kamstrup", 3, seed=1, start=WINTER)
    chunks = list(islice(live_chunks(sim.pushes(), 1.0, tick=0.5, clock=t.clock, sleep=t.sleep), 40))
    frames = [c for c in chunks if c]
    assert len(frames) >= 2
    between = chunks.index(frames[1]) - chunks.index(frames[0]) - 1
    assert between == 9  # 17:00:00 list 2, 17:00:05 list 3: ticks every 0.5 s in between
    assert max(t.sleeps) <= 0.5


# --------------------------------------------------------------------------------------------
# the command
# --------------------------------------------------------------------------------------------


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        amsread(*args), input=stdin, capture_output=True, timeout=HARD_TIMEOUT, env=child_env()
    )


START = "2024-01-16T16:59:50"


def test_simulate_stdout_binary_decodes_with_amsread() -> None:
    sim = run("simulate", "--speed", "0", "--count", "12", "--seed", "5", "--start", START)
    assert sim.returncode == 0, sim.stderr
    assert sim.stderr.decode().strip() == "12 frames simulated: 9 list 1, 2 list 2, 1 list 3"
    expected = [p.frame for p in pushes("aidon", 3, 12, seed=5)]
    assert sim.stdout == b"".join(expected)
    out = run("json", "-", "-q", stdin=sim.stdout)
    assert out.returncode == 0
    assert len(out.stdout.decode().splitlines()) == 12


def test_simulate_hex_to_file(tmp_path: Any) -> None:
    target = tmp_path / "k.hex"
    sim = run(
        "simulate",
        "--meter",
        "kamstrup",
        "--phases",
        "1",
        "--speed",
        "0",
        "--count",
        "3",
        "--hex",
        "-o",
        str(target),
        "--seed",
        "1",
        "--start",
        START,
        "-q",
    )
    assert sim.returncode == 0 and sim.stdout == b"" and sim.stderr == b""
    lines = target.read_text().splitlines()
    assert len(lines) == 3 and all(line.startswith("7E A") and line.endswith(" 7E") for line in lines)
    out = run("json", str(target), "-q")
    assert out.stdout.decode().count('"manufacturer": "kamstrup"') == 3


def test_simulate_pty_serves_a_reader() -> None:
    with process(
        amsread("simulate", "--pty", "--speed", "50", "--seed", "2"), stderr=subprocess.PIPE, env=child_env()
    ) as sim:
        err = Lines(sim.stderr)
        path = err.wait_for(lambda line: line.startswith("pty: ")).split(": ", 1)[1]
        out = subprocess.run(
            amsread("json", path, "--count", "4", "-q"), capture_output=True, timeout=HARD_TIMEOUT
        )
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.decode().splitlines()) == 4


def test_simulate_listen_serves_each_client() -> None:
    port = free_port()
    with process(
        amsread("simulate", "--listen", f"127.0.0.1:{port}", "--speed", "100", "--seed", "2"),
        stderr=subprocess.PIPE,
        env=child_env(),
    ) as sim:
        err = Lines(sim.stderr)
        err.wait_for(lambda line: line == f"listening on 127.0.0.1:{port}")
        for _ in range(2):
            out = subprocess.run(
                amsread("json", f"socket://127.0.0.1:{port}", "--count", "3", "-q"),
                capture_output=True,
                timeout=HARD_TIMEOUT,
            )
            assert out.returncode == 0, out.stderr
            assert len(out.stdout.decode().splitlines()) == 3
        err.wait_for(lambda line: line == "client disconnected")


def test_simulate_listen_on_port_zero_names_the_port() -> None:
    with process(
        amsread("simulate", "--listen", "127.0.0.1:0", "--speed", "100"),
        stderr=subprocess.PIPE,
        env=child_env(),
    ) as sim:
        line = Lines(sim.stderr).wait_for(lambda line: line.startswith("listening on "))
    assert int(line.rsplit(":", 1)[1]) > 0
