"""``amsread hex`` through click's CliRunner, and the error boundary (``main``) for exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from amsread import __version__
from amsread.cli.main import COMMANDS, cli, main
from helpers.vectors import raw

AIDON = raw("doc_aidon_6534_list1")  # 44 bytes
KAIFA = raw("fw_kaifa_list1_1")  # 41 bytes
BAD_HCS = AIDON[:7] + bytes([AIDON[7] ^ 1]) + AIDON[8:]

STAMP = "-" + " " * 11  # replayed captures have no time
LINE_AIDON = f"{STAMP}   44 ok             {AIDON.hex()}"
LINE_KAIFA = f"{STAMP}   41 ok             {KAIFA.hex()}"
LINE_BAD_HCS = f"{STAMP}    9 bad HCS        {BAD_HCS[:9].hex()}"


def invoke(*args: str, input: bytes | str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), input=input, prog_name="amsread", catch_exceptions=False)


def run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the console entry point in process: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    """A hex capture with a comment, a good frame, one with a bad HCS, and another good frame."""
    path = tmp_path / "capture.hex"
    path.write_text(f"# three frames\n{AIDON.hex(' ')}\n{BAD_HCS.hex()}\n{KAIFA.hex(':')}\n")
    return path


def test_hex_capture_file(capture: Path) -> None:
    result = invoke("hex", str(capture))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [LINE_AIDON, LINE_BAD_HCS, LINE_KAIFA]
    assert result.stderr == "2 frames: 1 bad HCS; 129 bytes, 44 discarded\n"


def test_hex_raw_file(tmp_path: Path) -> None:
    path = tmp_path / "capture.bin"
    path.write_bytes(AIDON + KAIFA)
    result = invoke("hex", str(path))
    assert result.stdout.splitlines() == [LINE_AIDON, LINE_KAIFA]
    assert result.stderr == "2 frames; 85 bytes, 0 discarded\n"


def test_hex_every_valid_capture_file(tmp_path: Path) -> None:
    # The Iskra capture: three segments, doubled flags, all ok.
    data = raw("issue_iskra_am550_segmented")
    path = tmp_path / "iskra.bin"
    path.write_bytes(data)
    result = invoke("hex", str(path), "-q")
    lines = result.stdout.splitlines()
    assert [line.split()[1:3] for line in lines] == [["166", "ok"], ["166", "ok"], ["47", "ok"]]
    assert "".join(line.split()[3] for line in lines) == data.hex()
    assert result.stderr == ""


def test_hex_stdin_raw() -> None:
    result = invoke("hex", "-", input=b"\x01\x02\x03" + AIDON + KAIFA)
    assert result.stdout.splitlines() == [LINE_AIDON, LINE_KAIFA]
    assert result.stderr == "2 frames; 88 bytes, 3 discarded\n"


def test_hex_stdin_hex_text() -> None:
    result = invoke("hex", "-", "--quiet", input=f"# pasted\n{AIDON.hex(' ').upper()}\n{KAIFA.hex()}\n")
    assert result.stdout.splitlines() == [LINE_AIDON, LINE_KAIFA]
    assert result.stderr == ""


def test_hex_input_format_raw_reads_text_as_bytes(capture: Path) -> None:
    result = invoke("hex", str(capture), "--input-format", "raw")
    assert result.stdout == ""
    assert result.stderr.startswith("0 frames; ")


def test_hex_raw_shows_bytes_outside_frames() -> None:
    result = invoke("hex", "-", "--raw", input=b"\x01\x02\x03" + AIDON + b"\x7e\x7e" + KAIFA + b"\xff")
    assert result.stdout.splitlines() == [
        f"{STAMP}    3 outside frames 010203",
        LINE_AIDON,
        f"{STAMP}    2 outside frames 7e7e",  # the two extra flags of four between the frames, one run
        LINE_KAIFA,
        f"{STAMP}    1 outside frames ff",
    ]


def test_hex_count(capture: Path) -> None:
    result = invoke("hex", str(capture), "--count", "2", "-q")
    assert result.stdout.splitlines() == [LINE_AIDON, LINE_BAD_HCS]  # rejected frames count as items


def test_hex_verbose(capture: Path) -> None:
    result = invoke("hex", str(capture), "-v")
    assert result.stderr.splitlines() == [
        "skipped: bad HCS: header checksum mismatch",
        "2 frames: 1 bad HCS; 129 bytes, 44 discarded",
    ]


def test_hex_annotate() -> None:
    result = invoke("hex", "-", "--annotate", "-q", input=AIDON)
    lines = result.stdout.splitlines()
    assert lines[0] == f"{STAMP}   44 ok"
    fields = [line.strip().split("  ")[0] for line in lines[1:]]
    assert fields == [
        "7E",
        "A0 2A",
        "41",
        "08 83",
        "13",
        "04 13",
        "E6 E7 00",
        "0F 40 00 00 00 00 01 01 02 03 09 06 01 00 01 07 …",
        "C1 2C",
        "7E",
    ]
    text = result.stdout
    for label in (
        "format: type 3, segmentation 0, length 42",
        "control 13: UI, P/F=1",
        "HCS 0x1304 ok",
        "LLC: destination LSAP E6, source LSAP E7, quality 00",
        "APDU, 29 bytes: data-notification",
        "FCS 0x2CC1 ok",
    ):
        assert label in text


def test_hex_annotate_segmented() -> None:
    result = invoke("hex", "-", "--annotate", "-q", "--count", "1", input=raw("issue_iskra_am550_segmented"))
    assert "format: type 3, segmentation 1, length 164" in result.stdout
    assert "control 03: UI, P/F=0 (more segments)" in result.stdout


# --------------------------------------------------------------------------------------------
# exit codes, through the error boundary
# --------------------------------------------------------------------------------------------


def test_exit_ok(capsys: pytest.CaptureFixture[str], capture: Path) -> None:
    code, out, err = run_main(capsys, "hex", str(capture), "-q")
    assert (code, out.splitlines(), err) == (0, [LINE_AIDON, LINE_BAD_HCS, LINE_KAIFA], "")


def test_strict_stops_at_first_bad_frame(capsys: pytest.CaptureFixture[str], capture: Path) -> None:
    code, out, err = run_main(capsys, "hex", str(capture), "--strict", "-q")
    assert code == 1
    # everything up to and including the bad frame, though all three arrived in one read
    assert out.splitlines() == [LINE_AIDON, LINE_BAD_HCS]
    assert err == "Error: header checksum mismatch\n"


def test_unknown_option(capsys: pytest.CaptureFixture[str], capture: Path) -> None:
    code, out, err = run_main(capsys, "hex", str(capture), "--bogus")
    assert code == 2 and out == ""
    assert err.splitlines()[0] == "Usage: amsread hex [OPTIONS] SOURCE"
    assert "Error: No such option '--bogus'" in err


def test_bad_parity(capsys: pytest.CaptureFixture[str], capture: Path) -> None:
    code, _, err = run_main(capsys, "hex", str(capture), "--parity", "X")
    assert code == 2
    assert err.splitlines()[0] == "Usage: amsread hex [OPTIONS] SOURCE"
    assert "Error: Invalid value for '--parity': 'X' is not one of" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--count", "0"], "Invalid value for '--count'"),
        (["--baudrate", "12"], "Invalid value for '--baudrate'"),
        (["--meter", "elster"], "Invalid value for '--meter'"),
        (["--input-format", "json"], "Invalid value for '--input-format'"),
    ],
)
def test_bad_option_values(
    capsys: pytest.CaptureFixture[str], capture: Path, args: list[str], message: str
) -> None:
    code, _, err = run_main(capsys, "hex", str(capture), *args)
    assert code == 2 and message in err


def test_missing_source_argument(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "hex")
    assert code == 2 and "Error: Missing argument 'SOURCE'." in err


def test_unknown_command(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_main(capsys, "frobnicate")
    assert code == 2 and "No such command 'frobnicate'" in err


def test_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.hex"
    code, out, err = run_main(capsys, "hex", str(missing))
    assert (code, out, err) == (6, "", f"Error: no such file: {missing}\n")


def test_missing_device(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_main(capsys, "hex", "/dev/ttyDOESNOTEXIST")
    assert (code, out) == (3, "")
    assert err.startswith("Error: no such device: /dev/ttyDOESNOTEXIST") and err.count("\n") == 1


def test_directory_source(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run_main(capsys, "hex", str(tmp_path))
    assert code == 6 and err == f"Error: {tmp_path} is a directory, not a capture file\n"


def test_missing_file_console_script(tmp_path: Path) -> None:
    # The real thing: a fresh interpreter, one line on stderr, no traceback.
    missing = tmp_path / "nope.hex"
    proc = subprocess.run(
        [sys.executable, "-m", "amsread", "hex", str(missing)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode == 6
    assert proc.stdout == ""
    assert proc.stderr == f"Error: no such file: {missing}\n"
    assert "Traceback" not in proc.stderr


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_main(capsys, "--version")
    assert (code, out) == (0, f"amsread, version {__version__}\n")


# --------------------------------------------------------------------------------------------
# help, for every command that exists
# --------------------------------------------------------------------------------------------


def existing_commands() -> list[str]:
    ctx = click.Context(cli)
    return [name for name in COMMANDS if cli.get_command(ctx, name) is not None]


def test_hex_exists() -> None:
    assert "hex" in existing_commands()


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_group_help(flag: str) -> None:
    result = invoke(flag)
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: amsread [OPTIONS] COMMAND [ARGS]...")
    for name in existing_commands():
        assert f"\n  {name} " in result.stdout


@pytest.mark.parametrize("name", existing_commands())
def test_command_help(name: str) -> None:
    short = invoke(name, "-h")
    long = invoke(name, "--help")
    assert short.exit_code == long.exit_code == 0
    assert short.stdout == long.stdout
    assert short.stdout.startswith(f"Usage: amsread {name} [OPTIONS]")
    assert "-h, --help" in short.stdout
    assert "Examples:" in short.stdout
