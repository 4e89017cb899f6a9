"""User errors end in one clear line and a distinct exit status; --debug adds the traceback.

Exit statuses (errors.py): 2 bad options (click) or another source error, 3 no such device,
4 permission denied, 5 port busy, 6 unreadable file, 7 source lost, 130 interrupted.
Most cases run the real command in a child process, so what a user sees is what is asserted.
"""

from __future__ import annotations

import errno
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import serial

import amsread.cli.main as cli
from helpers.live import HARD_TIMEOUT, Lines, amsread, child_env, free_port, process


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        amsread(*args),
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        timeout=HARD_TIMEOUT,
        env=child_env(),
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The stderr of a failed command: exactly one line, no traceback."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --------------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["json", "csv", "hex", "watch"])
def test_no_such_device(command: str) -> None:
    result = run(command, "/dev/ttyUSB-amsread-test")
    assert result.returncode == 3
    assert one_error_line(result) == (
        "Error: no such device: /dev/ttyUSB-amsread-test (is the adapter plugged in? try `amsread ports`)"
    )


def test_connection_refused() -> None:
    result = run("json", f"socket://127.0.0.1:{free_port()}")
    assert result.returncode == 3
    assert "connection refused" in one_error_line(result)


def test_port_busy(pty_path: str) -> None:
    holder = serial.Serial(pty_path, exclusive=True)  # another program has the port
    try:
        result = run("json", pty_path)
    finally:
        holder.close()
    assert result.returncode == 5
    assert one_error_line(result) == f"Error: port busy: {pty_path} is in use by another program"


