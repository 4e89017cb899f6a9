"""Hex text to bytes: captures and log lines as people paste them.

Whitespace, ``0x`` prefixes, colons, commas and ``#`` comments are tolerated; ``extract_hex`` pulls
the bytes out of prose and log lines; ``HexStreamDecoder`` decodes text arriving in pieces with
bounded memory. No I/O.
"""

from __future__ import annotations

import re
from typing import Final

#: Characters hex text may contain besides hex digits.
_HEX_TEXT_CHARS: Final = frozenset(b"0123456789abcdefABCDEFxX \t\r\n,:;-_|[]'\"")
_HEX_TOKEN = re.compile(rb"(?:0[xX])?([0-9a-fA-F]+)")
_COMMENT = re.compile(rb"(#|//)[^\n]*")


def looks_like_hex_text(sample: bytes) -> bool:
    """True when ``sample`` is plausibly hex text rather than raw frames."""
    body = _COMMENT.sub(b"", sample)
    return bool(body.strip()) and all(b in _HEX_TEXT_CHARS for b in body)


def parse_hex_text(text: bytes | str) -> bytes:
    """Hex text to bytes: tolerate whitespace, ``0x`` prefixes, colons, commas and ``#`` comments.

    Raises ``ValueError`` when a token is not hex or the digits do not pair up into bytes.
    """
    if isinstance(text, str):
        text = text.encode("ascii", "replace")
    body = _COMMENT.sub(b"", text)
    out = bytearray()
    for token in re.split(rb"[\s,:;|\[\]'\"_-]+", body):
        if not token:
            continue
        m = _HEX_TOKEN.fullmatch(token)
        if m is None:
            raise ValueError(f"not hex: {token[:20].decode('ascii', 'replace')!r}")
        digits = m.group(1)
        if len(digits) % 2:
            raise ValueError(f"odd number of hex digits in {token[:20].decode('ascii', 'replace')!r}")
        out += bytes.fromhex(digits.decode())
    return bytes(out)


#: One pasted byte (``7E``, ``0x7E``) that is a word of its own: not the ``ab`` of ``about``.
_PASTED_BYTE = r"(?:0[xX])?[0-9a-fA-F]{2}(?![0-9a-zA-Z_])"
#: At least four bytes separated by whitespace/commas, or by colons, or one long run of digits;
#: never continuing a word, number, date or time (``2021-11-29 12:00:01.250``).
_HEX_RUN = re.compile(
    r"(?<![\w:.\-])(?:"
    rf"{_PASTED_BYTE}(?:(?:\s+|\s*,\s*){_PASTED_BYTE}){{3,}}"
    r"|[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){3,}(?![\w:])"
    r"|[0-9a-fA-F]{16,}(?!\w)"
    r")"
)


#: A lone hex digit right after a run of bytes: the paste lost half a byte.
_ODD_TAIL = re.compile(r"[ \t,:]*(?:0[xX])?[0-9a-fA-F](?![0-9a-zA-Z])")


def extract_hex(text: str) -> bytes:
    """Pull the hex bytes out of text pasted from anywhere: a forum post, a log line.

    Takes every run of at least four space/colon/comma-separated byte pairs (or one long run of
    digits) and joins them, ignoring timestamps and prose around them. A run that ends in a lone
    digit (a byte cut in half when pasting) is a ``ValueError``. Text with no such run is read
    whole, as ``parse_hex_text`` does; ``b""`` if it is not hex at all.
    """
    body = _COMMENT.sub(b"", text.encode()).decode()
    runs = list(_HEX_RUN.finditer(body))
    for m in runs:
        if _ODD_TAIL.match(body, m.end()):
            raise ValueError("odd number of hex digits: a lone digit after the bytes")
    if runs:
        return b"".join(parse_hex_text(m.group(0)) for m in runs)
    try:
        return parse_hex_text(text)
    except ValueError:
        return b""


#: Bytes that end a hex token, as ``parse_hex_text`` splits them.
_SEPARATORS: Final = tuple(bytes((b,)) for b in b" \t\r\n\f\v,:;|[]'\"_-")
_SEPARATOR_SET: Final = frozenset(b" \t\r\n\f\v,:;|[]'\"_-")
_DIGITS = re.compile(rb"[0-9a-fA-F]*")
_LONG_TOKEN = re.compile(rb"(?:0[xX])?([0-9a-fA-F]*)")
#: A partial token up to this long is held back whole; a longer one (hex with no separators at
#: all) is decoded as it arrives, so memory stays bounded whatever the text looks like.
_TOKEN_HOLD: Final = 64


