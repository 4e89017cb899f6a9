"""The HDLC splitter and declaration on real captures, and one named test per stream problem.

han-protocol.md §4 describes the format; §4.5 the splitter these tests hold ``FrameSplitter`` to.
"""

from __future__ import annotations

from typing import Any

import pytest

from amsread.crc import fcs16
from amsread.errors import (
    FrameChecksumError,
    FrameError,
    FrameFlagError,
    FrameFormatError,
    FrameLengthError,
    HeaderChecksumError,
    SegmentError,
    TruncatedFrameError,
)
from amsread.wire.hdlc import (
    MAX_FRAME_LENGTH,
    Frame,
    FrameSplitter,
    HdlcFrame,
    SegmentAssembler,
    address_value,
    build_frame,
    encode_address,
)
from helpers.vectors import FRAME_COUNTS, NOT_HDLC, hdlc_captures, params, raw, vector, vectors, walk_frames

# Small real frames without 0x7E between their flags, so the byte counts below are exact.
AIDON_L1 = raw("doc_aidon_6534_list1")  # 44 bytes
KAIFA_L1 = raw("fw_kaifa_list1_1")  # 41 bytes
KAMSTRUP = raw("amshan_kamstrup_list1_1")  # 228 bytes
AIDON_L3 = raw("doc_aidon_6534_list3")  # 396 bytes


def split(
    data: bytes, *, chunk: int | None = None, **kwargs: Any
) -> tuple[list[Frame], list[FrameError], FrameSplitter]:
    """Feed ``data`` (whole or in chunks), then flush; return frames, errors and the splitter."""
    errors: list[FrameError] = []
    s = FrameSplitter(on_error=errors.append, **kwargs)
    frames: list[Frame] = []
    step = chunk or max(len(data), 1)
    for i in range(0, len(data), step):
        frames += s.feed(data[i : i + step])
    frames += s.flush()
    return frames, errors, s


def with_hcs(header: bytes) -> bytes:
    """``header`` (format .. control) followed by its HCS."""
    return header + fcs16(header).to_bytes(2, "little")


def test_small_fixtures_have_no_flag_inside() -> None:
    for frame in (AIDON_L1, KAIFA_L1, KAMSTRUP, AIDON_L3):
        assert frame[0] == frame[-1] == 0x7E and 0x7E not in frame[1:-1]
    assert (len(AIDON_L1), len(KAIFA_L1), len(KAMSTRUP), len(AIDON_L3)) == (44, 41, 228, 396)


# --------------------------------------------------------------------------------------------
# every real capture
# --------------------------------------------------------------------------------------------


def test_reference_walker_counts() -> None:
    counts = {v["name"]: len(walk_frames(raw(v))) for v in hdlc_captures()}
    assert len(counts) == len(vectors("valid")) - len(NOT_HDLC) == 124
    assert {k: n for k, n in counts.items() if n != 1} == FRAME_COUNTS


@pytest.mark.parametrize("v", params("valid", exclude=NOT_HDLC))
def test_capture_splits_into_its_frames(v: dict[str, Any]) -> None:
    data = raw(v)
    frames, errors, s = split(data)
    expected = walk_frames(data)
    assert [f.raw for f in frames] == expected
    assert len(frames) == FRAME_COUNTS.get(v["name"], 1)
    assert errors == []
    st = s.stats
    assert (st.bytes_received, st.bytes_discarded) == (len(data), 0)
    assert (st.frames_good, st.frames_bad) == (len(frames), 0)
    assert s.buffered == 0
    for f in frames:
        hl = f.header_length
        assert f.raw[0] == f.raw[-1] == 0x7E
        assert f.length == len(f.raw) - 2
        assert fcs16(f.raw[1 : hl - 2]) == f.hcs == int.from_bytes(f.raw[hl - 2 : hl], "little")
        assert fcs16(f.raw[1:-3]) == f.fcs == int.from_bytes(f.raw[-3:-1], "little")
        assert f.checks == ("HCS", "FCS")
        assert f.received_at is None
    segmented = {"issue_iskra_am550_segmented": [True, True, False]}
    assert [f.segmented for f in frames] == segmented.get(v["name"], [False] * len(frames))


