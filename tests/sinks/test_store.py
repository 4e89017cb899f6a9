"""The history database: exact round trips, crash safety, readers beside a writer, retention, migrations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from amsread.contract import COLUMNS, Reading
from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.formats import json_line
from amsread.simulator import OSLO, SimulatedMeter
from amsread.store import (
    MIGRATIONS,
    QUANTITY_COLUMNS,
    TEXT_COLUMNS,
    HistoryReader,
    HistoryStore,
    StoreError,
    default_path,
    open_database,
    read_readings,
    read_tariff,
)
from helpers.captures import amsread_json, captures_file, decode_file
from helpers.vectors import raw

#: A child process that writes simulated Kamstrup readings (every list carries the moment it was
#: sent, so time order is write order) in rounds of 100 as fast as it can: after each round it
#: flushes, prints how many are committed, and waits for a line on stdin before the next round.
WRITER = textwrap.dedent(
    """
    import datetime as dt, sys
    from amsread.decode.pipeline import Pipeline
    from amsread.decode.decoder import ReadingDecoder
    from amsread.simulator import OSLO, SimulatedMeter
    from amsread.store import HistoryStore

    sim = SimulatedMeter("kamstrup", 3, seed=7, start=dt.datetime(2026, 1, 5, tzinfo=OSLO))
    store = HistoryStore(sys.argv[1], commit_interval=0.02, retention_days=1e6)
    pipeline, decoder = Pipeline(), ReadingDecoder()
    n = 0
    for push in sim.pushes():
        for reading in pipeline.readings([push.frame], decoder=decoder):
            store.handle(reading)
            n += 1
        if n % 100 == 0:
            store.flush()
            print(n, flush=True)
            if not sys.stdin.readline():
                break
    store.close()
    """
)
ROUND = 100


@functools.cache
def simulated_lines(count: int = 600) -> tuple[str, ...]:
    """The JSON lines of the first ``count`` readings the WRITER child writes."""
    sim = SimulatedMeter("kamstrup", 3, seed=7, start=dt.datetime(2026, 1, 5, tzinfo=OSLO))
    pipeline, decoder = Pipeline(), ReadingDecoder()
    out: list[str] = []
    for push in sim.pushes():
        out.extend(json_line(r) for r in pipeline.readings([push.frame], decoder=decoder))
        if len(out) >= count:
            return tuple(out[:count])
    raise AssertionError("unreachable")


def simulated_readings(count: int) -> list[Reading]:
    """The first ``count`` readings of the same simulated meter, as objects."""
    sim = SimulatedMeter("kamstrup", 3, seed=7, start=dt.datetime(2026, 1, 5, tzinfo=OSLO))
    pipeline, decoder = Pipeline(), ReadingDecoder()
    out: list[Reading] = []
    for push in sim.pushes():
        out.extend(pipeline.readings([push.frame], decoder=decoder))
        if len(out) >= count:
            return out[:count]
    raise AssertionError("unreachable")


class Writer:
    """The WRITER child on a database: ``committed()`` waits for a round, ``go()`` starts the next."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.child = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def committed(self) -> int:
        """Block until the child finishes its round; the number of readings committed by then."""
        assert self.child.stdout is not None and self.child.stderr is not None
        line = self.child.stdout.readline()
        assert line, f"the writer ended: {self.child.stderr.read()}"
        return int(line)

    def go(self) -> None:
        assert self.child.stdin is not None
        self.child.stdin.write("go\n")
        self.child.stdin.flush()

    def stop(self) -> None:
        if self.child.poll() is None:
            self.child.kill()
        self.child.wait(timeout=10)
        for stream in (self.child.stdin, self.child.stdout, self.child.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Writer]:
    """The WRITER child on a fresh database; killed (if still alive) at the end."""
    w = Writer(tmp_path / "history.db")
    try:
        yield w
    finally:
        w.stop()


def lines(path: Path) -> list[str]:
    return [json_line(s.reading) for s in read_readings(path)]


# --------------------------------------------------------------------------------------------


