"""Capture files and hex text stream: bounded reads, rows before the end, flat memory (issues 8, 9).

Memory is measured from real child processes (``os.wait4`` gives each child's own peak RSS);
"before the end" is shown with a named pipe given as the FILE argument, whose writer keeps it open.
"""

from __future__ import annotations

import os
import random
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from amsread.settings import DEFAULT
from amsread.sources.base import open_source
from amsread.sources.hextext import HexStreamDecoder, parse_hex_text
from amsread.wire.framer import Framer
from helpers.vectors import raw

FRAME = raw("doc_aidon_6534_list1")  # 44 bytes, one list-1 reading
AMSREAD = [sys.executable, "-m", "amsread"]
#: The largest read a capture file may take (the source reads 64 KiB at a time).
READ_BOUND = 64 * 1024

# --------------------------------------------------------------------------------------------
# hex text in chunks
# --------------------------------------------------------------------------------------------

ALL = bytes(range(0, 256, 3))
TEXTS = [
    ALL.hex(),
    ALL.hex(" "),
    "# a capture\n" + ALL.hex(":") + "\n// more\n" + ALL.hex(","),
    " ".join(f"0x{b:02x}" for b in ALL),
    "0x" + ALL.hex() + " 0X" + ALL.hex(),
    ALL.hex() + "//c\n" + ALL.hex(),
    ALL.hex() + "#no newline at the end",
    ALL.hex() + "\n" + "# a comment longer than anything held back " * 4 + "\n" + ALL.hex(" "),
]
BAD = [
    ALL.hex() + "a",
    ALL.hex() + "zz",
    ALL.hex() + "g" + ALL.hex(),
    ALL.hex() + "/x",
    "0x" + ALL.hex() + "0x12",
    ALL.hex()[:-1] + " " + ALL.hex(),
]


def decode_in_pieces(text: bytes, cuts: list[int]) -> bytes:
    dec = HexStreamDecoder()
    out, pos = b"", 0
    for cut in [*cuts, len(text)]:
        out += dec.feed(text[pos:cut])
        pos = cut
    return out + dec.close()


@pytest.mark.parametrize(
    "text", TEXTS + BAD, ids=[f"good{i}" for i in range(len(TEXTS))] + [f"bad{i}" for i in range(len(BAD))]
)
def test_hex_stream_decoder_agrees_with_parse_hex_text_wherever_the_text_is_cut(text: str) -> None:
    data = text.encode()
    try:
        expected: bytes | None = parse_hex_text(data)
    except ValueError:
        expected = None
    rng = random.Random(text)
    cutsets = [[i] for i in range(len(data))] + [sorted(rng.sample(range(len(data)), 5)) for _ in range(50)]
    for cuts in cutsets:
        try:
            got: bytes | None = decode_in_pieces(data, cuts)
        except ValueError:
            got = None
        assert got == expected, f"cut at {cuts}"


def test_hex_stream_decoder_decodes_a_run_without_separators_as_it_comes() -> None:
    dec = HexStreamDecoder()
    assert dec.feed(b"7ea0" * 1000) == b"\x7e\xa0" * 1000
    assert dec.feed(b"7") == b"" and dec.feed(b"e") == b"\x7e"  # an odd digit carries over
    assert dec.close() == b""


def test_hex_stream_decoder_drops_a_comment_cut_across_chunks() -> None:
    dec = HexStreamDecoder()
    assert dec.feed(b"7E A0 # the comment goes") == b"\x7e\xa0"
    assert dec.feed(b" on and on, 12 34") == b""
    assert dec.feed(b"\n2A") == b""
    assert dec.close() == b"\x2a"


# --------------------------------------------------------------------------------------------
# files in chunks
# --------------------------------------------------------------------------------------------


def test_raw_file_is_read_in_bounded_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = FRAME * 10_000  # 440 kB
    path.write_bytes(data)
    chunks = list(open_source(str(path)))
    assert b"".join(chunks) == data
    assert max(map(len, chunks)) <= READ_BOUND


@pytest.mark.parametrize("sep", ["", " ", "\n"], ids=["no-separators", "spaces", "lines"])
def test_hex_file_is_read_in_bounded_chunks(tmp_path: Path, sep: str) -> None:
    path = tmp_path / "big.hex"
    path.write_text(sep.join([FRAME.hex()] * 10_000))  # 880 kB of text, perhaps one token
    chunks = list(open_source(str(path)))
    assert b"".join(chunks) == FRAME * 10_000
    assert max(map(len, chunks)) <= READ_BOUND