def test_mbus_capture_yields_no_hdlc_frame() -> None:
    data = raw("fw_kaifa_mbus-gcm_1")
    assert data[0] == 0x68 and data[3] == 0x68  # M-Bus long frame start
    frames, errors, s = split(data)
    assert frames == [] and errors == []
    assert s.stats.bytes_discarded == len(data) and s.buffered == 0


@pytest.mark.parametrize("v", params("valid", exclude=NOT_HDLC))
def test_splitter_agrees_with_declaration(v: dict[str, Any]) -> None:
    frames, _, _ = split(raw(v))
    for f in frames:
        parsed = HdlcFrame.parse(f.raw)
        body = parsed.body.value
        header = body.header.value
        assert bytes(header.destination) == f.destination
        assert bytes(header.source) == f.source
        assert header.control == f.control
        assert header.format.segmented == f.segmented
        assert header.format.length == f.length
        assert body.information == f.information
        assert body.hcs == f.hcs and parsed.fcs == f.fcs
        assert len(body.header.data) + 3 == f.header_length  # flag + header + HCS


@pytest.mark.parametrize("v", params("valid", exclude=NOT_HDLC))
def test_build_frame_round_trips(v: dict[str, Any]) -> None:
    frames, _, _ = split(raw(v))
    for f in frames:
        rebuilt = build_frame(
            f.information,
            destination=f.destination,
            source=f.source,
            control=f.control,
            segmented=f.segmented,
        )
        assert rebuilt == f.raw


# (destination, source, control) per meter, han-protocol.md §4.2: never hard-code them.
ADDRESSES = {
    "doc_aidon_6534_list1": ("41", "0883", {0x13}),
    "fw_landisgyr_list1_1": ("41", "0883", {0x13}),
    "fw_kaifa_list1_1": ("01", "0201", {0x10}),
    "fw_kaifa_selist_1": ("01", "0001", {0x10}),  # Kaifa SE
    "amshan_kamstrup_list1_1": ("2b", "21", {0x13}),
    "fw_kamstrup_dklist_1": ("2b", "21", {0x13}),
    "fw_landisgyr_gbt_1": ("ceff", "03", {0x13}),
    "issue_iskra_am550_segmented": ("cf", "0223", {0x03, 0x13}),
}


@pytest.mark.parametrize("name", sorted(ADDRESSES))
def test_addresses_and_control_seen(name: str) -> None:
    dest, src, controls = ADDRESSES[name]
    frames, _, _ = split(raw(name))
    assert {(f.destination.hex(), f.source.hex()) for f in frames} == {(dest, src)}
    assert {f.control for f in frames} == controls


def test_address_values() -> None:
    f = split(AIDON_L1)[0][0]
    # client 32; server 08 83: upper address 4, lower 65 (7 bits each)
    assert (f.destination_address, f.source_address) == (0x20, 4 << 7 | 65)
    assert address_value(b"\x21") == 16 and address_value(b"\x2b") == 21
    assert encode_address(0x241, 2) == [0x08, 0x83] and encode_address(16) == [0x21]
    assert address_value(bytes(encode_address(0x1234567, 4))) == 0x1234567


# --------------------------------------------------------------------------------------------
# every damaged capture: the reason the splitter gives, per file
# --------------------------------------------------------------------------------------------

