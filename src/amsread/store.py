"""The history database: every reading ``amsread run`` sees, kept in SQLite for reports and graphs.

Why SQLite through the standard library: one file, no server, readable by ``sqlite3`` and every
notebook, and safe to read while another process writes (WAL mode). The choices below follow from
the target, a Raspberry Pi on an SD card running for months (issue 11):

* **Batched commits.** ``handle`` only makes the reading's row and queues it; a writer thread
  commits what has queued about once a second (``commit_interval``), never once per frame, so the
  card sees one small write a second and a slow card never holds up reading the port. A kill -9 loses at most the rows of the
  last uncommitted interval; WAL makes every commit atomic, so the file never corrupts
  (``synchronous=NORMAL``: a commit survives a killed process; a power cut may undo the last few
  commits but still leaves a consistent file).
* **Retention.** Hourly lists (list 3, the energy counters a capacity-tariff report needs) are kept
  for ever; every other reading for ``retention_days`` (default 40). Old rows are pruned inside a
  regular commit about once an hour (``prune_interval``), a cheap indexed delete; a reading that
  is older than that when it comes (a replayed capture) is not stored at all, and the end of the
  run says how many.
* **One schema, exact values.** One ``readings`` table whose columns are the output contract's
  names (docs/output-contract.md). Numbers keep their exact decimals: the quantity columns have no
  declared type, so an integer is stored as an INTEGER and a ``Decimal`` as its exact text
  (``'22721.38'``); a reader gets back the very values ``amsread json`` printed. Quantities outside
  the contract's columns go, in the same exact form, into one JSON object (``extra``).
* **Stale hourly lists** (an hourly list that repeats the previous one's meter clock: its counters
  did not advance) are stored as sent and flagged (``stale``), so a report can leave them out.
* **Migrations** are versioned from the first release: ``MIGRATIONS`` is a list of steps and
  ``PRAGMA user_version`` says how many a file has had. A file from a newer amsread is refused.
  The reader takes any version from ``READABLE_FROM`` on (the later steps only add tables), so
  ``amsread report`` reads a file an older ``run`` wrote without migrating it.
* **Reading back** goes through ``HistoryReader`` (one read snapshot for several queries): the
  report's fast road asks for the hourly lists (their partial index), the first row of an hour,
  the rows of a time range, and which meters a range holds (``readings_meter``, schema 3).
* **The live tariff figures** of ``run --grid`` (``report.live``) are one row per meter in
  ``tariff``, replaced at each commit by the newest: the same JSON object as the MQTT ``tariff``
  topic (docs/mqtt.md), in ``figures``; ``json_extract(figures, '$.left_kwh')`` reads one figure.

Each row's ``at`` (milliseconds since the epoch, UTC) orders and prunes: the host clock when the
frame arrived (``received_at``), else the meter's clock, else the moment it was stored. The host
clock comes first because a meter clock that has reset to 2000 must not get a fresh row pruned.

The store has the small interface every ``amsread run`` destination shares: a ``name``,
``handle(reading, raw)`` and ``close()``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import operator
import os
import sqlite3
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from amsread.contract import Frames, Reading
from amsread.errors import StoreError
from amsread.text import decimal_text, time_text

#: Keep everything but hourly lists this many days unless told otherwise.
DEFAULT_RETENTION_DAYS: Final = 40

#: Contract columns stored as text, as sent.
TEXT_COLUMNS: Final = ("list_version", "meter_id", "meter_type")
#: Contract columns holding quantities: INTEGER or exact decimal TEXT (no declared type, see above).
#: Written out, not taken from ``COLUMNS``: the table is what the migrations made, and a name the
#: contract adds later goes into ``extra`` until a new migration gives it a column.
QUANTITY_COLUMNS: Final = (
    "active_power_import",
    "active_power_export",
    "reactive_power_import",
    "reactive_power_export",
    "current_l1",
    "current_l2",
    "current_l3",
    "voltage_l1",
    "voltage_l2",
    "voltage_l3",
    "active_energy_import",
    "active_energy_export",
    "reactive_energy_import",
    "reactive_energy_export",
)
_STORED_VALUES: Final = frozenset(TEXT_COLUMNS + QUANTITY_COLUMNS)

_ROW_COLUMNS: Final = (
    "at",
    "received_at",
    "meter_time",
    "manufacturer",
    "list",
    *TEXT_COLUMNS,
    *QUANTITY_COLUMNS,
    "extra",
    "stale",
)

#: Schema steps, in order; never edit a released step, append a new one. Each step is a tuple of
#: statements run in one transaction together with ``PRAGMA user_version = <its number>``.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """CREATE TABLE readings (
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            received_at TEXT,
            meter_time TEXT,
            manufacturer TEXT,
            list INTEGER,
            list_version TEXT,
            meter_id TEXT,
            meter_type TEXT,
            active_power_import,
            active_power_export,
            reactive_power_import,
            reactive_power_export,
            current_l1,
            current_l2,
            current_l3,
            voltage_l1,
            voltage_l2,
            voltage_l3,
            active_energy_import,
            active_energy_export,
            reactive_energy_import,
            reactive_energy_export,
            extra TEXT,
            stale INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX readings_at ON readings (at)",
        "CREATE INDEX readings_hourly ON readings (meter_id, at) WHERE list = 3",
    ),
    (
        # run --grid: the live capacity-tariff figures, one row per meter, kept current
        """CREATE TABLE tariff (
            meter_id TEXT PRIMARY KEY,
            at INTEGER NOT NULL,
            month TEXT NOT NULL,
            figures TEXT NOT NULL
        )""",
    ),
    (
        # the report's fast road: which meters a time range holds, without reading the range
        "CREATE INDEX readings_meter ON readings (meter_id, at) WHERE meter_id IS NOT NULL",
    ),
)
#: The first schema version with the ``readings_meter`` index (``HistoryReader.meters``).
_METER_INDEX: Final = 3
#: The first schema version whose ``readings`` table this amsread reads (later steps only add).
READABLE_FROM: Final = 1


