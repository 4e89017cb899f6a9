"""Iskra (AM550; Slovenia, Austria): registers in a structure, named by the system title ``ISK``.

The AM550 sends Aidon-style registers in a structure rather than an array (``decode.generic``'s
``register-structure``), so the shape does not name it; a ciphered push's system title does
(FLAG manufacturer ID ``ISK``).
"""

from __future__ import annotations

from typing import Final

from amsread.meters.model import Maker

MAKER: Final = Maker("iskra", "Iskra", system_title=b"ISK")