# name -> (error class or None, reported by "feed" or "flush", good frames); the comment quotes
# the file's expected_error.
INVALID: dict[str, tuple[type[FrameError] | None, str, int]] = {
    # frame ending in 0x7d 0x7e (abort sequence): the length points at the 7D
    "amshan_invalid_abort_sequence": (FrameFlagError, "feed", 0),
    # none: skip the leading garbage and return one good frame
    "amshan_invalid_leading_garbage": (None, "feed", 1),
    # read at the wrong baud rate, inverted: length 680, the HCS already fails
    "fw_aidon_corrupt_1": (HeaderChecksumError, "feed", 0),
    # 581-byte frame cut at 512: only the end of input proves it truncated
    "fw_aidon_corrupt_2": (TruncatedFrameError, "flush", 0),
    # good HCS, bad FCS
    "fw_kamstrup_corrupt_1": (FrameChecksumError, "feed", 0),
    # wrong parity: "7E 13 2B", the format byte lost, so no candidate at all: just noise
    "fw_kamstrup_corrupt_2": (None, "feed", 0),
    "hassams_invalid_aidon_hourly_incorrect_header_crc": (HeaderChecksumError, "feed", 0),
    "hassams_invalid_aidon_hourly_incorrect_pkg_crc": (FrameChecksumError, "feed", 0),
    # LLC e7e700: the FCS covers the LLC
    "hassams_invalid_aidon_hourly_invalid_data_flag": (FrameChecksumError, "feed", 0),
    # opening flag 0x7d: no candidate, every byte discarded
    "hassams_invalid_aidon_hourly_invalid_frame_flag": (None, "feed", 0),
    # truncated
    "hassams_invalid_aidon_hourly_invalid_pkg_size": (TruncatedFrameError, "flush", 0),
    # garbage with a plausible header
    "hassams_invalid_aidon_hourly_wrong_size": (HeaderChecksumError, "feed", 0),
    # CR/LF mangling, truncated at the length field's size: no closing flag where the length says
    "hassams_invalid_aidon_oss_10sec": (FrameFlagError, "feed", 0),
    "hassams_invalid_aidon_oss_hourly": (FrameFlagError, "feed", 0),
    "hassams_invalid_aidon_se_3ph_incorrect_header_crc": (HeaderChecksumError, "feed", 0),
    "hassams_invalid_aidon_se_3ph_incorrect_pkg_crc": (FrameChecksumError, "feed", 0),
    "hassams_invalid_aidon_se_3ph_invalid_data_flag": (FrameChecksumError, "feed", 0),
    "hassams_invalid_aidon_se_3ph_invalid_frame_flag": (None, "feed", 0),
    "hassams_invalid_aidon_se_3ph_invalid_pkg_size": (TruncatedFrameError, "flush", 0),
    # length field altered: the HCS covers it
    "hassams_invalid_aidon_se_3ph_wrong_size": (HeaderChecksumError, "feed", 0),
    "hassams_invalid_kaifa_incorrect_header_crc": (HeaderChecksumError, "feed", 0),
    "hassams_invalid_kaifa_incorrect_pkg_crc": (FrameChecksumError, "feed", 0),
    "hassams_invalid_kaifa_invalid_data_flag": (FrameChecksumError, "feed", 0),
    "hassams_invalid_kaifa_invalid_frame_flag": (None, "feed", 0),
    # truncated inside the header (the HCS is incomplete): truncated at the end of input
    "hassams_invalid_kaifa_invalid_pkg_size": (TruncatedFrameError, "flush", 0),
    "hassams_invalid_kaifa_se_incorrect_header_crc": (HeaderChecksumError, "feed", 0),
    "hassams_invalid_kaifa_se_incorrect_pkg_crc": (FrameChecksumError, "feed", 0),
    "hassams_invalid_kaifa_se_invalid_data_flag": (FrameChecksumError, "feed", 0),
    "hassams_invalid_kaifa_se_invalid_frame_flag": (None, "feed", 0),
    # "header says 285 bytes, only 13 present": the header bytes are damaged too, so the HCS fails
    "hassams_invalid_kaifa_se_invalid_pkg_size": (HeaderChecksumError, "feed", 0),
    "hassams_invalid_kaifa_se_wrong_size": (HeaderChecksumError, "feed", 0),
    "hassams_invalid_kaifa_wrong_size": (HeaderChecksumError, "feed", 0),
    "hassams_invalid_kamstrup_incorrect_header_crc": (HeaderChecksumError, "feed", 0),
    "hassams_invalid_kamstrup_incorrect_pkg_crc": (FrameChecksumError, "feed", 0),
    # LLC e6e6: caught by the FCS
    "hassams_invalid_kamstrup_invalid_data_flag": (FrameChecksumError, "feed", 0),
    "hassams_invalid_kamstrup_invalid_frame_flag": (None, "feed", 0),
    "hassams_invalid_kamstrup_invalid_pkg_size": (TruncatedFrameError, "flush", 0),
    "hassams_invalid_kamstrup_wrong_size": (HeaderChecksumError, "feed", 0),
}

