"""Wired M-Bus long frames carrying DLMS (Austria, Poland): the other wrapper on the HAN port.

``68 | L | L | 68 | C | A | CI | STSAP | DTSAP | data | CS | 16``

L counts the bytes from C to the end of data (at most 255, 250 in practice); C is ``53``/``73``
(SND_UD), A ``FF``; CI bits 7-5 are 0, bit 4 marks the last segment and bits 3-0 number the
segments (``10`` alone; ``00`` then ``11`` for two); STSAP ``01``, DTSAP ``67``; CS is the sum of C
through data modulo 256; ``16`` stops the frame. The data parts of a message's segments join into
one APDU, usually a general-glo-ciphering one (``DB …``). Sources: EN 13757-2 §5 (DOC48), TINETZ
p.4-6; checked on ``fw_kaifa_mbus-gcm_1.json``.

The Sagemcom T210-D (Austria) sends a first segment longer than one length byte allows, with the
header ``68 01 01 68``: the two length bytes are then one 16-bit length (0x0101 = 257), and the
checksum and stop byte follow as usual. A first length byte of 01 cannot start a normal long frame
(L is at least 5), so the reading is unambiguous; ``frame_length`` applies it.

Like ``hdlc``, two views of one format: ``MbusLongFrame``, a construct declaration that parses one
frame and builds frames for tests, and ``MbusSplitter``, the stream scanner (chunks in, frames out,
no I/O, a bounded buffer, counters). ``MbusAssembler`` joins segments. The pipeline feeds the
splitter the bytes the HDLC splitter found outside any HDLC frame, so a port carrying either kind
of frame (or both) needs no setting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Final

import construct as c
from construct import len_, this

from amsread.errors import (
    FrameError,
    MbusChecksumError,
    MbusFrameError,
    MbusSegmentError,
    MbusTruncatedError,
)

START: Final = 0x68
STOP: Final = 0x16
#: C, A, CI, STSAP, DTSAP: the bytes L counts besides the data.
HEADER_FIELDS: Final = 5
#: The largest L a one-byte length field allows; frames on the wire are L + 6 bytes (the
#: splitter's buffer keeps to ``MAX_LONG_LENGTH`` + 6, for Sagemcom's 16-bit length).
MAX_LENGTH: Final = 255
#: The 16-bit lengths of the Sagemcom header ``68 01 xx 68``: 0x0100-0x01FF (see the module doc).
LONG_LENGTH_HIGH: Final = 0x01
MAX_LONG_LENGTH: Final = 0x01FF
#: Joined segments beyond this are a broken stream, not a push (16 segments of 250 bytes fit).
MAX_MESSAGE: Final = 16 * 1024


def frame_length(first: int, second: int) -> int | None:
    """What L counts, from the two length bytes after ``68``; None when they start no frame.

    Normally both bytes are the same L (at least the five header fields); Sagemcom's ``01 xx`` is
    one big-endian 16-bit length (``01 01`` = 257).
    """
    if first == second and first >= HEADER_FIELDS:
        return first
    if first == LONG_LENGTH_HIGH:
        return (first << 8) | second
    return None


def mbus_checksum(data: bytes) -> int:
    """The M-Bus checksum: arithmetic sum of the bytes modulo 256 (EN 13757-2 §5.4)."""
    return sum(data) & 0xFF


# --------------------------------------------------------------------------------------------
# construct declaration
# --------------------------------------------------------------------------------------------

#: C through data: what L counts and what the checksum covers.
MbusBody = c.Struct(
    "control" / c.Byte,
    "address" / c.Byte,
    "ci" / c.Byte,
    "stsap" / c.Byte,
    "dtsap" / c.Byte,
    "data" / c.Bytes(this._.length - HEADER_FIELDS),
)

#: One M-Bus long frame (EN 13757-2 §5, frame format FT1.2 long frame). L, its copy and CS are
#: rebuilt, so a test chooses the fields and the data and gets a valid frame back.
MbusLongFrame = c.Struct(
    "start" / c.Const(bytes((START,))),
    "length" / c.Rebuild(c.Int8ub, HEADER_FIELDS + len_(this.body.value.data)),
    "length_copy" / c.Rebuild(c.Int8ub, this.length),
    c.Check(this.length == this.length_copy),
    "start_copy" / c.Const(bytes((START,))),
    "body" / c.RawCopy(MbusBody),
    "checksum" / c.Checksum(c.Int8ub, mbus_checksum, this.body.data),
    "stop" / c.Const(bytes((STOP,))),
)


def build_mbus_frame(
    data: bytes, ci: int, *, control: int = 0x53, address: int = 0xFF, stsap: int = 0x01, dtsap: int = 0x67
) -> bytes:
    """Build one long frame around ``data`` with the given CI (``0x10`` = a whole message)."""
    body = {"control": control, "address": address, "ci": ci, "stsap": stsap, "dtsap": dtsap, "data": data}
    return MbusLongFrame.build({"body": {"value": body}})


def build_mbus_message(apdu: bytes, segment_size: int = 250 - HEADER_FIELDS) -> bytes:
    """Cut ``apdu`` into long frames of at most ``segment_size`` data bytes, as a meter sends it."""
    parts = [apdu[i : i + segment_size] for i in range(0, len(apdu), segment_size)] or [b""]
    if len(parts) > 16:
        raise ValueError("an M-Bus message has at most 16 segments")
    return b"".join(
        build_mbus_frame(p, (0x10 if k == len(parts) - 1 else 0) | (k & 0x0F)) for k, p in enumerate(parts)
    )


# --------------------------------------------------------------------------------------------
# frames and the splitter
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MbusFrame:
    """One M-Bus long frame whose checksum and stop byte verified."""

    raw: bytes
    control: int
    address: int
    ci: int
    stsap: int
    dtsap: int
    offset: int
    """Position of the frame's first byte among all bytes fed to the splitter."""
    received_at: float | None = None

    #: M-Bus transport carries the APDU itself: there is no LLC header to strip.
    has_llc: ClassVar[bool] = False

    @property
    def data(self) -> bytes:
        return self.raw[9:-2]

    @property
    def last_segment(self) -> bool:
        return bool(self.ci & 0x10)

    @property
    def segment(self) -> int:
        return self.ci & 0x0F


