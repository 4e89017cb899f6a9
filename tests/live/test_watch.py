"""``amsread watch``: the live view in a real terminal, the one-line form in a pipe, and the state
behind them (latest value per quantity across lists, with its age).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from collections.abc import Iterator
from decimal import Decimal
from itertools import islice
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import STALE_HOURLY, Pipeline
from amsread.live.formats import BLOCKS, age_text, number, reading_line, sparkline
from amsread.live.state import WatchState
from amsread.live.view import View
from amsread.simulator import OSLO, Push, SimulatedMeter
from amsread.wire.framer import Stats
from helpers.live import HARD_TIMEOUT, Lines, Screen, amsread, child_env, process
from helpers.vectors import raw

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")

START = dt.datetime(2024, 1, 16, 16, 59, 55, tzinfo=OSLO)


def pushes(meter: str = "aidon", n: int = 7, seed: int = 4) -> list[Push]:
    return list(islice(SimulatedMeter(meter, 3, seed=seed, start=START).pushes(), n))


def decode(got: list[Push]) -> list[Any]:
    return list(Pipeline(strict=True).readings([b"".join(p.frame for p in got)], decoder=ReadingDecoder()))


# --------------------------------------------------------------------------------------------
# formatting
# --------------------------------------------------------------------------------------------


def test_number_groups_thousands_and_keeps_exact_digits() -> None:
    assert number(1523) == "1 523"
    assert number(Decimal("12880.70")) == "12 880.70"
    assert number(Decimal("0.001")) == "0.001"
    assert number("6534") == "6534"


def test_age_text() -> None:
    assert [age_text(s) for s in (0.04, 9.96, 12, 119, 600, 3725)] == [
        "0.0 s",
        "10.0 s",
        "12 s",
        "119 s",
        "10 min",
        "1 h 2 min",
    ]


def test_sparkline_scales_and_leaves_unknown_time_blank() -> None:
    samples = [(90.0 + i, float(i)) for i in range(10)]
    (line,) = sparkline(samples, now=100.0, window=20.0, width=20)
    assert line[:10] == " " * 10  # no history yet for the first half of the window
    assert line[10] == BLOCKS[0] and line[-1] == BLOCKS[-1]
    top, bottom = sparkline(samples, now=100.0, window=20.0, width=20, rows=2)
    assert bottom[-1] == BLOCKS[-1] and top[-1] == BLOCKS[-1]
    assert top[10] == " " and bottom[10] == BLOCKS[0]
    assert sparkline([], 0, 10, 5) == ["     "]


def test_reading_line_is_one_readable_line_per_reading() -> None:
    readings = decode(pushes())
    assert reading_line(readings[0]) == "-  ?  list 1  P+ 1057 W"  # a lone list 1 names no maker
    assert reading_line(readings[1]) == (
        "-  aidon  list 2  P+ 1031 W  P- 0 W  Q+ 164 var  Q- 0 var  I 1.5/1.5/1.6 A  U 227.7/227.0/229.1 V"
        "  AIDON_V0001  7359992890941742  6534"
    )
    assert reading_line(readings[5]).startswith("2024-01-16 17:00:00  aidon  list 3  P+ 1227 W")
    assert "A+ 47788.45 kWh  A- 521.66 kWh  R+ 2094.76 kvarh  R- 725.42 kvarh" in reading_line(readings[5])


# --------------------------------------------------------------------------------------------
# display state and the view, rendered in-process
# --------------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_state_keeps_latest_per_quantity_across_lists_with_ages() -> None:
    clock = Clock()
    state = WatchState(clock=clock)
    readings = decode(pushes())
    state.update(readings[1])  # list 2
    clock.now += 7.5
    state.update(readings[2])  # list 1: power only
    assert state.latest["active_power_import"].value == 1206
    assert state.latest["active_power_import"].list == 1
    assert state.latest["voltage_l1"].value == Decimal("227.7")  # kept from list 2
    assert state.age(("voltage_l1", "current_l1")) == (7.5, {2})
    assert state.age(("active_power_import",)) == (0.0, {1})
    assert state.age(("active_energy_import",)) is None
    assert len(state.trend) == 2


def squeezed(text: str) -> str:
    """Each line with runs of spaces made one: the tests check content, not column widths."""
    return "\n".join(" ".join(line.split()) for line in text.splitlines())


def render(view: View, width: int = 80) -> str:
    console = Console(width=width, record=True, force_terminal=False, color_system=None)
    console.print(view)
    return console.export_text()


def test_view_shows_every_quantity_with_units_and_ages() -> None:
    clock = Clock()
    state = WatchState(clock=clock)
    got = pushes()
    readings = decode(got)
    stats = Stats()
    stats.splitter.frames_good = 7
    stats.errors["bad FCS"] = 2
    stats.last_frame_at = time.time()
    for r in readings[:6]:
        state.update(r)
        clock.now += 2.5
    state.update(readings[6])
    raw = render(View(state, stats, "/dev/ttyUSB0 2400 8E1"))
    assert len(raw.splitlines()) <= 24 and max(len(line) for line in raw.splitlines()) <= 80
    text = squeezed(raw)
    for expected in (
        "Import 1 260 W",
        "Export 0 W",
        "Reactive + 234 var",
        "L1 2.1 A 227.8 V",
        "L3 1.7 A 229.4 V",
        "47 788.45 kWh",
        "521.66 kWh",
        "2 094.76 kvarh",
        "725.42 kvarh",
        "Aidon 6534",
        "7359992890941742",
        "AIDON_V0001",
        "clock 2024-01-16 17:00:00",
        "7 good · 2 bad frames",
        "/dev/ttyUSB0 2400 8E1",
    ):
        assert expected in text, f"{expected!r} not in\n{text}"
    assert "Power · list 1 · 0.0 s ago" in text
    assert "Phases · list 3 · 2.5 s ago" in text
    assert "Energy counters · list 3 · 2.5 s ago" in text
    assert "list 3 · 2.5 s ago" in text.split("Export")[1].splitlines()[0]  # export is older than import


def test_view_before_anything_arrived_says_what_to_check() -> None:
    clock = Clock()
    state = WatchState(clock=clock)
    clock.now += 30
    text = render(View(state, Stats(), "/dev/ttyUSB0 2400 8E1"))
    assert "waiting for the first bytes" in text
    assert "No bytes yet" in text and "amsread probe" in text
    assert "The counters come once an hour" in text and "Currents and voltages" in text


def test_view_shows_quantities_outside_the_contract() -> None:
    clock = Clock()
    state = WatchState(clock=clock)
    (reading,) = decode(pushes("kamstrup", 1))
    reading.values["power_factor"] = Decimal("0.97")
    state.update(reading)
    assert "power_factor" in render(View(state, Stats(), "x"))


# --------------------------------------------------------------------------------------------
# in a real terminal
# --------------------------------------------------------------------------------------------


class Terminal:
    """A pseudo-terminal of a fixed size with a child on it; ``screen`` is what a person would see."""

    def __init__(self, argv: list[str], cols: int = 80, rows: int = 24) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = child_env(TERM="xterm-256color")
        env.pop("NO_COLOR", None)
        env.pop("FORCE_COLOR", None)
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env, start_new_session=True
        )
        os.close(slave)
        self.screen = Screen(cols, rows)
        self.err = Lines(self.proc.stderr)
        self.closed = False

    def pump(self, timeout: float) -> None:
        if self.closed:
            return
        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: the child closed the terminal
                data = b""
            if data:
                self.screen.feed(data)
            else:
                self.closed = True

    def wait_for(self, *texts: str, timeout: float = HARD_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.screen.text()
            if all(t in text for t in texts):
                return text
            assert time.monotonic() < deadline, (
                f"{texts} not on the screen:\n{text}\nstderr: {self.err.lines}"
            )
            self.pump(0.05)

    def finish(self, timeout: float = HARD_TIMEOUT) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None or not self.closed:
            assert time.monotonic() < deadline, "the child did not end"
            self.pump(0.05)
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                break
        self.err.drain()
        return self.proc.wait(HARD_TIMEOUT)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(HARD_TIMEOUT)
        os.close(self.master)
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@pytest.fixture
def terminal() -> Iterator[type[Terminal]]:
    made: list[Terminal] = []

    class Made(Terminal):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    yield Made
    for t in made:
        t.close()


def test_live_view_of_a_capture_shows_the_known_frames_values(
    terminal: type[Terminal], tmp_path: Path
) -> None:
    capture = tmp_path / "meter.bin"
    got = pushes()
    capture.write_bytes(b"".join(p.frame for p in got))
    term = terminal(amsread("watch", str(capture)))
    assert term.finish() == 0
    text = squeezed(term.screen.text())
    last = got[-1].values  # list 1
    hourly = got[5].values  # list 3
    assert f"Import {number(last['active_power_import'])} W" in text
    assert f"L1 {hourly['current_l1']} A {hourly['voltage_l1']} V" in text
    assert f"L2 {hourly['current_l2']} A {hourly['voltage_l2']} V" in text
    assert f"{number(hourly['active_energy_import'])} kWh" in text
    assert f"{number(hourly['reactive_energy_export'])} kvarh" in text
    assert "7359992890941742" in text and "Aidon 6534" in text
    assert "7 good · 0 bad frames" in text
    assert term.err.lines[-1].startswith("7 frames: 7 readings;")


def test_live_demo_updates_in_place_and_ctrl_c_summarises(terminal: type[Terminal]) -> None:
    term = terminal(amsread("watch", "--demo", "--seed", "3", "--speed", "10"))
    first = term.wait_for(
        "Energy counters · list 3", "kWh", " W", " A ", " V", "7359992890941742", "AIDON_V0001"
    )
    assert "demo: simulated Aidon, 3-phase, 10× speed" in first
    match = re.search(r"(\d+) good", first)
    assert match is not None
    seen = int(match.group(1))
    term.wait_for(f"{seen + 3} good")  # counts on, in place
    text = term.screen.text()
    assert text.count("amsread watch") == 1, "the view is redrawn in place, not appended"
    term.proc.send_signal(signal.SIGINT)
    assert term.finish() == 130
    assert re.fullmatch(r"\d+ frames: \d+ readings; \d+ bytes, 0 discarded", term.err.lines[-1])
    assert not any("Traceback" in line for line in term.err.lines)


def test_piped_watch_prints_a_line_per_reading() -> None:
    with process(
        amsread("watch", "--demo", "--seed", "3", "--speed", "50", "--count", "5", "--meter", "kaifa"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    ) as proc:
        out = Lines(proc.stdout).drain()
        err = Lines(proc.stderr).drain()
        assert proc.wait(HARD_TIMEOUT) == 0
    lines = [line for line in out if line]
    assert len(lines) == 5
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  kaifa  list 2  P\+ \d+ W  P- 0 W", lines[0])
    assert all(
        re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d  kaifa  list [123]  P\+ \d+ W", line) for line in lines
    )
    assert err[-1].startswith("5 frames: 5 readings;")


def test_a_stale_hourly_list_is_no_bad_frame_in_the_view() -> None:
    pipeline = Pipeline()
    stream = raw("fw_aidon_list3_2") + raw("fw_aidon_list3_3")
    list(pipeline.readings([stream], decoder=ReadingDecoder()))
    assert pipeline.stats.warnings == {STALE_HOURLY: 1}
    assert "2 good · 0 bad frames" in squeezed(render(View(WatchState(), pipeline.stats, "capture")))


# --------------------------------------------------------------------------------------------
# the month from the history database
# --------------------------------------------------------------------------------------------


def _evening(path: Path, start: dt.datetime, hours: float, seed: int) -> Path:
    sim = SimulatedMeter("kamstrup", 3, seed=seed, start=start)
    with path.open("wb") as f:
        for push in sim.pushes():
            if sim.now > start + dt.timedelta(hours=hours):
                break
            f.write(push.frame)
    return path


def test_watch_with_a_history_database_shows_the_months_peaks_without_a_grid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An evening stored by ``run`` (its database), then ``watch --plain`` of the next evening:
    at the hourly list the month's peaks count the stored evening, as ``report`` has them; the
    step is left to --grid. Without the database the month is only what the watch saw."""
    from amsread.store import HistoryStore
    from helpers.captures import decode_file
    from helpers.cli import run

    db = tmp_path / "history.db"
    store = HistoryStore(db, retention_days=1e6)
    for reading in decode_file(
        _evening(tmp_path / "oct1.bin", dt.datetime(2026, 10, 1, 17, 0, 1, tzinfo=OSLO), 2.2, 1)
    ):
        store.handle(reading)
    store.close()
    code, report, _ = run("report", str(db), "--month", "2026-10", "--format", "json")
    ((peak,),) = [json.loads(line)["peaks"] for line in report.splitlines()]
    today = _evening(tmp_path / "oct2.bin", dt.datetime(2026, 10, 2, 16, 50, tzinfo=OSLO), 0.25, 2)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "nothing-here"))  # no default database

    def watched(*args: str) -> list[str]:
        code, _, err = run("watch", str(today), "--plain", *args)
        assert code == 0, err
        return err.splitlines()

    with_db = watched("--db", str(db))
    months = [line for line in with_db if line.startswith("Peaks this month: ")]
    assert months and all(line.startswith(f"Peaks this month: {peak['import_kwh']:.3f}, ") for line in months)
    assert "--grid COMPANY adds the step and the kWh left this hour" in with_db
    assert not any(line.startswith("Peaks this month") for line in watched())  # no database: no month
    code, _, err = run("watch", str(today), "--db", str(tmp_path / "typo.db"))
    assert code == 2 and err.strip().endswith("typo.db") and "no history database at" in err


def test_the_demo_leaves_the_default_database_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """run's default database, when it exists, gives a real meter's watch the month; a simulated
    meter's month is not the house's, so --demo takes a database only when named."""
    from amsread.store import HistoryStore, default_path
    from helpers.cli import run

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    HistoryStore(default_path()).close()  # exists, and holds nothing
    capture = _evening(tmp_path / "oct2.bin", dt.datetime(2026, 10, 2, 16, 59, tzinfo=OSLO), 0.05, 2)
    code, _, err = run("watch", str(capture), "--plain")
    assert code == 0 and f"the month so far: 0 readings from {default_path()}" in err
    assert f"reading the month so far from {default_path()}…" in err  # said before the wait
    code, _, err = run("watch", "--demo", "--plain", "--speed", "100", "--count", "3")
    assert code == 0 and "the month so far" not in err
    code, _, err = run(
        "watch", "--demo", "--plain", "--speed", "100", "--count", "3", "--db", str(default_path())
    )
    assert code == 0 and "the month so far: 0 readings" in err
