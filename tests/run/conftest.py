"""Fixtures of the ``amsread run`` tests: a real broker per test, and the ``run`` processes a test
started, closed after it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.mqtt_broker import Broker, broker_kind
from helpers.running import RunProcess


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """mosquitto (or amqtt) on a free port of 127.0.0.1, stopped after the test."""
    b = Broker(tmp_path, broker_kind()).start()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture
def runs() -> Iterator[list[RunProcess]]:
    """Append each ``RunProcess`` started; every one is closed after the test."""
    started: list[RunProcess] = []
    yield started
    for run in started:
        run.close()
