"""``amsread decode``: what is this frame saying? Hex pasted from anywhere, or a capture."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, Final

import click

from amsread.cli.options import CONTEXT_SETTINGS, decode_options, key_options, serial_options
from amsread.cli.readings import each_reading
from amsread.cli.runner import emit
from amsread.errors import DecodeError, NothingDecodedError

if TYPE_CHECKING:
    from amsread.sources.base import Source


@click.command("decode", context_settings=CONTEXT_SETTINGS)
@click.argument("data", nargs=-1, metavar="[HEX... | FILE | -]")
@serial_options
@decode_options
@key_options
@click.option("--json", "as_json", is_flag=True, help="JSON lines instead of the readable listing.")
@click.option("--count", type=click.IntRange(min=1), help="Stop after this many readings.")
@click.option("--strict", is_flag=True, help="Stop at the first bad frame (exit 1).")
@click.option("-q", "--quiet", is_flag=True, help="No summary line on stderr.")
@click.option("-v", "--verbose", is_flag=True, help="Report every skipped frame on stderr.")
def command(
    data: tuple[str, ...],
    settings: Any,
    options: Any,
    meter: str | None,
    as_json: bool,
    count: int | None,
    strict: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Decode frames given as hex on the command line, in a FILE, or on stdin (-).

    Hex may be pasted as found in a forum post or a log line, given on the command line, in a
    FILE or on stdin alike: spaces, colons, commas, 0x prefixes and text around the bytes are
    ignored. A FILE or stdin that is not text is read as raw frames. Prints every value with its
    unit and OBIS code; --json prints JSON lines instead. Exits 1 when nothing decodes.

    Examples:

    \b
        amsread decode 7E A0 2A 41 08 83 13 04 13 E6 E7 00 0F 40 00 00 00 00 01 01 02 03 09 06 01 00 01 07 00 FF 06 00 00 02 00 02 02 0F 00 16 1B C1 2C 7E
        amsread decode capture.hex --json
        pbpaste | amsread decode -
    """
    from amsread.formats import json_line, text_listing
    from amsread.sources.base import SourceRequest, memory_source

    first = True
    decoded = 0

    def write(reading: Any) -> None:
        nonlocal first, decoded
        decoded += 1
        if as_json:
            emit(json_line(reading))
            return
        if not first:
            emit("")
        first = False
        emit(text_listing(reading))

    if not data:
        raise click.UsageError("give hex bytes, a capture FILE, or - for standard input")
    spec = data[0] if len(data) == 1 and (data[0] == "-" or os.path.exists(data[0])) else None
    # Read raw: whether the bytes are text with hex in it is decided here, for all three forms.
    request = SourceRequest(spec, settings, "raw", None, count, strict, quiet, verbose)
    if spec is None:
        text = " ".join(data).encode()
        if not b"".join(hex_from_text([text])):
            raise DecodeError("no hex bytes found in the arguments")
        src = memory_source("arguments", text)
    else:
        src = request.open()
    each_reading(request, options, write, opened=hex_or_raw(src))
    if not decoded:
        name = "the arguments" if spec is None else "standard input" if spec == "-" else spec
        raise NothingDecodedError(f"nothing decodable in {name}")


#: Bytes that never occur in text people paste: NUL and the other C0 controls but tab, LF, FF, CR.
_NOT_TEXT: Final = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D, 0x0C}
BOM: Final = b"\xef\xbb\xbf"


def looks_like_text(sample: bytes) -> bool:
    """True when ``sample`` is UTF-8 text (a log, a paste), not raw frames.

    Raw HDLC always holds control bytes (addresses, lengths, zeros) and bytes that are no UTF-8;
    a character cut in two at the end of the sample is allowed.
    """
    if any(b in _NOT_TEXT for b in sample):
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(sample) - 3 and e.reason == "unexpected end of data"
    return True


def hex_from_text(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The hex bytes in text, line by line as lines complete: the one reader for arguments, files
    and stdin, so text copied from a log (``12:00:01 Received: 7e a0 2a ...``) decodes the same
    whichever way it is given. A UTF-8 byte-order mark is dropped; idle ticks pass through."""
    from amsread.sources.hextext import extract_hex

    pending = b""
    number = 0

    def parse(line: bytes) -> bytes:
        nonlocal number
        number += 1
        text = line.decode("utf-8", "replace")
        if number == 1:
            text = text.removeprefix("\ufeff")
        try:
            return extract_hex(text)
        except ValueError as e:
            raise DecodeError(f"not hex: {e} (line {number})") from None

    for chunk in chunks:
        if not chunk:
            yield chunk
            continue
        *lines, pending = (pending + chunk).split(b"\n")
        found = b"".join(parse(line) for line in lines)
        if found:
            yield found
    if pending:
        yield parse(pending)


def hex_or_raw(src: Source) -> Source:
    """``src`` with text read as hex (``hex_from_text``) and anything else passed on as raw bytes."""
    from amsread.sources.base import Source

    def chunks() -> Iterator[bytes]:
        it = iter(src)
        for first in it:
            if first:
                break
            yield first
        else:
            return
        rest = itertools.chain([first], it)
        if looks_like_text(first.removeprefix(BOM)[:4096]):
            yield from hex_from_text(rest)
        else:
            yield from rest

    return Source(src.name, src.live, chunks, src.close, description=src.description)
