"""DLMS general-block-transfer (han-protocol.md §4.7, §5.7): blocks joined in number order, gaps counted.

``fw_landisgyr_gbt_1`` is three HDLC frames (S = 0), each one E0 block: the first behind the LLC
header, the other two without it. Only joined do they make a data-notification.
"""

from __future__ import annotations

from collections import Counter

import pytest

from amsread.cosem.apdu import decode_head
from amsread.cosem.ciphering import Keys, encrypt
from amsread.cosem.gbt import (
    MAX_BLOCKS,
    BlockAssembler,
    GeneralBlockTransfer,
    build_block,
    parse_block,
    split_blocks,
)
from amsread.decode.decoder import DecodeOptions, ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.errors import BlockTransferError, DecodeError, LlcError, SegmentError
from amsread.wire.hdlc import build_frame
from helpers.vectors import raw

GBT = "fw_landisgyr_gbt_1"
LLC = b"\xe6\xe7\x00"
#: A small data-notification: Kaifa list 1, P+ 4117 W.
NOTIFICATION = bytes.fromhex("0f40000000" + "00" + "02010600001015")


def gbt_infos() -> list[bytes]:
    return [e.payload for e in Pipeline().messages([raw(GBT)])]


def frames_of(blocks: list[bytes]) -> bytes:
    """HDLC frames as the L+G meter sends them: the LLC header in front of the first block only."""
    return b"".join(build_frame((LLC if i == 0 else b"") + b, control=0x13) for i, b in enumerate(blocks))


def decode(data: bytes) -> tuple[list, Pipeline]:
    pipeline = Pipeline()
    return list(pipeline.readings([data], decoder=ReadingDecoder())), pipeline


# --------------------------------------------------------------------------------------------
# the real capture
# --------------------------------------------------------------------------------------------


def test_capture_is_three_blocks_in_three_unsegmented_frames() -> None:
    infos = gbt_infos()
    assert len(infos) == 3
    assert infos[0][:3] == LLC and infos[1][:1] == infos[2][:1] == b"\xe0"
    blocks = [parse_block(info.removeprefix(LLC)) for info in infos]
    assert [(b.number, b.last, b.streaming, b.window, b.ack) for b in blocks] == [
        (1, False, True, 0, 0),
        (2, False, True, 0, 0),
        (3, True, True, 0, 0),
    ]
    assert [len(b.data) for b in blocks] == [112, 108, 121]


def test_three_blocks_join_into_one_data_notification() -> None:
    assembler = BlockAssembler()
    infos = gbt_infos()
    assert assembler.add(infos[0][3:]) is None
    assert assembler.add(infos[1]) is None and assembler.pending == 2
    apdu = assembler.add(infos[2])
    assert apdu is not None and assembler.pending == 0
    assert len(apdu) == 112 + 108 + 121
    assert apdu.hex().startswith("0f0021a4330c07e8021d04163032ff800000" + "020e010e")
    invoke_id, stamp, _ = decode_head(apdu)
    assert invoke_id == 0x21A433
    assert stamp is not None and (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute) == (
        2024,
        2,
        29,
        22,
        48,
    )


def test_capture_decodes_to_one_reading_without_errors() -> None:
    readings, pipeline = decode(raw(GBT))
    assert len(readings) == 1 and not pipeline.stats.errors
    assert pipeline.stats.messages == 3
    assert readings[0].layout == "generic:capture-objects"


def test_blocks_rebuild_byte_for_byte() -> None:
    for info in gbt_infos():
        block = info.removeprefix(LLC)
        p = GeneralBlockTransfer.parse(block)
        assert GeneralBlockTransfer.build(p) == block
        b = parse_block(block)
        assert build_block(b.data, b.number, last=b.last, streaming=b.streaming, window=b.window) == block


# --------------------------------------------------------------------------------------------
# gaps, repeats, abandoned messages
# --------------------------------------------------------------------------------------------


def test_gap_is_detected_at_the_last_block() -> None:
    a = BlockAssembler()
    blocks = split_blocks(NOTIFICATION, 4)
    assert len(blocks) == 4
    assert a.add(blocks[0]) is None and a.add(blocks[1]) is None
    with pytest.raises(BlockTransferError, match=r"gap: missing block 3 \(block 4 arrived\)") as exc:
        a.add(blocks[3])
    assert isinstance(exc.value, SegmentError) and exc.value.reason == "block transfer"
    assert a.pending == 0
    # the next message joins as if nothing had happened
    assert [a.add(b) for b in blocks] == [None, None, None, NOTIFICATION]


def test_lost_first_block_is_counted_once() -> None:
    a = BlockAssembler()
    blocks = split_blocks(NOTIFICATION, 4)
    assert len(blocks) == 4
    with pytest.raises(BlockTransferError, match=r"missing block 1 \(block 2 arrived\)"):
        a.add(blocks[1])
    assert a.add(blocks[2]) is None and a.add(blocks[3]) is None  # the rest of the broken message
    assert [a.add(b) for b in blocks] == [None, None, None, NOTIFICATION]


