"""Text that is safe on a terminal and in a file: every character a reader cannot see, escaped.

Meter text reaches terminals, CSV files and logs from the decoder and from every format, so the
guard sits in the foundation, below both (standard library only).
"""

from __future__ import annotations


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
