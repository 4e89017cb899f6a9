"""Live sources, issue 8: what a bridge sends with the connection, and how long a stop takes.

1. Bytes kept at connect: a TCP bridge on 127.0.0.1 sends one frame the instant each client
   connects; amsread's ``open_serial`` and pyserial's own ``serial_for_url`` each connect
   ``--connections`` times and read for a moment. Prints how many frames each one kept. Whether
   pyserial's input reset wins the race is up to the scheduler, so its figure varies.
2. Stop latency: ``amsread csv socket://…`` reading a bridge that pushes a frame every 50 ms gets
   SIGTERM; prints the median and worst time from the signal to the process's exit (the
   summary written), over ``--stops`` runs. A stop waits for the read in hand (at most
   ``READ_TIMEOUT``), then ends as at the end of a capture.

    python bench/bench_live.py [--connections 50] [--stops 10]
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

from amsread.settings import DEFAULT
from amsread.sources.serial import open_serial, read_available
from amsread.wire.hdlc import build_frame

FRAME = build_frame(bytes.fromhex("e6e7000f40000000000101020309060100010700ff060000067d02020f00161b"))


def bridge(send_every: float | None) -> tuple[socket.socket, threading.Event]:
    """Accept clients for ever; send FRAME at once to each, then every ``send_every`` seconds."""
    srv = socket.create_server(("127.0.0.1", 0))
    done = threading.Event()

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.sendall(FRAME)
            while send_every is not None and not done.wait(send_every):
                conn.sendall(FRAME)
            while not done.is_set() and conn.recv(4096):
                pass

    def accept() -> None:
        with contextlib.suppress(OSError):
            while not done.is_set():
                conn, _ = srv.accept()
                threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return srv, done


def kept_at_connect(opener: str, url: str) -> bool:
    import serial

    port = open_serial(url, DEFAULT) if opener == "amsread" else serial.serial_for_url(url, timeout=0.05)
    got = b""
    deadline = time.monotonic() + 0.2
    while len(got) < len(FRAME) and time.monotonic() < deadline:
        got += read_available(port, True)
    port.close()
    return got == FRAME


def stop_latency(url: str) -> float:
    argv = [sys.executable, "-m", "amsread", "csv", url]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert proc.stderr is not None
    while not proc.stderr.readline().startswith(b"reading "):
        pass
    time.sleep(0.3)  # let it read a few frames: the stop should come in the middle of work
    start = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    took = time.perf_counter() - start
    proc.stderr.close()
    assert proc.returncode == 0, proc.returncode
    return took


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--connections", type=int, default=50)
    ap.add_argument("--stops", type=int, default=10)
    args = ap.parse_args()

    srv, done = bridge(None)
    url = f"socket://127.0.0.1:{srv.getsockname()[1]}"
    for opener in ("amsread", "pyserial"):
        kept = sum(kept_at_connect(opener, url) for _ in range(args.connections))
        print(f"{opener:9} kept the frame sent at connect: {kept}/{args.connections}")
    done.set()
    srv.close()

    srv, done = bridge(0.05)
    url = f"socket://127.0.0.1:{srv.getsockname()[1]}"
    times = [stop_latency(url) * 1000 for _ in range(args.stops)]
    done.set()
    srv.close()
    print(
        f"SIGTERM to exit (summary written), {args.stops} runs: "
        f"median {statistics.median(times):.1f} ms, worst {max(times):.1f} ms"
    )


if __name__ == "__main__":
    main()
