"""The vectors in ``tests/data`` and a naive reference frame walker.

Vectors are loaded from ``tests/data`` only (copies of the shared vector set, see its README), so
the suite runs on a fresh clone. Import with ``from helpers.vectors import ...``.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any, Literal

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"

Kind = Literal["valid", "invalid"]

#: Valid captures that are not HDLC at all (M-Bus long frames, han-protocol.md §5.8).
NOT_HDLC = frozenset({"fw_kaifa_mbus-gcm_1", "evn_netznoe_doc_kaifa_ma309_mbus_gcm_1"})
#: HDLC frames per valid capture where it is not one; every other capture is one frame.
FRAME_COUNTS = {
    "fw_landisgyr_gbt_1": 3,
    "issue_iskra_am550_segmented": 3,
    "scs_lg_e450_ch_gbt_mbus_channels_1": 3,
    "scs_lg_e570_ch_vse2026_noload_1": 4,
}


@functools.cache
def _load(kind: Kind) -> tuple[dict[str, Any], ...]:
    out = []
    for path in sorted((DATA / kind).glob("*.json")):
        v = json.loads(path.read_text(encoding="utf-8"))
        assert v["name"] == path.stem, f"{path}: name field {v['name']!r} differs from the file name"
        out.append(v)
    assert out, f"no vectors in {DATA / kind}"
    return tuple(out)


def vectors(kind: Kind) -> list[dict[str, Any]]:
    """Every vector of ``kind`` as parsed JSON, sorted by name (fresh list, shared dicts: don't mutate)."""
    return list(_load(kind))


def vector(name: str) -> dict[str, Any]:
    """One vector by name, valid or invalid."""
    for kind in ("valid", "invalid"):
        for v in _load(kind):  # type: ignore[arg-type]
            if v["name"] == name:
                return v
    raise KeyError(name)


def raw(name_or_vector: str | dict[str, Any]) -> bytes:
    """The capture's bytes."""
    v = vector(name_or_vector) if isinstance(name_or_vector, str) else name_or_vector
    return bytes.fromhex(v["hex"])


def params(kind: Kind, *, exclude: frozenset[str] | set[str] = frozenset()) -> list[Any]:
    """``pytest.param(vector, id=name)`` for every vector of ``kind`` not excluded."""
    return [pytest.param(v, id=v["name"]) for v in _load(kind) if v["name"] not in exclude]


def hdlc_captures() -> list[dict[str, Any]]:
    """The valid captures that are HDLC."""
    return [v for v in _load("valid") if v["name"] not in NOT_HDLC]


def walk_frames(data: bytes) -> list[bytes]:
    """Reference splitter for clean captures only: trust every length field, no checks, no resync.

    A deliberately naive oracle, independent of ``FrameSplitter``: skip flags, read the 11-bit
    length, take ``length + 2`` bytes (flags included), and let the closing flag open the next frame.
    """
    frames = []
    i = 0
    n = len(data)
    while i < n:
        if data[i] != 0x7E:
            raise ValueError(f"expected a flag at offset {i}, found {data[i]:02X}")
        if i + 1 < n and data[i + 1] == 0x7E:  # doubled flag
            i += 1
            continue
        if i + 1 == n:  # the last closing flag
            break
        length = ((data[i + 1] & 0x07) << 8) | data[i + 2]
        frame = data[i : i + length + 2]
        if len(frame) != length + 2 or frame[-1] != 0x7E:
            raise ValueError(f"frame at offset {i} does not end in a flag after {length} bytes")
        frames.append(frame)
        i += length + 1
    return frames
