"""One reader, many destinations: each reading sink behind its own queue and thread.

Why a thread per destination: ``amsread run`` owns the serial port, and a meter keeps pushing
whatever happens to the broker, the disk or a file. A destination that blocks (a full disk, a
named pipe nobody reads, a history store waiting for room) must not hold up the port or the other
destinations. So ``Fanout.handle`` never waits: it puts the reading on each destination's bounded
queue, and a destination whose queue is full loses that reading (counted, told once on stderr) —
except an hourly list (list 3): the energy counters that the report and the capacity tariff are
made of are held aside, in order, and handed over before anything newer once there is room.
A destination that raises is told on stderr and handed the next reading as usual: that is its
retry (files reopen, the store and the publisher retry on their own).

A destination that already has a bounded queue and a thread of its own (``QueuingSink``: the
history store) gets no second pair: its lane offers it each reading in the reading thread, and its
own queue is the one that fills, with the same rules (drop and tell, hold the hourly lists).

A replay (a capture file, stdin) is different: nothing waits on the other side, so dropping would
lose readings for nothing. With ``patient`` set, ``handle`` waits for room instead, up to
``PATIENCE`` seconds; a destination that has not moved in that time is treated as stuck, and
readings are dropped for it until it takes one again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, cast

from amsread.contract import Frames, Reading
from amsread.sinks import QueuingSink, ReadingSink

Log = Callable[[str], None]

#: Readings a destination may fall behind by before the newest are dropped for it: over five
#: hours of a meter's pushes, yet a bounded few megabytes.
DEFAULT_BACKLOG: Final = 10_000
#: Hourly lists held for a destination whose queue is full: years of them, a few megabytes.
HOURLY_KEPT: Final = 50_000
#: How long ``close`` waits for the destinations together (a dead broker, a stuck file).
DEFAULT_CLOSE_TIMEOUT: Final = 15.0
#: How long a patient ``handle`` (a replay) waits for a destination to make room.
PATIENCE: Final = 10.0

_END: Final = object()


@dataclass(slots=True)
class LaneStats:
    """What happened to the readings handed to one destination."""

    handled: int = 0
    dropped: int = 0
    """Not handed over: the destination's queue was full (it was stuck or slow)."""
    held: int = 0
    """Hourly lists held aside while the queue was full (handed over later, never dropped)."""
    failed: int = 0
    """Handed over, but the destination raised."""


