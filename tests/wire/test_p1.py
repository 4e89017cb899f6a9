"""P1 telegrams on the wire (``wire.p1``): the CRC, the splitter, the declaration, the framer.

Every telegram is a real one from ``tests/data/p1``; the splitter must find each whole, check its
CRC (a bad one is a counted skip), keep a telegram cut by a reconnect from merging with the next,
step over garbage between telegrams, and find P1 after HDLC in one stream (a swapped meter).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.errors import AmsReadError, P1ChecksumError, P1TelegramError, P1TruncatedError
from amsread.wire.framer import Framer, Framing
from amsread.wire.p1 import P1Splitter, build_telegram, crc16_arc, crc16_arc_bytewise, parse_telegram
from helpers.telegrams import telegram, telegrams, wire
from helpers.vectors import raw

GOOD = [t["name"] for t in telegrams() if t["crc"] != "bad"]
BAD = [t["name"] for t in telegrams("bad")]
AIDON = "se_aidon_6534_1"


def split(data: bytes, step: int | None = None) -> tuple[list[bytes], list[AmsReadError], bytes]:
    """Feed ``data`` (in ``step``-byte chunks); the telegrams, the errors and the outside bytes."""
    errors: list[AmsReadError] = []
    outside: list[bytes] = []
    splitter = P1Splitter(on_error=errors.append, on_outside=outside.append)
    found = []
    step = step or len(data) or 1
    for i in range(0, len(data), step):
        found += splitter.feed(data[i : i + step])
    splitter.flush()
    return [t.raw for t in found], errors, b"".join(outside)


def test_crc16_arc_check_value() -> None:
    assert crc16_arc(b"123456789") == crc16_arc_bytewise(b"123456789") == 0xBB3D


@given(st.binary(max_size=64))
def test_crc16_arc_word_wise_equals_byte_wise(data: bytes) -> None:
    """Odd and even lengths alike: the word table must not change a single result."""
    assert crc16_arc(data) == crc16_arc_bytewise(data)


@pytest.mark.parametrize("name", [t["name"] for t in telegrams("ok")])
def test_published_crc_matches(name: str) -> None:
    data = wire(name)
    end = data.rindex(b"!")
    assert crc16_arc(data[: end + 1]) == int(data[end + 1 : end + 5], 16)


@pytest.mark.parametrize("name", BAD)
def test_published_bad_crc_really_is_bad(name: str) -> None:
    data = wire(name)
    end = data.rindex(b"!")
    assert crc16_arc(data[: end + 1]) != int(data[end + 1 : end + 5], 16)


@pytest.mark.parametrize("name", GOOD)
@pytest.mark.parametrize("step", [None, 1, 7, 64])
def test_each_real_telegram_is_found_whole_however_it_is_chunked(name: str, step: int | None) -> None:
    data = wire(name)
    found, errors, outside = split(data, step)
    assert errors == []
    assert found == [data.rstrip(b"\r\n")]
    assert outside == b""  # the CR LF after the end belongs to the telegram


@pytest.mark.parametrize("name", BAD)
def test_a_bad_crc_is_a_counted_skip(name: str) -> None:
    found, errors, _ = split(wire(name))
    assert found == []
    assert [type(e) for e in errors] == [P1ChecksumError]


@pytest.mark.parametrize("name", GOOD)
def test_declaration_and_splitter_agree(name: str) -> None:
    """The construct declaration parses every real telegram to the lines the splitter found, and
    builds it back byte for byte (the CRC rebuilt)."""
    data = wire(name)
    parsed = parse_telegram(data)
    lines = data.decode("ascii").split("\r\n")
    assert parsed.body.value.identification == lines[0][1:]
    assert (
        list(parsed.body.value.lines) == lines[2 : lines.index(next(x for x in lines if x.startswith("!")))]
    )
    rebuilt = build_telegram(
        parsed.body.value.identification, parsed.body.value.lines, crc=telegram(name)["crc"] == "ok"
    )
    assert rebuilt == data if data.endswith(b"\r\n") else data + b"\r\n"


def test_a_telegram_cut_in_half_never_merges_with_the_next() -> None:
    """A reconnect cuts a telegram mid-line; the next one's ``/ADN9`` starts afresh."""
    data = wire(AIDON)
    found, errors, _ = split(data[:300] + data + data, 5)
    assert found == [data.rstrip(b"\r\n")] * 2
    assert [type(e) for e in errors] == [P1TruncatedError]


def test_a_telegram_cut_at_the_end_of_input_is_truncated() -> None:
    data = wire(AIDON)
    found, errors, _ = split(data + data[:-20])
    assert len(found) == 1
    assert [type(e) for e in errors] == [P1TruncatedError]


def test_garbage_between_telegrams_is_stepped_over_and_shown_as_outside() -> None:
    a, b = wire("se_landisgyr_e360"), wire("nl_dsmr3_kamstrup")
    garbage = b"\x00\xff noise /x / ~ \x7e\xa0 h\x68\x68"
    found, errors, outside = split(garbage + a + garbage + b + garbage, 3)
    assert found == [a.rstrip(b"\r\n"), b.rstrip(b"\r\n")]
    assert errors == []
    assert outside == garbage * 3


def test_a_foreign_byte_inside_a_telegram_breaks_it() -> None:
    data = bytearray(wire(AIDON))
    data[100] = 0x00
    found, errors, _ = split(bytes(data) + wire(AIDON))
    assert len(found) == 1
    assert [type(e) for e in errors] == [P1TelegramError]


def test_a_stream_changes_from_hdlc_to_p1() -> None:
    """A user swaps an HDLC meter for a P1 one on the same port: both decode, in stream order."""
    hdlc = raw("doc_aidon_6534_list1")
    p1 = wire(AIDON)
    pipeline = Pipeline()
    data = hdlc * 2 + b"\x00\x00" + p1 * 2
    readings = list(
        pipeline.readings([data[i : i + 50] for i in range(0, len(data), 50)], decoder=ReadingDecoder())
    )
    assert [r.layout == "p1" for r in readings] == [False, False, True, True]
    assert pipeline.stats.errors == {}
    assert pipeline.stats.summary().startswith("2 frames, 2 P1 telegrams: 4 readings")


def test_envelopes_name_the_p1_framing() -> None:
    envelopes = list(Framer().messages([wire(AIDON)]))
    assert [e.framing for e in envelopes] == [Framing.P1]
    assert envelopes[0].payload.startswith(b"/ADN9") and envelopes[0].payload.endswith(b"!95CB")


def test_a_telegram_left_open_by_an_idle_line_is_cut_not_merged() -> None:
    """The idle flush (a live line silent mid-telegram) ends the telegram as truncated; the next
    whole one decodes."""
    data = wire(AIDON)
    chunks = iter([data[:200], b"", data])
    framer = Framer(idle_flush=0.0)
    envelopes = list(framer.messages(chunks, live=True))
    assert len(envelopes) == 1
    assert framer.stats.errors == {"truncated P1 telegram": 1}
