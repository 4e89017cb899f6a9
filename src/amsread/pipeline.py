"""Bytes to frames to messages to readings: catch, count, continue.

The pipeline is the one place that decides what an error means for the stream: every deliberate
error (``AmsReadError``) is counted under its class and skipped, and the next good frame decodes.
``--strict`` makes the first skip fatal. Nothing here does I/O beyond iterating the source.

Two framings share the port: HDLC (Norway and most of Europe) and wired M-Bus long frames (Austria,
Poland). The HDLC splitter sees every byte first; whatever it finds outside a good HDLC frame goes,
in order, to the M-Bus splitter, so either kind (or a mix) decodes with no setting, and a pure HDLC
stream behaves exactly as before. A ``7E`` inside an M-Bus frame is data, not a flag: an HDLC
candidate that the HDLC splitter rejects while an M-Bus frame may still be completing around it is
held back, and counted only if no good M-Bus frame turns out to contain it.
"""

from __future__ import annotations

import time
import traceback
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final

from amsread.errors import AmsReadError, InternalError
from amsread.hdlc import Frame, FrameSplitter, SegmentAssembler, SplitterStats
from amsread.mbus import START as MBUS_START
from amsread.mbus import MbusAssembler, MbusFrame, MbusSplitter, MbusStats

if TYPE_CHECKING:
    from amsread.readings import Reading

#: A live source silent this long inside a frame has lost the rest of it (a meter sends a frame in
#: one go; at 2400 baud a byte takes 4.6 ms).
IDLE_FLUSH: Final = 0.5


@dataclass(slots=True)
class Stats:
    """Everything counted along the way, for the summary line and the live view."""

    splitter: SplitterStats = field(default_factory=SplitterStats)
    mbus: MbusStats = field(default_factory=MbusStats)
    messages: int = 0
    readings: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    last_frame_at: float | None = None

    def count(self, err: AmsReadError) -> None:
        self.errors[getattr(err, "reason", type(err).__name__)] += 1

    def summary(self) -> str:
        """One line: ``412 frames: 409 readings, 2 bad FCS, 1 bad layout; 9812 bytes, 3 discarded``.

        M-Bus frames are named only when there were some (``0 frames, 2 M-Bus frames: …``), and the
        bytes inside them are not counted as discarded.
        """
        s = self.splitter
        m = self.mbus
        parts = [
            _count(s.frames_good, "frame")
            + (f", {_count(m.frames_good, 'M-Bus frame')}" if m.frames_good else "")
        ]
        detail = []
        if self.readings:
            detail.append(_count(self.readings, "reading"))
        for reason, n in sorted(self.errors.items(), key=lambda kv: (-kv[1], kv[0])):
            detail.append(f"{n} {reason}")
        line = parts[0] + (": " + ", ".join(detail) if detail else "")
        return f"{line}; {s.bytes_received} bytes, {s.bytes_discarded - m.bytes_in_frames} discarded"


#: How many bytes of a frame that hit an internal error the one-time warning shows.
REPORT_BYTES: Final = 512

#: The summary's name for hourly lists whose clock did not advance.
STALE_HOURLY: Final = "stale hourly list"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


