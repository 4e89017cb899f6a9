"""The history store behind ``amsread run``'s fanout: offered each reading from the reading
thread, bounded by its own queue, and held to the fanout's rules when its disk is stuck.

A stuck disk here is a real one: another connection holds the file's write lock, so the store's
writer waits in ``BEGIN IMMEDIATE`` (up to its ``busy_timeout``) until that connection lets go.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from amsread.contract import Reading
from amsread.formats import json_line
from amsread.sinks.fanout import Fanout
from amsread.store import _COLUMNS_SQL, ROW_PLANS, HistoryStore, _stored_reading
from helpers.captures import captures_file, decode_file
from helpers.running import wait_until


@pytest.fixture
def readings(tmp_path: Path) -> list[Reading]:
    """Every plain capture, decoded: lists 1, 2 and 3 of several meters, with and without clocks."""
    (tmp_path / "captures").mkdir()
    return decode_file(captures_file(tmp_path / "captures"))


class Lock:
    """Another writer on a database, holding its write lock from ``take`` until ``release``."""

    def __init__(self, db: Path) -> None:
        self.conn = sqlite3.connect(db, isolation_level=None)

    def take(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")


@pytest.fixture
def lock(tmp_path: Path) -> Iterator[Lock]:
    """A ``Lock`` on ``h.db`` (take it once the store has opened the file); let go at the end."""
    other = Lock(tmp_path / "h.db")
    try:
        yield other
    finally:
        other.release()
        other.conn.close()


def in_id_order(db: Path) -> list[str]:
    """The stored readings as ``amsread json`` lines, in the order they were written (``id``)."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(f"SELECT {_COLUMNS_SQL} FROM readings ORDER BY id").fetchall()
    finally:
        conn.close()
    return [json_line(_stored_reading(row).reading) for row in rows]


def stale_flags(db: Path) -> list[bool]:
    """The stale flag of every stored hourly list, in the order they were written."""
    conn = sqlite3.connect(db)
    try:
        return [bool(f) for (f,) in conn.execute("SELECT stale FROM readings WHERE list = 3 ORDER BY id")]
    finally:
        conn.close()


def stuck(store: HistoryStore, lock: Lock, first: Reading) -> None:
    """Take the lock, hand ``first`` over and wait until the writer has taken it into a commit
    the lock holds up."""
    lock.take()
    assert store.offer(first, None, 0.0)

    def in_commit() -> bool:
        return store.waiting == 0 and not store._idle.is_set()

    wait_until(in_commit, "the writer to take the row into a commit that waits for the lock")


def test_offer_refuses_at_once_while_the_writer_is_stuck_and_loses_nothing_it_took(
    tmp_path: Path, readings: list[Reading], lock: Lock
) -> None:
    db = tmp_path / "h.db"
    store = HistoryStore(db, retention_days=1e6, commit_interval=0.0, max_queued=5, busy_timeout=60)
    stuck(store, lock, readings[0])
    rest = readings[1:20]
    assert [store.offer(r, None, 0.0) for r in rest] == [True] * 5 + [False] * (len(rest) - 5)
    lock.release()  # the disk moves again
    assert store.finish(30)
    assert in_id_order(db) == [json_line(r) for r in readings[:6]]


def test_a_stuck_database_behind_the_fanout_drops_power_readings_but_never_an_hourly_list(
    tmp_path: Path, readings: list[Reading], lock: Lock
) -> None:
    """The fanout hands the store its readings directly: the store's own bound (``max_queued``)
    is what fills, and the fanout's rules apply as to any destination that does not keep up."""
    db = tmp_path / "h.db"
    hourly = [r for r in readings if r.list == 3][:2]
    power = [r for r in readings if r.list != 3][:4]
    told: list[str] = []
    store = HistoryStore(db, retention_days=1e6, commit_interval=0.0, max_queued=3, busy_timeout=60)
    fan = Fanout([store], log=told.append, close_timeout=30.0)  # a live port: not patient
    (lane,) = fan.lanes
    stuck(store, lock, power[0])
    stream = [*power * 2, hourly[0], *power, hourly[1], *power]
    for r in stream:
        fan.handle(r)
    assert lane.stats.held == 2 and lane.stats.dropped == len(stream) - 3 - 2
    assert told == ["db: not keeping up; dropping readings for it until it does"]
    lock.release()
    fan.close()
    stored = in_id_order(db)
    assert stored == [json_line(r) for r in [power[0], *stream[:3], *hourly]]
    assert lane.stats.handled == len(stored) - 1  # the first went in before the fanout was made


