"""P1 telegrams (DSMR, IEC 62056-21 mode D) as the P1/HAN port sends them: ASCII lines.

``/XXXZ identification CR LF CR LF (data lines, each CR LF) ! CRC CR LF``

``CRC`` is four hex digits of CRC-16/ARC (polynomial 0x8005 reflected, init 0, no final xor) over
every byte from ``/`` to ``!`` inclusive. DSMR 2.2 and 3 telegrams end ``! CR LF`` with no CRC.

Like ``wire.hdlc``, two views of one format live here:

* ``Telegram``, the construct declaration: it builds telegrams (the simulated P1 meter, the tests)
  and parses one for ``hex --annotate``. The CRC is rebuilt, so a test can choose any lines.
* ``P1Splitter``, the stream scanner: chunks in, whole ``P1Telegram`` objects out, no I/O. It
  checks the CRC and cuts a telegram that a new ``/XXXZ`` header interrupts, so a telegram cut by a reconnect
  never merges with the next. A test asserts both views agree on every real telegram.

A telegram is printable ASCII and CR LF only; a byte outside that inside a candidate ends it, so
binary HDLC noise that happens to hold a ``/`` costs nothing but the scan.
"""

from __future__ import annotations

import functools
import re
import sys
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import construct as c
from construct import this

from amsread.errors import AmsReadError, P1ChecksumError, P1TelegramError, P1TruncatedError

START: Final = 0x2F  # "/"
END: Final = 0x21  # "!"
#: The longest telegram accepted: a Belgian one with thirteen months of peak history and an
#: M-Bus gas and water meter stays under 3 KiB; beyond this a candidate is noise.
MAX_TELEGRAM: Final = 8192
#: ``/`` + three letters (the FLAG manufacturer id) + the baud-rate character: a telegram's first
#: five bytes. Anything else after a ``/`` is not a telegram.
_HEADER: Final = re.compile(rb"/[A-Za-z]{3}[0-9A-Za-z]")
#: A byte no telegram carries (everything but printable ASCII, CR and LF).
_FOREIGN: Final = re.compile(rb"[^\x20-\x7e\r\n]")
_HEX: Final = frozenset(b"0123456789ABCDEFabcdef")


def _make_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        v = i
        for _ in range(8):
            v = (v >> 1) ^ 0xA001 if v & 1 else v >> 1
        table.append(v)
    return tuple(table)


_TABLE: Final = _make_table()


def crc16_arc(data: bytes | bytearray | memoryview) -> int:
    """CRC-16/ARC of ``data``: check value 0xBB3D for b"123456789" (the DSMR 5.0.2 §6.2 CRC).

    Sixteen bits a step: the register is as wide as a word, so one look-up in a 65536-entry table
    (made from the byte table on first use, ~20 ms, never at import) replaces two. Half the
    Python-level loop of the byte-wise form (``crc16_arc_bytewise``, kept as the oracle).
    """
    raw = bytes(data)
    words = array("H", raw[: len(raw) & ~1])
    if sys.byteorder == "big":
        words.byteswap()
    table = _word_table()
    crc = 0
    for w in words:
        crc = table[crc ^ w]
    if len(raw) & 1:
        crc = (crc >> 8) ^ _TABLE[(crc ^ raw[-1]) & 0xFF]
    return crc


def crc16_arc_bytewise(data: bytes | bytearray | memoryview) -> int:
    """The byte-at-a-time CRC-16/ARC: the reference the word-wise one is tested against."""
    crc = 0
    table = _TABLE
    for b in bytes(data):
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc


@functools.cache
def _word_table() -> tuple[int, ...]:
    """The register after sixteen bits ``x`` (low byte first) went through it from ``x``."""
    t = _TABLE

    def two(x: int) -> int:
        c = (x >> 8) ^ t[x & 0xFF]
        return (c >> 8) ^ t[c & 0xFF]

    return tuple(two(x) for x in range(0x10000))


# --------------------------------------------------------------------------------------------
# construct declaration
# --------------------------------------------------------------------------------------------


def _strip_cr(obj: bytes, ctx: Any) -> str:
    if not obj.endswith(b"\r"):
        raise c.ValidationError("a P1 line ends in CR LF")
    return obj[:-1].decode("ascii")


#: One line's text, CR LF consumed after it (construct looks for a terminator one unit at a time,
#: so the line is read to its LF and the CR is taken off).
_Line = c.ExprAdapter(
    c.NullTerminated(c.GreedyBytes, term=b"\n"),
    decoder=_strip_cr,
    encoder=lambda obj, ctx: obj.encode("ascii") + b"\r",
)

#: A data line: any line that does not start with the closing ``!``.
_DataLine = c.FocusedSeq(
    "text",
    "first" / c.Peek(c.Byte),
    c.Check(lambda ctx: ctx.first != END),
    "text" / _Line,
)

_Body = c.Struct(
    "opening" / c.Const(b"/"),
    "identification" / _Line,
    "blank" / c.Optional(c.Const(b"\r\n")),  # DSMR 3 Kamstrups leave the blank line out
    "lines" / c.GreedyRange(_DataLine),
    "closing" / c.Const(b"!"),
)