def test_hex_file_error_after_the_first_chunk_is_typed(tmp_path: Path) -> None:
    from amsread.errors import UnreadableFileError

    path = tmp_path / "late.hex"
    path.write_text(FRAME.hex(" ") * 3000 + " zz\n")
    chunks = iter(open_source(str(path)))
    assert next(chunks).startswith(FRAME)  # the first chunk decodes before the bad token is read
    with pytest.raises(UnreadableFileError, match="not a hex capture: not hex: 'zz'"):
        list(chunks)


class Lines:
    """Lines from a child's stdout, read straight from the descriptor (no hidden buffer for select)."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        self.fd = proc.stdout.fileno()
        self.buf = b""

    def next(self, timeout: float = 20.0) -> bytes:
        """The next line, or fail after ``timeout`` (a bound, not a pace)."""
        while b"\n" not in self.buf:
            ready, _, _ = select.select([self.fd], [], [], timeout)
            assert ready, f"no line from the child within {timeout} s"
            data = os.read(self.fd, 65536)
            assert data, "the child closed its stdout"
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return line


@pytest.mark.parametrize("fmt", ["raw", "hex"])
def test_first_row_is_written_before_the_file_ends(tmp_path: Path, fmt: str) -> None:
    """A FILE argument that is a named pipe: rows must flow while its writer still holds it open."""
    fifo = tmp_path / "capture"
    os.mkfifo(fifo)
    proc = subprocess.Popen([*AMSREAD, "csv", str(fifo), "-q"], stdout=subprocess.PIPE)
    try:
        with open(fifo, "wb", buffering=0) as writer:
            writer.write(FRAME * 3 if fmt == "raw" else (FRAME.hex(" ") + "\n").encode() * 3)
            lines = Lines(proc)
            header = lines.next()
            assert b"meter_time" in header
            assert lines.next().count(b",") == header.count(b",")  # a row, the file still open
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()
        proc.wait()


# --------------------------------------------------------------------------------------------
# memory from child processes
# --------------------------------------------------------------------------------------------


def peak_rss_mib(args: list[str]) -> float:
    """Run amsread with ``args``, output discarded; its own peak resident set size in MiB."""
    proc = subprocess.Popen([*AMSREAD, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0
    return usage.ru_maxrss / 1024


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small capture and a large one (22 MB) of the same frame."""
    folder = tmp_path_factory.mktemp("captures")
    small, big = folder / "small.bin", folder / "big.bin"
    small.write_bytes(FRAME * 10)
    big.write_bytes(FRAME * 500_000)
    return small, big


@pytest.mark.parametrize("command", ["csv", "json", "hex"])
def test_count_stops_reading_a_large_file_early(captures: tuple[Path, Path], command: str) -> None:
    small, big = captures
    base = peak_rss_mib([command, str(small), "--count", "1", "-q"])
    assert peak_rss_mib([command, str(big), "--count", "1", "-q"]) < base + 16


def test_hex_of_a_flood_keeps_memory_flat(tmp_path: Path) -> None:
    """``7E A0`` repeated: a rejected candidate every two bytes, each printed as it is found."""
    small = tmp_path / "small.bin"
    small.write_bytes(b"\x7e\xa0" * 1000)
    flood = tmp_path / "flood.bin"
    flood.write_bytes(b"\x7e\xa0" * 100_000)  # 200 kB: 100 000 lines
    base = peak_rss_mib(["hex", str(small), "-q"])
    assert peak_rss_mib(["hex", str(flood), "-q"]) < base + 16


# --------------------------------------------------------------------------------------------
# hex shows M-Bus frames
# --------------------------------------------------------------------------------------------

MBUS = raw("fw_kaifa_mbus-gcm_1")  # two M-Bus long frames: 256 and 120 bytes


def run_hex(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*AMSREAD, "hex", *args], capture_output=True, text=True, timeout=60, check=True)


