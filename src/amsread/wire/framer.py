"""Bytes to frames to envelopes: catch, count, continue.

The framer is the one place that decides what an error means for the stream: every deliberate
error (``AmsReadError``) is counted under its reason and skipped, and the next good frame goes on.
``--strict`` makes the first skip fatal. Nothing here does I/O beyond iterating the source. Each
whole message leaves as one ``Envelope``, whatever framing carried it; ``decode.pipeline`` hands
envelopes to the decoder it is given.

Two framings share the port: HDLC (Norway and most of Europe) and wired M-Bus long frames (Austria,
Poland). The HDLC splitter sees every byte first; whatever it finds outside a good HDLC frame goes,
in order, to the M-Bus splitter, so either kind (or a mix) decodes with no setting, and a pure HDLC
stream behaves exactly as before. A ``7E`` inside an M-Bus frame is data, not a flag: an HDLC
candidate that the HDLC splitter rejects while an M-Bus frame may still be completing around it is
held back, and counted only if no good M-Bus frame turns out to contain it.

P1 (DSMR) telegrams are the third: ASCII, ``/`` to ``!``, never a ``7E`` or an M-Bus header, so
the same bytes outside HDLC frames also go to the P1 splitter (``wire.p1``), and a stream may even
change from HDLC to P1 when a meter is swapped.
"""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Final, TypedDict, Unpack

from amsread.errors import AmsReadError
from amsread.wire.hdlc import Frame, FrameSplitter, SegmentAssembler, SplitterStats
from amsread.wire.mbus import START as MBUS_START
from amsread.wire.mbus import MbusAssembler, MbusFrame, MbusSplitter, MbusStats
from amsread.wire.p1 import P1Splitter, P1Stats, P1Telegram

#: A live source silent this long inside a frame has lost the rest of it (a meter sends a frame in
#: one go; at 2400 baud a byte takes 4.6 ms).
IDLE_FLUSH: Final = 0.5


class Framing(Enum):
    """What carried a message on the port, and so what stands in front of its APDU."""

    HDLC = "hdlc"
    """IEC 62056-46 frames: the information field starts with the LLC header E6 E7 00."""
    MBUS = "mbus"
    """EN 13757-2 long frames: the joined data is the APDU itself, no LLC."""
    P1 = "p1"
    """DSMR telegrams (P1 port): the payload is the ASCII telegram, ``/`` to ``!`` and its CRC."""


#: ``Framing.HDLC`` without the class attribute look-up, for the per-frame road.
_HDLC: Final = Framing.HDLC


# Not frozen, yet never changed: one is made per frame, and a frozen dataclass's __init__
# (object.__setattr__ per field) cost 5 times as much, a tenth of a frame's decode (issue 15).
@dataclass(slots=True, unsafe_hash=True)
class Envelope:
    """One whole message as the framer hands it on, the same for every framing.

    ``payload`` is the HDLC information field (segments joined, LLC still in front) or the M-Bus
    APDU (segments joined). ``source`` is the HDLC source address as sent (None for M-Bus);
    ``received_at`` is host time when the last frame's end arrived on a live source.
    """

    framing: Framing
    payload: bytes
    source: bytes | None
    received_at: float | None
    frames: tuple[bytes, ...]
    """The raw frames the message came in, first segment first (one for most pushes)."""

    @classmethod
    def of_hdlc(
        cls, frame: Frame, information: bytes | None = None, frames: tuple[bytes, ...] = ()
    ) -> Envelope:
        """The envelope of an HDLC message that ``frame`` completed: its own information field by
        default, or the joined segments (``information``) of the raw ``frames``."""
        info = frame.information if information is None else information
        return cls(Framing.HDLC, info, frame.source, frame.received_at, frames or (frame.raw,))

    @classmethod
    def of_mbus(cls, frame: MbusFrame, apdu: bytes, frames: tuple[bytes, ...] = ()) -> Envelope:
        """The envelope of an M-Bus message whose last segment is ``frame``."""
        return cls(Framing.MBUS, apdu, None, frame.received_at, frames or (frame.raw,))

    @classmethod
    def of_p1(cls, telegram: P1Telegram) -> Envelope:
        """The envelope of one whole P1 telegram (its CRC already checked)."""
        return cls(Framing.P1, telegram.raw, None, telegram.received_at, (telegram.raw,))

    @property
    def has_llc(self) -> bool:
        """HDLC carries the LLC header in front of the APDU; M-Bus does not."""
        return self.framing is Framing.HDLC


