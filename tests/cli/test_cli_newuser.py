"""Issue 8: what a new user trips over. Each test fails on the main of 2026-11-30 (880f8cb).

Real captures from ``tests/data``, real child processes where the interpreter's own streams matter
(closed descriptors, a full disk), CliRunner where click alone decides.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import itertools
import json
import os
import select
import signal
import struct
import subprocess
import termios
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from amsread.cli.main import cli
from amsread.live.formats import age_text, number
from amsread.simulator import SimulatedMeter
from helpers.live import HARD_TIMEOUT, FrameServer, Lines, Screen, amsread, child_env, free_port, process
from helpers.vectors import raw, vector

PLAIN = "hassams_kaifa_ma304h3e_list2_1"


def invoke(*args: str, stdin: bytes | None = None) -> object:
    return CliRunner().invoke(cli, list(args), input=stdin, prog_name="amsread")


def run(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """The real command in a child process; ``kwargs`` go to ``subprocess.run``."""
    if "stdout" not in kwargs:
        kwargs.setdefault("capture_output", True)
    return subprocess.run(amsread(*args), text=True, timeout=HARD_TIMEOUT, env=child_env(), **kwargs)  # type: ignore[call-overload]


@pytest.fixture
def capture(tmp_path: Path) -> Path:
    path = tmp_path / "capture.bin"
    path.write_bytes(raw(PLAIN))
    return path


# --------------------------------------------------------------------------------------------
# 4, 5: csv --columns and appending
# --------------------------------------------------------------------------------------------


def test_csv_refuses_an_unknown_column(capture: Path) -> None:
    result = invoke("csv", str(capture), "--columns", "meter_time,foo,bar")
    assert result.exit_code == 2
    assert "unknown columns foo, bar" in result.output
    assert "active_power_import" in result.output  # the valid names are listed
    assert "Traceback" not in result.output


def test_csv_accepts_contract_names_extras_and_obis_codes(capture: Path) -> None:
    result = invoke("csv", str(capture), "-q", "--columns", "meter_id,power_factor,1-0:99.99.0.255")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == "meter_id,power_factor,1-0:99.99.0.255"


def test_csv_appending_to_a_non_empty_file_writes_no_second_header(capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "power.csv"
    for _ in range(2):
        with out.open("a") as f:
            result = run("csv", str(capture), "-q", stdout=f, stderr=subprocess.PIPE)
        assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("received_at,meter_time")
    assert not lines[2].startswith("received_at")
    assert lines[1] == lines[2]


def test_csv_into_an_empty_file_starts_with_the_header(capture: Path, tmp_path: Path) -> None:
    out = tmp_path / "power.csv"
    with out.open("w") as f:
        run("csv", str(capture), "-q", stdout=f, stderr=subprocess.PIPE)
    assert out.read_text().startswith("received_at,meter_time")


# --------------------------------------------------------------------------------------------
# 7: quiet means quiet, --debug anywhere, choices in any case, help that fits 80 columns
# --------------------------------------------------------------------------------------------


def test_simulate_listen_quiet_says_only_the_port_it_chose() -> None:
    with process(
        amsread("simulate", "--listen", "127.0.0.1:0", "--speed", "100", "-q"),
        stderr=subprocess.PIPE,
        env=child_env(),
    ) as sim:
        err = Lines(sim.stderr)
        line = err.wait_for(lambda line: line.startswith("listening on "))
        url = "socket://" + line.split()[-1]
        out = run("json", url, "--count", "2", "-q")
        assert out.returncode == 0, out.stderr
        sim.send_signal(signal.SIGINT)
        lines = err.drain()
    assert lines == [line]  # no "client connected", no "client disconnected", no summary


def test_debug_after_the_command_shows_the_traceback() -> None:
    result = run("json", "/no/such/capture.bin", "--debug")
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "UnreadableFileError" in result.stderr


@pytest.mark.parametrize("args", [["--meter", "Kamstrup"], ["--parity", "e"], ["--input-format", "RAW"]])
def test_choices_ignore_case(capture: Path, args: list[str]) -> None:
    result = invoke("json", str(capture), "-q", *args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["meter_id"]


def test_command_list_fits_80_columns() -> None:
    result = CliRunner().invoke(cli, ["--help"], prog_name="amsread", terminal_width=80)
    commands = result.output.split("Commands:", 1)[1]
    assert "..." not in commands
    assert all(len(line) <= 80 for line in result.output.splitlines())


# --------------------------------------------------------------------------------------------
# 3: closed or full standard streams
# --------------------------------------------------------------------------------------------


def run_redirected(redirect: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``amsread ARGS`` started by a real shell with ``redirect`` (``>&-``, ``<&-``) applied."""
    argv = ["sh", "-c", f'exec "$@" {redirect}', "sh", *amsread(*args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=HARD_TIMEOUT, env=child_env())


@pytest.mark.parametrize("command", ["json", "csv", "decode", "hex", "watch"])
def test_a_full_disk_names_standard_output(capture: Path, command: str) -> None:
    with open("/dev/full", "w") as full:
        result = run(command, str(capture), stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert result.stderr == "Error: cannot write to standard output: No space left on device\n"


def test_simulate_into_a_full_disk_names_standard_output() -> None:
    with open("/dev/full", "w") as full:
        result = run("simulate", "--count", "2", "--hex", stdout=full, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert result.stderr == "Error: cannot write to standard output: No space left on device\n"


def test_closed_stdout_is_one_error_line(capture: Path) -> None:
    result = run_redirected(">&-", "json", str(capture), "-q")
    assert result.returncode == 1
    assert result.stderr == "Error: cannot write to standard output: Bad file descriptor\n"


def test_closed_stdout_never_receives_a_file_opened_later(capture: Path, tmp_path: Path) -> None:
    record = tmp_path / "record.bin"
    result = run_redirected(">&-", "json", str(capture), "-q", "--record", str(record))
    assert result.returncode == 1
    assert record.read_bytes() == capture.read_bytes()  # raw bytes only, no JSON row in it


def test_closed_stdin_is_one_error_line() -> None:
    result = run_redirected("<&-", "json", "-", "-q")
    assert result.returncode == 6
    assert result.stderr == "Error: cannot read standard input: Bad file descriptor\n"


def test_closed_stdin_does_not_matter_when_unused(capture: Path) -> None:
    result = run_redirected("<&-", "json", str(capture), "-q")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["meter_id"]


# --------------------------------------------------------------------------------------------
# 1: an encrypted meter without its key, or with the wrong one
# --------------------------------------------------------------------------------------------

ENCRYPTED = "doc_landisgyr_e450_gcm_encrypted"
#: The keys published with that capture (its vector's notes).
EK = "34743677397A24432646294A404E6352"
AK = "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF"
WRONG = "00112233445566778899AABBCCDDEEFF"
NO_KEY = "these frames are encrypted: give the key from your grid company (--key)"


@pytest.fixture
def encrypted(tmp_path: Path) -> Path:
    path = tmp_path / "encrypted.hex"
    path.write_text(raw(ENCRYPTED).hex() * 3 + "\n")  # three pushes: the advice still comes once
    return path


@pytest.mark.parametrize("command", ["json", "csv", "decode", "watch"])
def test_no_key_is_said_once_plainly(encrypted: Path, command: str) -> None:
    result = run(command, str(encrypted))
    assert result.stdout == ""
    assert result.stderr.count(NO_KEY) == 1, result.stderr


def test_no_key_is_said_even_when_quiet(encrypted: Path) -> None:
    result = run("json", str(encrypted), "-q")
    assert result.stderr == NO_KEY + "\n"


@pytest.mark.parametrize("keys", [["--key", WRONG], ["--key", EK, "--auth-key", WRONG]])
def test_a_wrong_key_is_said_once(encrypted: Path, keys: list[str]) -> None:
    result = run("json", str(encrypted), *keys)
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if "check the key" in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("decryption failed")


def test_the_right_key_decodes_and_says_nothing_of_keys(encrypted: Path) -> None:
    result = run("json", str(encrypted), "--key", EK, "--auth-key", AK)
    assert result.returncode == 0, result.stderr
    assert [json.loads(line)["meter_id"] for line in result.stdout.splitlines()] == ["30137181"] * 3
    assert "key" not in result.stderr


def test_encrypted_mbus_capture_without_its_key(tmp_path: Path) -> None:
    path = tmp_path / "kaifa.bin"
    path.write_bytes(raw("fw_kaifa_mbus-gcm_1"))
    assert run("json", str(path)).stderr.count(NO_KEY) == 1
    keyed = run("json", str(path), "--key", vector("fw_kaifa_mbus-gcm_1")["key"], "-q")
    assert json.loads(keyed.stdout)["meter_id"] == "1KFM0200169986"


def test_probe_names_an_encrypted_meter() -> None:
    port = free_port()
    server = FrameServer(port)
    go = threading.Event()
    server.serve([raw(ENCRYPTED)] * 4, interval=0.02, go=go)
    with process(
        amsread("probe", f"socket://127.0.0.1:{port}", "--seconds", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    ) as probe:
        Lines(probe.stderr).wait_for(lambda line: line.startswith("listening"))
        go.set()
        out = Lines(probe.stdout).drain()
        assert probe.wait(HARD_TIMEOUT) == 0
    server.join()
    assert (
        out[0]
        == "Found: (network: settings do not apply): an encrypted Landis+Gyr meter (its frames need a key)."
    )
    assert "give the key from your grid company (--key)" in out[1]
    assert out[2] == f"Next:  amsread watch socket://127.0.0.1:{port} --key HEX"


# --------------------------------------------------------------------------------------------
# 6: probe on a file, and over TCP
# --------------------------------------------------------------------------------------------


def test_probe_refuses_a_capture_file(capture: Path) -> None:
    result = invoke("probe", str(capture))
    assert result.exit_code == 2
    assert "is a file, not a serial port" in result.output
    assert f"amsread decode {capture}" in result.output


def test_probe_over_tcp_never_advises_parity() -> None:
    port = free_port()
    server = FrameServer(port)
    go = threading.Event()
    server.serve([bytes(range(0x80, 0xFF)) * 4] * 8, interval=0.01, go=go)  # bytes, never a flag
    with process(
        amsread("probe", f"socket://127.0.0.1:{port}", "--seconds", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    ) as probe:
        Lines(probe.stderr).wait_for(lambda line: line.startswith("listening"))
        go.set()
        out = "\n".join(Lines(probe.stdout).drain())
        assert probe.wait(HARD_TIMEOUT) == 1
    server.join()
    assert "Likely cause:" in out
    assert "try other speeds with --baudrate" not in out
    assert "--parity change\nnothing" in out
    assert "at 2400 8E1" not in out


# --------------------------------------------------------------------------------------------
# 2: decode reads hex copied from a log the same way from arguments, a file and stdin
# --------------------------------------------------------------------------------------------


def log_text(data: bytes) -> str:
    """Two log lines as a HAN reader prints them, a frame split across them."""
    spaced = " ".join(f"{b:02x}" for b in data)
    cut = len(spaced) // 2 + 1  # between two bytes
    return (
        f"2024-01-05 12:00:01.250 [han] Received: {spaced[:cut].strip()}\n"
        f"2024-01-05 12:00:01.251 [han] Received: {spaced[cut:].strip()}\n"
    )


@pytest.mark.parametrize("how", ["argument", "file", "stdin", "file-with-bom"])
def test_decode_reads_a_log_however_given(how: str, tmp_path: Path) -> None:
    text = log_text(raw(PLAIN))
    path = tmp_path / "log.txt"
    path.write_bytes((b"\xef\xbb\xbf" if how == "file-with-bom" else b"") + text.encode())
    if how == "argument":
        result = invoke("decode", "--json", text)
    elif how == "stdin":
        result = invoke("decode", "--json", "-", stdin=text.encode())
    else:
        result = invoke("decode", "--json", str(path))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["meter_id"] == "6970631404129954"


@pytest.mark.parametrize("content", [b"no hex in here\n", b"", bytes.fromhex("7ea0")])
def test_decode_of_nothing_decodable_exits_1(content: bytes, tmp_path: Path) -> None:
    path = tmp_path / "capture.txt"
    path.write_bytes(content)
    result = run("decode", str(path))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == f"Error: nothing decodable in {path}"


def test_decode_of_an_encrypted_capture_without_key_exits_1(encrypted: Path) -> None:
    result = run("decode", str(encrypted))
    assert result.returncode == 1
    assert NO_KEY in result.stderr


# --------------------------------------------------------------------------------------------
# 8: watch on a capture, warnings during the view, the demo's clock
# --------------------------------------------------------------------------------------------


def on_terminal(*args: str, cols: int = 80, rows: int = 30) -> str:
    """``amsread ARGS`` on a real pty that is its stdout and stderr alike, as a person runs it;
    the screen it leaves once it ends (the child ends by itself: a capture is finite)."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = child_env(TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    screen = Screen(cols, rows)
    try:
        with process(amsread(*args), stdin=slave, stdout=slave, stderr=slave, env=env) as proc:
            os.close(slave)
            slave = -1
            while True:
                ready, _, _ = select.select([master], [], [], HARD_TIMEOUT)
                assert ready, f"the child went silent:\n{screen.text()}"
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: every writer of the terminal is gone
                    break
                if not data:
                    break
                screen.feed(data)
            assert proc.wait(HARD_TIMEOUT) == 0
    finally:
        os.close(master)
        if slave >= 0:
            os.close(slave)
    return screen.text()


def test_a_warning_during_the_live_view_goes_above_it_cleanly(tmp_path: Path) -> None:
    hourly, instant = raw("hassams_kaifa_ma304h3e_list3_1"), raw("hassams_kaifa_ma304h3e_list2_1")
    path = tmp_path / "stale.bin"
    path.write_bytes(hourly + instant + hourly + instant)  # the hourly list sent twice: a warning
    lines = on_terminal("watch", str(path)).splitlines()
    assert lines[0].startswith("warning: hourly list at 2020-02-03T16:00:10+01:00 repeats")
    header = [i for i, line in enumerate(lines) if "amsread watch" in line]
    assert len(header) == 1, "\n".join(lines)  # no torn copy of the view above the warning
    assert header[0] <= 2  # the warning (wrapped at 80 columns), then the view
    assert "Power" not in "\n".join(lines[: header[0]])


def test_watch_replays_a_capture_by_the_meters_clock(tmp_path: Path) -> None:
    sim = SimulatedMeter("kamstrup", 3, seed=4, start=dt.datetime(2024, 1, 5, 11, 50, 5, tzinfo=dt.UTC))
    pushes = list(itertools.islice(sim.pushes(), 80))  # 13 minutes of a push every 10 s
    path = tmp_path / "thirteen-minutes.bin"
    path.write_bytes(b"".join(p.frame for p in pushes))
    text = on_terminal("watch", str(path))
    assert "replay · ages by the meter's clock" in text
    hourly = [p for p in pushes if p.list == 3][-1]  # the counters came at 12:00:05
    assert f"Energy counters · list 3 · {age_text(pushes[-1].at - hourly.at)} ago" in text
    net = [
        p.values["active_power_import"] - p.values.get("active_power_export", 0)
        for p in pushes
        if p.at >= pushes[-1].at - 300
    ]
    assert f"last 5 min · {number(min(net))} – {number(max(net))} W" in text
    assert "last frame" not in text and " up " not in text  # the host's clock says nothing here


def test_demo_says_why_its_clock_starts_before_the_hour() -> None:
    result = run("watch", "--demo", "--count", "1", "--speed", "50")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len([line for line in lines if "just before a full hour" in line]) == 1
    assert lines[0].startswith("demo: the meter's clock starts at ")
