"""Byte sources: hex text, capture files, stdin, serial ports (loop:// and a real pty), and their errors."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import amsread.sources.serial as source_mod
from amsread.errors import (
    NoSuchDeviceError,
    PermissionDeniedError,
    PortBusyError,
    SourceError,
    SourceLostError,
    UnreadableFileError,
)
from amsread.meters import PRESETS
from amsread.settings import DEFAULT, SerialSettings
from amsread.sources.base import is_serial_spec, open_source
from amsread.sources.hextext import HexStreamDecoder, extract_hex, looks_like_hex_text, parse_hex_text
from amsread.sources.serial import open_serial
from amsread.sources.source import CHUNK
from helpers.vectors import raw

FRAME = raw("doc_aidon_6534_list1")  # 44 bytes
SPACED = " ".join(f"{b:02X}" for b in FRAME)
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def read_until(chunks: Iterator[bytes], size: int, timeout: float = 5.0) -> bytes:
    """Bounded polling: collect at least ``size`` bytes from a live source, or fail after ``timeout``."""
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < size:
        assert time.monotonic() < deadline, f"only {len(got)} of {size} bytes after {timeout} s"
        got += next(chunks)
    return got


# --------------------------------------------------------------------------------------------
# hex text
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        SPACED,
        SPACED.lower(),
        FRAME.hex(),
        " ".join(f"0x{b:02x}" for b in FRAME),
        ", ".join(f"0x{b:02X}" for b in FRAME),
        ":".join(f"{b:02X}" for b in FRAME),
        "\n".join(FRAME[i : i + 16].hex(" ") for i in range(0, len(FRAME), 16)),
        "# Aidon list 1, from the vendor document\n" + SPACED[:30] + "  # header\r\n\t" + SPACED[30:] + "\n",
        "// a C comment\n" + SPACED,
        "[" + FRAME.hex(",") + "]",
    ],
    ids=["spaced", "lower", "run", "0x", "commas", "colons", "lines", "comments", "slashes", "list"],
)
def test_parse_hex_text_tolerates_what_people_paste(text: str) -> None:
    assert parse_hex_text(text) == FRAME
    assert parse_hex_text(text.encode()) == FRAME


def test_parse_hex_text_empty() -> None:
    assert parse_hex_text("") == b"" and parse_hex_text("  # nothing\n") == b""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("7E A", "odd number of hex digits"),
        ("7ea", "odd number"),
        ("7E ZZ", "not hex: 'ZZ'"),
        ("0xG1", "not hex"),
    ],
)
def test_parse_hex_text_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_hex_text(text)


def test_looks_like_hex_text() -> None:
    assert looks_like_hex_text(SPACED.encode())
    assert looks_like_hex_text(b"# a capture\n7e a0 2a\n")
    assert not looks_like_hex_text(FRAME)  # raw frames
    assert not looks_like_hex_text(b"")
    assert not looks_like_hex_text(b"  \n\t")
    assert not looks_like_hex_text(b"# only a comment\n")
    assert not looks_like_hex_text(b"HDLC frame: 7E A0")


LOG_LINE = "2021-11-29 12:00:01 HDLC frame: " + SPACED


@pytest.mark.parametrize(
    "text",
    [
        LOG_LINE,
        "[2021-11-29 12:00:01.250] rx " + SPACED,
        "2021-11-29 12:00:01 " + SPACED,  # a timestamp and nothing else: all of it parses as hex
        "Hei! Måleren min sender dette: " + SPACED + " -- noen som vet hva det er?",
        "frame=" + FRAME.hex() + " ok",
        "0000: "
        + FRAME[:16].hex(" ")
        + "\n0010: "
        + FRAME[16:32].hex(" ")
        + "\n0020: "
        + FRAME[32:].hex(" "),
        "Got: " + ", ".join(f"0x{b:02X}" for b in FRAME) + " (about 12:00)",
    ],
    ids=["log-line", "bracketed-log", "bare-timestamp", "forum-post", "key-value", "offsets", "c-array"],
)
def test_extract_hex_pulls_the_frame_out(text: str) -> None:
    assert extract_hex(text) == FRAME


def test_extract_hex_joins_runs_and_reads_short_text_whole() -> None:
    assert extract_hex("first 7E A0 2A 41 then 08 83 13 04 13") == bytes.fromhex("7ea02a41088313 0413")
    assert extract_hex("7E A0 2A") == bytes.fromhex("7ea02a")
    assert extract_hex("no bytes here") == b""  # prose alone: nothing (the caller says "no hex")
    assert extract_hex("7E A0 2") == b""


def test_hex_stream_decoder_keeps_partial_tokens() -> None:
    dec = HexStreamDecoder()
    text = (SPACED + "\n").encode()
    out = b"".join(dec.feed(text[i : i + 5]) for i in range(0, len(text), 5)) + dec.close()
    assert out == FRAME
    dec = HexStreamDecoder()
    assert dec.feed(b"7E A") == bytes.fromhex("7e")
    assert dec.feed(b"0") == b""
    assert dec.close() == bytes.fromhex("a0")


# --------------------------------------------------------------------------------------------
# files and stdin
# --------------------------------------------------------------------------------------------


def test_raw_file(tmp_path: Path) -> None:
    path = tmp_path / "capture.bin"
    path.write_bytes(FRAME * 3)
    src = open_source(str(path))
    assert (src.name, src.live) == (str(path), False)
    assert src.description == f"{path} (132 bytes)"
    assert list(src) == [FRAME * 3]
    src.close()


def test_hex_file(tmp_path: Path) -> None:
    path = tmp_path / "capture.hex"
    path.write_text("# two frames\n" + SPACED + "\n" + FRAME.hex(":") + "\n")
    assert b"".join(open_source(str(path))) == FRAME * 2


def test_input_format_forces_a_reading(tmp_path: Path) -> None:
    path = tmp_path / "capture.hex"
    path.write_text(SPACED)
    assert b"".join(open_source(str(path), input_format="raw")) == SPACED.encode()
    bad = tmp_path / "bad.hex"
    bad.write_bytes(FRAME)
    with pytest.raises(UnreadableFileError, match="not a hex capture"):
        open_source(str(bad), input_format="hex")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert b"".join(open_source(str(path))) == b""


def test_stdin_raw() -> None:
    data = FRAME * 200  # more than one CHUNK
    src = open_source("-", stdin=io.BytesIO(data))
    assert (src.name, src.live) == ("stdin", False)
    chunks = list(src)
    assert b"".join(chunks) == data and len(chunks) > 1 and max(map(len, chunks)) <= CHUNK


def test_stdin_hex_across_reads() -> None:
    text = "\n".join([SPACED] * 150).encode()  # hex tokens cut across 4096-byte reads
    assert len(text) > 4 * CHUNK
    assert b"".join(open_source("-", stdin=io.BytesIO(text))) == FRAME * 150


def test_stdin_empty_and_bad_hex() -> None:
    assert list(open_source("-", stdin=io.BytesIO(b""))) == []
    text = b"7E A0 2A 41 zz 08\n"
    assert b"".join(open_source("-", stdin=io.BytesIO(text))) == text  # not hex-like: read raw
    src = open_source("-", stdin=io.BytesIO(text), input_format="hex")
    with pytest.raises(UnreadableFileError, match="stdin: not hex text: not hex: 'zz'"):
        list(src)


def test_record_tees_every_byte(tmp_path: Path) -> None:
    path = tmp_path / "capture.bin"
    path.write_bytes(FRAME)
    rec = tmp_path / "record.bin"
    for _ in range(2):
        src = open_source(str(path), record=str(rec))
        list(src)
        src.close()
    assert rec.read_bytes() == FRAME * 2  # appends


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="no such file") as exc:
        open_source(str(tmp_path / "nope.hex"))
    assert exc.value.exit_code == 6


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="is a directory"):
        open_source(str(tmp_path))


def test_missing_device() -> None:
    with pytest.raises(NoSuchDeviceError, match="no such device: /dev/ttyDOESNOTEXIST") as exc:
        open_source("/dev/ttyDOESNOTEXIST")
    assert exc.value.exit_code == 3 and "amsread ports" in str(exc.value)


@pytest.mark.skipif(IS_ROOT, reason="root reads any file")
def test_permission_denied_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.bin"
    path.write_bytes(FRAME)
    path.chmod(0)
    try:
        with pytest.raises(PermissionDeniedError) as exc:
            open_source(str(path))
        assert exc.value.exit_code == 4
    finally:
        path.chmod(0o600)


def test_unwritable_record_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="cannot write record file"):
        open_source("-", stdin=io.BytesIO(b""), record=str(tmp_path))


def test_unknown_url_scheme() -> None:
    with pytest.raises(SourceError, match=r"cannot open foo://x: .*protocol 'foo' not known"):
        open_source("foo://x")


def test_connection_refused() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: bind, never listen
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(
            NoSuchDeviceError, match=f"cannot connect to socket://127.0.0.1:{port}: connection refused"
        ):
            open_source(f"socket://127.0.0.1:{port}")


def test_bad_settings_are_a_source_error() -> None:
    with pytest.raises(SourceError, match="Not a valid byte size"):
        open_source("loop://", DEFAULT.with_overrides(bytesize=9))


def test_port_refusing_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # pyserial lets termios.error through when the driver refuses a setting (tcsetattr EINVAL).
    termios = pytest.importorskip("termios")
    import serial

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise termios.error(22, "Invalid argument")

    monkeypatch.setattr(serial, "serial_for_url", refuse)
    with pytest.raises(
        SourceError, match=r"cannot open /dev/ttyUSB9: the port refused the settings 2400 8M1"
    ):
        open_serial("/dev/ttyUSB9", DEFAULT.with_overrides(parity="M"))


def test_is_serial_spec(tmp_path: Path) -> None:
    f = tmp_path / "capture.hex"
    f.write_text("7e")
    assert is_serial_spec("socket://host:2000") and is_serial_spec("loop://")
    assert is_serial_spec("/dev/ttyUSB7") and is_serial_spec("COM3")  # absent, but named like ports
    assert is_serial_spec("/dev/null")  # a character device
    assert not is_serial_spec(str(f)) and not is_serial_spec("capture.hex")


def test_settings_presets_are_not_shared() -> None:
    kw = PRESETS["kamstrup"].as_kwargs()
    kw["baudrate"] = 9600
    assert PRESETS["kamstrup"].as_kwargs()["baudrate"] == 2400
    assert str(PRESETS["kamstrup"]) == "2400 8N1" and str(DEFAULT) == "2400 8E1"
    assert str(SerialSettings(stopbits=1.5)) == "2400 8E1.5"
    assert DEFAULT.with_overrides(parity="N", baudrate=None) == SerialSettings(parity="N")


# --------------------------------------------------------------------------------------------
# serial: loop:// in process, and a real pseudo-terminal
# --------------------------------------------------------------------------------------------


def test_loop_url(monkeypatch: pytest.MonkeyPatch) -> None:
    ports: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Any:
        ports.append(open_serial(*args, **kwargs))
        return ports[-1]

    monkeypatch.setattr(source_mod, "open_serial", spy)
    src = open_source("loop://")
    assert (src.live, src.description) == (True, "loop:// 2400 8E1")
    chunks = iter(src)
    assert next(chunks) == b""  # an idle tick: the read timed out
    (port,) = ports
    port.write(FRAME)
    assert read_until(chunks, len(FRAME)) == FRAME
    src.close()
    assert not port.is_open


def test_pty_serial_source(pty: tuple[int, str]) -> None:
    master, name = pty
    src = open_source(name, PRESETS["kamstrup"])
    assert (src.live, src.description) == (True, f"{name} 2400 8N1")
    chunks = iter(src)
    data = FRAME * 10
    for i in range(0, len(data), 37):
        os.write(master, data[i : i + 37])
    assert read_until(chunks, len(data)) == data
    src.close()


def test_pty_port_busy(pty: tuple[int, str]) -> None:
    _, name = pty
    first = open_source(name)
    try:
        with pytest.raises(PortBusyError, match=f"port busy: {name}") as exc:
            open_source(name)
        assert exc.value.exit_code == 5
    finally:
        first.close()
    # Free again once closed. (8N1: some kernels refuse a reopen whose only change is parity on a
    # pty, which cannot do parity; see test_port_refusing_settings.)
    open_source(name, PRESETS["kamstrup"]).close()


@pytest.mark.skipif(IS_ROOT, reason="root opens any device")
def test_pty_permission_denied(pty: tuple[int, str]) -> None:
    _, name = pty
    mode = os.stat(name).st_mode
    os.chmod(name, 0)
    try:
        with pytest.raises(PermissionDeniedError, match="dialout"):
            open_source(name)
    finally:
        os.chmod(name, mode)


def test_lost_device_without_reconnect(pty: tuple[int, str], tmp_path: Path) -> None:
    _, name = pty
    link = tmp_path / "ttyHAN"
    link.symlink_to(name)
    src = open_source(str(link), reconnect=False)
    chunks = iter(src)
    assert next(chunks) == b""
    link.unlink()  # the adapter is unplugged: its device node goes away
    with pytest.raises(SourceLostError, match=r"lost .*ttyHAN: device disappeared") as exc:
        for _ in range(100):
            next(chunks)
    assert exc.value.exit_code == 7


class FakeClock:
    """Stands in for the ``time`` module inside ``amsread.sources.base``: sleeping advances it at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert self.slept < 60, "never hang: reopening keeps failing"
        self.now += seconds
        self.slept += seconds