def default_path(env: dict[str, str] | os._Environ[str] | None = None) -> Path:
    """Where the history lives unless told otherwise, so ``amsread report`` needs no arguments.

    Linux and the BSDs: ``$XDG_DATA_HOME/amsread/history.db``, i.e.
    ``~/.local/share/amsread/history.db`` (the XDG base directory spec ignores an empty or
    relative ``XDG_DATA_HOME``). macOS: ``~/Library/Application Support/amsread``. Windows:
    ``%LOCALAPPDATA%\\amsread``.
    """
    env = os.environ if env is None else env
    if sys.platform == "win32" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / "amsread" / "history.db"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "amsread" / "history.db"
    xdg = env.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "amsread" / "history.db"


# --------------------------------------------------------------------------------------------
# opening and migrating
# --------------------------------------------------------------------------------------------


def open_database(path: Path | str, *, busy_timeout: float = 5.0) -> sqlite3.Connection:
    """A writer's connection: WAL mode, NORMAL sync, migrated to the newest schema.

    The connection is in autocommit mode (``isolation_level=None``): the store opens and commits
    its own transactions, so nothing is committed behind its back.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    except (OSError, sqlite3.Error) as e:
        raise StoreError(f"cannot open the history database {path}: {e}") from e
    try:
        conn.execute(f"PRAGMA busy_timeout = {round(busy_timeout * 1000)}")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"{path}: the file system does not allow WAL mode (journal mode {mode})")
        conn.execute("PRAGMA synchronous = NORMAL")
        migrate(conn)
    except sqlite3.Error as e:
        conn.close()
        raise StoreError(f"{path} is not a usable history database: {e}") from e
    except StoreError:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply the migration steps this file has not had; return its schema version.

    Each step runs in its own ``BEGIN IMMEDIATE`` transaction with the new ``user_version``, so a
    crash mid-migration leaves the file at the previous version, and two processes opening a new
    file at once do not both create the table.
    """
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"the history database has schema version {version}; this amsread knows up to "
                    f"{len(MIGRATIONS)}: upgrade amsread"
                )
            if version == len(MIGRATIONS):
                conn.execute("COMMIT")
                return version
            for statement in MIGRATIONS[version]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


# --------------------------------------------------------------------------------------------
# values to columns and back, exactly
# --------------------------------------------------------------------------------------------


def _time_text(value: dt.datetime | None) -> str | None:
    """A time as ``amsread json`` prints it (``text.time_text``); None stays None."""
    return None if value is None else time_text(value)


#: SQLite's INTEGER is 64 bits, signed; an int beyond it is kept as its text, as a Decimal is.
_INTEGER_RANGE: Final = range(-(2**63), 2**63)


def _integer(value: int) -> int | str:
    """An int as SQLite can bind it: itself, or its exact text beyond 64 bits (a u64 counter of
    all ones), which reads back as the same number (``_quantity_back``)."""
    return value if value in _INTEGER_RANGE else str(value)


def _quantity(value: Any) -> Any:
    """A quantity as SQLite keeps it exactly: int as INTEGER (text beyond 64 bits), Decimal as
    its exact text."""
    if value is None:
        return value
    if type(value) is int:
        return _integer(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _quantity_back(value: Any) -> Any:
    return Decimal(value) if isinstance(value, str) else value


def _json_literal(value: Any) -> str:
    """One value as an exact JSON literal, the way ``amsread json`` prints it."""
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, (int, float)):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return json.dumps(value.isoformat())
    if isinstance(value, bytes):
        return json.dumps(value.hex())
    return json.dumps(str(value), ensure_ascii=False)