def test_default_path_is_in_the_users_data_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    if sys.platform in ("win32", "darwin"):
        pytest.skip("the XDG rule is for Linux and the BSDs")
    monkeypatch.setenv("HOME", "/home/pi")
    assert default_path({}) == Path("/home/pi/.local/share/amsread/history.db")
    assert default_path({"XDG_DATA_HOME": "/srv/data"}) == Path("/srv/data/amsread/history.db")
    # the XDG spec: an empty or relative value is ignored
    assert default_path({"XDG_DATA_HOME": ""}) == Path("/home/pi/.local/share/amsread/history.db")
    assert default_path({"XDG_DATA_HOME": "data"}) == Path("/home/pi/.local/share/amsread/history.db")


def test_rows_equal_what_amsread_json_printed(tmp_path: Path) -> None:
    """Every reading of every plain capture comes back exactly as ``amsread json`` printed it:
    the same keys, and decimals with the meter's own resolution (``0.00``, ``227.6``)."""
    capture = captures_file(tmp_path)
    reference = amsread_json(capture)
    readings = decode_file(capture)
    assert [json_line(r) for r in readings] == reference  # the in-process decode is the command's
    store = HistoryStore(tmp_path / "h.db", retention_days=1e6)
    for reading in readings:
        store.handle(reading)
    store.close()
    back = lines(tmp_path / "h.db")
    assert sorted(back) == sorted(reference)
    values = [s.reading.values for s in read_readings(tmp_path / "h.db")]
    assert any(isinstance(v.get("active_energy_import"), Decimal) for v in values)
    assert all(type(v["active_power_import"]) is int for v in values if "active_power_import" in v)


def test_decimals_keep_their_exact_text_in_the_file(tmp_path: Path) -> None:
    """A Decimal is stored as its exact text, so ``sqlite3`` users see ``227.6``, not a float."""
    reading = decode_file(captures_file(tmp_path, ["fw_kaifa_list3_1"]))[0]
    store = HistoryStore(tmp_path / "h.db", retention_days=1e6)
    store.handle(reading)
    store.close()
    conn = sqlite3.connect(tmp_path / "h.db")
    stored = conn.execute(
        "SELECT voltage_l1, typeof(voltage_l1), active_power_import FROM readings"
    ).fetchone()
    conn.close()
    assert stored == (
        format(reading.values["voltage_l1"], "f"),
        "text",
        reading.values["active_power_import"],
    )