class HexStreamDecoder:
    """Incremental hex text to bytes, for hex read in chunks from a file or a pipe.

    Chunks cut text anywhere: inside a token (``7E A`` | ``0``), inside a ``0x`` prefix, inside a
    ``#`` or ``//`` comment, or in the middle of a run of digits with no separator at all. What
    cannot be decided yet is held back, never more than a few dozen bytes: a long run of digits is
    decoded pair by pair with at most one odd digit carried over, and a comment that has not ended
    is dropped as it comes, remembering only that the text is still inside it. The result is the
    same as ``parse_hex_text`` on the whole text, errors included.
    """

    def __init__(self) -> None:
        self._pending = b""
        #: The current token's earlier digits were already decoded: ``_pending`` is its odd digit, if any.
        self._in_token = False
        #: A comment began and its line has not ended yet.
        self._in_comment = False

    def feed(self, text: bytes) -> bytes:
        """Decode what ``text`` completes; raise ``ValueError`` on text that is not hex."""
        data = self._pending + text
        self._pending = b""
        if self._in_comment:
            end = data.find(b"\n")
            if end < 0:
                return b""
            data, self._in_comment = data[end:], False
        out = bytearray()
        if self._in_token:
            rest = self._continue_token(data, out)
            if rest is None:
                return bytes(out)
            data = rest
        comment = _open_comment(data)
        if comment >= 0:  # the last line opens a comment: everything before it is complete
            complete, tail = data[:comment], b""
            self._in_comment = True
        else:
            cut = max(data.rfind(sep) for sep in _SEPARATORS)
            complete, tail = data[: cut + 1], data[cut + 1 :]
        out += parse_hex_text(complete)
        if len(tail) > _TOKEN_HOLD:
            out += self._start_long_token(tail)
        else:
            self._pending = tail
        return bytes(out)

    def close(self) -> bytes:
        """The text ended: decode what was held back."""
        rest, self._pending = self._pending, b""
        if self._in_comment:
            self._in_comment = False
            return b""
        if self._in_token:
            self._in_token = False
            if len(rest) % 2:
                raise ValueError("odd number of hex digits at the end of a long run")
            return bytes.fromhex(rest.decode())
        return parse_hex_text(rest)

    def _start_long_token(self, tail: bytes) -> bytes:
        """Decode the digit pairs of a token too long to hold back; keep an odd digit."""
        m = _LONG_TOKEN.match(tail)
        assert m is not None  # the pattern matches the empty string
        digits, rest = m.group(1), tail[m.end() :]
        if rest == b"/":  # perhaps the first half of a ``//`` comment: the token ends here
            if len(digits) % 2:
                raise ValueError(f"odd number of hex digits in {_shown(tail)}")
            self._pending = rest
            return bytes.fromhex(digits.decode())
        if rest:
            raise ValueError(f"not hex: {_shown(tail)}")
        even = len(digits) - len(digits) % 2
        self._pending, self._in_token = digits[even:], True
        return bytes.fromhex(digits[:even].decode())

    def _continue_token(self, data: bytes, out: bytearray) -> bytes | None:
        """Go on with a long token: decode its digits; the text after it, or None if it goes on."""
        end = _DIGITS.match(data).end()  # type: ignore[union-attr]
        digits = data[:end]
        if end == len(data):
            even = end - end % 2
            out += bytes.fromhex(digits[:even].decode())
            self._pending = digits[even:]
            return None
        self._in_token = False
        if end % 2:
            raise ValueError(f"odd number of hex digits at the end of a long run ({_shown(digits[-20:])})")
        out += bytes.fromhex(digits.decode())
        rest = data[end:]
        if rest[0] not in _SEPARATOR_SET and rest[:1] not in (b"#", b"/"):
            raise ValueError(f"not hex: {_shown(rest)}")
        return rest


def _open_comment(data: bytes) -> int:
    """Where a comment opens on the last line of ``data`` (which has not ended yet), or -1."""
    line = data.rfind(b"\n") + 1
    marks = [i for i in (data.find(b"#", line), data.find(b"//", line)) if i >= 0]
    return min(marks) if marks else -1


def _shown(token: bytes) -> str:
    return repr(token[:20].decode("ascii", "replace"))