def _extra_text(extra: dict[str, Any]) -> str | None:
    if not extra:
        return None
    return "{" + ", ".join(f"{json.dumps(k)}: {_json_literal(v)}" for k, v in extra.items()) + "}"


def _epoch_ms(value: dt.datetime) -> int:
    if value.tzinfo is None:
        value = value.astimezone()
    return round(value.timestamp() * 1000)


#: Shapes of reading whose row plan is kept; more are unlikely (a meter sends a few), and past
#: this the plans start afresh rather than grow.
ROW_PLANS: Final = 64

#: A row ready for the writer: its INSERT, the values it binds, and the reading itself when it is
#: an hourly list (the writer judges staleness, in order, and sets the first value).
_Entry = tuple[str, tuple[Any, ...], "Reading | None"]

#: The fields of a reading before its values, in the order a plan sees them (``HistoryStore.offer``
#: lists them): ``stale`` (0; an hourly list's is set by the writer), ``at``, then the reading's
#: own four.
_HEAD: Final = ("stale", "at", "received_at", "meter_time", "manufacturer", "list")
_TEXT: Final = frozenset(TEXT_COLUMNS)
_QUANTITY: Final = frozenset(QUANTITY_COLUMNS)


class _RowPlan:
    """How one shape of reading (its value names and the types of its fields) becomes a row.

    Why a plan: the INSERT names only the columns the shape fills (an absent value is the
    column's default, NULL), because binding a Python None costs the sqlite3 module far more than
    a literal NULL does, and a list 1 fills 4 of 24 columns. ``HistoryStore.offer`` lists a
    reading's fields (``_HEAD``, then the values in order), converts only those that need it
    (``convert``), appends the ``_extra_text`` of the values outside the contract's columns
    (``extra``) and picks the row by one ``itemgetter`` (``pick``). The key of a shape is whether
    it is an hourly list, the value names, and the type of every field.
    """

    __slots__ = ("convert", "extra", "pick", "sql")

    def __init__(self, hourly: bool, names: tuple[str, ...], *types: type) -> None:
        fields = _HEAD + names
        columns: list[str] = []
        picked: list[int] = []
        convert: list[tuple[int, Callable[[Any], Any]]] = []
        extra: list[tuple[str, int]] = []
        for k, (name, t) in enumerate(zip(fields, types, strict=True)):
            if k >= len(_HEAD) and name not in _TEXT and name not in _QUANTITY:
                extra.append((name, k))
                continue
            if t is type(None) or (name == "stale" and not hourly):
                continue  # NULL (or stale's default, 0): left to the column's default
            columns.append(name)
            picked.append(k)
            conv = _convert(name, t)
            if conv is not None:
                convert.append((k, conv))
        if extra:
            columns.append("extra")
            picked.append(len(fields))  # ``_extra_text`` of them, appended to the fields
        self.sql = f"INSERT INTO readings ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        self.convert = tuple(convert)
        self.extra = tuple(extra)
        self.pick: Callable[[list[Any]], tuple[Any, ...]] = (
            operator.itemgetter(*picked) if len(picked) > 1 else lambda args: tuple(args[k] for k in picked)
        )


def _convert(name: str, t: type) -> Callable[[Any], Any] | None:
    """How a field of type ``t`` is stored in column ``name``; None when it goes in as it is."""
    if name in ("received_at", "meter_time"):
        return time_text if t is dt.datetime else _time_text
    if name in _TEXT or name == "manufacturer":
        return None if t is str else str
    if name in _QUANTITY:
        return _QUANTITY_OF.get(t, _quantity)
    return None  # stale, at, list: ints


#: A quantity by its type, as ``_quantity`` stores it: the common ones by one look-up.
_QUANTITY_OF: Final[dict[type, Callable[[Any], Any]]] = {Decimal: decimal_text, int: _integer}


@dataclass(frozen=True, slots=True)
class StoredReading:
    """A reading as the history holds it: the reading, when it was (``at``, UTC), and the flag."""

    reading: Reading
    at: dt.datetime
    stale: bool


def _stored_reading(row: tuple[Any, ...]) -> StoredReading:
    at, received, meter_time, manufacturer, level, *rest = row
    n_text = len(TEXT_COLUMNS)
    texts = rest[:n_text]
    quantities = rest[n_text : n_text + len(QUANTITY_COLUMNS)]
    extra, stale = rest[-2], rest[-1]
    values: dict[str, Any] = {}
    for name, value in zip(TEXT_COLUMNS, texts, strict=True):
        if value is not None:
            values[name] = value
    for name, value in zip(QUANTITY_COLUMNS, quantities, strict=True):
        if value is not None:
            values[name] = _quantity_back(value)
    if extra:
        values.update(json.loads(extra, parse_float=Decimal))
    reading = Reading(
        dt.datetime.fromisoformat(received) if received else None,
        dt.datetime.fromisoformat(meter_time) if meter_time else None,
        manufacturer,
        level,
        values,
    )
    return StoredReading(reading, _from_epoch_ms(at), bool(stale))


