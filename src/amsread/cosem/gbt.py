"""DLMS general-block-transfer (GBT, tag 0xE0): one long APDU carried in numbered blocks.

``E0 | block control | block number (2) | block number ack (2) | block data (A-XDR length + bytes)``

Block control: bit 7 last block, bit 6 streaming, bits 5-0 window (DLMS Green Book GB9 §9.4.6.13,
Fig. 40). The Landis+Gyr E450 (Switzerland) pushes its data-notification this
way, one block per HDLC frame (``fw_landisgyr_gbt_1.json``: blocks 1-3, control 40, 40, C0). This is
a DLMS mechanism, separate from HDLC segmentation: the frames have S = 0, and only the first frame
carries the LLC header (GB8 §8.3.2).

``BlockAssembler`` joins the blocks' data in block-number order into the APDU they carry (usually
a data-notification, possibly a ciphered one). It holds at most ``MAX_BLOCKS`` blocks and
``MAX_MESSAGE`` bytes, and reports a broken message once, as a ``BlockTransferError``: a block out
of turn (one before it lost, or a repeat), or a new message begun before the last block of the one
before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import construct as c

from amsread.cosem.axdr import PARSE_ERRORS, AxdrLength
from amsread.cosem.tags import GENERAL_BLOCK_TRANSFER
from amsread.errors import BlockTransferError, DecodeError

#: Blocks and bytes one message may hold before it is given up: a push is a few hundred bytes.
MAX_BLOCKS: Final = 256
MAX_MESSAGE: Final = 64 * 1024

#: The block-control byte (GB9 Fig. 40).
BlockControl = c.BitStruct(
    "last_block" / c.Flag,
    "streaming" / c.Flag,
    "window" / c.BitsInteger(6),
)

#: general-block-transfer APDU (GB9 §9.4.6.13). Builds too: ``build_block`` makes test streams.
GeneralBlockTransfer = c.Struct(
    "tag" / c.Const(bytes((GENERAL_BLOCK_TRANSFER,))),
    "block_control" / BlockControl,
    "block_number" / c.Int16ub,
    "block_number_ack" / c.Int16ub,
    "block_data" / c.Prefixed(AxdrLength, c.GreedyBytes),
    c.Terminated,
)


@dataclass(frozen=True, slots=True)
class Block:
    """One general-block-transfer block, parsed."""

    last: bool
    streaming: bool
    window: int
    number: int
    ack: int
    data: bytes


def parse_block(apdu: bytes) -> Block:
    """Parse one ``E0`` APDU; a malformed one is a ``DecodeError`` carrying the bytes."""
    try:
        p = GeneralBlockTransfer.parse(apdu)
    except PARSE_ERRORS as e:
        raise DecodeError(f"cannot decode general-block-transfer: {str(e).splitlines()[0]}", raw=apdu) from e
    bc = p.block_control
    return Block(bc.last_block, bc.streaming, bc.window, p.block_number, p.block_number_ack, p.block_data)


def build_block(data: bytes, number: int, *, last: bool, streaming: bool = True, window: int = 0) -> bytes:
    """Build one ``E0`` block around ``data`` (the demo meter and the tests)."""
    return GeneralBlockTransfer.build(
        {
            "block_control": {"last_block": last, "streaming": streaming, "window": window},
            "block_number": number,
            "block_number_ack": 0,
            "block_data": data,
        }
    )


def split_blocks(apdu: bytes, size: int) -> list[bytes]:
    """Cut ``apdu`` into ``E0`` blocks of at most ``size`` data bytes, numbered from 1."""
    parts = [apdu[i : i + size] for i in range(0, len(apdu), size)] or [b""]
    return [build_block(p, n, last=n == len(parts)) for n, p in enumerate(parts, 1)]


class BlockAssembler:
    """Join general-block-transfer blocks into the APDU they carry.

    ``add`` returns the whole APDU when a block completes it, else None. A push arrives in order on
    one link, so block n + 1 must follow block n; the data joins in number order. A broken message
    (a block missing or repeated, or a new block 1 before the last block) raises one
    ``BlockTransferError``, is dropped, and the rest of its blocks are ignored up to its last one,
    so one lost frame costs one message and one count. A new block 1 that breaks the message
    before it is kept as the start of the next (unless it is a whole message by itself: then it
    is dropped with the error, since ``add`` cannot both raise and return).
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._size = 0
        self._skipping = False

    @property
    def pending(self) -> int:
        """Blocks held for a message not yet complete."""
        return len(self._parts)

    def add(self, apdu: bytes) -> bytes | None:
        """Add one ``E0`` APDU; the joined APDU when it was the last block of a whole message."""
        block = parse_block(apdu)
        n = block.number
        expected = len(self._parts) + 1
        if n == 1 and self._parts:
            self._reset()
            if not block.last:
                self._append(block.data)
            raise BlockTransferError(
                f"block transfer abandoned: block 1 arrived where block {expected} was due", raw=apdu
            )
        if n == 1:
            self._skipping = False
        elif self._skipping:  # the rest of a message already reported as broken
            self._skipping = not block.last
            return None
        if n != expected:
            self._reset()
            self._skipping = not block.last
            what = (
                f"missing block {_ranges(list(range(expected, n)))}"
                if n > expected
                else f"block {n} repeated"
            )
            raise BlockTransferError(f"block transfer gap: {what} (block {n} arrived)", raw=apdu)
        self._append(block.data)
        if len(self._parts) > MAX_BLOCKS or self._size > MAX_MESSAGE:
            count, size = len(self._parts), self._size
            self._reset()
            self._skipping = not block.last
            raise BlockTransferError(f"block transfer too long: {count} blocks, {size} bytes", raw=apdu)
        if not block.last:
            return None
        joined = b"".join(self._parts)
        self._reset()
        return joined

    def _append(self, data: bytes) -> None:
        self._parts.append(data)
        self._size += len(data)

    def _reset(self) -> None:
        self._parts, self._size, self._skipping = [], 0, False


def _ranges(numbers: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``1-3, 5``: block numbers for a message a person reads."""
    runs: list[list[int]] = []
    for k in sorted(numbers):
        if runs and k == runs[-1][1] + 1:
            runs[-1][1] = k
        else:
            runs.append([k, k])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)