REASONS = {
    HeaderChecksumError: "bad HCS",
    FrameChecksumError: "bad FCS",
    FrameFlagError: "no closing flag",
    TruncatedFrameError: "truncated",
    FrameLengthError: "bad length",
    FrameFormatError: "bad header",
}


def test_invalid_table_covers_every_file() -> None:
    assert sorted(INVALID) == [v["name"] for v in vectors("invalid")]


@pytest.mark.parametrize("v", params("invalid"))
def test_invalid_capture_rejected_with_reason(v: dict[str, Any]) -> None:
    error_class, when, good = INVALID[v["name"]]
    data = raw(v)
    errors: list[FrameError] = []
    s = FrameSplitter(on_error=errors.append)
    frames = s.feed(data)
    feed_errors = list(errors)
    frames += s.flush()
    expected = [] if error_class is None else [error_class]
    assert [type(e) for e in errors] == expected
    assert feed_errors == (errors if when == "feed" else [])
    assert len(frames) == good
    for e in errors:  # the evidence: the rejected candidate's bytes, from its opening flag
        assert e.reason == REASONS[type(e)]
        assert data.startswith(e.raw)
        if isinstance(e, (FrameChecksumError, TruncatedFrameError)):
            assert e.raw == data  # the whole candidate
        elif isinstance(e, FrameFlagError):
            length = ((data[1] & 7) << 8) | data[2]
            assert len(e.raw) == length + 2 and e.raw[-1] != 0x7E  # up to where the flag should be
        elif isinstance(e, HeaderChecksumError):
            assert 8 <= len(e.raw) <= 14  # flag, format, addresses (1-4 bytes each), control, HCS
    st = s.stats
    assert st.frames_good == good and st.frames_bad == len(expected)
    kept = sum(len(f.raw) for f in frames)
    assert st.bytes_received == len(data) and st.bytes_discarded == len(data) - kept
    assert s.buffered == 0


@pytest.mark.parametrize("v", params("invalid"))
def test_invalid_capture_costs_no_following_frame(v: dict[str, Any]) -> None:
    # Enough good frames after the damage to outlast any length the damaged header claims.
    data = AIDON_L1 + raw(v) + AIDON_L1 * 20
    s = FrameSplitter()
    frames = s.feed(data)
    expected = 21 + INVALID[v["name"]][2]
    assert len(frames) == expected  # without waiting for flush()
    assert s.flush() == []
    assert frames[0].raw == AIDON_L1 and frames[-1].raw == AIDON_L1


def test_error_bytes_per_reason() -> None:
    # The evidence each error carries: the header for a bad HCS, the whole candidate otherwise.
    hcs = split(raw("hassams_invalid_kaifa_incorrect_header_crc"))[1][0]
    assert hcs.raw == bytes.fromhex("7ea09b01020110efae")  # flag, format, DA, SA, control, HCS
    fcs = split(raw("fw_kamstrup_corrupt_1"))[1][0]
    assert fcs.raw == raw("fw_kamstrup_corrupt_1")
    flag = split(raw("amshan_invalid_abort_sequence"))[1][0]
    assert flag.raw == bytes.fromhex("7ea00c0102011027a00201e7de7d")
    assert "found 7D" in str(flag)


