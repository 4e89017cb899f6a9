"""Fixtures shared by the whole suite. Helpers are imported from the ``helpers`` package."""

from __future__ import annotations

import os
import tempfile
import tty
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True, scope="session")
def _own_data_home() -> Iterator[None]:
    """The suite's own ``XDG_DATA_HOME``: commands that fall back to ``run``'s default history
    database (``watch``, ``report``, ``run``) must neither read nor write the user's real one, and
    must not depend on whether the machine's user ever ran ``amsread run``."""
    before = os.environ.get("XDG_DATA_HOME")
    with tempfile.TemporaryDirectory(prefix="amsread-data-") as home:
        os.environ["XDG_DATA_HOME"] = home
        try:
            yield
        finally:
            if before is None:
                os.environ.pop("XDG_DATA_HOME", None)
            else:
                os.environ["XDG_DATA_HOME"] = before


@pytest.fixture
def pty_path() -> Iterator[str]:
    """The slave side of a fresh raw pseudo-terminal: a serial port with nothing on the line."""
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        yield os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    """A pseudo-terminal: (master fd, slave path). The slave fd stays open so the pair lives on."""
    master, slave = os.openpty()
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)
