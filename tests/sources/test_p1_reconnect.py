"""A P1 telegram cut by a reconnect never merges with the next one: through the real ``json``
command on a TCP source (127.0.0.1) that hangs up mid-telegram and comes back."""

from __future__ import annotations

import json
import subprocess
import threading

from helpers.live import HARD_TIMEOUT, FrameServer, Lines, amsread, child_env, free_port, process
from helpers.telegrams import wire

AIDON = "se_aidon_6534_1"
LGF = "se_landisgyr_e360"


def test_a_telegram_cut_by_a_reconnect_is_counted_not_merged() -> None:
    port = free_port()
    whole, other = wire(AIDON), wire(LGF)
    before = [whole, whole, whole[:333]]  # the bridge drops the line mid-telegram
    after = [other, other]
    first, go_first = FrameServer(port), threading.Event()
    first.serve(before, go=go_first)
    argv = amsread("json", f"socket://127.0.0.1:{port}", "--count", "4")
    with process(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env()) as client:
        err = Lines(client.stderr)
        err.wait_for(lambda line: line.startswith("reading socket://"))
        go_first.set()
        first.join()
        err.wait_for(lambda line: line.startswith(f"lost socket://127.0.0.1:{port}"))
        second, go_second = FrameServer(port), threading.Event()
        second.serve(after, go=go_second)
        err.wait_for(lambda line: line == f"reopened socket://127.0.0.1:{port}")
        go_second.set()
        out = Lines(client.stdout).drain()
        second.join()
        assert client.wait(HARD_TIMEOUT) == 0
        lines = err.drain()
    readings = [json.loads(line) for line in out if line]
    assert [r["manufacturer"] for r in readings] == ["aidon", "aidon", "landisgyr", "landisgyr"]
    summary = lines[-1]
    assert summary.startswith("4 P1 telegrams: 4 readings, 1 truncated P1 telegram"), summary