# --------------------------------------------------------------------------------------------
# the writer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _TariffRow:
    """The newest live tariff figures of a meter (``run --grid``), for the ``tariff`` table."""

    meter_id: str
    at: int
    month: str
    figures: str


class _Flush:
    """A request to commit now; ``done`` is set once everything queued before it is committed."""

    def __init__(self) -> None:
        self.done = threading.Event()


_CLOSE: Final = object()


class HistoryStore:
    """The history database as an ``amsread run`` destination (``name``, ``handle``, ``close``).

    ``handle`` returns at once: it makes the reading's row (``_RowPlan``) in the caller's thread
    and leaves it for a writer thread, which owns the connection, commits the rows every
    ``commit_interval`` seconds and prunes every ``prune_interval``. Only when ``max_queued`` rows
    wait for the writer (a replay faster than the disk) does ``handle`` wait for room, so memory
    stays bounded. A failed commit (disk full, a locked file) is reported through ``on_error``
    and retried at the next interval with the rows kept; at most ``max_pending`` rows wait, and
    the oldest non-hourly rows go first when more do. A commit waits up to ``busy_timeout``
    seconds for a reader that holds the file (WAL readers never block the writer; only another
    writer or a checkpoint can).

    Why rows wait in a plain deque rather than a ``queue.Queue``: a replay hands over tens of
    thousands of readings a second, and a ``Queue`` costs a lock and a wake-up call on each side
    of every one. Here ``handle`` appends, and wakes the writer only when it has nothing to do
    (the first row of an interval), when a flush or close asks, or when ``max_queued`` are
    waiting; the writer takes everything waiting whenever it wakes. One thread feeds a store (the
    ``Fanout``'s lane for it, or the caller's own).
    """

    name = "db"

    def __init__(
        self,
        path: Path | str | None = None,
        *,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        commit_interval: float = 1.0,
        prune_interval: float = 3600.0,
        max_pending: int = 100_000,
        max_queued: int = 10_000,
        busy_timeout: float = 5.0,
        on_error: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.retention_days = retention_days
        self.commit_interval = commit_interval
        self.prune_interval = prune_interval
        self.max_pending = max_pending
        self.max_queued = max_queued
        self.on_error = on_error
        self.clock = clock
        #: rows committed, dropped (pending overflow), pruned, skipped (not readings) and not stored
        #: for being older than the retention when they came (a replayed capture), for the summary
        self.expired = 0
        self.committed = 0
        self.dropped = 0
        self.pruned = 0
        self.skipped = 0
        self._conn = open_database(self.path, busy_timeout=busy_timeout)
        self._plans: dict[tuple[Any, ...], _RowPlan] = {}
        #: rows (``_Entry``), tariff figures and requests, oldest first, not yet taken by the writer
        self._queued: deque[Any] = deque()
        self._wake = threading.Event()  # the writer waits on it
        self._room = threading.Event()  # a ``handle`` finding ``max_queued`` rows waits on it
        self._listening = False  # the writer waits for any row (it has none), not only for a request
        self._urgent = False  # a flush, a close or a full queue wants the writer now
        self._wants_room = False
        self._idle = threading.Event()  # set while no commit runs (a patient offer waits for it)
        self._idle.set()
        self._last_hourly: dict[str | None, str | None] = {}
        self._last_prune = float("-inf")
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="amsread-history", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"HistoryStore({str(self.path)!r})"

    # -- the destination interface ------------------------------------------------------------

    def handle(self, reading: Reading, raw: Frames | None = None) -> None:
        """Make the reading's row and leave it for the next commit (``raw`` is not stored: the
        readings are), waiting while ``max_queued`` rows wait for the writer. Something that is no
        reading is counted in ``skipped`` and told."""
        self.offer(reading, raw, None)

    def offer(self, reading: Reading, raw: Frames | None = None, patience: float | None = 0.0) -> bool:
        """``handle``, waiting at most ``patience`` seconds (None: as long as the writer lives)
        for room; False, and nothing queued, if ``max_queued`` rows still wait. Why: ``run``'s
        fanout hands the store its readings from the reading thread itself (the store has a
        thread of its own), so a stuck disk must cost that thread no wait; the fanout then drops or
        holds the reading as for any destination that does not keep up.

        A caller that may wait (``patience`` not 0: a replay, or ``handle``) also lets a commit
        that is running finish first. A commit is thousands of rows, each a step of SQLite that
        lets go of the GIL for a moment; a reading thread running beside it grabs the GIL at every
        step and gives it back only at its switch interval, and that tug of war cost a replay
        about a tenth of a second per 100,000 readings. A live port (``patience`` 0) never waits.

        A reading older than the retention when it comes (a replayed capture, by its meter clock)
        is not stored, only counted (``expired``, told by ``summary``): the next prune would
        delete it, and whether it had yet would depend on when the commits fell. Hourly lists
        are stored whatever their age, as they are kept.
        """
        if self._closed:
            raise StoreError("the history database is closed")
        if patience != 0.0 and not self._idle.is_set():
            self._idle.wait(patience)  # a replay: let the commit run alone (see the docstring)
        try:  # the fields (``_HEAD``, the values), then the row by the shape's plan (``_RowPlan``)
            level = reading.list
            values = reading.values
            args = [
                0,
                0,
                reading.received_at,
                reading.meter_time,
                reading.manufacturer,
                level,
                *values.values(),
            ]
            key = (level == 3, *values, *map(type, args))  # names, then types: one flat tuple
            plan = self._plans.get(key) or self._new_plan(key)
            when = args[2] or args[3]
            if when is None:
                args[1] = round(self.clock() * 1000)
            else:
                args[1] = round(when.timestamp() * 1000) if when.tzinfo is not None else _epoch_ms(when)
                if level != 3 and args[1] < (self.clock() - self.retention_days * 86400.0) * 1000:
                    self.expired += 1  # older than the retention already: a prune would delete it
                    return True
            for k, conv in plan.convert:
                args[k] = conv(args[k])
            if plan.extra:
                args.append(_extra_text({name: args[k] for name, k in plan.extra}))
            entry = (plan.sql, plan.pick(args), reading if level == 3 else None)
        except (AttributeError, TypeError, ValueError) as e:
            self.skipped += 1  # not a reading: counted, reported, and the store lives on
            self._report(f"history database: cannot store {type(reading).__name__}: {e}")
            return True
        queued = self._queued
        if len(queued) >= self.max_queued:
            return self._put(entry, patience=patience)
        queued.append(entry)  # ``_put`` without its waiting, as short as it can be
        if self._listening:
            self._listening = False  # appended before this test: the writer cannot miss the row
            self._wake.set()
        return True

    def _new_plan(self, key: tuple[Any, ...]) -> _RowPlan:
        """The plan of a shape met for the first time; at most ``ROW_PLANS`` are kept."""
        if len(self._plans) >= ROW_PLANS:
            self._plans.clear()
        names = (len(key) - 1 - len(_HEAD)) // 2  # key: hourly, the names, a type per field
        plan = self._plans[key] = _RowPlan(key[0], key[1 : 1 + names], *key[1 + names :])
        return plan

    def summary(self) -> str:
        """What the end-of-run line adds for the store: the readings too old to be stored."""
        if not self.expired:
            return ""
        return (
            f", {self.expired} older than the {self.retention_days:g}-day retention not stored"
            " (--retention-days keeps them)"
        )

    @property
    def waiting(self) -> int:
        """Rows, tariff figures and requests handed over and not yet taken by the writer."""
        return len(self._queued)

    def put_tariff(self, meter_id: str, figures: str) -> None:
        """Queue the live tariff figures of ``meter_id`` (a JSON object with ``time`` and
        ``month``, ``report.live.figures_json``); the newest of each meter is written at the next
        commit, replacing the row before."""
        if self._closed:
            raise StoreError("the history database is closed")
        fields = json.loads(figures)
        when = dt.datetime.fromisoformat(fields["time"])
        self._put(_TariffRow(meter_id, _epoch_ms(when), str(fields["month"]), figures))

    def flush(self, timeout: float | None = None) -> bool:
        """Commit everything queued so far now; True once it is committed (False on timeout)."""
        request = _Flush()
        self._put(request, urgent=True)
        return request.done.wait(timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        """Commit what is queued, stop the writer and close the file."""
        self.finish(timeout)

    def finish(self, timeout: float | None = 30.0) -> bool:
        """``close``, saying whether the writer finished (committed and closed the file) in time."""
        if not self._closed:
            self._closed = True
            self._put(_CLOSE, urgent=True)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _put(self, item: object, *, urgent: bool = False, patience: float | None = None) -> bool:
        """Leave ``item`` for the writer, waking it if it needs to know now; wait up to
        ``patience`` seconds while ``max_queued`` are ahead (only a replay or a stalled disk gets
        there: a meter sends one reading every 2 s). False if there is still no room."""
        queued = self._queued
        if len(queued) >= self.max_queued and not urgent and not self._wait_for_room(patience):
            return False
        queued.append(item)
        if urgent or self._listening:
            self._listening = False  # one wake-up: until the writer runs, the next rows only append
            self._urgent = self._urgent or urgent
            self._wake.set()
        return True

    def _wait_for_room(self, patience: float | None) -> bool:
        """Wake the writer to take what is waiting, and wait until it has (True) or ``patience``
        seconds have passed (False). A writer that has died is an error, not a full queue."""
        deadline = None if patience is None else time.monotonic() + patience
        try:
            while len(self._queued) >= self.max_queued:
                if not self._thread.is_alive():
                    raise StoreError("the history database writer has stopped")
                self._room.clear()
                self._wants_room = True
                if len(self._queued) < self.max_queued:
                    break  # the writer took them between the test and the flag
                self._urgent = True
                self._wake.set()
                left = 1.0 if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    return False
                self._room.wait(min(left, 1.0))
            return True
        finally:
            self._wants_room = False

    # -- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        pending: list[_Entry] = []
        tariffs: dict[str, _TariffRow] = {}
        deadline: float | None = None
        waiting: list[_Flush] = []
        try:
            while True:
                closing = self._take(pending, tariffs, waiting, self._wait(deadline))
                if deadline is None and (pending or tariffs):
                    deadline = time.monotonic() + self.commit_interval
                due = deadline is not None and time.monotonic() >= deadline
                if not (due or waiting or closing):
                    continue  # a burst (a replay, a backlog) still commits once per interval
                if self._commit_alone(pending, list(tariffs.values())):
                    pending.clear()
                    tariffs.clear()
                    for request in waiting:
                        request.done.set()
                    waiting.clear()
                    deadline = None
                else:
                    deadline = time.monotonic() + self.commit_interval
                if closing:
                    return
        finally:
            for request in waiting:
                request.done.set()
            self._conn.close()

    def _wait(self, deadline: float | None) -> int:
        """Wait for work: any row when there is none pending (``deadline`` None), else until the
        deadline or a request (flush, close, a full queue). How many items are there to take."""
        self._wake.clear()
        self._listening = deadline is None
        if not (self._urgent or (deadline is None and self._queued)):
            self._wake.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self._listening = False
        self._urgent = False
        return len(self._queued)

    def _take(
        self, pending: list[_Entry], tariffs: dict[str, _TariffRow], waiting: list[_Flush], count: int
    ) -> bool:
        """Move ``count`` queued items to the rows and tariff figures waiting for the next commit
        (judging hourly lists stale in order) and the flush requests; True at a close."""
        take, keep, closing = self._queued.popleft, pending.append, False
        for _ in range(count):
            item = take()
            if type(item) is tuple:
                if item[2] is not None and self._is_stale(item[2]):
                    item = (item[0], (1, *item[1][1:]), item[2])
                keep(item)
            elif isinstance(item, _TariffRow):
                tariffs[item.meter_id] = item  # only the newest of a meter is written
            elif isinstance(item, _Flush):
                waiting.append(item)
            else:
                closing = True
        if self._wants_room:
            self._room.set()
        self._bound(pending)
        return closing

    def _is_stale(self, reading: Reading) -> bool:
        """Does this hourly list repeat the previous one's meter clock (for its meter)?"""
        meter = reading.values.get("meter_id")
        clock = _time_text(reading.meter_time)
        if meter not in self._last_hourly:
            try:
                found = self._conn.execute(
                    "SELECT meter_time FROM readings WHERE list = 3 AND meter_id IS ?"
                    " ORDER BY at DESC, id DESC LIMIT 1",
                    (meter,),
                ).fetchone()
            except sqlite3.Error:
                found = None  # a busy file: judge from this run's lists alone
            self._last_hourly[meter] = found[0] if found else None
        previous = self._last_hourly[meter]
        self._last_hourly[meter] = clock
        return clock is not None and clock == previous

    def _report(self, message: str) -> None:
        if self.on_error is not None:
            self.on_error(message)

    def _bound(self, pending: list[_Entry]) -> None:
        """Keep at most ``max_pending`` rows waiting; the oldest non-hourly rows go first."""
        excess = len(pending) - self.max_pending
        if excess <= 0:
            return
        kept: list[_Entry] = []
        for entry in pending:
            if excess and entry[2] is None:
                excess -= 1
                self.dropped += 1
            else:
                kept.append(entry)
        self.dropped += excess  # nothing but hourly lists left: the oldest of them
        pending[:] = kept[excess:]

    def _commit_alone(self, rows: list[_Entry], tariffs: list[_TariffRow]) -> bool:
        """``_commit``, telling a patient ``offer`` to wait until it is done (see ``offer``)."""
        self._idle.clear()
        try:
            return self._commit(rows, tariffs)
        finally:
            self._idle.set()

    def _commit(self, rows: list[_Entry], tariffs: list[_TariffRow] | None = None) -> bool:
        """Write ``rows`` and the newest tariff figures (and prune when due) in one transaction;
        False (and reported) on failure."""
        prune = self.clock() - self._last_prune >= self.prune_interval
        if not rows and not tariffs and not prune:
            return True
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            insert = conn.cursor().executemany  # one cursor for every run: not one per call
            for sql, same in itertools.groupby(rows, key=_SQL):
                insert(sql, [entry[1] for entry in same])  # a run of one shape
            conn.executemany(_UPSERT_TARIFF, [(t.meter_id, t.at, t.month, t.figures) for t in tariffs or ()])
            deleted = 0
            if prune:
                cutoff = round((self.clock() - self.retention_days * 86400.0) * 1000)
                deleted = conn.execute(
                    "DELETE FROM readings WHERE at < ? AND (list IS NULL OR list != 3)", (cutoff,)
                ).rowcount
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._report(f"history database {self.path}: {e}; {len(rows)} rows kept for a retry")
            return False
        self.committed += len(rows)
        if prune:
            self.pruned += deleted
            self._last_prune = self.clock()
        return True


_SQL: Final = operator.itemgetter(0)


_UPSERT_TARIFF: Final = (
    "INSERT INTO tariff (meter_id, at, month, figures) VALUES (?, ?, ?, ?) ON CONFLICT (meter_id)"
    " DO UPDATE SET at = excluded.at, month = excluded.month, figures = excluded.figures"
)

# --------------------------------------------------------------------------------------------
# the reader
# --------------------------------------------------------------------------------------------


def read_readings(
    path: Path | str | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    *,
    meter_id: str | None = None,
    lists: tuple[int, ...] | None = None,
    include_stale: bool = True,
    batch: int = 500,
) -> Iterator[StoredReading]:
    """Stream the stored readings with ``start <= at < end`` in time order, ``batch`` rows at a time.

    It streams: a year of readings is never in memory at once. It opens its own read-only
    connection, so it is safe while ``amsread run`` writes (WAL: the reader sees the last commit
    made before it started). ``lists`` keeps only those list levels, e.g. ``(3,)`` for the hourly
    counters; ``include_stale=False`` leaves out hourly lists that repeated a meter clock.
    """
    with HistoryReader(path) as reader:
        for _, stored in reader.readings(
            start, end, meter_id=meter_id, lists=lists, include_stale=include_stale, batch=batch
        ):
            yield stored


#: ``(id, reading)``: the row id orders rows of the same ``at`` and tells a row read twice.
Row = tuple[int, StoredReading]


class HistoryReader:
    """A read-only view of the history database: every query sees the same snapshot (one read
    transaction), so a ``run`` writing beside it cannot make two queries disagree.

    Why more than one query: the report's fast road (``report.history.database``) reads the hourly
    lists, the first row of each hour, and the rows of only those hours whose energy the hourly
    lists do not settle, rather than every power reading of the month.
    """

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        if not self.path.exists():
            raise StoreError(f"no history database at {self.path}")
        try:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the history database {self.path}: {e}") from e
        try:
            self.version = _check_readable(self._conn, self.path)
            self._conn.execute("BEGIN")
        except sqlite3.Error as e:
            self._conn.close()
            raise StoreError(f"cannot read the history database {self.path}: {e}") from e
        except StoreError:
            self._conn.close()
            raise

    def __enter__(self) -> HistoryReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the read transaction and close the file."""
        self._conn.close()

    def _rows(self, sql: str, args: list[Any], batch: int = 500) -> Iterator[Row]:
        """``sql``'s rows (``id`` first, then ``_ROW_COLUMNS``) as ``(id, StoredReading)``, streamed."""
        try:
            cursor = self._conn.execute(sql, args)
            while rows := cursor.fetchmany(batch):
                for row in rows:
                    yield row[0], _stored_reading(row[1:])
        except sqlite3.Error as e:
            raise StoreError(f"cannot read the history database {self.path}: {e}") from e

    def _value(self, sql: str, args: list[Any]) -> Any:
        try:
            found = self._conn.execute(sql, args).fetchone()
        except sqlite3.Error as e:
            raise StoreError(f"cannot read the history database {self.path}: {e}") from e
        return None if found is None else found[0]

    def readings(
        self,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        *,
        meter_id: str | None = None,
        lists: tuple[int, ...] | None = None,
        include_stale: bool = True,
        batch: int = 500,
    ) -> Iterator[Row]:
        """The rows with ``start <= at < end`` (and the filters of ``read_readings``), in order."""
        where, args = _where(start, end, meter_id, lists, include_stale)
        yield from self._rows(f"SELECT id, {_COLUMNS_SQL} FROM readings{where} ORDER BY at, id", args, batch)

    def hourly(self, start: dt.datetime | None = None, end: dt.datetime | None = None) -> Iterator[Row]:
        """Every hourly list (list 3, stale ones too) with ``start <= at < end``, in order. Through
        the hourly index, which holds only them: a month's are a few hundred of a million rows."""
        where, args = _where(start, end, None, None, True)
        where = f"{where} AND list = 3" if where else " WHERE list = 3"
        sql = f"SELECT id, {_COLUMNS_SQL} FROM readings INDEXED BY readings_hourly{where} ORDER BY at, id"
        yield from self._rows(sql, args)

    def first(self, start: dt.datetime, end: dt.datetime) -> Row | None:
        """The first row with ``start <= at < end`` (the lowest id of the earliest ``at``)."""
        where, args = _where(start, end, None, None, True)
        sql = f"SELECT id, {_COLUMNS_SQL} FROM readings{where} ORDER BY at, id LIMIT 1"
        return next(self._rows(sql, args), None)

    def bounds(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None
    ) -> tuple[dt.datetime, dt.datetime] | None:
        """The ``at`` of the first and of the last row with ``start <= at < end``; None if none."""
        where, args = _where(start, end, None, None, True)
        first = self._value(f"SELECT at FROM readings{where} ORDER BY at LIMIT 1", args)
        last = self._value(f"SELECT at FROM readings{where} ORDER BY at DESC LIMIT 1", args)
        if first is None or last is None:
            return None
        return _from_epoch_ms(first), _from_epoch_ms(last)

    def meters(
        self, start: dt.datetime | None = None, end: dt.datetime | None = None, most: int = 2
    ) -> set[str]:
        """The meter ids of the rows with ``start <= at < end``, at most ``most`` of them. From
        schema 3 on through the ``readings_meter`` index (one look-up per meter in the file); an
        older file is scanned."""
        where, args = _where(start, end, None, None, True)
        found: set[str] = set()
        if self.version < _METER_INDEX:
            clause = f"{where} AND meter_id IS NOT NULL" if where else " WHERE meter_id IS NOT NULL"
            sql = f"SELECT DISTINCT meter_id FROM readings{clause} LIMIT {int(most)}"
            try:
                return {row[0] for row in self._conn.execute(sql, args)}
            except sqlite3.Error as e:
                raise StoreError(f"cannot read the history database {self.path}: {e}") from e
        previous: str | None = None  # the first: any id, the empty one too
        while len(found) < most:
            after = "meter_id IS NOT NULL" if previous is None else "meter_id > ?"
            meter = self._value(
                f"SELECT meter_id FROM readings WHERE {after} ORDER BY meter_id LIMIT 1",
                [] if previous is None else [previous],
            )
            if meter is None:
                return found
            inside = f"{where} AND meter_id = ?" if where else " WHERE meter_id = ?"
            if self._value(f"SELECT 1 FROM readings{inside} LIMIT 1", [*args, meter]) is not None:
                found.add(meter)
            previous = meter
        return found


_COLUMNS_SQL: Final = ", ".join(_ROW_COLUMNS)


def _from_epoch_ms(at: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(at / 1000, dt.UTC)


def _check_readable(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version, if this amsread reads it (``READABLE_FROM`` up to its own)."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if not READABLE_FROM <= version <= len(MIGRATIONS):
        raise StoreError(
            f"{path} has schema version {version}; this amsread reads versions {READABLE_FROM} "
            f"to {len(MIGRATIONS)}"
        )
    return version


@dataclass(frozen=True, slots=True)
class StoredTariff:
    """A meter's newest live tariff figures as ``run --grid`` left them."""

    meter_id: str
    at: dt.datetime
    month: str
    figures: dict[str, Any]


def read_tariff(path: Path | str | None = None) -> list[StoredTariff]:
    """The live tariff figures in the history database, one per meter (none in a file that an
    amsread before the ``tariff`` table wrote). Numbers come back as exact ``Decimal``."""
    path = Path(path) if path is not None else default_path()
    if not path.exists():
        raise StoreError(f"no history database at {path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as e:
        raise StoreError(f"cannot open the history database {path}: {e}") from e
    try:
        if _check_readable(conn, path) < 2:
            return []
        rows = conn.execute("SELECT meter_id, at, month, figures FROM tariff ORDER BY meter_id").fetchall()
    except sqlite3.Error as e:
        raise StoreError(f"cannot read the history database {path}: {e}") from e
    finally:
        conn.close()
    return [
        StoredTariff(
            m, dt.datetime.fromtimestamp(at / 1000, dt.UTC), month, json.loads(f, parse_float=Decimal)
        )
        for m, at, month, f in rows
    ]


def _where(
    start: dt.datetime | None,
    end: dt.datetime | None,
    meter_id: str | None,
    lists: tuple[int, ...] | None,
    include_stale: bool,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    if start is not None:
        clauses.append("at >= ?")
        args.append(_epoch_ms(start))
    if end is not None:
        clauses.append("at < ?")
        args.append(_epoch_ms(end))
    if meter_id is not None:
        clauses.append("meter_id = ?")
        args.append(meter_id)
    if lists is not None:
        clauses.append(f"list IN ({', '.join('?' * len(lists))})")
        args.extend(lists)
    if not include_stale:
        clauses.append("stale = 0")
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args