@dataclass(slots=True)
class MbusStats:
    """Counters kept by ``MbusSplitter``."""

    frames_good: int = 0
    bytes_in_frames: int = 0
    checksum_errors: int = 0
    format_errors: int = 0
    truncated: int = 0


class MbusSplitter:
    """Incremental M-Bus long-frame splitter: ``feed(chunk)`` returns the frames that completed.

    Hunt for ``68 L L 68`` with L ≥ 5 (a single ``68`` is just a byte: the bytes fed here are often
    noise or the remains of other frames, and are not errors). A frame whose stop byte or checksum
    is wrong, or whose CI is no DLMS transport segment, is reported to ``on_error`` and the hunt
    restarts at the byte after its ``68``. After ``feed`` returns, the buffer is empty or starts at
    a ``68`` that may open a frame, and never holds more than one maximum frame (261 bytes).
    """

    def __init__(
        self,
        *,
        on_error: Callable[[FrameError], None] | None = None,
        on_frame: Callable[[MbusFrame], None] | None = None,
    ) -> None:
        self._buf = bytearray()
        self._offset = 0  # stream position of self._buf[0]
        self.stats = MbusStats()
        self.on_error = on_error
        #: Hears each good frame the moment it is found, in stream order with ``on_error`` (``hex``).
        self.on_frame = on_frame

    @property
    def buffered(self) -> int:
        """Bytes held back waiting for the rest of a frame."""
        return len(self._buf)

    @property
    def pending_start(self) -> int | None:
        """Stream position of a frame that may still be completing, or None."""
        return self._offset if self._buf else None

    @property
    def position(self) -> int:
        """How many bytes were fed so far: the stream position of the next byte."""
        return self._offset + len(self._buf)

    def feed(self, chunk: bytes, received_at: float | None = None) -> list[MbusFrame]:
        """Add ``chunk`` to the stream; return every frame it completed, in order."""
        buf = self._buf
        if not buf:  # skip to the first 68 in one call: noise and floods never enter the buffer
            start = chunk.find(START)
            if start < 0:
                self._offset += len(chunk)
                return []
            self._offset += start
            chunk = chunk[start:]
        buf += chunk
        frames: list[MbusFrame] = []
        pos = 0
        n = len(buf)
        while True:
            start = buf.find(START, pos)
            if start < 0:
                pos = n
                break
            pos = start
            if n - start < 4:
                break
            length = frame_length(buf[start + 1], buf[start + 2])
            if length is None or buf[start + 3] != START:
                pos = start + 1
                continue
            end = start + length + 6  # one past the stop byte
            if end > n:
                break
            raw = bytes(buf[start:end])
            error = self._check(raw)
            if error is not None:
                self._reject(error)
                pos = start + 1
                continue
            frame = MbusFrame(raw, raw[4], raw[5], raw[6], raw[7], raw[8], self._offset + start, received_at)
            frames.append(frame)
            if self.on_frame is not None:
                self.on_frame(frame)
            self.stats.frames_good += 1
            self.stats.bytes_in_frames += len(raw)
            pos = end
        del buf[:pos]
        self._offset += pos
        return frames

    def flush(self) -> list[MbusFrame]:
        """The input ended: a frame still pending never completes. Report it, rescan what followed."""
        frames: list[MbusFrame] = []
        while self._buf:
            buf = self._buf
            if len(buf) >= 4 and frame_length(buf[1], buf[2]) is not None and buf[3] == START:
                self.stats.truncated += 1
                self._reject(MbusTruncatedError("M-Bus frame cut short", raw=bytes(buf)))
            del buf[:1]
            self._offset += 1
            frames += self.feed(b"")
        return frames

    def _check(self, raw: bytes) -> MbusFrameError | None:
        if raw[-1] != STOP:
            self.stats.format_errors += 1
            return MbusFrameError(f"M-Bus frame ends in {raw[-1]:02X}, not the stop byte 16", raw=raw)
        if mbus_checksum(raw[4:-2]) != raw[-2]:
            self.stats.checksum_errors += 1
            return MbusChecksumError(
                f"M-Bus checksum mismatch: got {raw[-2]:02X}, computed {mbus_checksum(raw[4:-2]):02X}",
                raw=raw,
            )
        if raw[6] & 0xE0:
            self.stats.format_errors += 1
            return MbusFrameError(f"M-Bus CI {raw[6]:02X} is not a DLMS transport segment", raw=raw)
        return None

    def _reject(self, err: MbusFrameError) -> None:
        if self.on_error is not None:
            self.on_error(err)