def test_hex_prints_a_line_per_mbus_frame(tmp_path: Path) -> None:
    path = tmp_path / "mbus.bin"
    path.write_bytes(b"\x00" + MBUS)
    result = run_hex(str(path))
    stamp = "-" + " " * 11
    assert result.stdout.splitlines() == [
        f"{stamp}  256 M-Bus ok       {MBUS[:256].hex()}",
        f"{stamp}  120 M-Bus ok       {MBUS[256:].hex()}",
    ]
    assert result.stderr == "0 frames, 2 M-Bus frames; 377 bytes, 1 discarded\n"
    assert run_hex(str(path), "--count", "1", "-q").stdout.count("M-Bus ok") == 1


def test_hex_annotate_shows_the_mbus_header(tmp_path: Path) -> None:
    path = tmp_path / "mbus.bin"
    path.write_bytes(MBUS)
    lines = run_hex(str(path), "--annotate", "-q").stdout.splitlines()
    assert lines[0] == "-" + " " * 11 + "  256 M-Bus ok"
    labels = [line[55:] for line in lines[1:12]]
    assert labels == [
        "start",
        "length 250 (control through data), twice",
        "start",
        "control 53: SND_UD",
        "address FF",
        "CI 00: segment 0, more segments follow",
        "STSAP 01",
        "DTSAP 67",
        "data, 245 bytes: general-glo-ciphering",
        "checksum 0xE7 ok",
        "stop",
    ]
    assert "CI 11: segment 1, last segment" in lines[18]


# --------------------------------------------------------------------------------------------
# discarded runs in one piece
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("flood", [b"\x7e" * 1000, b"\x7e\xa0" * 500, bytes(range(256)) * 4])
def test_a_discarded_run_is_handed_over_in_one_piece(flood: bytes) -> None:
    from amsread.wire.hdlc import FrameSplitter

    runs: list[bytes] = []
    splitter = FrameSplitter(on_discard=runs.append)
    splitter.feed(flood + FRAME + flood)
    assert len(runs) == 2  # the run before the frame, and after it (less a candidate still open)
    splitter.flush()
    assert b"".join(runs) == flood + flood


def pipeline_counts(stream: bytes, size: int) -> tuple[dict[str, int], int, int]:
    from amsread.wire.framer import Framer

    p = Framer()
    messages = list(p.messages(stream[i : i + size] for i in range(0, len(stream), size)))
    return dict(p.stats.errors), p.stats.mbus.frames_good, len(messages)


def test_rejections_inside_a_run_are_settled_as_byte_by_byte() -> None:
    """An M-Bus frame (with 7E inside) between floods: whole-run hand-over counts what single bytes do."""
    stream = b"\x7e\xa0" * 50 + MBUS + b"\x7e\xa0" * 50 + FRAME + MBUS[:200] + b"\x7e\xa0" * 20 + MBUS
    one_byte = pipeline_counts(stream, 1)
    assert one_byte[1:] == (4, 3)  # 4 M-Bus frames (one message cut short), 1 HDLC + 2 M-Bus messages
    for size in (7, 64, len(stream)):
        assert pipeline_counts(stream, size) == one_byte


# --------------------------------------------------------------------------------------------
# floods taken in one step
# --------------------------------------------------------------------------------------------

FLOODS = {
    "7E A0": b"\x7e\xa0" * 3000,
    "7E A0 with 68s": b"\x7e\xa0\x68\x05\x05\x68" * 1000,
    "bad length": b"\x7e\xa0\x01" * 2000,
    "bad HCS": bytes.fromhex("7ea0ff410883130000") * 700,
    "flag and noise": b"\x7e\x00" * 3000,
    "period 5": b"\x7e\xa0\x05\x41\x11" * 1200,
}


def rejections(stream: bytes, size: int) -> tuple[list[tuple[str, bytes]], dict[str, int], int, int]:
    """Every framing rejection (reason, raw) in order, all counts, the readings, the bytes discarded.

    Decode errors are left out of the order: a message decodes after the chunk that completed
    it, so where they fall among framing errors depends on the chunking, as it always has. So
    does the order between an HDLC rejection held inside a possible M-Bus frame and the M-Bus
    splitter's own rejections: each kind is kept in its own order (HDLC first, then M-Bus).
    """
    from amsread.decode.decoder import ReadingDecoder
    from amsread.decode.pipeline import Pipeline
    from amsread.errors import FrameError, MbusFrameError

    hdlc: list[tuple[str, bytes]] = []
    mbus: list[tuple[str, bytes]] = []

    def note(e: Exception) -> None:
        if isinstance(e, FrameError):
            (mbus if isinstance(e, MbusFrameError) else hdlc).append((e.reason, e.raw))

    p = Pipeline(on_error=note)
    readings = list(
        p.readings((stream[i : i + size] for i in range(0, len(stream), size)), decoder=ReadingDecoder())
    )
    return hdlc + mbus, dict(p.stats.errors), len(readings), p.stats.splitter.bytes_discarded


