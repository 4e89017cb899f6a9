"""The P1 telegrams in ``tests/data/p1``: real ones from public sources, each with its ``source``.

Each file holds the telegram as ``text`` (lines joined with CR LF, as on the wire), ``crc``
(``ok``, ``bad`` where the published CRC does not match, ``none`` for DSMR 2.2/3) and the
``readings`` it states, in the names of the output contract (numbers as exact strings).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "p1"


@functools.cache
def _load() -> tuple[dict[str, Any], ...]:
    out = []
    for path in sorted(DATA.glob("*.json")):
        t = json.loads(path.read_text(encoding="utf-8"))
        assert t["name"] == path.stem
        assert t["source"], f"{path}: every telegram names its public source"
        out.append(t)
    assert out
    return tuple(out)


def telegrams(crc: str | None = None) -> list[dict[str, Any]]:
    """Every telegram (or those whose CRC is ``crc``), sorted by name."""
    return [t for t in _load() if crc is None or t["crc"] == crc]


def telegram(name: str) -> dict[str, Any]:
    for t in _load():
        if t["name"] == name:
            return t
    raise KeyError(name)


def wire(name: str) -> bytes:
    """The telegram's bytes as the port sends them."""
    return telegram(name)["text"].encode("ascii")