# --------------------------------------------------------------------------------------------
# one test per stream problem (style.md §3.8 item 2)
# --------------------------------------------------------------------------------------------


def test_leading_garbage() -> None:
    garbage = bytes.fromhex("0600001fc7cec3")
    s = FrameSplitter()
    assert [f.raw for f in s.feed(garbage + AIDON_L1)] == [AIDON_L1]
    assert s.stats.bytes_discarded == len(garbage)
    assert s.buffered == 1  # the closing flag, kept: it may open the next frame


def test_leading_garbage_vector() -> None:
    data = raw("amshan_invalid_leading_garbage")
    frames, errors, s = split(data)
    assert [f.raw.hex() for f in frames] == ["7ea00c0102011027a00201e7de7e"]
    assert frames[0].information == b"\x02\x01"
    assert errors == [] and s.stats.bytes_discarded == 7


def test_starts_mid_frame() -> None:
    frames, errors, s = split(AIDON_L3[100:] + KAIFA_L1)
    assert [f.raw for f in frames] == [KAIFA_L1]
    assert errors == []  # the tail of a frame holds no candidate: plain noise
    assert s.stats.bytes_discarded == len(AIDON_L3) - 100


def test_truncated_first_frame() -> None:
    # A frame cut short makes a candidate that claims 394 bytes; the splitter cannot know it is
    # dead until that many bytes have arrived, or the input ends.
    s = FrameSplitter()
    assert s.feed(AIDON_L3[:200] + KAIFA_L1) == []
    assert s.buffered == 200 + len(KAIFA_L1)
    more = s.feed(KAIFA_L1 * 6)  # now past the claimed length: no closing flag there, rescan
    assert [f.raw for f in more] == [KAIFA_L1] * 7
    assert (s.stats.flag_errors, s.stats.truncated, s.stats.bytes_discarded) == (1, 0, 200)


def test_flush_rescues_frames_behind_truncated_candidate() -> None:
    errors: list[FrameError] = []
    s = FrameSplitter(on_error=errors.append)
    assert s.feed(AIDON_L3[:200] + KAIFA_L1 + AIDON_L1) == []
    rescued = s.flush()
    assert [f.raw for f in rescued] == [KAIFA_L1, AIDON_L1]
    assert [type(e) for e in errors] == [TruncatedFrameError]
    assert errors[0].raw == AIDON_L3[:200] + KAIFA_L1 + AIDON_L1
    assert s.stats.bytes_discarded == 200 and s.buffered == 0
    assert s.flush() == [] and s.stats.truncated == 1  # idempotent


def test_flush_after_clean_end_reports_nothing() -> None:
    s = FrameSplitter()
    assert len(s.feed(AIDON_L1 + KAIFA_L1)) == 2
    assert s.buffered == 1
    assert s.flush() == []
    assert (s.stats.frames_bad, s.stats.bytes_discarded, s.buffered) == (0, 0, 0)


def test_flush_of_a_bare_flag_and_format_byte_is_truncated() -> None:
    frames, errors, _ = split(b"\x7e\xa0")
    assert frames == [] and [type(e) for e in errors] == [TruncatedFrameError]
    frames, errors, _ = split(b"\x7e")
    assert frames == [] and errors == []


def test_frame_split_across_chunks() -> None:
    s = FrameSplitter()
    data = AIDON_L1 + KAMSTRUP
    out = [s.feed(data[i : i + 1]) for i in range(len(data))]
    done_at = [i for i, frames in enumerate(out) if frames]
    assert done_at == [len(AIDON_L1) - 1, len(data) - 1]  # each frame the moment its closing flag arrives
    assert [out[i][0].raw for i in done_at] == [AIDON_L1, KAMSTRUP]