@pytest.mark.parametrize("flood", FLOODS.values(), ids=FLOODS.keys())
def test_a_flood_gives_what_byte_by_byte_reading_gives(flood: bytes) -> None:
    stream = flood + FRAME + flood[:-1] + MBUS + flood[3:] + FRAME
    expected = rejections(stream, 1)  # one byte per feed: no flood is ever seen whole
    assert expected[2] == 2
    for size in (100, 4096, len(stream)):
        assert rejections(stream, size) == expected


def test_a_flood_is_judged_in_few_steps() -> None:
    from amsread.wire.hdlc import FrameSplitter

    calls = 0
    splitter = FrameSplitter()
    judge = splitter._try_frame

    def counted(*args: object) -> object:
        nonlocal calls
        calls += 1
        return judge(*args)  # type: ignore[arg-type]

    splitter._try_frame = counted  # type: ignore[method-assign]
    splitter.feed(b"\x7e\xa0" * 30_000)
    assert splitter.stats.format_errors > 29_990
    assert calls < 100


def test_strict_stops_at_the_first_rejection_of_a_flood() -> None:
    from amsread.decode.decoder import ReadingDecoder
    from amsread.decode.pipeline import Pipeline
    from amsread.errors import FrameFormatError

    p = Pipeline(strict=True)
    with pytest.raises(FrameFormatError):
        list(p.readings([b"\x7e\xa0" * 1000], decoder=ReadingDecoder()))
    assert dict(p.stats.errors) == {"bad header": 1}


def test_hex_says_how_often_a_rejection_came_again_instead_of_repeating_it(tmp_path: Path) -> None:
    """A flood prints one line per kind of rejection and a count, like syslog's "repeated N
    times"; a different event (here a good frame) ends the run of repeats, which is then told."""
    path = tmp_path / "flood.bin"
    path.write_bytes(b"\x7e\xa0" * 1000 + FRAME)
    lines = run_hex(str(path), "-q").stdout.splitlines()
    assert len(lines) < 10
    assert lines[0].split()[1:3] == ["7", "bad"]
    words = lines[1].split()
    assert words[:6] == ["-", "the", "line", "above", "came", "again"] and words[7] == "times"
    assert 990 <= int(words[6]) < 1000  # the last candidates before the frame differ in their tail
    assert lines[-1].split()[1:3] == [str(len(FRAME)), "ok"]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_a_frame_comes_out_of_the_read_that_brought_its_closing_flag() -> None:
    """A frame written in two parts to a real pty is handed on by the step of the read that
    brought its closing flag, not by a later idle tick. Structural, no clock: the framer's idle
    flush is set to an hour, so a frame that waited for one would never come, and each step is
    checked against the chunk that led to it (``b""`` is an idle tick)."""
    frame = raw("amshan_kamstrup_list1_1")
    master, slave = os.openpty()
    src = open_source(os.ttyname(slave), DEFAULT, reconnect=False)
    read: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        for chunk in src:
            read.append(chunk)
            yield chunk

    framer = Framer(idle_flush=3600.0)
    steps = framer.steps(chunks(), live=True)
    try:
        assert next(steps) == []  # the port is open (opening discards what came before): idle
        os.write(master, frame[:30])
        for _ in range(STEPS):
            assert next(steps) == []  # half a frame: nothing to hand on
            if sum(map(len, read)) == 30:
                break
        os.write(master, frame[30:])
        for _ in range(STEPS):
            found = next(steps)
            if found:
                break
        assert [f.raw for f in found] == [frame]
        assert read[-1] and sum(map(len, read)) == len(frame)  # a read of data, and the last byte came
    finally:
        steps.close()
        src.close()
        os.close(master)
        os.close(slave)


#: Bound on the steps a test takes waiting for bytes it wrote (each returns within a read timeout).
STEPS = 400
