"""Bytes to frames to messages to readings: catch, count, continue.

The pipeline is the one place that decides what an error means for the stream: every deliberate
error (``AmsReadError``) is counted under its class and skipped, and the next good frame decodes.
``--strict`` makes the first skip fatal. Nothing here does I/O beyond iterating the source.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from amsread.errors import AmsReadError
from amsread.hdlc import Frame, FrameSplitter, SegmentAssembler, SplitterStats

if TYPE_CHECKING:
    from amsread.readings import Reading

#: A live source silent this long inside a frame has lost the rest of it (a meter sends a frame in
#: one go; at 2400 baud a byte takes 4.6 ms).
IDLE_FLUSH: Final = 0.5


@dataclass(slots=True)
class Stats:
    """Everything counted along the way, for the summary line and the live view."""

    splitter: SplitterStats = field(default_factory=SplitterStats)
    messages: int = 0
    readings: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    last_frame_at: float | None = None

    def count(self, err: AmsReadError) -> None:
        self.errors[getattr(err, "reason", type(err).__name__)] += 1

    def summary(self) -> str:
        """One line: ``412 frames: 409 decoded, 2 bad FCS, 1 unknown list; 9812 bytes, 3 discarded``."""
        s = self.splitter
        parts = [f"{s.frames_good} frames"]
        detail = []
        if self.readings:
            detail.append(f"{self.readings} readings")
        for reason, n in sorted(self.errors.items(), key=lambda kv: (-kv[1], kv[0])):
            detail.append(f"{n} {reason}")
        line = parts[0] + (": " + ", ".join(detail) if detail else "")
        return f"{line}; {s.bytes_received} bytes, {s.bytes_discarded} discarded"


class Pipeline:
    """Wires a source through the splitter, the segment assembler and the decoder.

    ``on_error`` sees every skipped error (after counting), for ``-v`` and ``hex``; ``strict``
    raises the first one instead.
    """

    def __init__(
        self,
        *,
        on_error: Callable[[AmsReadError], None] | None = None,
        on_discard: Callable[[bytes], None] | None = None,
        strict: bool = False,
        idle_flush: float = IDLE_FLUSH,
    ) -> None:
        self.stats = Stats()
        self.strict = strict
        self.on_error = on_error
        self.idle_flush = idle_flush
        self.splitter = FrameSplitter(on_error=self._skip, on_discard=on_discard)
        self.splitter.stats = self.stats.splitter
        self.segments = SegmentAssembler()

    def _skip(self, err: AmsReadError) -> None:
        self.stats.count(err)
        if self.on_error is not None:
            self.on_error(err)
        if self.strict:
            raise err

    def steps(self, source: Iterable[bytes], *, live: bool = False) -> Iterator[list[Frame]]:
        """Feed the source chunk by chunk; after each, the frames it completed (often none).

        Live sources also step on idle ticks, so a caller can react to silence; a silence longer
        than ``idle_flush`` inside a frame ends that frame as truncated.
        """
        splitter = self.splitter
        last_data = time.monotonic()
        for chunk in source:
            if chunk:
                last_data = time.monotonic()
                frames = splitter.feed(chunk, time.time() if live else None)
                if frames:
                    self.stats.last_frame_at = time.time()
                yield frames
            elif splitter.buffered and time.monotonic() - last_data > self.idle_flush:
                yield splitter.flush()
            else:
                yield []
        yield splitter.flush()

    def frames(self, source: Iterable[bytes], *, live: bool = False) -> Iterator[Frame]:
        """Verified HDLC frames, each the moment its closing flag arrived."""
        for frames in self.steps(source, live=live):
            yield from frames

    def messages(self, source: Iterable[bytes], *, live: bool = False) -> Iterator[tuple[Frame, bytes]]:
        """Whole information fields (HDLC segments joined), with the frame that completed each."""
        for frame in self.frames(source, live=live):
            try:
                info = self.segments.add(frame)
            except AmsReadError as err:
                self._skip(err)
                continue
            if info is not None:
                self.stats.messages += 1
                yield frame, info

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
            if reading is not None:
                self.stats.readings += 1
                yield reading