#: Four upper-case hex digits on the wire, an int in Python.
_HexCrc = c.ExprAdapter(
    c.Bytes(4),
    decoder=lambda obj, ctx: int(obj, 16),
    encoder=lambda obj, ctx: b"%04X" % obj,
)

#: A DSMR 4/5 (and Swedish, Belgian) telegram. Build with ``build_telegram``.
Telegram = c.Struct(
    "body" / c.RawCopy(_Body),
    "crc" / c.Checksum(_HexCrc, crc16_arc, this.body.data),
    "end" / c.Const(b"\r\n"),
)

#: A DSMR 2.2/3 telegram: no CRC after the ``!``.
TelegramWithoutCrc = c.Struct(
    "body" / c.RawCopy(_Body),
    "end" / c.Const(b"\r\n"),
)


def build_telegram(identification: str, lines: Sequence[str], *, crc: bool = True) -> bytes:
    """One valid telegram: ``/identification``, a blank line, ``lines``, ``!`` and (by default) the CRC."""
    body = {"value": {"identification": identification, "lines": list(lines)}}
    return (Telegram if crc else TelegramWithoutCrc).build({"body": body})


def parse_telegram(raw: bytes) -> Any:
    """The declaration's view of one whole telegram (with or without CRC): identification, lines,
    crc. A ``P1TelegramError`` for anything else; for ``hex --annotate`` and the tests."""
    declaration = Telegram if raw.rstrip(b"\r\n")[-5:-4] == b"!" else TelegramWithoutCrc
    try:
        return declaration.parse(raw if raw.endswith(b"\r\n") else raw + b"\r\n")
    except (c.ConstructError, UnicodeDecodeError) as e:
        raise P1TelegramError(f"not a P1 telegram the declaration reads: {e}", raw=raw) from e


# --------------------------------------------------------------------------------------------
# telegrams and the splitter
# --------------------------------------------------------------------------------------------


def _candidate(data: bytes | bytearray) -> int:
    """Where the first possible telegram in ``data`` starts: a whole ``/XXXZ`` header, else a
    ``/`` in the last four bytes that may become one, else ``len(data)`` (none). Scanning for
    the header, not for every ``/``, keeps binary noise (one ``/`` in 256 bytes) out of the buffer."""
    m = _HEADER.search(data)
    if m is not None:
        return m.start()
    tail = data.rfind(b"/", max(len(data) - 4, 0))
    return tail if tail >= 0 else len(data)


@dataclass(frozen=True, slots=True)
class P1Telegram:
    """One whole telegram, ``/`` to ``!`` and the CRC (if sent); the CRC verified."""

    raw: bytes
    crc: int | None
    """The CRC as sent, or None for a DSMR 2.2/3 telegram that has none."""
    offset: int
    """Stream position of its ``/`` among the bytes the splitter was fed."""
    received_at: float | None = None

    @property
    def text(self) -> str:
        return self.raw.decode("ascii")


@dataclass(slots=True)
class P1Stats:
    """Counters of the P1 splitter (for the summary line)."""

    telegrams_good: int = 0
    bytes_in_telegrams: int = 0