def test_shared_flag_between_frames() -> None:
    data = AIDON_L1 + KAIFA_L1[1:] + KAMSTRUP[1:]
    frames, errors, s = split(data)
    assert [f.raw for f in frames] == [AIDON_L1, KAIFA_L1, KAMSTRUP]
    assert errors == [] and s.stats.bytes_discarded == 0


def test_doubled_flag_between_frames() -> None:
    data = AIDON_L1 + KAIFA_L1 + KAMSTRUP
    frames, errors, s = split(data)
    assert [f.raw for f in frames] == [AIDON_L1, KAIFA_L1, KAMSTRUP]
    assert errors == [] and s.stats.bytes_discarded == 0


def test_extra_flags_between_frames_are_discarded() -> None:
    data = AIDON_L1 + b"\x7e\x7e" + KAIFA_L1
    frames, errors, s = split(data)
    assert [f.raw for f in frames] == [AIDON_L1, KAIFA_L1]
    assert errors == [] and s.stats.bytes_discarded == 2


def test_flag_in_payload() -> None:
    frame = raw("amshan_kaifa_list1_1")
    assert frame[37] == 0x7E and frame[34:38] == bytes.fromhex("0000157e")  # P+ 5502 W
    for chunk in (None, 1, 37, 38):  # also cut right at and after the payload's 7E
        frames, errors, _ = split(frame * 3, chunk=chunk)
        assert [f.raw for f in frames] == [frame] * 3 and errors == []
    assert split(frame)[0][0].information[-4:] == bytes.fromhex("0000157e")


def test_escape_byte_in_payload() -> None:
    # No byte stuffing on the HAN port (GB8 §8.1.2): 7D is data, never an escape.
    frame = raw("amshan_aidon_list1_1")
    assert frame[31:35] == bytes.fromhex("0000067d")  # P+ 1661 W
    frames, errors, _ = split(frame + frame[1:])
    assert [f.raw for f in frames] == [frame, frame] and errors == []
    assert frames[0].information[22:26] == bytes.fromhex("0000067d")


def test_flag_in_fcs_and_header() -> None:
    # hassams_kaifa_ma304h4d_list3_2 has 7E as its FCS low byte; fw_landisgyr_gbt_1 has 7D in a length byte.
    for name in ("hassams_kaifa_ma304h4d_list3_2", "fw_landisgyr_gbt_1"):
        data = raw(name)
        frames, errors, _ = split(data + data, chunk=7)
        assert [f.raw for f in frames] == walk_frames(data) * 2 and errors == []
    assert raw("hassams_kaifa_ma304h4d_list3_2")[-3] == 0x7E
    assert walk_frames(raw("fw_landisgyr_gbt_1"))[1][2] == 0x7D


def test_too_short_frame() -> None:
    short = with_hcs(bytes.fromhex("a00541"))  # length 5 < 9
    frames, errors, s = split(b"\x7e" + short + AIDON_L1)
    assert [f.raw for f in frames] == [AIDON_L1]
    assert [type(e) for e in errors] == [FrameLengthError] and errors[0].reason == "bad length"
    assert s.stats.length_errors == 1 and s.stats.bytes_discarded == 1 + len(short)


def test_length_shorter_than_header() -> None:
    # Length 10, but 4-byte addresses make the header alone 13 bytes long.
    header = bytes.fromhex("a00a") + bytes(encode_address(1, 4)) + bytes(encode_address(1, 4)) + b"\x13"
    frames, errors, _ = split(b"\x7e" + with_hcs(header) + AIDON_L1)
    assert [f.raw for f in frames] == [AIDON_L1]
    assert [type(e) for e in errors] == [FrameLengthError]
    assert "shorter than the header" in str(errors[0])