def test_new_message_before_the_last_block_abandons_the_old_one() -> None:
    a = BlockAssembler()
    blocks = split_blocks(NOTIFICATION, 4)
    a.add(blocks[0])
    a.add(blocks[1])
    with pytest.raises(BlockTransferError, match=r"abandoned: block 1 arrived where block 3 was due"):
        a.add(blocks[0])
    assert a.pending == 1  # the new block 1 was kept
    assert [a.add(b) for b in blocks[1:]] == [None, None, NOTIFICATION]


def test_repeated_block_breaks_the_message() -> None:
    a = BlockAssembler()
    blocks = split_blocks(NOTIFICATION, 4)
    a.add(blocks[0])
    a.add(blocks[1])
    with pytest.raises(BlockTransferError, match="block 2 repeated"):
        a.add(blocks[1])
    assert a.pending == 0
    assert a.add(blocks[2]) is None and a.add(blocks[3]) is None  # skipped, not counted again


def test_blocks_out_of_order_break_the_message() -> None:
    """One link keeps the order: a block ahead of its turn means the ones between were lost."""
    a = BlockAssembler()
    b1, b2, _ = split_blocks(NOTIFICATION, 5)
    with pytest.raises(BlockTransferError, match="missing block 1"):
        a.add(b2)
    with pytest.raises(BlockTransferError, match="abandoned"):
        a.add(b1) or a.add(b1)


def test_block_zero_is_refused() -> None:
    with pytest.raises(BlockTransferError, match="block 0 repeated"):
        BlockAssembler().add(build_block(b"x", 0, last=True))


def test_memory_is_bounded() -> None:
    a = BlockAssembler()
    for n in range(1, MAX_BLOCKS + 1):
        assert a.add(build_block(b"x", n, last=False)) is None
    with pytest.raises(BlockTransferError, match="too long"):
        a.add(build_block(b"x", MAX_BLOCKS + 1, last=False))
    assert a.pending == 0
    with pytest.raises(BlockTransferError, match="too long"):
        a.add(build_block(bytes(40_000), 1, last=False)) or a.add(build_block(bytes(40_000), 2, last=False))


def test_gap_in_a_stream_is_counted_once_and_the_next_message_decodes() -> None:
    blocks = split_blocks(NOTIFICATION, 5)
    data = frames_of([blocks[0], blocks[2]]) + frames_of(blocks) + raw(GBT)
    readings, pipeline = decode(data)
    assert pipeline.stats.errors == Counter({"block transfer": 1})
    assert [r.values["active_power_import"] for r in readings] == [4117, 362]


def test_single_block_message() -> None:
    (block,) = split_blocks(NOTIFICATION, 100)
    readings, pipeline = decode(frames_of([block]))
    assert [r.values["active_power_import"] for r in readings] == [4117] and not pipeline.stats.errors


# --------------------------------------------------------------------------------------------
# LLC rules and malformed blocks
# --------------------------------------------------------------------------------------------


def test_a_data_notification_without_llc_is_still_an_llc_error() -> None:
    readings, pipeline = decode(build_frame(NOTIFICATION) + build_frame(LLC + NOTIFICATION))
    assert pipeline.stats.errors == Counter({"bad LLC": 1}) and len(readings) == 1
    with pytest.raises(LlcError):
        ReadingDecoder().decode(NOTIFICATION)


def test_first_block_without_llc_is_accepted_too() -> None:
    blocks = split_blocks(NOTIFICATION, 5)
    data = b"".join(build_frame(b) for b in blocks)
    readings, pipeline = decode(data)
    assert len(readings) == 1 and not pipeline.stats.errors


def test_every_truncated_block_is_a_decode_error() -> None:
    block = gbt_infos()[1]
    for n in range(len(block)):
        with pytest.raises(DecodeError):
            parse_block(block[:n])
    with pytest.raises(DecodeError):
        parse_block(block + b"\x00")


def test_ciphered_apdu_in_blocks() -> None:
    """Block transfer of a general-glo-ciphering APDU: joined first, then decrypted."""
    keys = Keys.from_hex("000102030405060708090a0b0c0d0e0f", "101112131415161718191a1b1c1d1e1f")
    ciphered = encrypt(NOTIFICATION, keys, system_title=b"LGZ\x00\x00\x00\x00\x01", invocation_counter=7)
    data = frames_of(split_blocks(ciphered, 16))
    pipeline = Pipeline()
    readings = list(pipeline.readings([data], decoder=ReadingDecoder(DecodeOptions(keys=keys))))
    assert not pipeline.stats.errors
    assert [(r.manufacturer, r.values["active_power_import"]) for r in readings] == [("landisgyr", 4117)]