class Pipeline:
    """Wires a source through the splitters, the segment assemblers and the decoder.

    ``on_error`` sees every skipped error (after counting), for ``-v`` and ``hex``; ``strict``
    raises the first one instead. ``on_warning`` hears of readings that are printed but suspect. ``on_discard`` sees the bytes outside any HDLC frame (M-Bus
    frames included), as ``hex --raw`` shows them.
    """

    def __init__(
        self,
        *,
        on_error: Callable[[AmsReadError], None] | None = None,
        on_discard: Callable[[bytes], None] | None = None,
        strict: bool = False,
        idle_flush: float = IDLE_FLUSH,
        on_warning: Callable[[str], None] | None = None,
    ) -> None:
        self.stats = Stats()
        self.on_warning = on_warning
        #: show the traceback of an internal error (``--debug``); told once per run either way
        self.debug = False
        self._internal_reported = False
        #: meter id -> clock of its last hourly list, to notice one that was sent again
        self._last_hourly: dict[str | None, object] = {}
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
        self._received_at: float | None = None
        #: (stream offset just past a live chunk, host time it arrived), for bytes still buffered
        self._arrivals: deque[tuple[int, float]] = deque()
        #: HDLC rejections inside a possible M-Bus frame: (stream position, error), see the module doc.
        self._held: list[tuple[int, AmsReadError]] = []
        #: M-Bus messages completed during the current step, while ``messages`` runs: (HDLC frames
        #: found before it, last frame, APDU), so they come out in stream order among HDLC messages.
        self._mbus_ready: list[tuple[int, MbusFrame, bytes]] | None = None
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
            self.stats.errors[getattr(err, "reason", type(err).__name__)] += times
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
        if self.on_discard is not None:
            self.on_discard(data)
        frames = self.mbus.feed(data, self._received_at)
        if frames or self._held:
            self._mbus_frames(frames)

    def _mbus_frames(self, frames: list[MbusFrame]) -> None:
        if self._held:
            self._settle(frames)
        for mf in frames:
            apdu = self.mbus_segments.add(mf)
            if apdu is not None and self._mbus_ready is not None:
                self._mbus_ready.append((self.stats.splitter.frames_good, mf, apdu))

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
            elif (splitter.buffered or self.mbus.buffered) and time.monotonic() - last_data > self.idle_flush:
                yield self._flush()
            else:
                yield []
        yield self._flush()

    def frames(self, source: Iterable[bytes], *, live: bool = False) -> Iterator[Frame]:
        """Verified HDLC frames, each the moment its closing flag arrived."""
        for frames in self.steps(source, live=live):
            yield from frames

    def messages(
        self, source: Iterable[bytes], *, live: bool = False
    ) -> Iterator[tuple[Frame | MbusFrame, bytes]]:
        """Whole messages in stream order, with the frame that completed each.

        For HDLC, the information field (segments joined, LLC still in front); for M-Bus, the
        APDU itself (segments joined; M-Bus has no LLC, and ``MbusFrame.has_llc`` says so).
        """
        ready: list[tuple[int, MbusFrame, bytes]] = []
        self._mbus_ready = ready
        try:
            for frames in self.steps(source, live=live):
                if not ready:
                    for frame in frames:
                        info = self._hdlc_message(frame)
                        if info is not None:
                            yield frame, info
                    continue
                before = self.stats.splitter.frames_good - len(frames)  # HDLC frames before this step
                j = 0
                for k, frame in enumerate(frames):
                    while j < len(ready) and ready[j][0] <= before + k:
                        self.stats.messages += 1
                        yield ready[j][1], ready[j][2]
                        j += 1
                    info = self._hdlc_message(frame)
                    if info is not None:
                        yield frame, info
                for entry in ready[j:]:
                    self.stats.messages += 1
                    yield entry[1], entry[2]
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

    def readings(
        self, source: Iterable[bytes], *, live: bool = False, decoder: object = None
    ) -> Iterator[Reading]:
        """Decoded readings; every decode error is counted and skipped."""
        from amsread.readings import ReadingDecoder

        dec = decoder if decoder is not None else ReadingDecoder()
        for frame, info in self.messages(source, live=live):
            try:
                reading = dec.decode(info, frame)
            except AmsReadError as err:
                self._skip(err)
                continue
            except Exception as exc:  # the last guard: a bug must not end a months-long run
                self._internal_error(exc, info)
                continue
            if reading is not None:
                self.stats.readings += 1
                if reading.list == 3:
                    self._check_hourly(reading)
                yield reading

    def _internal_error(self, exc: Exception, info: bytes) -> None:
        """Count a decoder bug as an ``internal error`` skip; say once (via ``on_warning``) that it
        deserves a report, with the traceback when ``debug`` is set."""
        err = InternalError(f"{type(exc).__name__}: {exc}", raw=info)
        err.__cause__ = exc
        if not self._internal_reported and self.on_warning is not None:
            self._internal_reported = True
            detail = "".join(traceback.format_exception(exc)).rstrip() if self.debug else ""
            self.on_warning(
                f"internal error decoding a frame ({err}); it was skipped: please report it with the "
                f"frame's bytes ({info[:REPORT_BYTES].hex()})"
                + (f"\n{detail}" if detail else "; --debug shows the traceback")
            )
        self._skip(err)

    def _check_hourly(self, reading: Reading) -> None:
        """An hourly list whose clock did not advance repeats stale counters (an Aidon has sent
        the 17:00 list again at 18:00: 0 kWh booked for one hour, double the next). The reading is
        printed as sent; the summary counts it and ``on_warning`` says so."""
        meter = reading.values.get("meter_id")
        stamp = reading.meter_time
        if stamp is not None and self._last_hourly.get(meter) == stamp:
            self.stats.errors[STALE_HOURLY] += 1
            if self.on_warning is not None:
                self.on_warning(
                    f"warning: hourly list at {stamp.isoformat()} repeats the previous one's clock: its counters are stale"
                )
        self._last_hourly[meter] = stamp
