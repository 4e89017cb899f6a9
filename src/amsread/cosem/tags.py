"""A-XDR data tags: the one byte in front of every value of a DLMS data tree.

Kept apart from ``cosem.axdr`` (the construct declarations) so that the layout tables of
``amsread.meters`` can name their types without importing construct.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final


class TAG(IntEnum):
    """A-XDR Data tags (DLMS Blue Book, Table 2 "data types")."""

    NULL = 0x00
    ARRAY = 0x01
    STRUCTURE = 0x02
    BOOLEAN = 0x03
    BIT_STRING = 0x04
    DOUBLE_LONG = 0x05
    DOUBLE_LONG_UNSIGNED = 0x06
    OCTET_STRING = 0x09
    VISIBLE_STRING = 0x0A
    UTF8_STRING = 0x0C
    BCD = 0x0D
    INTEGER = 0x0F
    LONG = 0x10
    UNSIGNED = 0x11
    LONG_UNSIGNED = 0x12
    LONG64 = 0x14
    LONG64_UNSIGNED = 0x15
    ENUM = 0x16
    FLOAT32 = 0x17
    FLOAT64 = 0x18
    DATE_TIME = 0x19
    DATE = 0x1A
    TIME = 0x1B


#: APDU tags (GB9 §9.3): the first byte of every APDU a meter pushes.
DATA_NOTIFICATION: Final = 0x0F
GENERAL_GLO_CIPHERING: Final = 0xDB
GENERAL_BLOCK_TRANSFER: Final = 0xE0
