"""Serial settings.

The HAN port is M-Bus: 2400 baud, 8 data bits, even parity, 1 stop bit (EN 13757-2) for most
meters; each maker's preset lives in its ``amsread.meters`` module (Kamstrup pushes 8N1). Settings
are frozen; ``as_kwargs`` returns a fresh dict so no caller can leak a change into the next one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Final


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """How to talk to a serial port."""

    baudrate: int = 2400
    bytesize: int = 8
    parity: str = "E"
    stopbits: float = 1

    def as_kwargs(self) -> dict[str, Any]:
        """Fresh keyword arguments for ``serial.serial_for_url``."""
        return {
            "baudrate": self.baudrate,
            "bytesize": self.bytesize,
            "parity": self.parity,
            "stopbits": self.stopbits,
        }

    def with_overrides(self, **changes: Any) -> SerialSettings:
        """A copy with every non-None keyword applied."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    def __str__(self) -> str:
        stop = int(self.stopbits) if float(self.stopbits).is_integer() else self.stopbits
        return f"{self.baudrate} {self.bytesize}{self.parity}{stop}"


#: A P1 port (DSMR 5, IEC 62056-21 mode D): 115200 8N1. The meter makers' presets live with them
#: in ``amsread.meters``.
P1: Final = SerialSettings(115200, 8, "N", 1)

DEFAULT: Final = SerialSettings()
