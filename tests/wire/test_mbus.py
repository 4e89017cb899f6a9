"""Wired M-Bus long frames (han-protocol.md §5.8): the splitter, segments, and M-Bus beside HDLC.

``fw_kaifa_mbus-gcm_1`` is two long frames (L 250 with CI 00, L 114 with CI 11) carrying one
encrypted APDU. The pipeline finds M-Bus frames among the bytes outside HDLC frames, so a stream
may hold either or both; a pure HDLC stream must behave exactly as before.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amsread.cosem.ciphering import Keys, encrypt
from amsread.decode.decoder import DecodeOptions, ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.errors import FrameError, MbusChecksumError, MbusFrameError, MbusSegmentError
from amsread.wire.framer import Framer, Framing
from amsread.wire.hdlc import FrameSplitter
from amsread.wire.mbus import (
    MAX_LONG_LENGTH,
    MbusAssembler,
    MbusFrame,
    MbusLongFrame,
    MbusSplitter,
    build_mbus_frame,
    build_mbus_message,
    mbus_checksum,
)
from helpers.vectors import NOT_HDLC, raw, vector, vectors

KAIFA_PL = "fw_kaifa_mbus-gcm_1"
KEYS = Keys.from_hex(vector(KAIFA_PL)["key"])
#: data-notification, invoke id 0, no date-time, body ``02 01 06 00 00 10 15`` (4117 W).
NOTIFICATION = bytes.fromhex("0f40000000" + "00" + "02010600001015")
AIDON = raw("doc_aidon_6534_list1")
KAIFA_L1 = raw("fw_kaifa_list1_1")


def split(data: bytes, chunk: int | None = None) -> tuple[list[MbusFrame], list[FrameError], MbusSplitter]:
    errors: list[FrameError] = []
    s = MbusSplitter(on_error=errors.append)
    frames: list[MbusFrame] = []
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        frames += s.feed(data[i : i + step])
    frames += s.flush()
    return frames, errors, s


def decode(data: bytes, keys: Keys | None = KEYS) -> tuple[list, Pipeline]:
    pipeline = Pipeline()
    return list(pipeline.readings([data], decoder=ReadingDecoder(DecodeOptions(keys=keys)))), pipeline


# --------------------------------------------------------------------------------------------
# the real capture
# --------------------------------------------------------------------------------------------


def test_capture_is_two_segments() -> None:
    data = raw(KAIFA_PL)
    frames, errors, s = split(data)
    assert errors == []
    assert [(len(f.raw), f.raw[1], f.ci, f.segment, f.last_segment) for f in frames] == [
        (256, 250, 0x00, 0, False),
        (120, 114, 0x11, 1, True),
    ]
    assert all((f.control, f.address, f.stsap, f.dtsap) == (0x53, 0xFF, 0x01, 0x67) for f in frames)
    assert b"".join(f.raw for f in frames) == data
    assert [f.offset for f in frames] == [0, 256]
    assert s.stats.frames_good == 2 and s.stats.bytes_in_frames == len(data) and s.buffered == 0


def test_checksums_are_the_sum_from_c_to_data() -> None:
    for f in split(raw(KAIFA_PL))[0]:
        assert f.raw[-2] == mbus_checksum(f.raw[4:-2]) and f.raw[-1] == 0x16


def test_declaration_parses_and_rebuilds_the_capture() -> None:
    for f in split(raw(KAIFA_PL))[0]:
        p = MbusLongFrame.parse(f.raw)
        assert p.body.value.ci == f.ci and p.body.value.data == f.data
        assert MbusLongFrame.build(p) == f.raw
        assert build_mbus_frame(f.data, f.ci) == f.raw


def test_segments_join_into_one_ciphered_apdu() -> None:
    a = MbusAssembler()
    first, last = split(raw(KAIFA_PL))[0]
    assert a.add(first) is None and a.pending == 1
    apdu = a.add(last)
    assert apdu is not None and len(apdu) == 245 + 109
    assert apdu.hex().startswith("db084b464d1020029802820155210000" + "0a28")


def test_any_chunking_gives_the_same_frames() -> None:
    data = raw(KAIFA_PL)
    want = split(data)[0]
    for chunk in (1, 2, 3, 7, 64, 255, 256, 257):
        assert split(data, chunk)[0] == want


def test_capture_decodes_through_the_pipeline() -> None:
    readings, pipeline = decode(raw(KAIFA_PL))
    assert len(readings) == 1 and not pipeline.stats.errors
    assert pipeline.stats.mbus.frames_good == 2 and pipeline.stats.splitter.frames_good == 0
    assert pipeline.stats.summary() == "0 frames, 2 M-Bus frames: 1 reading; 376 bytes, 0 discarded"


# --------------------------------------------------------------------------------------------
# errors: counted, and the next frame decodes
# --------------------------------------------------------------------------------------------


def corrupt(frame: bytes, at: int) -> bytes:
    return frame[:at] + bytes([frame[at] ^ 0x01]) + frame[at + 1 :]


def test_checksum_error_is_counted_and_the_next_frame_decodes() -> None:
    good = build_mbus_message(NOTIFICATION)
    bad = corrupt(good, 12)
    frames, errors, _ = split(bad + good)
    assert [type(e) for e in errors] == [MbusChecksumError] and errors[0].raw == bad
    assert errors[0].reason == "bad M-Bus checksum" and isinstance(errors[0], MbusFrameError)
    assert len(frames) == 1
    readings, pipeline = decode(bad + good)
    assert pipeline.stats.errors == Counter({"bad M-Bus checksum": 1})
    assert [r.values["active_power_import"] for r in readings] == [4117]


def test_checksum_error_in_a_segment_breaks_only_its_message() -> None:
    data = raw(KAIFA_PL)
    bad = corrupt(data, 100) + data + data
    readings, pipeline = decode(bad)
    assert pipeline.stats.errors == Counter({"bad M-Bus checksum": 1, "M-Bus segment": 1})
    assert len(readings) == 2


def test_missing_stop_byte() -> None:
    good = build_mbus_message(NOTIFICATION)
    frames, errors, _ = split(good[:-1] + b"\x00" + good)
    assert len(frames) == 1 and [e.reason for e in errors] == ["bad M-Bus frame"]


def test_ci_that_is_not_a_dlms_segment() -> None:
    frames, errors, _ = split(build_mbus_frame(NOTIFICATION, 0x72) + build_mbus_message(NOTIFICATION))
    assert len(frames) == 1 and "CI 72" in str(errors[0])


def test_truncated_frame_at_the_end() -> None:
    good = build_mbus_message(NOTIFICATION)
    frames, errors, s = split(good + good[:-3])
    assert len(frames) == 1 and [e.reason for e in errors] == ["truncated M-Bus frame"]
    assert s.stats.truncated == 1 and s.buffered == 0


def test_lost_segment_is_counted_once() -> None:
    apdu = bytes(300)
    parts = [f.raw for f in split(build_mbus_message(b"\x0f" + apdu, 100))[0]]
    assert len(parts) == 4
    errors: list = []
    a = MbusAssembler(on_error=errors.append)
    frames = split(parts[0] + parts[2] + parts[3] + b"".join(parts))[0]
    out = [a.add(f) for f in frames]
    assert out[:3] == [None, None, None] and out[-1] == b"\x0f" + apdu
    assert [type(e) for e in errors] == [MbusSegmentError]
    assert "segment 2 arrived where segment 1 was due" in str(errors[0])


def test_new_message_abandons_an_unfinished_one() -> None:
    errors: list = []
    a = MbusAssembler(on_error=errors.append)
    first = split(build_mbus_message(bytes(300)))[0]
    single = split(build_mbus_message(NOTIFICATION))[0]
    assert a.add(first[0]) is None
    assert a.add(single[0]) == NOTIFICATION  # reported, yet the new message is not lost
    assert "abandoned after 1 segment" in str(errors[0])


def test_noise_is_not_an_error_and_the_buffer_stays_bounded() -> None:
    rng = random.Random(5)
    noise = bytes(rng.randrange(256) for _ in range(20_000)).replace(b"\x68", b"\x69")
    s = MbusSplitter()
    for i in range(0, len(noise), 97):
        s.feed(noise[i : i + 97] + b"\x68")
        assert s.buffered <= MAX_LONG_LENGTH + 6
    assert s.stats.frames_good == 0


# --------------------------------------------------------------------------------------------
# M-Bus beside HDLC
# --------------------------------------------------------------------------------------------


def test_mbus_and_hdlc_frames_in_one_stream_decode_in_order() -> None:
    plain_mbus = build_mbus_message(NOTIFICATION)
    sagemcom = build_mbus_message(
        encrypt(
            NOTIFICATION,
            KEYS,
            system_title=b"SAG\x00\x00\x00\x00\x07",
            invocation_counter=9,
            security_control=0x20,
        )
    )
    data = AIDON + raw(KAIFA_PL) + KAIFA_L1 + plain_mbus + AIDON + sagemcom
    for chunk in (len(data), 1, 13, 100):
        pipeline = Pipeline()
        dec = ReadingDecoder(DecodeOptions(keys=KEYS))
        readings = list(
            pipeline.readings([data[i : i + chunk] for i in range(0, len(data), chunk)], decoder=dec)
        )
        assert not pipeline.stats.errors, (chunk, pipeline.stats.errors)
        assert [(r.manufacturer, r.values["active_power_import"]) for r in readings] == [
            (None, 512),  # a lone Aidon list 1 names no maker (issue 13)
            ("kaifa", 2867),
            ("kaifa", 4117),
            ("kaifa", 4117),  # the plain list 1 in M-Bus: Kaifa's layout
            (None, 512),
            ("sagemcom", 4117),
        ], chunk
        assert pipeline.stats.splitter.frames_good == 3 and pipeline.stats.mbus.frames_good == 4
        assert pipeline.stats.summary().endswith(f"; {len(data)} bytes, 0 discarded")


def test_messages_carry_their_frame() -> None:
    out = list(Pipeline().messages([AIDON + build_mbus_message(NOTIFICATION)]))
    assert [e.framing for e in out] == [Framing.HDLC, Framing.MBUS]
    assert out[1].payload == NOTIFICATION and out[1].has_llc is False


def test_flag_bytes_inside_an_mbus_frame_are_not_hdlc_errors() -> None:
    """``7E A0 ..`` inside M-Bus data looks like an HDLC header; it must not count as a bad frame."""
    # pairs: P+ 4117 W, then a meter id whose bytes happen to read 7E A0 20 41 08 83 13 00
    tricky = bytes.fromhex("0f4000000000" + "0204" + "09060100010700ff" + "0600001015")
    tricky += bytes.fromhex("09060000600100ff" + "0908" + "7ea0204108831300")
    data = build_mbus_message(tricky) + AIDON
    hdlc_alone = Counter(type(e).__name__ for e in _hdlc_errors(data))
    assert hdlc_alone  # the HDLC splitter by itself does reject a candidate there
    readings, pipeline = decode(data)
    assert not pipeline.stats.errors
    assert [r.values["active_power_import"] for r in readings] == [4117, 512]
    # but a real bad HDLC frame right after an M-Bus frame still counts
    bad_hcs = AIDON[:7] + bytes([AIDON[7] ^ 1]) + AIDON[8:]
    _, pipeline = decode(build_mbus_message(NOTIFICATION) + bad_hcs + AIDON)
    assert pipeline.stats.errors == Counter({"bad HCS": 1})


def _hdlc_errors(data: bytes) -> list[FrameError]:
    errors: list[FrameError] = []
    FrameSplitter(on_error=errors.append).feed(data)
    return errors


@pytest.mark.parametrize("kind", ["valid", "invalid"])
def test_hdlc_streams_behave_as_before(kind: str) -> None:
    """Every capture: the pipeline's HDLC frames and error counts are the HDLC splitter's alone."""
    for v in vectors(kind):
        if v["name"] in NOT_HDLC:
            continue
        data = bytes.fromhex(v["hex"])
        errors: list[FrameError] = []
        alone = FrameSplitter(on_error=errors.append)
        frames = alone.feed(data) + alone.flush()
        pipeline = Pipeline()
        assert [f.raw for f in pipeline.frames([data])] == [f.raw for f in frames], v["name"]
        assert pipeline.stats.errors == Counter(e.reason for e in errors), v["name"]
        assert pipeline.stats.mbus.frames_good == 0


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=1500), st.integers(1, 300))
def test_arbitrary_bytes_never_raise(data: bytes, chunk: int) -> None:
    errors: list[FrameError] = []
    s = MbusSplitter(on_error=errors.append)
    a = MbusAssembler(on_error=errors.append)
    good = build_mbus_message(NOTIFICATION)
    for i in range(0, len(data), chunk):
        for f in s.feed(data[i : i + chunk]):
            a.add(f)
        assert s.buffered <= MAX_LONG_LENGTH + 6
    found = s.feed(good) + s.flush()
    assert all(isinstance(e, MbusFrameError | MbusSegmentError) for e in errors)
    assert found and found[-1].raw == good  # garbage before it never costs the good frame


def test_envelopes_carry_every_frame_of_their_message() -> None:
    """One envelope type for both framings: payload, source address and all the raw frames."""
    segmented = build_mbus_message(NOTIFICATION, segment_size=5)
    (mbus,) = Framer().messages([segmented])
    assert mbus.framing is Framing.MBUS and mbus.source is None and mbus.payload == NOTIFICATION
    assert len(mbus.frames) > 1 and b"".join(mbus.frames) == segmented
    iskra = raw("issue_iskra_am550_segmented")
    (hdlc,) = Framer().messages([iskra])
    assert hdlc.framing is Framing.HDLC and hdlc.has_llc and len(hdlc.frames) == 3
    assert b"".join(hdlc.frames) == iskra
