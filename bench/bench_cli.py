"""Whole-process throughput of ``amsread csv``, ``json`` and ``hex`` on the realistic mix (issue 15).

The capture is the one ``bench_pipeline.py`` builds (three quarters list 1, a quarter list 2, list 3
hourly, about 1 % garbage bytes and a few damaged frames), written to a file per size. Each
command runs as its own process, output into a file, as a user would run it; what counts is the
wall time of the whole process (start-up included), its CPU time and peak RSS (``wait4``) and the
rows it wrote. On a loaded machine the CPU time is the steadier figure of the two.

Several builds can be compared in one run: ``--cmd NAME=COMMAND`` (repeatable; default: this
interpreter's ``amsread``). Every round runs each build once, alternating, so a change in the
machine's load touches all alike; figures are medians of ``--runs`` rounds. When ``--amshan PYTHON``
names an interpreter with amshan installed (kept outside the repository, e.g. /tmp/amshan-venv),
amshan decodes the same bytes in one process too, for the ratio.

No asserts on timing: figures only.

``--only csv,run,decode`` also prints what ``run --db`` costs beyond decoding (``run`` minus
``decode``, i.e. ``run --no-db``) as a share of ``csv`` (issue 15).

    python bench/bench_cli.py [--frames 25000,50000,100000] [--runs 5] [--only csv,run,decode] \
        [--cmd main="env PYTHONPATH=/tmp/main/src python -m amsread" --cmd new="python -m amsread"] \
        [--amshan /tmp/amshan-venv/bin/python]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pipeline import build_capture

#: amshan's own whole-process loop: its HDLC reader, then its auto decoder on every good frame.
AMSHAN = """
import sys
from han.autodecoder import AutoDecoder
from han.hdlc import HdlcFrameReader
reader, decoder, n = HdlcFrameReader(), AutoDecoder(), 0
with open(sys.argv[1], "rb") as f:
    while chunk := f.read(65536):
        for frame in reader.read(chunk):
            if frame.is_good_ffc and frame.is_expected_length:
                if decoder.decode_message_payload(frame.payload):
                    n += 1
print(n)
"""

SUBCOMMANDS = ("csv", "json", "hex")

#: ``--only run``: ``amsread run CAPTURE --db`` into a fresh database each time (issue 15: what the
#: history database costs beside ``csv`` on the same capture).
RUN_DB = "run"
#: ``run``'s retention: long enough that no reading of the capture is pruned (see ``argv_of``).
KEEP_DAYS = 100_000
#: ``--only decode``: ``amsread run CAPTURE --no-db``, no destination at all: the reading and
#: decoding every command shares, so ``run`` minus ``decode`` is what the destinations cost.
DECODE = "decode"


#: Runs each command for the bench and reports its wall time, peak RSS and CPU time. The bench
#: itself holds the capture it built; a child forked from it would count that memory as its own
#: (Linux keeps the pre-exec high-water mark in ``ru_maxrss``), so children are started by this
#: small process instead.
SPAWNER = """
import json, os, subprocess, sys, time
for line in sys.stdin:
    argv, out = json.loads(line)
    with open(out, "wb") as sink:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
    print(json.dumps([elapsed, usage.ru_maxrss, usage.ru_utime + usage.ru_stime]), flush=True)
"""


class Spawner:
    """The process that starts the measured commands (see ``SPAWNER``)."""

    def __init__(self, pycache: Path) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-c", SPAWNER],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=installed_env(pycache),
        )

    def run(self, argv: list[str], out: Path) -> tuple[float, int, float]:
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps([argv, str(out)]) + "\n")
        self._proc.stdin.flush()
        elapsed, rss, cpu = json.loads(self._proc.stdout.readline())
        return elapsed, rss, cpu

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        self._proc.wait()


def installed_env(pycache: Path) -> dict[str, str]:
    """The environment of the measured commands: this one, with a bytecode cache.

    An installed package has its modules compiled (pip writes the ``.pyc`` files); an editable
    checkout gets them on its first run, unless ``PYTHONDONTWRITEBYTECODE`` is set, as it is on
    some build machines, where every start would compile amsread's modules from source again
    (50 ms of a 0.18 s start here). The cache goes to ``pycache`` (``PYTHONPYCACHEPREFIX``), never
    into the source tree, and a warm-up run of each command fills it before anything is timed."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def run_once(spawner: Spawner, argv: list[str], out: Path) -> tuple[float, int, int, float]:
    """Wall seconds, peak RSS (KiB), output lines and CPU seconds (user + system) of one process writing into ``out`` (for
    amshan, which prints only its count of decoded messages, that count)."""
    elapsed, rss, cpu = spawner.run(argv, out)
    with out.open("rb") as f:
        head = f.read(32)
        if head.strip().isdigit():
            return elapsed, rss, int(head), cpu
        f.seek(0)
        lines = sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))
    return elapsed, rss, lines, cpu