@dataclass(slots=True)
class Stats:
    """Everything counted along the way, for the summary line and the live view."""

    splitter: SplitterStats = field(default_factory=SplitterStats)
    mbus: MbusStats = field(default_factory=MbusStats)
    p1: P1Stats = field(default_factory=P1Stats)
    messages: int = 0
    readings: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    """Skipped frames and messages, by reason: what a view calls bad."""
    warnings: Counter[str] = field(default_factory=Counter)
    """Readings printed as sent but suspect (a stale hourly list), by reason: never bad frames."""
    last_frame_at: float | None = None

    def count(self, err: AmsReadError) -> None:
        self.errors[err.reason] += 1

    def warn(self, reason: str) -> None:
        self.warnings[reason] += 1

    def summary(self) -> str:
        """One line: ``412 frames: 409 readings, 2 bad FCS, 1 bad layout; 9812 bytes, 3 discarded``.

        M-Bus frames are named only when there were some (``0 frames, 2 M-Bus frames: …``), and the
        bytes inside them are not counted as discarded.
        """
        s = self.splitter
        m = self.mbus
        p = self.p1
        parts = [
            _count(s.frames_good, "frame")
            + (f", {_count(m.frames_good, 'M-Bus frame')}" if m.frames_good else "")
        ]
        if p.telegrams_good:  # a P1 port: its telegrams, and HDLC frames only if some came too
            telegrams = _count(p.telegrams_good, "P1 telegram")
            parts = [f"{parts[0]}, {telegrams}" if s.frames_good or m.frames_good else telegrams]
        detail = []
        if self.readings:
            detail.append(_count(self.readings, "reading"))
        for reason, n in sorted((self.errors + self.warnings).items(), key=lambda kv: (-kv[1], kv[0])):
            detail.append(f"{n} {reason}")
        line = parts[0] + (": " + ", ".join(detail) if detail else "")
        inside = m.bytes_in_frames + p.bytes_in_telegrams
        return f"{line}; {s.bytes_received} bytes, {s.bytes_discarded - inside} discarded"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class FramerOptions(TypedDict, total=False):
    """How a ``Framer`` (and so a ``Pipeline``) reports and decides; see ``Framer``."""

    on_error: Callable[[AmsReadError], None] | None
    on_discard: Callable[[bytes], None] | None
    strict: bool
    idle_flush: float