class MbusAssembler:
    """Join M-Bus transport segments into one APDU (TINETZ p.5-6).

    Segments of a message arrive numbered 0, 1, 2 …; the one with CI bit 4 set is the last. A
    broken message (a segment lost, or a new segment 0 before the last one) is reported once to
    ``on_error`` as an ``MbusSegmentError`` and dropped; reporting instead of raising lets a message
    that begins with the very segment that broke the previous one still be returned.
    """

    def __init__(self, *, on_error: Callable[[FrameError], None] | None = None) -> None:
        self._parts: list[bytes] = []
        self._raws: list[bytes] = []
        #: The raw frames of the message ``add`` completed last, segment 0 first.
        self.frames: tuple[bytes, ...] = ()
        self._size = 0
        self._skipping = False
        self.on_error = on_error

    @property
    def pending(self) -> int:
        """Segments held for a message not yet complete."""
        return len(self._parts)

    def add(self, frame: MbusFrame) -> bytes | None:
        """Return the whole APDU when ``frame`` completes a message, else None."""
        segment = frame.segment
        if segment == 0:
            if self._parts:
                self._report(
                    f"M-Bus message abandoned after {len(self._parts)} segment(s): a new one began", frame
                )
            self._reset()
        elif self._skipping:  # the rest of a message already reported as broken
            self._skipping = not frame.last_segment
            return None
        elif segment != len(self._parts):
            self._report(f"M-Bus segment {segment} arrived where segment {len(self._parts)} was due", frame)
            self._reset()
            self._skipping = not frame.last_segment
            return None
        self._parts.append(frame.data)
        self._raws.append(frame.raw)
        self._size += len(frame.data)
        if self._size > MAX_MESSAGE:
            self._report(f"M-Bus message longer than {MAX_MESSAGE} bytes", frame)
            self._reset()
            self._skipping = not frame.last_segment
            return None
        if not frame.last_segment:
            return None
        apdu = b"".join(self._parts)
        self.frames = tuple(self._raws)
        self._reset()
        return apdu

    def _reset(self) -> None:
        self._parts, self._raws, self._size, self._skipping = [], [], 0, False

    def _report(self, message: str, frame: MbusFrame) -> None:
        if self.on_error is not None:
            self.on_error(MbusSegmentError(message, raw=frame.raw))
