"""CRC-16/X.25 known answers (han-protocol.md §4.3) and the fast path against the table oracle."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from amsread.crc import REFLECT, fcs16, fcs16_table, fcs_ok


def test_check_value() -> None:
    assert fcs16(b"123456789") == 0x906E
    assert fcs16_table(b"123456789") == 0x906E


def test_green_book_test_frame() -> None:
    # GB8 §8.5.1: 7E 03 3F 5B EC 7E, CRC(03 3F) = 0xEC5B sent low byte first.
    assert fcs16(b"\x03\x3f") == 0xEC5B
    assert fcs16(b"\x03\x3f").to_bytes(2, "little") == bytes.fromhex("5BEC")


def test_empty_input() -> None:
    assert fcs16(b"") == fcs16_table(b"") == 0x0000


def test_residue() -> None:
    # Register after data + FCS, before the final xor, is the magic 0xF0B8: fcs16 returns it xored.
    data = b"123456789"
    assert fcs16(data + fcs16(data).to_bytes(2, "little")) == 0xF0B8 ^ 0xFFFF


def test_vendor_example_hcs_and_fcs() -> None:
    # doc_aidon_6515_list2_1phase_doc (han-protocol.md §4.3): HCS 82 D6, FCS E0 C4.
    from helpers.vectors import raw

    frame = raw("doc_aidon_6515_list2_1phase_doc")
    assert frame[1:3] == bytes.fromhex("A0D2")  # length 210 = 212 bytes on the wire
    assert fcs16(frame[1:7]) == 0xD682 and frame[7:9] == bytes.fromhex("82D6")
    assert fcs16(frame[1:-3]) == 0xC4E0 and frame[-3:-1] == bytes.fromhex("E0C4")


def test_accepts_bytearray_and_memoryview() -> None:
    data = bytes(range(256))
    assert fcs16(bytearray(data)) == fcs16(memoryview(data)) == fcs16(data) == fcs16_table(data)


def test_reflect_table() -> None:
    assert REFLECT[0x01] == 0x80 and REFLECT[0xF0] == 0x0F and REFLECT[0xA5] == 0xA5
    assert all(REFLECT[REFLECT[b]] == b for b in range(256))


@given(st.binary(max_size=2048))
def test_fast_path_equals_table(data: bytes) -> None:
    assert fcs16(data) == fcs16_table(data)


@given(st.binary(min_size=1, max_size=300), st.integers(min_value=0), st.integers(min_value=1, max_value=255))
def test_single_byte_error_always_detected(data: bytes, where: int, flip: int) -> None:
    # A CRC-16 detects every burst of up to 16 bits, so any one changed byte.
    i = where % len(data)
    damaged = bytearray(data)
    damaged[i] ^= flip
    assert fcs16(damaged) != fcs16(data)


@given(st.binary(min_size=1, max_size=600), st.integers(0, 15))
def test_fcs_ok_is_the_crc_compared(data: bytes, flip: int) -> None:
    """``fcs_ok`` (one C call against the residue) agrees with computing the FCS and comparing:
    every good check sequence passes, and any one flipped bit fails."""
    fcs = fcs16(data)
    checked = data + bytes([fcs & 0xFF, fcs >> 8])
    assert fcs_ok(checked)
    assert fcs_ok(bytearray(checked))
    broken = bytearray(checked)
    broken[flip % len(broken)] ^= 1 << (flip % 8)
    assert not fcs_ok(bytes(broken))