@pytest.mark.parametrize("micro", [412_345, 400, 999_999, 0])
def test_a_live_reading_keeps_its_arrival_time_as_printed(tmp_path: Path, micro: int) -> None:
    """The arrival time reads back as ``amsread json`` printed it, a fraction below a millisecond
    included (once printed ``.000``, read back as no fraction: 1 run in 1,000 of tests/run)."""
    base = decode_file(captures_file(tmp_path, ["doc_aidon_6534_list1"]))[0]
    arrived = dt.datetime(2026, 1, 21, 16, 0, 10, micro, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    reading = dataclasses.replace(base, received_at=arrived)
    store = HistoryStore(tmp_path / "h.db", retention_days=1e6)
    store.handle(reading)
    store.close()
    (back,) = read_readings(tmp_path / "h.db")
    assert json_line(back.reading) == json_line(reading)
    assert back.reading.received_at == arrived.replace(microsecond=micro // 1000 * 1000)  # milliseconds kept
    assert json_line(back.reading).startswith('{"received_at": "2026-01-21T16:00:10' + _FRACTION[micro])
    if micro == 412_345:
        assert back.at == arrived.replace(microsecond=412_000)


#: The arrival times' text after the seconds, by their microseconds.
_FRACTION = {412_345: ".412+01:00", 400: "+01:00", 999_999: ".999+01:00", 0: "+01:00"}


def test_values_outside_the_contract_columns_round_trip(tmp_path: Path) -> None:
    """Extra quantities (per-phase powers, power factor, unnamed OBIS codes) keep value and order."""
    base = decode_file(captures_file(tmp_path, ["fw_kaifa_list3_1"]))[0]
    extra = {"power_factor": Decimal("0.041"), "active_power_import_l1": 1200, "1-0:99.9.9.255": "00ff"}
    reading = dataclasses.replace(base, values={**base.values, **extra})
    store = HistoryStore(tmp_path / "h.db", retention_days=1e6)
    store.handle(reading)
    store.close()
    (back,) = [s.reading for s in read_readings(tmp_path / "h.db")]
    assert json_line(back) == json_line(reading)
    assert back.values["power_factor"] == Decimal("0.041")


def test_kill_9_mid_run_loses_nothing_committed_and_never_corrupts(writer: Writer) -> None:
    for _ in range(2):
        writer.committed()
        writer.go()
    committed = writer.committed()
    writer.go()  # killed while it writes the next round
    os.kill(writer.child.pid, signal.SIGKILL)
    writer.child.wait(timeout=10)
    conn = sqlite3.connect(writer.db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    stored = lines(writer.db)
    assert committed <= len(stored) <= committed + ROUND
    assert stored == list(simulated_lines()[: len(stored)])


def test_a_reader_sees_whole_commits_while_another_process_writes(writer: Writer) -> None:
    """Each read, made while the writer writes its next round, is a prefix of what it wrote."""
    committed = writer.committed()
    for _ in range(4):
        writer.go()
        stored = lines(writer.db)  # while the child writes
        assert committed <= len(stored) <= committed + ROUND
        assert stored == list(simulated_lines()[: len(stored)])
        committed = writer.committed()
    assert len(lines(writer.db)) == committed == 5 * ROUND


def _at(reading: Reading, when: dt.datetime) -> Reading:
    return dataclasses.replace(reading, received_at=when)


def test_retention_prunes_old_readings_but_keeps_every_hourly_list(tmp_path: Path) -> None:
    now = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    clock = [now.timestamp()]
    list1, list2, list3 = (
        decode_file(captures_file(tmp_path, [name]))[0]
        for name in ("doc_aidon_6534_list1", "doc_aidon_6534_list2", "doc_aidon_6534_list3")
    )
    old, recent = now - dt.timedelta(days=41), now - dt.timedelta(days=39)
    store = HistoryStore(tmp_path / "h.db", retention_days=40, clock=lambda: clock[0])
    for r in (list1, list2, list3):
        store.handle(_at(r, old))  # older than the retention already (a replay): not stored
        store.handle(_at(r, recent))
    assert store.flush(timeout=10)
    kept = [(s.reading.list, s.reading.received_at) for s in read_readings(tmp_path / "h.db")]
    assert kept == [(3, old), (1, recent), (2, recent), (3, recent)]
    assert (store.expired, store.pruned) == (2, 0)
    assert store.summary() == ", 2 older than the 40-day retention not stored (--retention-days keeps them)"
    # stored rows that grow old are pruned about once an hour: not within the hour of the last
    # prune (the first commit's), but at the first commit an hour after it
    clock[0] += 1800
    store.handle(_at(list1, now))
    assert store.flush(timeout=10)
    assert len(list(read_readings(tmp_path / "h.db"))) == 5
    clock[0] += 2 * 86400  # the recent rows are 41 days old now
    later = dt.datetime.fromtimestamp(clock[0], dt.UTC)
    store.handle(_at(list1, later))
    store.close()
    kept = [(s.reading.list, s.reading.received_at) for s in read_readings(tmp_path / "h.db")]
    assert kept == [(3, old), (3, recent), (1, now), (1, later)]
    assert (store.expired, store.pruned) == (2, 2)


def test_a_replayed_capture_older_than_the_retention_keeps_its_hourly_lists_and_says_so(
    tmp_path: Path,
) -> None:
    """``amsread run`` on a capture whose meter clock is years old: with the default retention
    its power lists are not stored (a prune would delete them, at a moment that depends on when
    the commits fall) and the end of the run says how many; the hourly lists are. With
    --retention-days long enough, all of them are."""
    capture = captures_file(tmp_path, ["fw_kaifa_list1_1", "fw_kaifa_list3_1", "fw_kaifa_list2_1"])
    for days, listed in (("40", [3]), ("100000", [1, 2, 3])):
        db = tmp_path / f"{days}.db"
        proc = subprocess.run(
            [sys.executable, "-m", "amsread", "run", str(capture), "--db", str(db), "--retention-days", days],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert sorted(s.reading.list for s in read_readings(db)) == listed  # (in order of time)
        told = "2 older than the 40-day retention not stored (--retention-days keeps them)"
        assert (told in proc.stderr) == (days == "40"), proc.stderr


def test_the_reader_streams_a_time_range_in_time_order(tmp_path: Path) -> None:
    readings = simulated_readings(200)
    store = HistoryStore(tmp_path / "h.db", retention_days=1e6)
    for r in reversed(readings):  # written backwards: read forwards
        store.handle(r)
    store.close()
    start, end = readings[50].meter_time, readings[150].meter_time
    assert start is not None and end is not None
    got = read_readings(tmp_path / "h.db", start, end, batch=7)
    assert next(got).reading.meter_time == start  # a generator: rows come before the range is read
    rest = [s.reading for s in got]
    assert [json_line(r) for r in rest] == [json_line(r) for r in readings[51:150]]
    hourly = list(read_readings(tmp_path / "h.db", lists=(3,)))
    assert all(s.reading.list == 3 for s in hourly)


def test_a_stale_hourly_list_is_stored_and_flagged_also_after_a_restart(tmp_path: Path) -> None:
    """fw_aidon_list3_3 repeats fw_aidon_list3_2's clock (its counters are stale): stored as sent,
    flagged; and a store opened later knows the last hourly clock from the file."""
    db = tmp_path / "h.db"
    first, second, stale = (
        decode_file(captures_file(tmp_path, [n]))[0]
        for n in ("fw_aidon_list3_1", "fw_aidon_list3_2", "fw_aidon_list3_3")
    )
    store = HistoryStore(db, retention_days=1e6)
    for r in (first, second, stale):
        store.handle(r)
    store.close()
    assert [s.stale for s in read_readings(db)] == [False, False, True]
    assert len(list(read_readings(db, include_stale=False))) == 2
    store = HistoryStore(db, retention_days=1e6)
    store.handle(stale)  # the same clock again, seen by a new process
    store.close()
    assert [s.stale for s in read_readings(db)] == [False, False, True, True]


def test_the_table_has_a_column_for_every_contract_value(tmp_path: Path) -> None:
    """The first migration is written out; today it holds every contract column after the first four."""
    conn = open_database(tmp_path / "h.db")
    table = [row[1] for row in conn.execute("PRAGMA table_info(readings)")]
    conn.close()
    assert tuple(table[2:6]) == COLUMNS[:4]
    assert tuple(table[6:-2]) == COLUMNS[4:] == TEXT_COLUMNS + QUANTITY_COLUMNS


def test_migrations_from_an_empty_file_and_reopening(tmp_path: Path) -> None:
    db = tmp_path / "deep" / "h.db"
    db.parent.mkdir()
    db.touch()  # an empty file is an empty database
    store = HistoryStore(db, retention_days=1e6)
    store.handle(decode_file(captures_file(tmp_path, ["doc_aidon_6534_list2"]))[0])
    store.close()
    conn = open_database(db)  # a second open migrates nothing and keeps the rows
    assert conn.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("SELECT count(*) FROM readings").fetchone() == (1,)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(StoreError, match="upgrade amsread"):
        HistoryStore(db)
    with pytest.raises(StoreError, match="schema version"):
        list(read_readings(db))


def test_a_file_that_is_no_database_is_a_store_error(tmp_path: Path) -> None:
    bad = tmp_path / "h.db"
    bad.write_bytes(raw("doc_aidon_6534_list2") * 100)
    with pytest.raises(StoreError, match="not a usable history database"):
        HistoryStore(bad)
    with pytest.raises(StoreError, match="no history database"):
        list(read_readings(tmp_path / "missing.db"))


def test_the_store_is_a_destination(tmp_path: Path) -> None:
    """The interface ``amsread run`` drives every destination through."""
    store = HistoryStore(tmp_path / "h.db")
    assert store.name == "db"
    store.handle(decode_file(captures_file(tmp_path, ["doc_aidon_6534_list1"]))[0], (b"\x7e\x7e",))
    store.close()
    store.close()  # twice is harmless
    with pytest.raises(StoreError, match="closed"):
        store.handle(decode_file(captures_file(tmp_path, ["doc_aidon_6534_list1"]))[0])
    assert json.loads(lines(tmp_path / "h.db")[0])["list"] == 1


def test_a_commit_that_fails_is_reported_and_retried_with_the_rows_kept(tmp_path: Path) -> None:
    """Another writer holds the file: the commit fails, is reported, and the rows go in later."""
    db = tmp_path / "h.db"
    reported = threading.Event()
    messages: list[str] = []

    def on_error(message: str) -> None:
        messages.append(message)
        reported.set()

    store = HistoryStore(db, retention_days=1e6, commit_interval=0.01, busy_timeout=0.01, on_error=on_error)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # the write lock
    store.handle(decode_file(captures_file(tmp_path, ["doc_aidon_6534_list2"]))[0])
    assert reported.wait(10)
    other.execute("ROLLBACK")
    other.close()
    assert store.flush(timeout=10)
    store.close()
    assert "locked" in messages[0] and "1 rows kept for a retry" in messages[0]
    assert len(lines(db)) == 1


def test_something_that_is_no_reading_is_skipped_and_the_writer_lives_on(tmp_path: Path) -> None:
    messages: list[str] = []
    store = HistoryStore(tmp_path / "h.db", retention_days=1e6, on_error=messages.append)
    store.handle(("not", "a reading"))  # type: ignore[arg-type]
    store.handle(decode_file(captures_file(tmp_path, ["doc_aidon_6534_list2"]))[0])
    store.close()
    assert store.skipped == 1 and messages == [
        "history database: cannot store tuple: 'tuple' object has no attribute 'list'"
    ]
    assert len(lines(tmp_path / "h.db")) == 1


def test_a_burst_is_committed_as_it_comes_not_dropped(tmp_path: Path) -> None:
    """A replayed capture or a backlog hands over readings faster than a second apart: the writer
    still commits each interval, so the rows waiting never pile up past ``max_pending``."""
    rows = simulated_readings(600)
    store = HistoryStore(
        tmp_path / "h.db", retention_days=1e6, commit_interval=0.0, max_pending=20, max_queued=3
    )  # and handle() waits for room rather than queue without bound
    for r in rows:
        store.handle(r)
    store.close()
    assert store.dropped == 0
    assert lines(tmp_path / "h.db") == list(simulated_lines()[:600])


def test_a_database_of_the_first_schema_upgrades_and_is_read_before_it_does(tmp_path: Path) -> None:
    """A file an amsread of schema version 1 wrote: ``report`` reads it as it is (read-only), and
    the next ``run`` adds the ``tariff`` table without touching the rows."""
    db = tmp_path / "v1.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for statement in MIGRATIONS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO readings (at, meter_time, list, meter_id, active_energy_import)"
        " VALUES (1790953205000, '2026-10-02T17:00:05+02:00', 3, 'm', '22721.38')"
    )
    conn.close()
    (stored,) = read_readings(db)
    assert stored.reading.values == {"meter_id": "m", "active_energy_import": Decimal("22721.38")}
    assert read_tariff(db) == []
    upgraded = open_database(db)
    assert upgraded.execute("PRAGMA user_version").fetchone() == (len(MIGRATIONS),) == (3,)
    assert upgraded.execute("SELECT count(*) FROM readings").fetchone() == (1,)
    assert upgraded.execute("SELECT count(*) FROM tariff").fetchone() == (0,)
    upgraded.close()


def test_a_database_of_schema_2_gains_the_meter_index_and_keeps_its_rows(tmp_path: Path) -> None:
    """Schema 3 adds ``readings_meter`` (which meters a time range holds, for the report's fast
    road) to a file the previous amsread wrote; its rows and tariff figures stay as they were."""
    db = tmp_path / "v2.db"
    conn = sqlite3.connect(db, isolation_level=None)
    for step in MIGRATIONS[:2]:
        for statement in step:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute(
        "INSERT INTO readings (at, meter_time, list, meter_id, active_energy_import)"
        " VALUES (1790953205000, '2026-10-02T17:00:05+02:00', 3, 'm', '22721.38')"
    )
    conn.execute("INSERT INTO tariff VALUES ('m', 1790953205000, '2026-10', '{\"left_kwh\": 1.5}')")
    conn.close()
    with HistoryReader(db) as reader:  # read as it is, the meters found by a scan
        assert reader.version == 2 and reader.meters() == {"m"}
    upgraded = open_database(db)
    assert upgraded.execute("PRAGMA user_version").fetchone() == (3,)
    plan = upgraded.execute(
        "EXPLAIN QUERY PLAN SELECT meter_id FROM readings WHERE meter_id > '' ORDER BY meter_id LIMIT 1"
    ).fetchall()
    assert "readings_meter" in str(plan)
    upgraded.close()
    (stored,) = read_readings(db)
    assert stored.reading.values == {"meter_id": "m", "active_energy_import": Decimal("22721.38")}
    assert [t.figures for t in read_tariff(db)] == [{"left_kwh": Decimal("1.5")}]
    with HistoryReader(db) as reader:
        assert reader.version == 3 and reader.meters() == {"m"}


def test_the_live_tariff_figures_keep_the_newest_per_meter(tmp_path: Path) -> None:
    db = tmp_path / "h.db"
    store = HistoryStore(db, retention_days=1e6)

    def figures(meter: str, minute: int, left: str) -> str:
        return (
            f'{{"meter_id": "{meter}", "time": "2026-10-03T18:{minute:02d}:00+02:00", '
            f'"month": "2026-10", "left_kwh": {left}}}'
        )

    store.put_tariff("a", figures("a", 1, "6.800"))
    store.put_tariff("a", figures("a", 2, "6.700"))
    store.put_tariff("b", figures("b", 2, "1.000"))
    assert store.flush(10)
    store.put_tariff("a", figures("a", 3, "6.600"))
    store.close()
    stored = read_tariff(db)
    assert [(t.meter_id, t.month, t.figures["left_kwh"]) for t in stored] == [
        ("a", "2026-10", Decimal("6.600")),
        ("b", "2026-10", Decimal("1.000")),
    ]
    assert stored[0].at == dt.datetime(2026, 10, 3, 16, 3, tzinfo=dt.UTC)
    conn = sqlite3.connect(db)
    assert conn.execute(
        "SELECT json_extract(figures, '$.left_kwh') FROM tariff WHERE meter_id = 'a'"
    ).fetchone() == (6.6,)
    conn.close()


def test_a_count_beyond_64_bits_signed_is_stored_as_its_text_and_the_writer_lives_on(tmp_path: Path) -> None:
    """A 64-bit unsigned value a meter sends as all ones (Kaifa's u64 lists) is above SQLite's INTEGER;
    binding it raised OverflowError in the writer, which then died with every later reading. It is
    kept exactly, as text like a Decimal, and reads back as the same number."""
    base = decode_file(captures_file(tmp_path, ["fw_kaifa_list3_1"]))[0]
    huge = dataclasses.replace(base, values={**base.values, "active_power_import": 2**64 - 1})
    low = dataclasses.replace(base, values={**base.values, "active_power_export": -(2**63) - 1})
    store = HistoryStore(tmp_path / "h.db", retention_days=1e6)
    for r in (huge, low, base):
        store.handle(r)
    store.close()
    back = [s.reading for s in read_readings(tmp_path / "h.db")]
    assert [json_line(r) for r in back] == [json_line(r) for r in (huge, low, base)]
    assert back[0].values["active_power_import"] == 2**64 - 1
    conn = sqlite3.connect(tmp_path / "h.db")
    types = conn.execute(
        "SELECT typeof(active_power_import), typeof(active_power_export) FROM readings"
    ).fetchall()
    conn.close()
    assert types == [("text", "integer"), ("integer", "text"), ("integer", "integer")]
