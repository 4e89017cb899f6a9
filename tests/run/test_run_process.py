"""``amsread run`` end to end: a real child process reading a real pty, a real SQLite file, a real
broker (mosquitto where installed, else amqtt), real TCP clients of ``--share``.

The reference is always what ``amsread json`` prints. Frames that arrive on a live port carry
``received_at``; a replayed capture has none, so the comparison with ``amsread json FILE`` leaves
that one key out, and the ``--jsonl`` file of the same run stands for the live records.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import sqlite3
from pathlib import Path

import pytest

from amsread.formats import json_line
from amsread.simulator import OSLO, SimulatedMeter
from amsread.store import read_readings
from helpers.captures import PLAIN, amsread_json, captures_file
from helpers.mqtt_broker import TIMEOUT, Broker, Relay, Subscriber
from helpers.running import RunProcess, lines_of, row_count, wait_until
from helpers.vectors import raw

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")

AIDON = "7359992891237028"
#: The meter of the fw_aidon_list3_* captures.
FW_AIDON = "7359992890497997"
PASSWORD = "pw-Zq8!never-print-me"
ALL_FRAMES = b"".join(raw(v) for v in PLAIN)


def without_received_at(line: str) -> str:
    record = json.loads(line)
    record.pop("received_at", None)
    return json.dumps(record)


def same_records(live: list[str], replayed: list[str]) -> bool:
    return [without_received_at(x) for x in live] == [without_received_at(x) for x in replayed]


def test_db_and_files_hold_what_amsread_json_prints_and_sigterm_loses_nothing(
    tmp_path: Path, pty: tuple[int, str], runs: list[RunProcess]
) -> None:
    """Every plain capture through a pty: the jsonl file is ``amsread json``'s records, the CSV has
    one header, the database rows print as the same records; SIGTERM exits 0 with the summary,
    and every reading is in the database (the last second's commit is made at the stop)."""
    master, name = pty
    db, jsonl, csv_file = tmp_path / "h.db", tmp_path / "r.jsonl", tmp_path / "p.csv"
    reference = amsread_json(captures_file(tmp_path))
    run = RunProcess(master, name, "--db", str(db), "--jsonl", str(jsonl), "--csv", str(csv_file))
    runs.append(run)
    run.write(ALL_FRAMES)
    wait_until(lambda: len(lines_of(jsonl)) >= len(reference), "every reading in the jsonl file")
    assert run.stop(signal.SIGTERM) == 0
    assert any("frames:" in line or " readings" in line for line in run.err.lines), run.err.lines
    assert any(f"db: {len(reference)} handled" in line for line in run.err.lines), run.err.lines
    live = lines_of(jsonl)
    assert same_records(live, reference)
    stored = [json_line(s.reading) for s in read_readings(db)]
    assert stored == live
    rows = lines_of(csv_file)
    assert rows[0].startswith("received_at,") and len(rows) == len(reference) + 1


def test_appending_adds_no_second_csv_header(
    tmp_path: Path, pty: tuple[int, str], runs: list[RunProcess]
) -> None:
    master, name = pty
    csv_file = tmp_path / "p.csv"
    for _ in range(2):
        run = RunProcess(master, name, "--no-db", "--csv", str(csv_file))
        runs.append(run)
        run.write(raw("doc_aidon_6534_list2"))
        wait_until(lambda: len(lines_of(csv_file)) >= 2 + len(runs) - 1, "a row")
        assert run.stop() == 0
    rows = lines_of(csv_file)
    assert len(rows) == 3 and rows[0].startswith("received_at,") and not rows[2].startswith("received_at")


def test_kill_9_mid_run_keeps_every_committed_row_and_a_sound_file(
    tmp_path: Path, pty: tuple[int, str], runs: list[RunProcess]
) -> None:
    master, name = pty
    db, jsonl = tmp_path / "h.db", tmp_path / "r.jsonl"
    run = RunProcess(master, name, "--db", str(db), "--jsonl", str(jsonl))
    runs.append(run)
    run.write(ALL_FRAMES)
    wait_until(lambda: row_count(db) > 0, "a commit")
    committed = row_count(db)
    os.kill(run.proc.pid, signal.SIGKILL)
    run.proc.wait(TIMEOUT)
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    stored = [json_line(s.reading) for s in read_readings(db)]
    assert len(stored) >= committed
    assert stored == lines_of(jsonl)[: len(stored)]


def test_state_is_every_reading_as_printed_and_the_will_says_offline_on_kill_9(
    tmp_path: Path, pty: tuple[int, str], runs: list[RunProcess], broker: Broker
) -> None:
    master, name = pty
    jsonl = tmp_path / "r.jsonl"
    status = f"amsread/{AIDON}/status"
    watcher = Subscriber(broker, "amsread/+/state", status)
    try:
        run = RunProcess(master, name, "--no-db", "--jsonl", str(jsonl), "--mqtt", broker.url())
        runs.append(run)
        run.write(raw("doc_aidon_6534_list2"))  # a meter id: the publisher connects
        assert watcher.wait_for(status)[0].payload == b"online"
        run.write(ALL_FRAMES)
        wait_until(lambda: len(lines_of(jsonl)) > len(PLAIN), "every reading in the jsonl file")

        def states() -> list[str]:
            return [m.payload.decode() for m in watcher.messages if m.topic.endswith("/state")]

        wait_until(lambda: len(states()) >= len(PLAIN), "a state message per reading")
        live = lines_of(jsonl)
        # the first reading may come before the connection; every later one is published as printed
        assert states()[-len(PLAIN) :] == live[1:]
        # the same bytes, the Aidon list 2 first, through `amsread json`: that list names the
        # meter, so the lone Aidon list 1 after it is named too (issue 13's rule), as in `run`
        stream = tmp_path / "stream.bin"
        stream.write_bytes(raw("doc_aidon_6534_list2") + ALL_FRAMES)
        assert same_records(live[1:], amsread_json(stream)[1:])
        os.kill(run.proc.pid, signal.SIGKILL)
        wait_until(lambda: watcher.payloads(status)[-1] == b"offline", "the last will")
    finally:
        watcher.close()


def hourly_frames(count: int) -> list[bytes]:
    """``count`` hourly lists (list 3) of one simulated Kaifa meter, an hour apart."""
    sim = SimulatedMeter("kaifa", 3, seed=7, start=dt.datetime(2026, 1, 5, 0, 59, 50, tzinfo=OSLO))
    out: list[bytes] = []
    for push in sim.pushes():
        if push.list == 3:
            out.append(push.frame)
            if len(out) == count:
                return out
    raise AssertionError("unreachable")


def test_energy_is_retained_without_stale_lists_and_survives_a_broker_restart(
    tmp_path: Path, pty: tuple[int, str], runs: list[RunProcess], broker: Broker
) -> None:
    """fw_aidon_list3_3 repeats list3_2's meter clock: on ``state``, never on ``energy``. Then the
    broker stops mid-run, hourly lists keep coming, the broker starts again: none is lost."""
    master, name = pty
    jsonl = tmp_path / "r.jsonl"
    relay = Relay(broker.port)
    watcher = Subscriber(broker, "amsread/+/energy")
    try:
        run = RunProcess(
            master, name, "--no-db", "--jsonl", str(jsonl), "--mqtt", f"mqtt://127.0.0.1:{relay.port}"
        )
        runs.append(run)
        run.write(b"".join(raw(f"fw_aidon_list3_{i}") for i in (1, 2, 3, 4)))
        got = watcher.wait_for(f"amsread/{FW_AIDON}/energy", 3)
        live = lines_of(jsonl)
        assert [m.payload.decode() for m in got] == [live[0], live[1], live[3]]
        assert all(m.qos == 1 for m in got)
        later = Subscriber(broker, f"amsread/{FW_AIDON}/energy")
        try:
            assert [(m.payload.decode(), m.retain) for m in later.wait_for(f"amsread/{FW_AIDON}/energy")] == [
                (live[3], True)
            ]
        finally:
            later.close()
        watcher.close()

        broker.stop()
        run.wait_for("lost")
        frames = hourly_frames(4)
        run.write(b"".join(frames))
        wait_until(lambda: len(lines_of(jsonl)) == 8, "the hourly lists read during the outage")
        relay.open.clear()  # let our subscriber in first, so it sees every queued message arrive
        broker.start()
        watcher = Subscriber(broker, "amsread/+/energy")
        relay.open.set()
        kaifa = watcher.wait_for(f"amsread/{json.loads(lines_of(jsonl)[4])['meter_id']}/energy", 4)
        assert [m.payload.decode() for m in kaifa] == lines_of(jsonl)[4:]
        assert run.stop() == 0
    finally:
        watcher.close()
        relay.close()


def test_the_password_is_in_no_output(tmp_path: Path, pty: tuple[int, str], runs: list[RunProcess]) -> None:
    """Nothing listens on the broker's port: every notice names the broker, none its password,
    and the advice to keep it out of ``ps`` does not repeat it either."""
    master, name = pty
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    run = RunProcess(master, name, "--no-db", "--mqtt", f"mqtt://user:{PASSWORD}@127.0.0.1:{port}")
    runs.append(run)
    run.write(raw("doc_aidon_6534_list2"))
    run.wait_for("cannot connect")
    assert run.stop() == 0
    out = run.proc.stdout.read() if run.proc.stdout else b""
    text = "\n".join(run.err.lines)
    assert "ps shows it" in text and "user:***@127.0.0.1" in text
    assert PASSWORD not in text and PASSWORD.encode() not in out


def test_ctrl_c_exits_130_after_committing_every_reading(
    tmp_path: Path, pty: tuple[int, str], runs: list[RunProcess]
) -> None:
    master, name = pty
    db, jsonl = tmp_path / "h.db", tmp_path / "r.jsonl"
    run = RunProcess(master, name, "--db", str(db), "--jsonl", str(jsonl))
    runs.append(run)
    run.write(ALL_FRAMES)
    wait_until(lambda: len(lines_of(jsonl)) >= len(PLAIN), "every reading in the jsonl file")
    assert run.stop(signal.SIGINT) == 130
    assert any(f"db: {len(PLAIN)} handled" in line for line in run.err.lines), run.err.lines
    assert row_count(db) == len(PLAIN)
