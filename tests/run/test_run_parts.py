"""The parts of ``amsread run`` on their own: the raw share, the config file and the environment,
a destination that is stuck or failing, and the files that start anew each day.

Everything is real: a pty and TCP clients on 127.0.0.1 for the share, a named pipe nobody reads
for a stuck destination, a directory that is a file for a failing one, real captures for readings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import signal
import socket
import threading
import time
from pathlib import Path

import pytest

from amsread.contract import Reading
from amsread.formats import json_line
from amsread.sinks.fanout import Fanout
from amsread.sinks.files import CsvFile, JsonlFile
from helpers.captures import captures_file, decode_file
from helpers.cli import run as run_cli
from helpers.running import RunProcess, lines_of, wait_until
from helpers.vectors import raw

OSLO = dt.timezone(dt.timedelta(hours=1))


def readings(tmp_path: Path) -> list[Reading]:
    return decode_file(captures_file(tmp_path))


# --------------------------------------------------------------------------------------------
# --share
# --------------------------------------------------------------------------------------------


class Client:
    """A TCP client of the share that reads everything in a thread (or, lazy, never reads)."""

    def __init__(self, port: int, *, lazy: bool = False) -> None:
        self.sock = socket.socket()
        if lazy:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        self.got = bytearray()
        self._thread = None if lazy else threading.Thread(target=self._read, daemon=True)
        if self._thread is not None:
            self._thread.start()

    def _read(self) -> None:
        try:
            while data := self.sock.recv(65536):
                self.got += data
        except OSError:
            pass

    def close(self) -> None:
        self.sock.close()


def test_share_serves_every_client_the_port_s_bytes_and_drops_one_that_stops_reading(
    pty: tuple[int, str], runs: list[RunProcess], tmp_path: Path
) -> None:
    master, name = pty
    run = RunProcess(master, name, "--no-db", "--share", "127.0.0.1:0")
    runs.append(run)
    line = run.wait_for("share: serving the raw bytes on ")
    match = re.search(r":(\d+)$", line)
    assert match
    port = int(match.group(1))
    clients = [Client(port), Client(port), Client(port, lazy=True)]
    try:
        run.wait_count(" connected", 3)
        # far more than the lazy client's kernel buffers and its backlog in amsread
        data = (raw("doc_aidon_6534_list2") + raw("fw_kaifa_list1_1")) * 8000
        run.write(data)
        run.wait_for("dropped (not reading)")
        wait_until(lambda: all(len(c.got) >= len(data) for c in clients[:2]), "both readers to get it all")
        assert bytes(clients[0].got) == data and bytes(clients[1].got) == data
        assert run.stop() == 0
        assert any("share: 3 clients served, 1 dropped" in x for x in run.err.lines), run.err.lines
    finally:
        for c in clients:
            c.close()


# --------------------------------------------------------------------------------------------
# --config and AMSREAD_...
# --------------------------------------------------------------------------------------------


def test_command_line_beats_environment_beats_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    capture = captures_file(tmp_path, ["doc_aidon_6534_list2", "doc_aidon_6534_list3"])
    config = tmp_path / "amsread.toml"
    config.write_text(
        f'source = "{tmp_path / "missing.bin"}"\nno-db = true\njsonl = "{tmp_path / "file.jsonl"}"\n'
        'mqtt_prefix = "house"\n'
    )
    monkeypatch.delenv("AMSREAD_SOURCE", raising=False)
    monkeypatch.delenv("AMSREAD_JSONL", raising=False)
    code, _, err = run_cli("run", "--config", str(config))
    assert code != 0 and "missing.bin" in err  # the file's source, for want of any other

    monkeypatch.setenv("AMSREAD_SOURCE", str(capture))
    code, _, err = run_cli("run", "--config", str(config))
    assert code == 0, err
    assert len(lines_of(tmp_path / "file.jsonl")) == 2

    monkeypatch.setenv("AMSREAD_JSONL", str(tmp_path / "env.jsonl"))
    code, _, err = run_cli("run", "--config", str(config))
    assert code == 0, err
    assert len(lines_of(tmp_path / "env.jsonl")) == 2 and len(lines_of(tmp_path / "file.jsonl")) == 2

    code, _, err = run_cli("run", "--config", str(config), "--jsonl", str(tmp_path / "cli.jsonl"))
    assert code == 0, err
    assert len(lines_of(tmp_path / "cli.jsonl")) == 2 and len(lines_of(tmp_path / "env.jsonl")) == 2

    monkeypatch.setenv("AMSREAD_CONFIG", str(config))  # the config file itself from the environment
    code, _, err = run_cli("run", str(capture))
    assert code == 0, err
    assert len(lines_of(tmp_path / "env.jsonl")) == 4


def test_a_config_file_with_an_unknown_key_or_bad_toml_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "amsread.toml"
    config.write_text('mqtt = "mqtt://localhost"\nmqtt_pasword = "x"\n')
    code, _, err = run_cli("run", "--config", str(config), "x.bin")
    assert code == 2 and "unknown key mqtt_pasword" in err and "Traceback" not in err
    config.write_text("mqtt = \n")
    code, _, err = run_cli("run", "--config", str(config), "x.bin")
    assert code == 2 and "not valid TOML" in err


def test_the_history_database_is_on_by_default_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    capture = captures_file(tmp_path, ["doc_aidon_6534_list3"])
    code, _, err = run_cli("run", str(capture))
    assert code == 0, err
    where = tmp_path / "data" / "amsread" / "history.db"
    assert f"history database: {where}" in err and where.exists()
    assert "db: 1 handled" in err


# --------------------------------------------------------------------------------------------
# destinations on their own
# --------------------------------------------------------------------------------------------


def test_a_stuck_destination_neither_blocks_reading_nor_the_others(tmp_path: Path) -> None:
    """A named pipe nobody reads: opening it for writing never returns. Every reading still goes
    to the file beside it, and ``handle`` returned for every reading (the loop finished)."""
    fifo = tmp_path / "stuck.jsonl"
    os.mkfifo(fifo)
    told: list[str] = []
    good = tmp_path / "good.jsonl"
    rows = readings(tmp_path) * 50
    fan = Fanout([JsonlFile(fifo), JsonlFile(good)], log=told.append, backlog=100, close_timeout=5.0)
    stuck, fine = fan.lanes
    try:
        for i, r in enumerate(rows, 1):
            fan.handle(r)
            if i % 50 == 0:  # a meter's pace: the working file keeps up, the stuck one cannot
                wait_until(lambda: fine.waiting == 0, "the working file to catch up")
        assert stuck.stats.dropped + stuck.stats.held >= len(rows) - 101  # hourly lists held, not dropped
        fan.lanes.remove(stuck)  # close the one that works; the stuck one is given up below
        fan.close()
        assert lines_of(good) == [json_line(r) for r in rows]
        assert any("jsonl: not keeping up" in t for t in told)
    finally:
        # let the stuck thread go: a reader drains the pipe while the lane finishes its queue
        drained = threading.Thread(target=lambda: Path(fifo).read_bytes(), daemon=True)
        drained.start()
        assert stuck.finish(time.monotonic() + 30)
        drained.join(30)


class Gate:
    """A destination that takes nothing until its gate opens: a disk that hangs, then recovers."""

    name = "gate"

    def __init__(self) -> None:
        self.open = threading.Event()
        self.got: list[Reading] = []

    def handle(self, reading: Reading, raw: object = None) -> None:
        self.open.wait(30)
        self.got.append(reading)

    def close(self) -> None:
        pass


def test_a_stuck_destination_loses_power_readings_but_never_an_hourly_list(tmp_path: Path) -> None:
    """While the queue is full, list 1/2 readings are dropped for the stuck destination, but the
    hourly lists are held aside and arrive, in order, once it moves again."""
    rows = readings(tmp_path)
    hourly = [r for r in rows if r.list == 3]
    power = [r for r in rows if r.list != 3]
    assert len(hourly) >= 2 and power
    gate = Gate()
    fan = Fanout([gate], log=lambda _: None, backlog=2, close_timeout=30.0)
    (lane,) = fan.lanes
    stream = [*power * 3, hourly[0], *power * 3, hourly[1], *power]
    for r in stream:
        fan.handle(r)
    assert lane.stats.held == 2 and lane.stats.dropped > 0
    gate.open.set()
    fan.close()
    assert [r for r in gate.got if r.list == 3] == hourly[:2]
    assert lane.stats.dropped + len(gate.got) == len(stream)


def test_a_failing_destination_is_told_and_retried_with_the_next_reading(tmp_path: Path) -> None:
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the directory should be")
    told: list[str] = []
    rows = readings(tmp_path)[:6]
    fan = Fanout([JsonlFile(blocker / "r.jsonl")], log=told.append)
    lane = fan.lanes[0]
    for r in rows[:3]:
        fan.handle(r)
    wait_until(lambda: lane.stats.failed == 3, "three failures")
    assert sum("will retry" in t for t in told) == 1  # told once, not per reading
    blocker.unlink()  # the disk is fixed
    for r in rows[3:]:
        fan.handle(r)
    fan.close()
    assert lines_of(blocker / "r.jsonl") == [json_line(r) for r in rows[3:]]
    assert any("working again" in t for t in told)


def test_a_strftime_name_starts_a_new_file_each_day_with_its_own_header(tmp_path: Path) -> None:
    rows = readings(tmp_path)[:4]
    days = [dt.datetime(2026, 3, d, 23, 59, 59, tzinfo=OSLO) for d in (1, 1, 2, 2)]
    stamped = [dataclasses.replace(r, received_at=d) for r, d in zip(rows, days, strict=True)]
    sink = CsvFile(tmp_path / "power-%Y-%m-%d.csv")
    for r in stamped:
        sink.handle(r)
    sink.close()
    first, second = (lines_of(tmp_path / f"power-2026-03-0{d}.csv") for d in (1, 2))
    assert len(first) == 3 and len(second) == 3
    assert first[0] == second[0] and first[0].startswith("received_at,")


def test_sigterm_on_a_replay_is_a_clean_stop_too(tmp_path: Path) -> None:
    """A long replay stopped by SIGTERM exits 0 with the summary (the signal raised mid-read)."""
    import subprocess
    import sys

    capture = tmp_path / "big.bin"
    capture.write_bytes(captures_file(tmp_path).read_bytes() * 3000)
    jsonl = tmp_path / "r.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "amsread", "run", str(capture), "--no-db", "--jsonl", str(jsonl)],
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: len(lines_of(jsonl)) > 10, "the run to get going")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = err.decode()
    assert proc.returncode == 0, text
    assert "jsonl: " in text and " handled" in text
    handled = int(re.search(r"jsonl: (\d+) handled", text).group(1))  # type: ignore[union-attr]
    assert len(lines_of(jsonl)) == handled


def test_a_replay_waits_for_a_slow_destination_instead_of_dropping(tmp_path: Path) -> None:
    """A capture file has no meter waiting behind it: with ``patient`` (set for every source that
    is not live) a full queue means wait, so a slow reader of a named pipe still gets every line."""
    fifo = tmp_path / "slow.jsonl"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(Path(fifo).read_bytes()), daemon=True)
    reader.start()
    rows = readings(tmp_path) * 25
    fan = Fanout([JsonlFile(fifo)], log=print, backlog=10)
    fan.patient = True
    for r in rows:
        fan.handle(r)
    fan.close()
    reader.join(30)
    assert fan.lanes[0].stats.dropped == 0
    assert got[0].decode().splitlines() == [json_line(r) for r in rows]


def test_service_doc_names_every_key_of_the_config_file() -> None:
    from amsread.cli.run import command

    text = (Path(__file__).resolve().parents[2] / "docs" / "service.md").read_text()
    keys = [p.name for p in command.params if p.name not in ("config", "debug")]
    missing = [k for k in keys if not re.search(rf"^#? ?{k} = ", text, re.MULTILINE)]
    assert not missing
    assert "Restart=always" in text and "dialout" in text and "socket://" in text


def test_a_file_destination_is_flushed_whenever_its_queue_runs_dry(tmp_path: Path) -> None:
    """Files are flushed when their lane has nothing more to write (issue 15: a write per burst on
    a replay, not per row), so on a live port every row is in the file while ``run`` waits."""
    good = tmp_path / "live.jsonl"
    rows = readings(tmp_path)
    fan = Fanout([JsonlFile(good), CsvFile(tmp_path / "live.csv")], log=print, backlog=100)
    try:
        for k, r in enumerate(rows[:3], 1):
            fan.handle(r)  # one reading, then the port is silent: the file has it, unclosed
            wait_until(lambda k=k: len(lines_of(good)) == k, "the row in the file before close")
            wait_until(lambda k=k: len(lines_of(tmp_path / "live.csv")) == k + 1, "the CSV row (and header)")
        assert lines_of(good) == [json_line(r) for r in rows[:3]]
    finally:
        fan.close()
