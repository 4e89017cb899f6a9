"""Fixtures shared by the whole suite. Helpers are imported from the ``helpers`` package."""

from __future__ import annotations

import os
import tty
from collections.abc import Iterator

import pytest


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
