"""Destinations by scheme: each URL opens its destination, and the bytes arrive there unchanged."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from amsread.errors import DestinationError
from amsread.sinks import SCHEMES, open_destination
from amsread.sinks.pty import PtySink
from amsread.sinks.stream import StreamSink
from amsread.sinks.tcp import TcpSink
from helpers.vectors import raw

FRAME = raw("doc_aidon_6534_list1")


def test_the_registry_knows_every_scheme() -> None:
    assert sorted(SCHEMES) == ["file", "pty", "stdout", "tcp"]
    with pytest.raises(DestinationError, match=r"unknown destination scheme mqtt:// \(known: stdout://"):
        open_destination("mqtt://broker")


def test_files_by_path_and_by_url(tmp_path: Path) -> None:
    for url, as_hex in ((str(tmp_path / "a.bin"), False), (f"file://{tmp_path / 'b.hex'}", True)):
        sink = open_destination(url, as_hex=as_hex)
        assert isinstance(sink, StreamSink) and sink.announce() is None
        sink.write(FRAME)
        sink.close()
    assert (tmp_path / "a.bin").read_bytes() == FRAME
    assert (tmp_path / "b.hex").read_text() == FRAME.hex(" ").upper() + "\n"


def test_dash_is_standard_output(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    sink = open_destination("-")
    sink.write(FRAME)
    sink.close()
    assert capsysbinary.readouterr().out == FRAME


def test_a_pty_passes_frames_to_whoever_opens_its_slave() -> None:
    sink = open_destination("pty://")
    assert isinstance(sink, PtySink)
    announced = sink.announce()
    assert announced is not None and announced == f"pty: {sink.path}"
    reader = os.open(sink.path, os.O_RDONLY | os.O_NOCTTY)
    try:
        sink.write(FRAME)
        got = b""
        while len(got) < len(FRAME):
            got += os.read(reader, 4096)
        assert got == FRAME and sink.summary() == ""
    finally:
        os.close(reader)
        sink.close()


def test_tcp_serves_each_client_the_stream() -> None:
    logs: list[str] = []
    sink = open_destination("tcp://127.0.0.1:0", log=logs.append)
    assert isinstance(sink, TcpSink)
    host, port = sink.address
    assert sink.announce() == f"listening on {host}:{port}"
    with socket.create_connection((host, port), timeout=5) as client:
        deadline_tries = 200
        while not sink.clients and deadline_tries:
            sink.write(b"")  # accepts waiting clients
            deadline_tries -= 1
        sink.write(FRAME)
        got = b""
        while len(got) < len(FRAME):
            got += client.recv(4096)
    sink.close()
    assert got == FRAME and sink.summary() == "; 1 clients served"
    assert logs and logs[0].startswith("client 127.0.0.1:")


def test_a_bad_tcp_address_is_a_typed_error() -> None:
    with pytest.raises(DestinationError, match="expected HOST:PORT"):
        open_destination("tcp://localhost:http")