def test_a_store_still_stuck_at_exit_is_given_up_and_told(
    tmp_path: Path, readings: list[Reading], lock: Lock
) -> None:
    db = tmp_path / "h.db"
    told: list[str] = []
    store = HistoryStore(db, retention_days=1e6, commit_interval=0.0, busy_timeout=60)
    fan = Fanout([store], log=told.append, close_timeout=0.2)
    stuck(store, lock, readings[0])
    for r in readings[1:4]:
        fan.handle(r)
    fan.close()
    assert told == ["db: stuck; gave up on it at exit with 4 readings unwritten"]
    lock.release()  # the test lets the writer go; run would have exited
    assert store.finish(30)
    assert in_id_order(db) == [json_line(r) for r in readings[:4]]


def test_every_reading_arrives_once_and_in_order_through_a_small_queue(
    tmp_path: Path, readings: list[Reading]
) -> None:
    """A replay through the fanout (patient) into a store whose queue holds 7 rows and which
    commits as often as it can: the rows are the readings, in the order they came, stale hourly
    lists flagged as the store judges them one by one."""
    db = tmp_path / "h.db"
    stream = readings * 12
    store = HistoryStore(db, retention_days=1e6, commit_interval=0.0, max_queued=7)
    fan = Fanout([store], log=print)
    fan.patient = True
    for r in stream:
        fan.handle(r)
    fan.close()
    assert in_id_order(db) == [json_line(r) for r in stream]
    assert fan.lanes[0].stats.handled == len(stream) and store.committed == len(stream)
    last: dict[object, object] = {}
    expected = []
    for r in (r for r in stream if r.list == 3):  # the rule: the meter's previous clock again
        expected.append(last.get(r.values.get("meter_id"), ...) == r.meter_time)
        last[r.values.get("meter_id")] = r.meter_time
    assert stale_flags(db) == expected and any(expected) and not all(expected)


def test_flush_commits_at_once_in_the_middle_of_an_interval(tmp_path: Path, readings: list[Reading]) -> None:
    """The writer sleeps until the interval ends unless asked: a flush must wake it."""
    db = tmp_path / "h.db"
    store = HistoryStore(db, retention_days=1e6, commit_interval=3600.0)
    for r in readings[:5]:
        store.handle(r)
    assert store.flush(timeout=30)
    assert in_id_order(db) == [json_line(r) for r in readings[:5]]
    store.handle(readings[5])
    store.close()
    assert len(in_id_order(db)) == 6


def test_row_plans_stay_bounded_and_each_shape_is_stored_exactly(
    tmp_path: Path, readings: list[Reading]
) -> None:
    """More shapes of reading than ``ROW_PLANS`` (each with a value of its own outside the
    contract's columns): the plans start afresh rather than grow, and every row is exact."""
    db = tmp_path / "h.db"
    base = next(r for r in readings if r.list == 2)
    shapes = [
        dataclasses.replace(base, values={**base.values, f"1-0:{k}.7.0.255": k}) for k in range(ROW_PLANS + 9)
    ]
    store = HistoryStore(db, retention_days=1e6)
    for r in shapes:
        store.handle(r)
    assert 0 < len(store._plans) <= ROW_PLANS
    store.close()
    assert in_id_order(db) == [json_line(r) for r in shapes]


def test_a_caller_that_may_wait_lets_a_running_commit_finish_first(
    tmp_path: Path, readings: list[Reading], lock: Lock
) -> None:
    """``handle`` (and a replay's patient offer) does not run beside a commit: while the writer
    is in one (held up by the lock here), ``handle`` has not returned; a live offer has."""
    db = tmp_path / "h.db"
    store = HistoryStore(db, retention_days=1e6, commit_interval=0.0, busy_timeout=60)
    stuck(store, lock, readings[0])
    assert store.offer(readings[1], None, 0.0)  # live: never waits
    waiter = threading.Thread(target=store.handle, args=(readings[2],), daemon=True)
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive()  # it cannot return while the commit runs: the lock holds it
    lock.release()
    waiter.join(30)
    assert not waiter.is_alive()
    store.close()
    assert in_id_order(db) == [json_line(r) for r in readings[:3]]
