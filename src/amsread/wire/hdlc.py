"""HDLC frame format type 3 as the HAN port sends it (IEC 62056-46 §8, Green Book §8.4).

``7E | format(2) | DA(1-4) | SA(1-4) | control | HCS(2) | information | FCS(2) | 7E``

Two views of the same format live here:

* ``HdlcFrame``, the construct declaration: it builds frames (the demo meter, the tests) and parses
  one frame for ``hex --annotate``. Length, HCS and FCS are rebuilt, so a test can choose any
  information field and get a valid frame back.
* ``FrameSplitter``, the stream scanner: chunks in, verified ``Frame`` objects out, no I/O. Finding
  where a frame starts and ends in a noisy byte stream is not a parse of known bytes, so it is done by
  hand, once, here. It reads the header fields the declaration names because it must find the HCS
  to check it; a test asserts both views agree on every real capture.

The HAN port does not byte-stuff (Green Book §8.1.2, "non-basic frame format transparency"): 0x7E
and 0x7D occur raw inside frames, and only the 11-bit length says where a frame ends.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

import construct as c
from construct import len_, obj_, this

from amsread.crc import fcs16, fcs_ok
from amsread.errors import (
    FrameChecksumError,
    FrameError,
    FrameFlagError,
    FrameFormatError,
    FrameLengthError,
    HeaderChecksumError,
    LlcError,
    SegmentError,
    TruncatedFrameError,
)

FLAG: Final = 0x7E
#: The 11-bit length field's ceiling (bytes between the flags).
MAX_FRAME_LENGTH: Final = 0x7FF
#: format(2) + DA(1) + SA(1) + control(1) + HCS(2) + FCS(2): nothing shorter carries information.
MIN_FRAME_LENGTH: Final = 9
MAX_ADDRESS_BYTES: Final = 4
#: LLC header of a response from the meter: destination LSAP E6, source LSAP E7, quality 00
#: (IEC 62056-46 §6.2, GB8 §8.3.2). HDLC frames carry it in front of the APDU; M-Bus does not.
LLC: Final = b"\xe6\xe7\x00"

# --------------------------------------------------------------------------------------------
# construct declaration
# --------------------------------------------------------------------------------------------

#: An HDLC address: 7 bits per byte in bits 7..1; bit 0 set marks the last byte (GB8 §8.4.2).
HdlcAddress = c.RepeatUntil((obj_ & 1) == 1, c.Byte)

HdlcHeader = c.Struct(
    "format"
    / c.BitStruct(
        "type" / c.Const(0xA, c.Nibble),
        "segmented" / c.Flag,
        "length"
        / c.Rebuild(
            c.BitsInteger(11),
            # inside the BitStruct, ``this._`` is the header and ``this._._`` the body
            7 + len_(this._.destination) + len_(this._.source) + len_(this._._.information),
        ),
    ),
    "destination" / HdlcAddress,
    "source" / HdlcAddress,
    "control" / c.Byte,
)

HdlcBody = c.Struct(
    "header" / c.RawCopy(HdlcHeader),
    "hcs" / c.Checksum(c.Int16ul, fcs16, this.header.data),
    "information"
    / c.Bytes(
        this.header.value.format.length
        - 7
        - len_(this.header.value.destination)
        - len_(this.header.value.source)
    ),
)

#: One whole frame, flags included. Build with
#: ``{"body": {"value": {"header": {"value": {...}}, "information": b"..."}}}`` or use ``build_frame``.
HdlcFrame = c.Struct(
    "opening_flag" / c.Const(b"\x7e"),
    "body" / c.RawCopy(HdlcBody),
    "fcs" / c.Checksum(c.Int16ul, fcs16, this.body.data),
    "closing_flag" / c.Const(b"\x7e"),
)


def encode_address(value: int, size: int = 1) -> list[int]:
    """Encode an address value in ``size`` bytes by the LSB rule (7 bits per byte)."""
    parts = [(value >> (7 * i)) & 0x7F for i in reversed(range(size))]
    out = [p << 1 for p in parts]
    out[-1] |= 1
    return out


def build_frame(
    information: bytes,
    *,
    destination: list[int] | bytes = b"\x41",
    source: list[int] | bytes = b"\x08\x83",
    control: int = 0x13,
    segmented: bool = False,
) -> bytes:
    """Build one valid frame around ``information`` (addresses given as raw wire bytes)."""
    header = {
        "format": {"type": 0xA, "segmented": segmented},
        "destination": list(destination),
        "source": list(source),
        "control": control,
    }
    return HdlcFrame.build({"body": {"value": {"header": {"value": header}, "information": information}}})


# --------------------------------------------------------------------------------------------
# frames and the splitter
# --------------------------------------------------------------------------------------------


# Not frozen, yet never changed: one is made per frame, and a frozen dataclass's __init__
# (object.__setattr__ per field) cost 5 times as much, a tenth of a frame's decode (issue 15).
@dataclass(slots=True, unsafe_hash=True)
class Frame:
    """One HDLC frame whose HCS and FCS both verified."""

    raw: bytes
    """The whole frame, both flags included."""
    length: int
    segmented: bool
    destination: bytes
    source: bytes
    control: int
    header_length: int
    """Offset of the information field in ``raw``."""
    received_at: float | None = None
    """Host time (``time.time()``) when the closing flag arrived, for live sources."""

    @property
    def information(self) -> bytes:
        return self.raw[self.header_length : -3]

    @property
    def destination_address(self) -> int:
        return address_value(self.destination)

    @property
    def source_address(self) -> int:
        return address_value(self.source)

    @property
    def hcs(self) -> int:
        i = self.header_length
        return self.raw[i - 2] | (self.raw[i - 1] << 8)

    @property
    def fcs(self) -> int:
        return self.raw[-3] | (self.raw[-2] << 8)

    checks: tuple[str, ...] = field(default=("HCS", "FCS"))


def address_value(wire: bytes) -> int:
    """The numeric value of an LSB-rule address (7 bits per byte, most significant first)."""
    v = 0
    for b in wire:
        v = (v << 7) | (b >> 1)
    return v


@dataclass(slots=True)
class SplitterStats:
    """Counters kept by ``FrameSplitter``; the summary line prints them."""

    bytes_received: int = 0
    bytes_discarded: int = 0
    frames_good: int = 0
    hcs_errors: int = 0
    fcs_errors: int = 0
    length_errors: int = 0
    flag_errors: int = 0
    format_errors: int = 0
    truncated: int = 0

    @property
    def frames_bad(self) -> int:
        return (
            self.hcs_errors
            + self.fcs_errors
            + self.length_errors
            + self.flag_errors
            + self.format_errors
            + self.truncated
        )


_COUNTER_OF: Final[dict[type[FrameError], str]] = {
    HeaderChecksumError: "hcs_errors",
    FrameChecksumError: "fcs_errors",
    FrameLengthError: "length_errors",
    FrameFlagError: "flag_errors",
    FrameFormatError: "format_errors",
    TruncatedFrameError: "truncated",
}


class FrameSplitter:
    """Incremental HDLC frame splitter: ``feed(chunk)`` returns the frames that completed.

    Hunt for 0x7E, trust the length only once the HCS over the header verified, require a closing
    flag and a good FCS. On any failure the hunt restarts at the byte after the false opening flag,
    so one inserted, dropped or flipped byte costs at most the frame it hits (as AMSHAN's and AMSR's
    readers resynchronise).
    A closing flag may open the next frame; doubled flags are skipped. The buffer never holds more
    than one maximum-size frame once ``feed`` returns.

    ``on_error`` receives every rejected candidate (a ``FrameError`` with the candidate's bytes)
    the moment it is rejected; ``on_frame`` each good frame as it is found. ``on_discard`` receives
    the bytes that fell outside any good frame, a contiguous run in one piece: a run is handed over
    before the next good frame and at the end of each ``feed``, not byte by byte, so noise and
    floods of flags cost one call per run (issue 8). Rejections inside a run are reported before
    the run itself; ``discarded`` and ``find_undelivered`` tell a caller where they lie in it.
    """

    def __init__(
        self,
        *,
        on_error: Callable[[FrameError], None] | None = None,
        on_discard: Callable[[bytes], None] | None = None,
        on_frame: Callable[[Frame], None] | None = None,
        max_length: int = MAX_FRAME_LENGTH,
    ) -> None:
        self._buf = bytearray()
        self._flag_owned = False
        #: The discarded run not yet handed to ``on_discard``: ``_buf[_run_a:_run_b]`` (empty when equal).
        self._run_a = self._run_b = 0
        self._max_length = max_length
        self.stats = SplitterStats()
        self.on_error = on_error
        self.on_discard = on_discard
        self.on_frame = on_frame
        #: Hears a run of identical rejections at once (a flood): ``(error, times, first, step)``,
        #: the i-th lying at ``first + i * step`` among the discarded bytes. Unset, ``on_error``
        #: hears each of them.
        self.on_repeated_error: Callable[[FrameError, int, int, int], None] | None = None

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    @property
    def discarded(self) -> int:
        """Bytes discarded so far, handed over or not: the position of the next one among them."""
        return self.stats.bytes_discarded

    @property
    def undelivered(self) -> int:
        """Discarded bytes not yet handed to ``on_discard`` (they will be by the end of ``feed``)."""
        return self._run_b - self._run_a

    def find_undelivered(self, value: int, skip: int = 0) -> int:
        """Offset of the byte ``value`` among the undelivered discarded bytes past ``skip``, or -1."""
        i = self._buf.find(value, self._run_a + skip, self._run_b)
        return i - self._run_a if i >= 0 else -1

    def feed(self, chunk: bytes, received_at: float | None = None) -> list[Frame]:
        """Add ``chunk`` to the stream; return every frame it completed, in order."""
        self.stats.bytes_received += len(chunk)
        buf = self._buf
        buf += chunk
        frames: list[Frame] = []
        pos = 0
        owned = 0 if self._flag_owned else -1  # index of the last good frame's closing flag
        while True:
            start = buf.find(FLAG, pos)
            if start < 0:
                self._discard(buf, pos, len(buf))
                pos = len(buf)
                break
            if start > pos:
                self._discard(buf, pos, start)
            pos = start
            if start + 1 < len(buf) and buf[start + 1] == FLAG:  # doubled flags: the last one opens
                if start + 2 < len(buf) and buf[start + 2] != FLAG:
                    last = start + 1  # two flags (a frame's closing one, the next one's opening): no search
                else:
                    last = _FLAGS.match(buf, start).end() - 1  # type: ignore[union-attr]
                self._discard(buf, start + 1 if start == owned else start, last)
                pos = last
                continue
            result = self._try_frame(buf, start, received_at)
            if result is None:  # need more bytes
                break
            if isinstance(result, Frame):
                if self._run_b > self._run_a:
                    self._hand_over(buf)  # the bytes before a frame reach on_discard before it is counted
                self.stats.frames_good += 1
                frames.append(result)
                if self.on_frame is not None:
                    self.on_frame(result)
                pos = owned = start + result.length + 1  # the closing flag may open the next frame
                if pos + 2 < len(buf) and buf[pos + 1] == FLAG and buf[pos + 2] != FLAG:
                    pos += 1  # the usual gap, closing flag then opening flag: no turn of the loop for it
                continue
            times, step = self._repeats(buf, start, result) if start != owned else (1, 0)
            if times > 1:  # a flood: the same rejected bytes again and again, taken in one step
                first = self.stats.bytes_discarded
                pos = start + (times - 1) * step + 1
                self._discard(buf, start, pos)
                if result is not _SKIP_FLAG:
                    self._reject_repeated(result, times, first, step)
                continue
            pos = start + 1
            if result is not _SKIP_FLAG:
                self._reject(result)
            if start != owned:  # a flag that closed no frame is noise like any other byte
                self._discard(buf, start, pos)
        self._flag_owned = owned == pos
        self._hand_over(buf)
        del buf[:pos]
        return frames

    def flush(self, arrived: Callable[[int], float | None] | None = None) -> list[Frame]:
        """The input ended, or fell silent inside a frame: the pending candidate will never complete.

        Reject it as truncated, rescan what followed its opening flag, and return any frames found
        there. Called at the end of a capture file, and by live readers after a silence that no
        meter leaves inside a frame.

        A live reader passes ``arrived``: stream offset of a byte -> host time it arrived. A frame
        found here completed long before the silence ended it, so it is stamped with the time of
        its own closing flag, as ``feed`` would have stamped it had no false start hidden it.
        """
        frames: list[Frame] = []
        buf = self._buf
        while True:
            base = self.stats.bytes_received - len(buf)  # stream offset of buf[0]
            held = bytes(buf) if arrived is not None else b""
            found = self.feed(b"")
            if arrived is not None:
                found = _stamped(found, held, base, arrived)
            frames += found
            start = buf.find(FLAG)
            if start < 0:
                return frames
            if len(buf) - start >= 2 and buf[start + 1] & 0xF0 == 0xA0:
                self._reject(TruncatedFrameError("frame cut short", raw=bytes(buf[start:])))
            if not (start == 0 and self._flag_owned):
                self._discard(buf, start, start + 1)
                self._hand_over(buf)
            self._flag_owned = False
            del buf[: start + 1]

    # -- internals -------------------------------------------------------------------------

    def _try_frame(self, buf: bytearray, start: int, received_at: float | None) -> Frame | FrameError | None:
        """Judge the candidate opening at ``start``: a Frame, a FrameError, or None for "need more"."""
        n = len(buf)
        if n - start < 3:
            return None
        f1 = buf[start + 1]
        if f1 & 0xF0 != 0xA0:  # a doubled flag, or a flag followed by noise: not a candidate
            return _SKIP_FLAG
        length = ((f1 & 0x07) << 8) | buf[start + 2]
        if length < MIN_FRAME_LENGTH or length > self._max_length:
            return FrameLengthError(f"length {length} out of range", raw=bytes(buf[start : start + 3]))
        head = _HEADER.match(buf, start)
        if head is None:
            return self._unfinished_header(buf, start, length)
        # the header matched whole: its length, the HCS, the closing flag, the FCS, in that order
        header_end = head.end()
        if header_end - start + 1 > length:
            return FrameLengthError(
                f"length {length} shorter than the header", raw=bytes(buf[start : start + 3])
            )
        if not fcs_ok(buf[start + 1 : header_end]):
            return HeaderChecksumError("header checksum mismatch", raw=bytes(buf[start:header_end]))
        end = start + 1 + length  # index of the closing flag
        if end >= n:
            return None
        if buf[end] != FLAG:
            return FrameFlagError(
                f"no closing flag after {length} bytes (found {buf[end]:02X})",
                raw=bytes(buf[start : end + 1]),
            )
        raw = bytes(buf[start : end + 1])
        if not fcs_ok(raw[1:-1]):
            return FrameChecksumError("frame checksum mismatch", raw=raw)
        d0, d1 = head.span(1)
        i = header_end - 3  # the control byte
        return Frame(
            raw,
            length,
            bool(f1 & 0x08),
            raw[d0 - start : d1 - start],
            raw[d1 - start : i - start],
            buf[i],
            header_end - start,
            received_at,
        )

    def _unfinished_header(self, buf: bytearray, start: int, length: int) -> FrameError | None:
        """Why ``_HEADER`` did not match at ``start``: an address longer than 4 bytes, a header
        longer than ``length`` already, or (None) a header whose last bytes have not come yet.

        Walks the addresses byte by byte, as ``_HEADER`` does in one call; a whole header that
        is well formed always matches it, so nothing here ever gets as far as the checksums."""
        n = len(buf)
        i = start + 3
        for _ in range(2):  # destination, then source: each ends at the first byte with bit 0 set
            for k in range(MAX_ADDRESS_BYTES):
                if i + k >= n:
                    return None
                if buf[i + k] & 1:
                    i += k + 1
                    break
            else:
                return FrameFormatError("address longer than 4 bytes", raw=bytes(buf[start : i + 4]))
        if i + 3 - start + 1 > length:  # control and HCS follow the addresses
            return FrameLengthError(
                f"length {length} shorter than the header", raw=bytes(buf[start : start + 3])
            )
        return None

    def _reject(self, err: FrameError) -> None:
        setattr(self.stats, _COUNTER_OF[type(err)], getattr(self.stats, _COUNTER_OF[type(err)]) + 1)
        if self.on_error is not None:
            self.on_error(err)

    def _repeats(self, buf: bytearray, start: int, result: FrameError) -> tuple[int, int]:
        """How many candidates, ``step`` bytes apart from ``start`` on, repeat the one just rejected.

        A flood (``7E A0`` over and over) rejects a candidate every two bytes, and judging each in
        Python costs ~100 times what noise does. The verdict on a candidate depends only on its
        first ``_VERDICT_SPAN`` bytes (or on its ``raw``, when longer), so where the stream is
        periodic with the distance to the next flag as period, every candidate in the periodic
        stretch gets the same verdict. The stretch is measured with slice comparisons, doubling,
        so the cost follows the length of the flood, not the size of the buffer. ``(1, 0)`` when
        nothing repeats.
        """
        span = max(len(result.raw), _VERDICT_SPAN)
        step = buf.find(FLAG, start + 1, start + _MAX_PERIOD + 1) - start
        if step <= 0 or start + step + span > len(buf):
            return 1, 0
        if buf[start : start + span] != buf[start + step : start + step + span]:
            return 1, 0
        most = (len(buf) - start - span) // step  # the last candidate whose span is in the buffer
        good, bad = 1, most + 1  # candidates 0..good repeat; bad is the first known not to (or past the end)
        probe = 2
        while good < bad - 1:
            j = min(probe, bad - 1) if probe <= most else (good + bad) // 2
            length = (j - 1) * step + span
            if buf[start : start + length] == buf[start + step : start + step + length]:
                good = j
                probe = j * 2
            else:
                bad = j
                probe = most + 1  # from now on, halve the interval
        return good + 1, step

    def _reject_repeated(self, err: FrameError, times: int, first: int, step: int) -> None:
        """Report ``times`` identical rejections, the i-th at discard position ``first + i * step``."""
        if self.on_repeated_error is not None:
            counter = _COUNTER_OF[type(err)]
            setattr(self.stats, counter, getattr(self.stats, counter) + times)
            self.on_repeated_error(err, times, first, step)
            return
        for _ in range(times):
            self._reject(err)

    def _discard(self, buf: bytearray, a: int, b: int) -> None:
        """Count ``buf[a:b]`` as discarded; it joins the undelivered run if it continues it."""
        if b <= a:
            return
        self.stats.bytes_discarded += b - a
        if a != self._run_b:
            self._hand_over(buf)
            self._run_a = a
        self._run_b = b

    def _hand_over(self, buf: bytearray) -> None:
        """Give the undelivered run to ``on_discard`` in one piece (before ``buf`` is trimmed)."""
        a, b = self._run_a, self._run_b
        self._run_a = self._run_b = 0
        if b > a and self.on_discard is not None:
            self.on_discard(bytes(buf[a:b]))


_SKIP_FLAG: Final = FrameError("flag")
#: Bytes whose lowest bit is clear (an address continues) or set (an address ends), as regex classes.
_EVEN: Final = b"[" + b"".join(re.escape(bytes([b])) for b in range(0, 256, 2)) + b"]"
_ODD: Final = b"[" + b"".join(re.escape(bytes([b])) for b in range(1, 256, 2)) + b"]"
#: A whole frame header from its opening flag: format (2), destination and source address (1 to
#: ``MAX_ADDRESS_BYTES`` each, ending at the first byte with bit 0 set), control, HCS (2). Group 1
#: is the destination; the source runs from its end to the control byte.
_HEADER: Final = re.compile(
    b"\\x7e..(%s{0,%d}%s)%s{0,%d}%s..."
    % (_EVEN, MAX_ADDRESS_BYTES - 1, _ODD, _EVEN, MAX_ADDRESS_BYTES - 1, _ODD),
    re.DOTALL,
)
#: The most bytes ``_try_frame`` reads before it rejects a candidate whose ``raw`` is shorter:
#: flag, format (2), two addresses of at most 4 bytes, control, HCS (2).
_VERDICT_SPAN: Final = 3 + 2 * MAX_ADDRESS_BYTES + 3
#: Floods with a longer period are not looked for (any noise has a next flag somewhere).
_MAX_PERIOD: Final = 64
#: A run of flags: all but the last are noise (or the previous frame's closing flag).
_FLAGS: Final = re.compile(rb"\x7e+")


def _stamped(
    frames: list[Frame], held: bytes, base: int, arrived: Callable[[int], float | None]
) -> list[Frame]:
    """``frames`` (found in ``held``, which starts at stream offset ``base``) stamped with the
    arrival time of their closing flags. Frames come out in stream order, so each is looked for
    after the previous one (sharing its flag at most)."""
    out = []
    cursor = 0
    for frame in frames:
        at = held.find(frame.raw, cursor)
        end = base + at + len(frame.raw) - 1  # offset of the closing flag
        out.append(dataclasses.replace(frame, received_at=arrived(end)))
        cursor = at + len(frame.raw) - 1
    return out


def strip_llc(info: bytes) -> bytes:
    """The APDU inside an information field that starts with the LLC header E6 E7 00."""
    if info[:3] != LLC:
        raise LlcError(f"LLC header {info[:3].hex(' ')} is not E6 E7 00", raw=info)
    return info[3:]


# --------------------------------------------------------------------------------------------
# segmented messages
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Pending:
    parts: list[bytes]
    size: int
    raws: list[bytes] = field(default_factory=list)


class SegmentAssembler:
    """Join HDLC-segmented frames into one information field (IEC 62056-46 §6.4.4.4.3.4).

    The segmentation bit is set on every frame but the last; the information fields concatenate,
    the LLC header only in the first. Segments are kept apart per (destination, source) pair.
    """

    MAX_MESSAGE: Final = 64 * 1024

    def __init__(self) -> None:
        self._pending: dict[tuple[bytes, bytes], _Pending] = {}
        #: The raw frames of the message ``add`` completed last, first segment first.
        self.frames: tuple[bytes, ...] = ()

    def add(self, frame: Frame) -> bytes | None:
        """Return the whole information field when ``frame`` completes a message, else None."""
        if not frame.segmented and not self._pending:  # the usual push: one frame, nothing pending
            self.frames = (frame.raw,)
            return frame.information
        key = (frame.destination, frame.source)
        pending = self._pending.get(key)
        if not frame.segmented and pending is None:
            self.frames = (frame.raw,)
            return frame.information
        info = frame.information
        if pending is None:
            pending = self._pending[key] = _Pending([], 0)
        pending.parts.append(info)
        pending.raws.append(frame.raw)
        pending.size += len(info)
        if pending.size > self.MAX_MESSAGE:
            del self._pending[key]
            raise SegmentError("segmented message too long", raw=frame.raw)
        if frame.segmented:
            return None
        del self._pending[key]
        self.frames = tuple(pending.raws)
        return b"".join(pending.parts)
