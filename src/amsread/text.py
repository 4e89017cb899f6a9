"""Text that is safe on a terminal and in a file: every character a reader cannot see, escaped;
and the one way numbers and times are written out, in every format and the history database.

Meter text reaches terminals, CSV files and logs from the decoder and from every format, so the
guard sits in the foundation, below both (standard library only).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal


def visible(text: str) -> str:
    """``text`` with every non-printable character shown as an escape (``\\x1b``, ``\\u202e``).

    Meter text goes to terminals and files: an ESC or a C1 CSI would drive the terminal (retitle
    it, clear it), a CR or LF would split a CSV row or a listing line, a bidi override would hide
    what follows. Printable text, backslashes included, passes unchanged, so applying it twice
    changes nothing.
    """
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def decimal_text(value: Decimal) -> str:
    """A finite Decimal in positional notation, as ``format(value, "f")`` prints it, at a third of
    its cost: ``str`` is the same text unless the exponent is positive or the number tiny, and
    then it holds an "E" (``format`` parses its spec on every call; a list 2 has a dozen values)."""
    text = str(value)
    return text if "E" not in text else format(value, "f")


def time_text(value: dt.datetime) -> str:
    """ISO 8601, milliseconds only where there are any (the host clock's microseconds are noise
    at 2400 baud, and three bytes a row). A fraction below a millisecond is none: printed as
    ``.000`` it would read back (from the history database) as a time without one, and print
    differently the second time."""
    if value.microsecond >= 1000:
        return value.isoformat(timespec="milliseconds")
    # (the timespec argument costs a third more: only where microseconds would otherwise show)
    return value.isoformat(timespec="seconds") if value.microsecond else value.isoformat()