class Framer:
    """Wires a source through the splitters and the segment assemblers, to envelopes.

    ``on_error`` sees every skipped error (after counting), for ``-v`` and ``hex``; ``strict``
    raises the first one instead. ``on_discard`` sees the bytes outside any HDLC frame or P1
    telegram (M-Bus frames included), as ``hex --raw`` shows them.
    """

    def __init__(self, **options: Unpack[FramerOptions]) -> None:
        on_error = options.get("on_error")
        on_discard = options.get("on_discard")
        strict = options.get("strict", False)
        idle_flush = options.get("idle_flush", IDLE_FLUSH)
        self.stats = Stats()
        self.strict = strict
        self.on_error = on_error
        self.on_discard = on_discard
        self.idle_flush = idle_flush
        self.splitter = FrameSplitter(on_error=self._frame_error, on_discard=self._outside_hdlc)
        self.splitter.stats = self.stats.splitter
        self.splitter.on_repeated_error = self._frame_errors
        self.segments = SegmentAssembler()
        self.mbus = MbusSplitter(on_error=self._skip)
        self.mbus.stats = self.stats.mbus
        self.mbus_segments = MbusAssembler(on_error=self._skip)
        #: P1 telegrams share the port too: they see what neither HDLC nor M-Bus took, and so do
        #: what ``on_discard`` shows (the bytes outside any frame or telegram).
        self.p1 = P1Splitter(on_error=self._skip, on_outside=on_discard)
        self.p1.stats = self.stats.p1
        self._received_at: float | None = None
        #: (stream offset just past a live chunk, host time it arrived), for bytes still buffered
        self._arrivals: deque[tuple[int, float]] = deque()
        #: HDLC rejections inside a possible M-Bus frame: (stream position, error), see the module doc.
        self._held: list[tuple[int, AmsReadError]] = []
        #: M-Bus messages completed during the current step, while ``messages`` runs: (HDLC frames
        #: found before it, envelope), so they come out in stream order among HDLC messages.
        self._mbus_ready: list[tuple[int, Envelope]] | None = None
        #: How far into the undelivered discarded bytes ``_mbus_start_undelivered`` has looked.
        self._scanned = 0

    def _skip(self, err: AmsReadError) -> None:
        self.stats.count(err)
        if self.on_error is not None:
            self.on_error(err)
        if self.strict:
            raise err

    def _frame_error(self, err: AmsReadError) -> None:
        """Count an HDLC rejection now, or hold it if an M-Bus frame may be open around it.

        The splitter hands discarded bytes over a run at a time, so the M-Bus splitter may not yet
        have seen the bytes before this rejection. Its place among the discarded bytes is known
        (``splitter.discarded``); it is held when the M-Bus splitter has a frame pending or a
        ``68`` waits among the undelivered bytes, and settled once they are delivered.
        """
        if self.mbus.pending_start is None and not self._mbus_start_undelivered():
            self._skip(err)
        else:
            self._held.append((self.splitter.discarded, err))

    def _frame_errors(self, err: AmsReadError, times: int, first: int, step: int) -> None:
        """``times`` identical HDLC rejections (a flood), their bytes already among the discarded.

        Counted at once when no M-Bus frame can be open around any of them; otherwise each is
        held at its own place, exactly as ``_frame_error`` would have held it.
        """
        if self.mbus.pending_start is None and not self._mbus_start_undelivered():
            if self.strict:
                self._skip(err)  # raises: the first one ends the run
            self.stats.errors[err.reason] += times
            if self.on_error is not None:
                for _ in range(times):
                    self.on_error(err)
            return
        self._held += [(first + i * step, err) for i in range(times)]

    def _mbus_start_undelivered(self) -> bool:
        """Whether a ``68`` (an M-Bus start) is among the discarded bytes not yet delivered.

        Scans only what it has not scanned before, so a long run with many rejections inside it
        (a flood of ``7E A0``) is scanned once, not once per rejection.
        """
        if not self.splitter.undelivered:
            return False
        found = self.splitter.find_undelivered(MBUS_START, self._scanned)
        self._scanned = found if found >= 0 else self.splitter.undelivered
        return found >= 0

    def _outside_hdlc(self, data: bytes) -> None:
        """A run of bytes outside any HDLC frame, in one piece: on to the M-Bus splitter."""
        self._scanned = 0
        telegrams = self.p1.feed(data, self._received_at)  # shows the bytes outside telegrams first
        frames = self.mbus.feed(data, self._received_at)
        if frames or self._held:
            self._mbus_frames(frames)
        self._p1_telegrams(telegrams)

    def _p1_telegrams(self, telegrams: list[P1Telegram]) -> None:
        """Whole P1 telegrams join the M-Bus messages of this step, in stream order."""
        if telegrams and self._mbus_ready is not None:
            count = self.stats.splitter.frames_good
            self._mbus_ready += [(count, Envelope.of_p1(t)) for t in telegrams]

    def _mbus_frames(self, frames: list[MbusFrame]) -> None:
        if self._held:
            self._settle(frames)
        for mf in frames:
            apdu = self.mbus_segments.add(mf)
            if apdu is not None and self._mbus_ready is not None:
                self._mbus_ready.append(
                    (self.stats.splitter.frames_good, Envelope.of_mbus(mf, apdu, self.mbus_segments.frames))
                )

    def _settle(self, frames: list[MbusFrame]) -> None:
        """Drop held HDLC errors that lay inside a good M-Bus frame; count those that did not."""
        pending = self.mbus.pending_start
        keep = []
        for pos, err in self._held:
            if any(f.offset <= pos < f.offset + len(f.raw) for f in frames):
                continue
            if pending is not None and pending <= pos:
                keep.append((pos, err))
                continue
            self._skip(err)
        self._held = keep

    def _flush(self) -> list[Frame]:
        frames = self.splitter.flush(self._arrived if self._received_at is not None else None)
        stamp = self._received_at  # an M-Bus frame the flush completes ended with the last bytes
        self._mbus_frames(
            [mf if mf.received_at else replace(mf, received_at=stamp) for mf in self.mbus.flush()]
        )
        if self._held:
            self._settle([])
        self.p1.flush()  # a telegram still open when the line fell silent is cut, never merged
        return frames

    def _arrived(self, offset: int) -> float | None:
        """Host time the byte at stream ``offset`` arrived (live sources; see ``_note_arrival``)."""
        for end, at in self._arrivals:
            if offset < end:
                return at
        return self._received_at

    def _note_arrival(self, at: float) -> None:
        """Remember when the bytes received so far arrived, for as far back as the splitter holds
        bytes: a frame the idle flush recovers keeps the time its own last byte came in."""
        arrivals = self._arrivals
        received = self.stats.splitter.bytes_received
        arrivals.append((received, at))
        oldest = received - self.splitter.buffered
        while arrivals and arrivals[0][0] <= oldest:
            arrivals.popleft()

    def steps(self, source: Iterable[bytes], *, live: bool = False) -> Iterator[list[Frame]]:
        """Feed the source chunk by chunk; after each, the HDLC frames it completed (often none).

        Live sources also step on idle ticks, so a caller can react to silence; a silence longer
        than ``idle_flush`` inside a frame ends that frame as truncated.
        """
        splitter = self.splitter
        last_data = time.monotonic()
        for chunk in source:
            if chunk:
                last_data = time.monotonic()
                self._received_at = time.time() if live else None
                frames = splitter.feed(chunk, self._received_at)
                if self._received_at is not None:
                    self._note_arrival(self._received_at)
                if frames:
                    self.stats.last_frame_at = time.time()
                yield frames
            elif (
                splitter.buffered or self.mbus.buffered or self.p1.buffered
            ) and time.monotonic() - last_data > self.idle_flush:
                yield self._flush()
            else:
                yield []
        yield self._flush()

    def frames(self, source: Iterable[bytes], *, live: bool = False) -> Iterator[Frame]:
        """Verified HDLC frames, each the moment its closing flag arrived."""
        for frames in self.steps(source, live=live):
            yield from frames

    def messages(self, source: Iterable[bytes], *, live: bool = False) -> Iterator[Envelope]:
        """Whole messages in stream order, one ``Envelope`` each, HDLC and M-Bus alike."""
        ready: list[tuple[int, Envelope]] = []
        self._mbus_ready = ready
        try:
            for frames in self.steps(source, live=live):
                if not ready:
                    for frame in frames:
                        info = self._hdlc_message(frame)
                        if info is not None:
                            yield Envelope(_HDLC, info, frame.source, frame.received_at, self.segments.frames)
                    continue
                before = self.stats.splitter.frames_good - len(frames)  # HDLC frames before this step
                j = 0
                for k, frame in enumerate(frames):
                    while j < len(ready) and ready[j][0] <= before + k:
                        self.stats.messages += 1
                        yield ready[j][1]
                        j += 1
                    info = self._hdlc_message(frame)
                    if info is not None:
                        yield Envelope.of_hdlc(frame, info, self.segments.frames)
                for entry in ready[j:]:
                    self.stats.messages += 1
                    yield entry[1]
                ready.clear()
        finally:
            self._mbus_ready = None

    def _hdlc_message(self, frame: Frame) -> bytes | None:
        """The whole information field once ``frame`` completes a message, else None."""
        try:
            info = self.segments.add(frame)
        except AmsReadError as err:
            self._skip(err)
            return None
        if info is not None:
            self.stats.messages += 1
        return info