class P1Splitter:
    """Finds P1 telegrams in a byte stream, checks their CRC, hands bytes outside them on.

    ``on_error`` hears each rejected telegram (bad CRC, cut short, broken) the moment it is
    rejected; ``on_frame`` each good one; ``on_outside`` every byte that is in no telegram, in
    stream order (a run at a time), so ``hex --raw`` can show them.
    """

    def __init__(
        self,
        *,
        on_error: Callable[[AmsReadError], None] | None = None,
        on_outside: Callable[[bytes], None] | None = None,
    ) -> None:
        self._buf = bytearray()
        self._offset = 0  # stream position of self._buf[0]
        self._scanned = 0  # how far into _buf the checks have looked
        self._eat_crlf = 0  # CR LF after a CRC belongs to the telegram, not outside it
        self.stats = P1Stats()
        self.on_error = on_error
        self.on_outside = on_outside
        self.on_frame: Callable[[P1Telegram], None] | None = None

    @property
    def buffered(self) -> int:
        """Bytes of a telegram still waiting for its end."""
        return len(self._buf)

    def feed(self, chunk: bytes, received_at: float | None = None) -> list[P1Telegram]:
        """Add ``chunk`` to the stream; return every telegram it completed, in order."""
        if self._eat_crlf and chunk:
            skipped = self._swallow_crlf(chunk)
            self._offset += skipped
            chunk = chunk[skipped:]
        if not self._buf:
            start = _candidate(chunk)
            self._outside(chunk[:start])
            self._offset += start
            chunk = chunk[start:]
            if not chunk:
                return []
        self._buf += chunk
        out: list[P1Telegram] = []
        while self._buf and self._step(out, received_at):
            pass
        return out

    def flush(self) -> None:
        """The input ended or fell silent: a telegram still open never completes."""
        if self._buf:
            if len(self._buf) > 5 and _HEADER.match(self._buf):
                self._reject(P1TruncatedError("P1 telegram cut short", raw=bytes(self._buf)))
            else:
                self._outside(bytes(self._buf))
            self._drop(len(self._buf))
        self._eat_crlf = 0

    # -- one step over the buffer, which starts with "/" ------------------------------------------

    def _step(self, out: list[P1Telegram], received_at: float | None) -> bool:
        """Look at the candidate at the front of the buffer; True when the buffer changed and the
        next candidate may be looked at, False when more bytes are needed."""
        buf = self._buf
        if len(buf) < 5:
            return False
        if not _HEADER.match(buf):
            return self._not_a_telegram(1)
        scan_from = max(self._scanned, 1)
        foreign = _FOREIGN.search(buf, scan_from)
        header = _HEADER.search(buf, scan_from)
        restart = header.start() if header else -1
        end = buf.find(b"!", scan_from)
        found = [x for x in (foreign.start() if foreign else -1, restart, end) if x >= 0]
        limit = min(found) if found else -1
        if limit < 0:
            self._scanned = max(len(buf) - 4, 1)  # a new header may be arriving at the end
            if len(buf) > MAX_TELEGRAM:
                self._reject(P1TelegramError("P1 telegram too long", raw=bytes(buf)))
                return self._not_a_telegram(len(buf), counted=True)
            return False
        if limit == end:
            return self._ending(end, out, received_at)
        if limit == restart:
            if buf.find(b"\r\n", 0, restart) < 0:
                return self._not_a_telegram(restart)  # not even a whole identification line: noise
            self._reject(P1TruncatedError("P1 telegram cut short by a new one", raw=bytes(buf[:restart])))
            return self._not_a_telegram(restart, counted=True)
        return self._broken(limit)

    def _ending(self, end: int, out: list[P1Telegram], received_at: float | None) -> bool:
        """The ``!`` at ``end``: a CRC (four hex digits) or CR LF (no CRC) must follow."""
        buf = self._buf
        after = buf[end + 1 : end + 5]
        if after[:1] == b"\r":
            self._accept(end + 1, None, out, received_at)
            return True
        if len(after) < 4:
            if all(b in _HEX for b in after):
                self._scanned = end  # look again when the rest arrives
                return False
            return self._broken(end + 1)
        if not all(b in _HEX for b in after):
            return self._broken(end + 1)
        sent = int(after, 16)
        if crc16_arc(memoryview(buf)[: end + 1]) != sent:
            self._reject(P1ChecksumError("P1 telegram CRC does not match", raw=bytes(buf[: end + 5])))
            return self._not_a_telegram(end + 5, counted=True)
        self._accept(end + 5, sent, out, received_at)
        return True

    def _accept(self, length: int, crc: int | None, out: list[P1Telegram], received_at: float | None) -> None:
        raw = bytes(self._buf[:length])
        telegram = P1Telegram(raw, crc, self._offset, received_at)
        self.stats.telegrams_good += 1
        self.stats.bytes_in_telegrams += length
        out.append(telegram)
        if self.on_frame is not None:
            self.on_frame(telegram)
        self._drop(length)
        self._eat_crlf = 2  # the CR LF that ends the last line is the telegram's, not noise
        self._drop(self._swallow_crlf(bytes(self._buf[:2])))
        self._realign()

    def _broken(self, at: int) -> bool:
        """A byte no telegram carries at ``at``: the candidate ends there, counted, unless it was
        no more than noise that looked like an identification line."""
        buf = self._buf
        if buf.find(b"\r\n", 0, at) >= 0:  # it had a whole identification line: a telegram broke
            self._reject(
                P1TelegramError("P1 telegram broken by a byte no telegram carries", raw=bytes(buf[:at]))
            )
            return self._not_a_telegram(at, counted=True)
        return self._not_a_telegram(at)

    def _not_a_telegram(self, n: int, *, counted: bool = False) -> bool:
        """Drop the first ``n`` bytes (outside any telegram unless they were counted as a
        rejected one) and move to the next ``/``."""
        if not counted:
            self._outside(bytes(self._buf[:n]))
        self._drop(n)
        self._realign()
        return bool(self._buf)

    def _realign(self) -> None:
        """Hand everything before the next ``/`` on as outside, so the buffer starts with one."""
        buf = self._buf
        start = _candidate(buf)
        if start:
            self._outside(bytes(buf[:start]))
            self._drop(start)

    def _drop(self, n: int) -> None:
        del self._buf[:n]
        self._offset += n
        self._scanned = 0

    def _swallow_crlf(self, data: bytes) -> int:
        """How many bytes at the start of ``data`` are the CR LF that closes a telegram, however
        the chunks cut it (counted as the telegram's)."""
        i = 0
        while self._eat_crlf and i < len(data) and data[i] == b"\r\n"[2 - self._eat_crlf]:
            i += 1
            self._eat_crlf -= 1
        if i < len(data):
            self._eat_crlf = 0
        self.stats.bytes_in_telegrams += i
        return i

    def _outside(self, data: bytes) -> None:
        if data and self.on_outside is not None:
            self.on_outside(data)

    def _reject(self, err: AmsReadError) -> None:
        if self.on_error is not None:
            self.on_error(err)
