"""``amsread run`` on a P1 port, with no option saying so (issue 14): the real telegrams of
tests/data/p1 through a real pty into a child ``run`` with a SQLite file, a JSON-lines file and a
real broker; every destination holds what ``amsread json`` prints for the same bytes. A stream
that changes from HDLC to P1 mid-run (a user swapping meters) too.

Telegrams whose CRC does not match are in the stream on purpose: both commands skip them.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from amsread.formats import json_line
from amsread.store import read_readings
from helpers.captures import PLAIN, amsread_json
from helpers.mqtt_broker import Broker, Subscriber
from helpers.running import RunProcess, lines_of, wait_until
from helpers.telegrams import telegrams, wire
from helpers.vectors import raw

pytestmark = pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")

#: Every P1 telegram, good CRC, bad CRC and none (DSMR 2.2/3), in name order.
P1_STREAM = b"".join(wire(t["name"]) for t in telegrams())
HDLC_STREAM = b"".join(raw(v) for v in PLAIN)
FIRST = "be_fluvius_sagemcom"
FIRST_METER = "1SAG3105200877"


def _records(lines: list[str]) -> list[dict[str, object]]:
    """The records without ``received_at``: a live port stamps it, a replayed file has none."""
    out = []
    for line in lines:
        record = json.loads(line)
        record.pop("received_at", None)
        out.append(record)
    return out


def _reference(tmp_path: Path, data: bytes) -> list[str]:
    stream = tmp_path / "stream.bin"
    stream.write_bytes(data)
    return amsread_json(stream)


def test_run_on_p1_telegrams_writes_what_amsread_json_prints(
    tmp_path: Path, pty: tuple[int, str], runs: list[RunProcess], broker: Broker
) -> None:
    master, name = pty
    db, jsonl = tmp_path / "h.db", tmp_path / "r.jsonl"
    reference = _reference(tmp_path, wire(FIRST) + P1_STREAM)
    assert len(reference) >= 8  # the bad-CRC telegrams are skipped, the rest are readings
    status = f"amsread/{FIRST_METER}/status"
    watcher = Subscriber(broker, "amsread/+/state", status)
    try:
        run = RunProcess(master, name, "--db", str(db), "--jsonl", str(jsonl), "--mqtt", broker.url())
        runs.append(run)
        run.write(wire(FIRST))  # a meter id: the publisher connects
        assert watcher.wait_for(status)[0].payload == b"online"
        run.write(P1_STREAM)
        wait_until(lambda: len(lines_of(jsonl)) >= len(reference), "every reading in the jsonl file")

        def states() -> list[str]:
            return [m.payload.decode() for m in watcher.messages if m.topic.endswith("/state")]

        wait_until(lambda: len(states()) >= len(reference) - 1, "a state message per reading")
        assert run.stop(signal.SIGTERM) == 0
    finally:
        watcher.close()
    live = lines_of(jsonl)
    assert _records(live) == _records(reference)
    assert [json_line(s.reading) for s in read_readings(db)] == live
    # the first reading may come before the connection; every later one is published as printed
    assert states()[-(len(live) - 1) :] == live[1:]
    assert any(record.get("active_power_import_max_month") == 6235 for record in _records(live))


def test_run_follows_a_stream_that_changes_from_hdlc_to_p1(
    tmp_path: Path, pty: tuple[int, str], runs: list[RunProcess]
) -> None:
    master, name = pty
    db, jsonl = tmp_path / "h.db", tmp_path / "r.jsonl"
    reference = _reference(tmp_path, HDLC_STREAM + P1_STREAM)
    run = RunProcess(master, name, "--db", str(db), "--jsonl", str(jsonl))
    runs.append(run)
    run.write(HDLC_STREAM)
    run.write(P1_STREAM)
    wait_until(lambda: len(lines_of(jsonl)) >= len(reference), "every reading in the jsonl file")
    assert run.stop(signal.SIGTERM) == 0
    live = lines_of(jsonl)
    assert _records(live) == _records(reference)
    assert [json_line(s.reading) for s in read_readings(db)] == live
    # the P1 part reads as P1 alone does: nothing of the HDLC stream leaks into it
    p1_alone = _records(_reference(tmp_path, P1_STREAM))
    assert p1_alone and _records(live)[-len(p1_alone) :] == p1_alone