def test_lost_device_reconnects(
    pty: tuple[int, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    master, name = pty
    link = tmp_path / "ttyHAN"
    logs: list[str] = []
    clock = FakeClock()
    monkeypatch.setattr(source_mod, "time", clock)
    link.symlink_to(name)
    src = open_source(str(link), PRESETS["kamstrup"], log=logs.append)
    chunks = iter(src)
    assert next(chunks) == b""
    link.unlink()  # unplugged
    ticks = 0
    while src.reconnects == 0:
        assert next(chunks) == b""  # idle ticks go on while it waits, so a live view keeps counting
        ticks += 1
        if logs[1:] and not link.exists():
            link.symlink_to(name)  # plugged back in after the first failed attempt
    assert logs[0] == f"lost {link} (device disappeared); reopening"
    assert logs[1].startswith(f"still waiting for {link}: no such device")
    assert logs[2:] == [f"reopened {link}"]
    assert clock.slept == pytest.approx(0.5 + 1.0)  # backoff doubles
    assert ticks >= 10
    os.write(master, FRAME)  # bytes written after the reopen arrive
    assert read_until(chunks, len(FRAME)) == FRAME
    src.close()


def test_stdin_from_a_pipe_is_live_and_from_a_file_is_a_replay(tmp_path: Path) -> None:
    """A pipe stamps each frame's arrival (received_at); `< capture.bin` is a replay without it."""
    from amsread.sources.base import _is_live_stream

    r, w = os.pipe()
    try:
        with os.fdopen(r, "rb", closefd=False) as pipe:
            assert _is_live_stream(pipe)
    finally:
        os.close(r)
        os.close(w)
    capture = tmp_path / "c.bin"
    capture.write_bytes(b"\x7e")
    with capture.open("rb") as f:
        assert not _is_live_stream(f)
    assert not _is_live_stream(io.BytesIO(b""))
