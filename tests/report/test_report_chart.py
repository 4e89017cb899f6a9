"""``report``'s chart on a terminal is drawn by rich (issue 12); into a pipe or a file the text
stays plain, the block-character chart as before."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from rich.console import Console

from amsread.formats import json_line
from amsread.live.chart import Bar, chart_table
from helpers.histories import at, hourly
from helpers.live import child_env

D = Decimal
ESC = "\x1b["


def _capture(tmp_path: Path) -> Path:
    """Three days of hourly lists as ``amsread json`` lines, the evening hours the largest."""
    lines, counter = [], D("1000")
    for hour in range(3 * 24 + 1):
        when = at("2026-10-01T00:00") + dt.timedelta(hours=hour)
        lines.append(json_line(hourly(when, str(counter))[1]))
        counter += D("6.5") - hour % 3 if when.hour in (17, 18) else D("0.9")
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ARGS = ("report", "--month", "2026-10", "--grid", "elvia")


def _on_a_terminal(capture: Path) -> str:
    """What ``amsread report`` writes to a terminal: its stdout is a real pty."""
    master, slave = os.openpty()
    env = child_env(COLUMNS="100", TERM="xterm-256color")
    env.pop("NO_COLOR", None)
    with subprocess.Popen(
        [sys.executable, "-m", "amsread", *ARGS, str(capture)], stdout=slave, stderr=subprocess.PIPE, env=env
    ) as proc:
        os.close(slave)
        out = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child has gone and closed its side
                break
            if not chunk:
                break
            out += chunk
        os.close(master)
        assert proc.wait(30) == 0
    return out.decode("utf-8").replace("\r\n", "\n")


def _into_a_pipe(capture: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "amsread", *ARGS, "--format", "text", str(capture)],
        capture_output=True,
        env=child_env(),
        check=True,
        timeout=60,
    )
    return done.stdout.decode("utf-8")


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_on_a_terminal_rich_draws_the_chart_and_a_pipe_gets_the_plain_text(tmp_path: Path) -> None:
    capture = _capture(tmp_path)
    terminal, plain = _on_a_terminal(capture), _into_a_pipe(capture)
    assert ESC not in plain
    plain_lines = plain.splitlines()
    title = plain_lines.index("Largest hour of each day (◆ peak, │ step threshold):")
    assert plain_lines[title + 1].startswith("  10-01 ") and "█" in plain_lines[title + 1]
    assert ESC in terminal  # coloured by rich
    # the month at a glance is the same text, credit line included
    assert terminal.splitlines()[:title] == plain_lines[:title]
    assert any("Fri nettleie" in line for line in terminal.splitlines()[:title])
    chart = [line for line in terminal.splitlines()[title:] if "10-0" in line]
    assert len(chart) == sum(1 for line in plain_lines[title + 1 :] if line.startswith("  10-"))
    assert all(ESC in line and "█" in line for line in chart) and sum("◆" in line for line in chart) == 3


def _rendered(width: int) -> Console:
    sink = open(os.devnull, "w")  # noqa: SIM115 (closed below, once the chart is recorded)
    console = Console(record=True, width=width, force_terminal=True, color_system="standard", file=sink)
    bars = [Bar("10-01 18:00", D("8.41"), True), Bar("10-02 17:00", D("2.5"), False)]
    console.print(chart_table("title", bars, [D(2), D(5), D(10)], D("10.5"), width))
    sink.close()
    return console


def test_the_rich_chart_marks_peaks_and_thresholds_and_fits_the_width() -> None:
    console = _rendered(60)
    styled = console.export_text(styles=True, clear=False)
    text = console.export_text()
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines)
    peak = next(line for line in lines if line.lstrip().startswith("10-01"))
    other = next(line for line in lines if line.lstrip().startswith("10-02"))
    assert "8.410" in peak and peak.rstrip().endswith("◆") and not other.rstrip().endswith("◆")
    assert peak.count("┃") == 2  # 2 and 5 kWh inside the 8.41 bar
    assert peak.count("│") == 1  # 10 kWh beyond it
    assert other.count("┃") == 1 and other.count("│") == 2  # 2 inside the 2.5 bar; 5 and 10 beyond
    assert "\x1b[1;31m█" in styled and "\x1b[34m█" in styled and "\x1b[33m┃" in styled