def test_permission_denied_suggests_dialout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Simulated: the test may run as root, for whom every device opens."""

    def refuse(url: str, **kwargs: object) -> None:
        raise serial.SerialException(
            errno.EACCES, f"could not open port {url}: [Errno 13] Permission denied: '{url}'"
        )

    monkeypatch.setattr(serial, "serial_for_url", refuse)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["json", "/dev/ttyUSB7"])
    assert exit_info.value.code == 4
    err = capsys.readouterr().err
    assert err == (
        "Error: permission denied: /dev/ttyUSB7 (add yourself to the dialout group: "
        "sudo usermod -aG dialout $USER, then log in again)\n"
    )


@pytest.mark.parametrize("command", ["json", "csv", "hex", "watch"])
def test_missing_file(command: str, tmp_path: Path) -> None:
    missing = tmp_path / "nothing.bin"
    result = run(command, str(missing))
    assert result.returncode == 6
    assert one_error_line(result) == f"Error: no such file: {missing}"


def test_directory_is_not_a_capture(tmp_path: Path) -> None:
    result = run("json", str(tmp_path))
    assert result.returncode == 6
    assert one_error_line(result) == f"Error: {tmp_path} is a directory, not a capture file"


def test_unwritable_record_file(tmp_path: Path) -> None:
    capture = tmp_path / "c.bin"
    capture.write_bytes(b"")
    result = run("json", str(capture), "--record", str(tmp_path / "no" / "such" / "dir.bin"))
    assert result.returncode == 6
    assert one_error_line(result).startswith("Error: cannot write record file ")


def test_simulate_output_to_a_missing_directory(tmp_path: Path) -> None:
    result = run("simulate", "--count", "1", "-o", str(tmp_path / "no" / "x.bin"))
    assert result.returncode == 6
    assert one_error_line(result).startswith("Error: cannot write ")


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    result = run("--debug", "json", str(tmp_path / "missing.bin"))
    assert result.returncode != 0
    assert "Traceback" in result.stderr and "UnreadableFileError" in result.stderr


# --------------------------------------------------------------------------------------------
# bad options: click's usage errors, status 2
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["json", "x.bin", "--baudrate", "0"], "Invalid value for '--baudrate'"),
        (["json", "x.bin", "--parity", "X"], "Invalid value for '--parity'"),
        (["json", "x.bin", "--meter-tz", "Mars/Base"], "unknown time zone"),
        (["simulate", "--speed", "-1"], "Invalid value for '--speed'"),
        (["simulate", "--listen", "nowhere"], "expected HOST:PORT"),
        (["simulate", "--listen", "127.0.0.1:99999"], "out of range"),
        (["simulate", "--start", "yesterday"], "not an ISO 8601 time"),
        (["simulate", "--pty", "-o", "x.bin"], "use just one of -o/--output, --pty or --listen"),
        (["simulate", "--meter", "iskra"], "Invalid value for '--meter'"),
        (["watch"], "give a SOURCE"),
        (["watch", "--demo", "x.bin"], "either a SOURCE or --demo"),
        (["watch", "x.bin", "--speed", "3"], "--speed only apply to --demo"),
        (["watch", "--demo", "--meter", "landisgyr"], "the demo meter is aidon, kaifa, kamstrup or p1"),
        (["watch", "--demo", "--speed", "0"], "Invalid value for '--speed'"),
        (["probe", "/dev/ttyUSB0", "--seconds", "0"], "Invalid value for '--seconds'"),
        (["probe"], "Missing argument 'PORT'"),
    ],
)
def test_bad_options(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------------------------
# pipes and interrupts
# --------------------------------------------------------------------------------------------


def test_closed_pipe_ends_quietly() -> None:
    """`amsread simulate --speed 1000 --count 500 | amsread csv - | head -3`: all exit 0, no noise."""
    sim = subprocess.Popen(
        amsread("simulate", "--speed", "1000", "--count", "500", "--seed", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
    )
    csv = subprocess.Popen(
        amsread("csv", "-"), stdin=sim.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()
    )
    assert sim.stdout is not None
    sim.stdout.close()  # csv holds the only read end now
    head = subprocess.Popen(["head", "-3"], stdin=csv.stdout, stdout=subprocess.PIPE, env=child_env())
    assert csv.stdout is not None
    csv.stdout.close()
    out, _ = head.communicate(timeout=HARD_TIMEOUT)
    csv_err = csv.communicate(timeout=HARD_TIMEOUT)[1].decode()
    sim_err = sim.communicate(timeout=HARD_TIMEOUT)[1].decode()
    assert head.returncode == 0 and csv.returncode == 0 and sim.returncode == 0
    assert len(out.decode().splitlines()) == 3
    assert out.decode().startswith("received_at,meter_time,manufacturer,list,")
    for err in (csv_err, sim_err):
        assert "Traceback" not in err and "Error" not in err and "Exception" not in err
        assert all(line.endswith("discarded") or "frames simulated" in line for line in err.splitlines())


def test_ctrl_c_summarises_and_exits_130() -> None:
    with process(
        amsread("simulate", "--listen", "127.0.0.1:0", "--speed", "20", "--seed", "1"),
        stderr=subprocess.PIPE,
        env=child_env(),
    ) as sim:
        address = Lines(sim.stderr).wait_for(lambda line: line.startswith("listening on ")).split()[-1]
        with process(
            amsread("json", f"socket://{address}"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
        ) as reader:
            Lines(reader.stdout).wait_for(lambda line: line.startswith("{"))
            reader.send_signal(signal.SIGINT)
            assert reader.wait(HARD_TIMEOUT) == 130
            err = Lines(reader.stderr).drain()
        sim.send_signal(signal.SIGINT)
        assert sim.wait(HARD_TIMEOUT) == 130
    assert err[-1].endswith("discarded") and "reading" in err[-1]
    assert not any("Traceback" in line for line in err)


def test_help_for_every_new_command() -> None:
    for command in ("watch", "simulate", "probe", "ports"):
        result = run(command, "--help")
        assert result.returncode == 0
        assert "Examples:" in result.stdout


def test_ports_lists_or_hints() -> None:
    result = run("ports")
    assert result.returncode == 0
    if not result.stdout:
        assert "No serial ports found" in result.stderr
    else:
        assert all(line.startswith(("/dev/", "COM")) for line in result.stdout.splitlines())


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pty")
def test_simulate_refuses_nothing_on_a_terminal_but_writes_hex(pty_path: str) -> None:
    """Raw bytes on a terminal would scramble it: stdout on a tty gets hex, and says so."""
    with open(pty_path, "wb", buffering=0) as tty_out:
        result = subprocess.run(
            amsread("simulate", "--speed", "0", "--count", "1"),
            stdout=tty_out,
            stderr=subprocess.PIPE,
            text=True,
            timeout=HARD_TIMEOUT,
            env=child_env(),
        )
    assert result.returncode == 0
    assert result.stderr.startswith("stdout is a terminal: writing hex")


def test_simulate_listen_on_a_port_in_use() -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = run("simulate", "--listen", f"127.0.0.1:{port}")
    assert result.returncode == 5
    assert one_error_line(result) == f"Error: cannot listen on 127.0.0.1:{port}: the port is in use"
