"""``amsread run``: what the destinations cost, per day of a real meter, and over a month.

Figures (each ``amsread`` is a child process; CPU and peak memory are its own, from ``wait4``):

* frames/s of ``amsread run CAPTURE --db --mqtt`` (a local broker: mosquitto if installed, else
  amqtt) against ``amsread csv CAPTURE`` on the same simulated capture (``--frames``, 100,000);
* CPU seconds per day of real traffic: the replay's CPU per frame times 40,000 frames a day, plus
  what an idle ``run`` on a silent pty costs per second (its wake-ups) times 86,400;
* peak memory over a simulated month: the capture replayed ``--month`` times (about 30 days of
  frames at 40,000 a day), with the database and the broker;
* a stuck destination: a live pty read with ``--jsonl`` alone, and again with a ``--csv`` that is a
  named pipe nobody reads; the time until every reading is in the jsonl file, both ways.

    python bench/bench_run.py [--frames 100000] [--month 12] [--capture FILE]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from amsread.simulator import OSLO, SimulatedMeter
from helpers.mqtt_broker import Broker, broker_kind

FRAMES_PER_DAY = 40_000


def amsread(*args: str) -> list[str]:
    return [sys.executable, "-m", "amsread", *args]


def measured(argv: list[str], **kwargs: object) -> tuple[float, float, float, str]:
    """Run to the end: (wall seconds, CPU seconds, peak RSS MiB, stderr) of that child alone."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)  # type: ignore[call-overload]
    err = proc.stderr.read().decode() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {err[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, err


def make_capture(path: Path, frames: int) -> None:
    start = dt.datetime.now(OSLO).replace(microsecond=0) - dt.timedelta(days=2)
    sim = SimulatedMeter("aidon", 3, seed=11, start=start)
    with open(path, "wb") as f:
        for push, _ in zip(sim.pushes(), range(frames), strict=False):
            f.write(push.frame)


def idle_cpu_per_second(seconds: float) -> float:
    """CPU seconds per second of an ``amsread run`` on a pty that sends nothing."""
    master, slave = os.openpty()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            proc = subprocess.Popen(
                amsread("run", os.ttyname(slave), "--db", f"{tmp}/h.db", "-q"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(2.0)  # start-up (imports, the database) is not idling
            before = _cpu_of(proc.pid)
            time.sleep(seconds)
            after = _cpu_of(proc.pid)
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    finally:
        os.close(master)
        os.close(slave)
    return (after - before) / seconds


def _cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stuck_destination(frames: int) -> tuple[float, float]:
    """Seconds until ``frames`` readings from a live pty are in the jsonl file: without and with a
    ``--csv`` named pipe nobody reads."""
    start_clock = dt.datetime.now(OSLO).replace(microsecond=0)
    sim = SimulatedMeter("aidon", 3, seed=5, start=start_clock)
    data = b"".join(push.frame for push, _ in zip(sim.pushes(), range(frames), strict=False))
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        fifo = Path(tmp) / "stuck.csv"
        os.mkfifo(fifo)
        for extra in ([], ["--csv", str(fifo)]):
            master, slave = os.openpty()
            jsonl = Path(tmp) / f"r{len(out)}.jsonl"
            proc = subprocess.Popen(
                amsread("run", os.ttyname(slave), "--no-db", "--jsonl", str(jsonl), *extra),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            assert proc.stderr is not None
            while not proc.stderr.readline().startswith(b"reading "):
                pass
            start = time.perf_counter()
            view = memoryview(data)
            while view:
                view = view[os.write(master, view) :]
            deadline = time.monotonic() + 120
            while not jsonl.exists() or jsonl.read_bytes().count(b"\n") < frames:
                if time.monotonic() > deadline:
                    raise SystemExit(f"not all {frames} readings arrived in {jsonl}")
                time.sleep(0.01)
            out.append(time.perf_counter() - start)
            proc.kill()
            proc.wait(30)
            proc.stderr.close()
            os.close(master)
            os.close(slave)
    return out[0], out[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--month", type=int, default=12, help="replays of the capture for the month")
    parser.add_argument("--capture", type=Path, help="reuse (or keep) the simulated capture here")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        capture = args.capture or tmp / "capture.bin"
        if not capture.exists():
            print(f"simulating {args.frames:,} Aidon frames ...", flush=True)
            make_capture(capture, args.frames)
        broker = Broker(tmp, broker_kind()).start()
        try:
            wall_csv, cpu_csv, rss_csv, _ = measured(amsread("csv", str(capture)))
            wall_run, cpu_run, rss_run, err = measured(
                amsread("run", str(capture), "--db", str(tmp / "h.db"), "--mqtt", broker.url())
            )
            print(
                f"csv: {args.frames / wall_csv:,.0f} frames/s ({wall_csv:.1f} s, {cpu_csv:.1f} CPU s, {rss_csv:.0f} MiB)"
            )
            print(
                f"run --db --mqtt ({broker.kind}): {args.frames / wall_run:,.0f} frames/s ({wall_run:.1f} s, "
                f"{cpu_run:.1f} CPU s, {rss_run:.0f} MiB); destinations cost {1 - wall_csv / wall_run:.0%} of run's time"
            )
            print("   ", err.strip().splitlines()[-2])
            idle = idle_cpu_per_second(10.0)
            per_day = cpu_run / args.frames * FRAMES_PER_DAY + idle * 86_400
            print(
                f"CPU per day of real traffic: {per_day:.0f} s "
                f"({cpu_run / args.frames * 1e6:.0f} µs a frame x {FRAMES_PER_DAY:,} + idle {idle * 1000:.2f} ms/s x 86,400)"
            )
            month = tmp / "month.bin"
            with open(month, "wb") as f:
                block = capture.read_bytes()
                for _ in range(args.month):
                    f.write(block)
            frames = args.frames * args.month
            wall_m, cpu_m, rss_m, _ = measured(
                amsread("run", str(month), "--db", str(tmp / "m.db"), "--mqtt", broker.url(), "-q")
            )
            print(
                f"month ({frames:,} frames = {frames / FRAMES_PER_DAY:.0f} days): peak memory {rss_m:.0f} MiB, "
                f"{wall_m:.0f} s, {cpu_m:.0f} CPU s, database {(tmp / 'm.db').stat().st_size / 2**20:.0f} MiB"
            )
        finally:
            broker.stop()
        free, stuck = stuck_destination(5_000)
        print(
            f"live pty, 5,000 frames: {free:.2f} s; with a stuck --csv (a pipe nobody reads): {stuck:.2f} s"
        )


if __name__ == "__main__":
    main()
