"""Sagemcom (T210-D; Austria, Poland): M-Bus long frames, ciphered, named by the system title ``SAG``.

Its pushes carry OBIS/value pairs the generic road reads; only the system title's FLAG
manufacturer ID (``SAG``) says who sent them.
"""

from __future__ import annotations

from typing import Final

from amsread.meters.model import Maker

MAKER: Final = Maker("sagemcom", "Sagemcom", system_title=b"SAG")