def test_address_longer_than_four_bytes() -> None:
    frames, errors, _ = split(bytes.fromhex("7ea02a0202020202") + AIDON_L1)
    assert [f.raw for f in frames] == [AIDON_L1]
    assert [type(e) for e in errors] == [FrameFormatError] and errors[0].reason == "bad header"


def test_bad_hcs_then_good_frame() -> None:
    bad = bytearray(AIDON_L1)
    bad[7] ^= 0x01  # HCS low byte
    frames, errors, s = split(bytes(bad) + AIDON_L1)
    assert [f.raw for f in frames] == [AIDON_L1]
    assert [type(e) for e in errors] == [HeaderChecksumError]
    assert errors[0].raw == bytes(bad[:9])
    assert (s.stats.hcs_errors, s.stats.bytes_discarded) == (1, len(AIDON_L1))


def test_bad_fcs_then_good_frame() -> None:
    bad = bytearray(KAMSTRUP)
    bad[100] ^= 0x40
    frames, errors, s = split(bytes(bad) + KAMSTRUP)
    assert [f.raw for f in frames] == [KAMSTRUP]
    assert [type(e) for e in errors] == [FrameChecksumError] and errors[0].raw == bytes(bad)
    assert (s.stats.fcs_errors, s.stats.bytes_discarded) == (1, len(KAMSTRUP))


def test_oversize_length() -> None:
    # A frame longer than the splitter's cap is rejected at once, by its length field.
    s_errors: list[FrameError] = []
    s = FrameSplitter(on_error=s_errors.append, max_length=300)
    assert [f.raw for f in s.feed(AIDON_L3 + AIDON_L1)] == [AIDON_L1]  # AIDON_L3 has length 394
    assert [type(e) for e in s_errors] == [FrameLengthError] and s_errors[0].raw == AIDON_L3[:3]


def test_largest_frame_is_accepted() -> None:
    big = build_frame(bytes(range(256)) * 7 + bytes(2037 - 1792))
    assert len(big) == MAX_FRAME_LENGTH + 2 and big[1:3] == b"\xa7\xff"
    frames, errors, _ = split(AIDON_L1 + big + AIDON_L1, chunk=100)
    assert [f.raw for f in frames] == [AIDON_L1, big, AIDON_L1] and errors == []


def test_false_maximal_length_claim_loses_nothing() -> None:
    # A header whose HCS verifies but claims 2047 bytes: the splitter waits for them (buffer bounded),
    # finds no closing flag there, and rescans: every frame behind it still comes out.
    claim = b"\x7e" + with_hcs(bytes.fromhex("a7ff41088313"))
    data = claim + AIDON_L1 * 60
    errors: list[FrameError] = []
    s = FrameSplitter(on_error=errors.append)
    frames = []
    for i in range(0, len(data), 64):
        frames += s.feed(data[i : i + 64])
        assert s.buffered <= MAX_FRAME_LENGTH + 2
    assert len(frames) == 60 and [type(e) for e in errors] == [FrameFlagError]
    assert s.stats.bytes_discarded == len(claim)


# --------------------------------------------------------------------------------------------
# segmented messages
# --------------------------------------------------------------------------------------------


def test_segmented_message_reassembly() -> None:
    frames, _, _ = split(raw("issue_iskra_am550_segmented"))
    assert [f.control for f in frames] == [0x03, 0x03, 0x13]
    assert [f.raw[1] & 0xF8 for f in frames] == [0xA8, 0xA8, 0xA0]
    asm = SegmentAssembler()
    out = [asm.add(f) for f in frames]
    assert out[:2] == [None, None]
    message = out[2]
    assert message is not None and len(message) == 343
    assert message[:4] == bytes.fromhex("e6e7000f")  # LLC + data-notification (only in the first segment)
    assert message == b"".join(f.information for f in frames)
    assert message[-4:] == frames[2].information[-4:]


