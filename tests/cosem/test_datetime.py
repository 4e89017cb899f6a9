"""The COSEM date-time as one construct Adapter: "not specified" and None meet in one place."""

from __future__ import annotations

import pytest

from amsread.cosem.axdr import NOT_SPECIFIED, CosemDateTime, DateTime
from amsread.errors import LlcError
from amsread.wire.hdlc import LLC, strip_llc

#: 2021-01-05 (a Tuesday) 22:00:00, hundredths not specified, deviation not specified, status 0.
KAIFA_CLOCK = bytes.fromhex("07e5010502160000ff800000")


def test_the_adapter_parses_unspecified_fields_as_none() -> None:
    stamp = DateTime.parse(KAIFA_CLOCK)
    assert stamp == CosemDateTime(2021, 1, 5, 22, 0, 0, None, None, 0, 2)
    assert stamp == CosemDateTime.from_bytes(KAIFA_CLOCK)


def test_the_adapter_builds_none_as_the_unspecified_value() -> None:
    everything_unknown = CosemDateTime(None, None, None, None, None, None, None, None, None, None)
    assert DateTime.build(everything_unknown) == bytes.fromhex("ffff ffffff ffffffff 8000 ff")
    assert DateTime.parse(DateTime.build(everything_unknown)) == everything_unknown
    assert DateTime.build(DateTime.parse(KAIFA_CLOCK)) == KAIFA_CLOCK == DateTime.parse(KAIFA_CLOCK).raw
    assert NOT_SPECIFIED["deviation"] == -0x8000 and NOT_SPECIFIED["year"] == 0xFFFF


def test_one_llc_constant_for_building_and_stripping() -> None:
    assert LLC == b"\xe6\xe7\x00" and strip_llc(LLC + b"\x0f") == b"\x0f"
    with pytest.raises(LlcError):
        strip_llc(b"\xe6\xe6\x00\x0f")