def argv_of(sub: str, capture: Path, db: Path) -> list[str]:
    """The arguments after ``amsread`` for one subcommand (or ``run``/``decode``) on ``capture``."""
    if sub == RUN_DB:
        # every reading kept: the capture's meter clocks span 2017-2025, and with the default 40
        # days the first commit prunes those of them it holds, a share that depends on timing
        return ["run", str(capture), "--db", str(db), "--retention-days", str(KEEP_DAYS)]
    if sub == DECODE:
        return ["run", str(capture), "--no-db"]
    return [sub, str(capture)]


def cost_lines(results: dict[str, list[tuple[float, int, int, float]]]) -> list[str]:
    """Per build with ``run``, ``decode`` and ``csv`` measured: what the destinations cost
    (``run`` minus ``decode``), in seconds and as a share of ``csv`` (issue 15: at most 0.5)."""
    out = []
    builds = {label.rsplit(" ", 1)[0] for label in results}
    for build in sorted(builds):
        got = {sub: results.get(f"{build} {sub}") for sub in (RUN_DB, DECODE, "csv")}
        if all(got.values()):
            wall = {sub: statistics.median(s[0] for s in got[sub] or ()) for sub in got}
            cpu = {sub: statistics.median(s[3] for s in got[sub] or ()) for sub in got}
            dest, dest_cpu = wall[RUN_DB] - wall[DECODE], cpu[RUN_DB] - cpu[DECODE]
            out.append(
                f"  {build}: destinations (run - decode) {dest:.3f} s = {dest / wall['csv']:.2f} x csv; "
                f"CPU {dest_cpu:.3f} s = {dest_cpu / cpu['csv']:.2f} x csv"
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", default="25000,50000,100000", help="capture sizes, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--cmd", action="append", default=[], metavar="NAME=COMMAND")
    parser.add_argument(
        "--only",
        default=",".join(SUBCOMMANDS),
        help=f"subcommands to run (also {RUN_DB}: run --db; {DECODE}: run --no-db, no destination)",
    )
    parser.add_argument("--amshan", metavar="PYTHON", help="an interpreter with amshan installed")
    args = parser.parse_args()

    builds = [tuple(c.split("=", 1)) for c in args.cmd] or [("amsread", f"{sys.executable} -m amsread")]
    subcommands = [s for s in args.only.split(",") if s]
    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")
    with tempfile.TemporaryDirectory() as tmp:
        spawner = Spawner(Path(tmp) / "pycache")
        warm = True
        for n in (int(x) for x in args.frames.split(",")):
            cap, _ = build_capture(n, random.Random(args.seed))
            path = Path(tmp) / f"mix-{n}.hdlc"
            path.write_bytes(cap.data)
            out = Path(tmp) / "out"
            db = Path(tmp) / "history.db"
            jobs: list[tuple[str, list[str]]] = [
                (
                    f"{name} {sub}",
                    [*shlex.split(cmd), *argv_of(sub, path, db)],
                )
                for sub in subcommands
                for name, cmd in builds
            ]
            if args.amshan:
                jobs.append(("amshan", [args.amshan, "-c", AMSHAN, str(path)]))
            results: dict[str, list[tuple[float, int, int, float]]] = {label: [] for label, _ in jobs}
            if warm:  # untimed: fills the bytecode cache (``installed_env``) and the page cache
                for _, argv in jobs:
                    run_once(spawner, argv, out)
                warm = False
            for _ in range(args.runs):
                for label, argv in jobs:
                    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
                        stale.unlink(missing_ok=True)
                    results[label].append(run_once(spawner, argv, out))
            print(
                f"\n{cap.frames_in} frames ({len(cap.data) / 1e6:.1f} MB, {cap.expected} intact), "
                f"medians of {args.runs}; load now {os.getloadavg()[0]:.2f}"
            )
            print(
                f"  {'run':<24} {'seconds':>8} {'frames/s':>10} {'CPU s':>8} {'per CPU s':>10} "
                f"{'peak MB':>8} {'lines':>8}"
            )
            for label, samples in results.items():
                secs = statistics.median(s[0] for s in samples)
                cpu = statistics.median(s[3] for s in samples)
                rss = statistics.median(s[1] for s in samples) / 1024
                print(
                    f"  {label:<24} {secs:>8.3f} {cap.frames_in / secs:>10,.0f} {cpu:>8.3f} "
                    f"{cap.frames_in / cpu:>10,.0f} {rss:>8.0f} {samples[-1][2]:>8}"
                )
            for line in cost_lines(results):
                print(line)
            if args.amshan:
                base = statistics.median(s[0] for s in results["amshan"])
                for label, samples in results.items():
                    if label != "amshan" and not label.endswith("hex"):
                        ratio = base / statistics.median(s[0] for s in samples)
                        print(f"  {label} is {ratio:.1f}x amshan")
        spawner.close()


if __name__ == "__main__":
    main()