class Lane:
    """One destination with its queue and its thread.

    The queue is a deque and two events rather than a ``queue.Queue``: a replay hands tens of
    thousands of readings a second to every lane, and a ``Queue`` takes a lock and calls a
    wake-up on both sides of each one. Here ``put`` appends and wakes the lane's thread only when
    it sleeps (its queue ran dry); the thread then takes everything queued before it sleeps again.
    A patient ``put`` that finds the queue full sleeps until the thread has taken half of it. One
    thread puts (the reader's), one takes (the lane's own).
    """

    def __init__(self, sink: ReadingSink, *, backlog: int, log: Log) -> None:
        self.sink = sink
        self.name = sink.name
        self.stats = LaneStats()
        self._log = log
        self._backlog = backlog
        self._queue: deque[object] = deque()
        self._ready = threading.Event()  # the lane's thread sleeps on it
        self._room = threading.Event()  # a patient put sleeps on it
        self._asleep = False  # the lane's thread sleeps (or is about to): a put wakes it
        self._wants_room = False  # a put sleeps until the queue is half empty
        self._told_full = False
        #: hourly lists that found the queue full, oldest first: nothing newer overtakes them
        self._held: deque[tuple[Reading, Frames | None]] = deque(maxlen=HOURLY_KEPT)
        self._last_error: str | None = None
        self._queuing = sink if isinstance(sink, QueuingSink) else None
        self._offer_to: Callable[[Reading, Frames | None, float | None], bool] | None = (
            self._queuing.offer if self._queuing is not None else None
        )
        self._deliver = self._hand if self._queuing is not None else self._offer
        self._thread = threading.Thread(target=self._run, name=f"amsread-{self.name}", daemon=True)
        if self._queuing is None:
            self._thread.start()

    @property
    def waiting(self) -> int:
        """Readings queued for the destination and not yet taken by its thread."""
        return self._queuing.waiting if self._queuing is not None else len(self._queue)

    def put(self, reading: Reading, raw: Frames | None, patience: float = 0.0) -> None:
        """Queue, waiting up to ``patience`` seconds for room (none while the destination is known
        to be stuck); count and tell (once per stuck spell) when the queue stays full. An hourly
        list that finds no room is held aside instead of dropped (see the module docstring)."""
        if self._held:
            self._release_held()
        # while a held hourly list waits, nothing overtakes it: the reading finds no room either
        if self._held or not self._deliver((reading, raw), 0.0 if self._told_full else patience):
            if reading.list == 3:
                self._held.append((reading, raw))
                self.stats.held += 1
            else:
                self.stats.dropped += 1
            if not self._told_full:
                self._told_full = True
                self._log(f"{self.name}: not keeping up; dropping readings for it until it does")
            return
        self._told_full = False

    def _offer(self, item: object, patience: float) -> bool:
        """Queue ``item``, waiting up to ``patience`` seconds for room; False if there is none."""
        queued = self._queue
        if len(queued) >= self._backlog and not self._wait_for_room(patience):
            return False
        queued.append(item)
        if self._asleep:
            self._asleep = False  # one wake-up: until the thread runs again, the next puts only append
            self._ready.set()
        return True

    def _hand(self, item: tuple[Reading, Frames | None], patience: float) -> bool:
        """A ``QueuingSink``'s ``_deliver``: offer it the reading here, in the reader's thread;
        False if it has no room within ``patience`` seconds."""
        offer = self._offer_to
        assert offer is not None
        try:
            if not offer(item[0], item[1], patience):
                return False
        except Exception as e:  # told and counted like a failure in a lane's thread
            self._failed(e)
        else:
            self._handled()
        return True

    def _wait_for_room(self, patience: float) -> bool:
        """Sleep until the lane's thread has made room (True), or ``patience`` seconds pass."""
        deadline = time.monotonic() + patience
        try:
            while len(self._queue) >= self._backlog:
                self._room.clear()
                self._wants_room = True
                left = deadline - time.monotonic()
                if len(self._queue) < self._backlog:
                    break  # taken between the test and the flag
                if left <= 0:
                    return False
                self._room.wait(left)
            return True
        finally:
            self._wants_room = False

    def _release_held(self, timeout: float = 0.0) -> None:
        """Move held hourly lists onto the queue, oldest first, while it has room."""
        while self._held:
            if not self._deliver(self._held[0], timeout):
                return
            self._held.popleft()

    def _take(self) -> object:
        """The oldest queued item, sleeping while there is none (the sink's ``idle`` first)."""
        queued = self._queue
        while not queued:
            idle = getattr(self.sink, "idle", None)
            if idle is not None:
                self._idle(idle)  # before sleeping: what was handled is out (files flush here)
            self._ready.clear()
            self._asleep = True
            if not queued:
                self._ready.wait()
            self._asleep = False
        item = queued.popleft()
        if self._wants_room and len(queued) <= self._backlog // 2:
            self._room.set()
        return item

    def _run(self) -> None:
        while (item := self._take()) is not _END:
            reading, raw = cast("tuple[Reading, Frames | None]", item)
            try:
                self.sink.handle(reading, raw)
            except Exception as e:  # a destination's failure must not end the others or the reading
                self._failed(e)
            else:
                self._handled()

    def _handled(self) -> None:
        self.stats.handled += 1
        if self._last_error is not None:
            self._last_error = None
            self._log(f"{self.name}: working again")

    def _failed(self, e: Exception) -> None:
        self.stats.failed += 1
        self._fail(f"{type(e).__name__}: {e}")

    def _idle(self, idle: Callable[[], None]) -> None:
        """The sink's ``idle`` (optional: the queue has run dry), its failure told like any other."""
        try:
            idle()
        except Exception as e:
            self._fail(f"{type(e).__name__}: {e}")

    def _fail(self, message: str) -> None:
        """Tell a failure once until it changes or the destination recovers (no flood per frame)."""
        if message != self._last_error:
            self._last_error = message
            self._log(f"{self.name}: {message}; will retry with the next reading")

    def finish(self, deadline: float) -> bool:
        """Let the queue drain, then close the destination; False when the deadline passed first."""
        self._release_held(timeout=max(0.001, deadline - time.monotonic()))
        if self._queuing is not None:
            return self._queuing.finish(max(0.0, deadline - time.monotonic()))
        if not self._offer(_END, max(0.0, deadline - time.monotonic())):
            return False
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            return False
        try:
            self.sink.close()
        except Exception as e:
            self._log(f"{self.name}: closing failed: {type(e).__name__}: {e}")
        return True


class Fanout:
    """Hands every reading to every destination, each on its own lane (see the module docstring)."""

    def __init__(
        self,
        sinks: Sequence[ReadingSink],
        *,
        log: Log,
        backlog: int = DEFAULT_BACKLOG,
        close_timeout: float = DEFAULT_CLOSE_TIMEOUT,
    ) -> None:
        self._log = log
        self.close_timeout = close_timeout
        self.lanes = [Lane(sink, backlog=backlog, log=log) for sink in sinks]
        #: wait for a slow destination (a replay) instead of dropping for it (a live port)
        self.patient = False
        self._closed = False

    def handle(self, reading: Reading, raw: Frames | None = None) -> None:
        """Queue ``reading`` for every destination; never waits unless ``patient``."""
        patience = PATIENCE if self.patient else 0.0
        for lane in self.lanes:
            lane.put(reading, raw, patience)

    def close(self) -> None:
        """Drain every queue and close every destination, within ``close_timeout`` seconds in all."""
        if self._closed:
            return
        self._closed = True
        deadline = time.monotonic() + self.close_timeout
        for lane in self.lanes:
            if not lane.finish(deadline):
                left = lane.waiting
                # not closed either: its thread may hold the file, and a close would wait for it
                self._log(f"{lane.name}: stuck; gave up on it at exit with {left} readings unwritten")

    def summary(self) -> str:
        """One clause per destination for the end of a run, e.g. ``db: 120 stored``."""
        parts = []
        for lane in self.lanes:
            text = f"{lane.name}: {lane.stats.handled} handled"
            if lane.stats.dropped:
                text += f", {lane.stats.dropped} dropped"
            if lane.stats.failed:
                text += f", {lane.stats.failed} failed"
            told = getattr(lane.sink, "summary", None)  # optional: what only this destination knows
            if told is not None:
                text += told()
            parts.append(text)
        return "; ".join(parts)