def test_segments_of_different_senders_kept_apart() -> None:
    segs = split(raw("issue_iskra_am550_segmented"))[0]
    other = split(AIDON_L1)[0][0]
    asm = SegmentAssembler()
    assert asm.add(segs[0]) is None
    assert asm.add(other) == other.information  # a different address pair passes straight through
    assert asm.add(segs[1]) is None
    assert asm.add(segs[2]) == b"".join(f.information for f in segs)


def test_block_transfer_frames_are_separate_messages() -> None:
    # fw_landisgyr_gbt_1 uses DLMS general-block-transfer, not HDLC segmentation: three messages.
    frames = split(raw("fw_landisgyr_gbt_1"))[0]
    asm = SegmentAssembler()
    messages = [asm.add(f) for f in frames]
    assert [m[:4].hex() if m else None for m in messages] == ["e6e700e0", "e0400002", "e0c00003"]


def test_segmented_message_too_long() -> None:
    info = bytes(2000)
    seg = split(build_frame(info, segmented=True, control=0x03))[0][0]
    asm = SegmentAssembler()
    with pytest.raises(SegmentError) as exc:
        for _ in range(SegmentAssembler.MAX_MESSAGE // len(info) + 1):
            assert asm.add(seg) is None
    assert exc.value.raw == seg.raw and exc.value.reason == "segment"
    assert asm.add(split(AIDON_L1)[0][0]) is not None  # the assembler starts afresh


# --------------------------------------------------------------------------------------------
# counters and callbacks
# --------------------------------------------------------------------------------------------


def test_counters() -> None:
    bad_hcs = bytearray(AIDON_L1)
    bad_hcs[3] ^= 0x02  # destination address
    bad_fcs = bytearray(KAIFA_L1)
    bad_fcs[-2] ^= 0xFF
    garbage = b"\x00\x11\x22\x33\x44"
    tail = AIDON_L3[:50]
    data = garbage + AIDON_L1 + bytes(bad_hcs) + bytes(bad_fcs) + KAIFA_L1 + tail
    s = FrameSplitter()
    assert len(s.feed(data)) == 2
    assert s.buffered == 50
    assert s.flush() == []
    st = s.stats
    assert st.bytes_received == len(data)
    assert st.bytes_discarded == len(data) - len(AIDON_L1) - len(KAIFA_L1)
    assert (st.frames_good, st.hcs_errors, st.fcs_errors, st.truncated, st.frames_bad) == (2, 1, 1, 1, 3)
    assert (st.length_errors, st.flag_errors, st.format_errors) == (0, 0, 0)


def test_callbacks_see_the_stream_in_order() -> None:
    events: list[Any] = []
    s = FrameSplitter(on_error=events.append, on_discard=events.append, on_frame=events.append)
    bad = bytearray(AIDON_L1)
    bad[20] ^= 1
    returned = s.feed(b"\x01\x02" + AIDON_L1 + bytes(bad) + KAIFA_L1)
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["bytes", "Frame", "FrameChecksumError", "bytes", "Frame"]
    assert events[0] == b"\x01\x02" and events[2].raw == bytes(bad)
    # the false opening flag, the rest up to the next flag and that flag (doubled before KAIFA_L1):
    # one contiguous run, handed over in one piece before the next frame
    assert events[3] == bytes(bad)
    assert returned == [events[1], events[4]]


def test_received_at_is_passed_through() -> None:
    s = FrameSplitter()
    s.feed(AIDON_L1[:10], received_at=1.0)
    (frame,) = s.feed(AIDON_L1[10:], received_at=2.5)
    assert frame.received_at == 2.5


def test_vector_lookup() -> None:
    # Guards the helpers themselves: names are unique and both kinds are reachable.
    assert vector("fw_kaifa_list1_1")["list"] == "list1"
    assert "expected_error" in vector("fw_aidon_corrupt_2")
    with pytest.raises(KeyError):
        vector("nope")
