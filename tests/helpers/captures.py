"""The reference the destinations are held to: what ``amsread json`` prints for real captures.

The history database and the MQTT ``state`` topic promise exactly the record ``amsread json``
prints (docs/output-contract.md, mqtt-contract.md). These helpers run the real command as a child
process on a file of real captures, and decode the same bytes in-process, so a test can compare
the two.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from amsread.contract import Reading
from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from helpers.vectors import raw, vectors

#: Captures that decode without a key (the encrypted ones are skipped by ``amsread json``).
PLAIN = [v for v in vectors("valid") if not v.get("encrypted")]


def captures_file(directory: Path, names: list[str] | None = None) -> Path:
    """The bytes of the named valid captures (all unencrypted ones by default), one after another."""
    chosen = PLAIN if names is None else [v for v in PLAIN if v["name"] in names]
    path = directory / "captures.bin"
    path.write_bytes(b"".join(raw(v) for v in chosen))
    return path


def amsread_json(path: Path) -> list[str]:
    """The lines ``amsread json FILE`` prints, from the installed command (a child process)."""
    done = subprocess.run(
        [sys.executable, "-m", "amsread", "json", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.splitlines()


def decode_file(path: Path) -> list[Reading]:
    """The readings of a capture file, decoded in-process as the ``json`` command decodes them."""
    return list(Pipeline().readings([path.read_bytes()], decoder=ReadingDecoder()))
