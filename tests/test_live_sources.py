"""Live sources lose neither bytes nor time (issue 8): what a bridge sends at once, the arrival time
of frames the idle flush recovers, the summary on SIGTERM/SIGHUP, a silent source, a pty that
takes no parity, and clear words for sources that are not ports.

Real parts only: sockets on 127.0.0.1, pseudo-terminals, child processes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from amsread.hdlc import FrameSplitter
from amsread.pipeline import Pipeline
from conftest import raw

# --------------------------------------------------------------------------------------------
# the idle flush keeps each frame's arrival time
# --------------------------------------------------------------------------------------------


def test_frames_recovered_by_the_idle_flush_keep_their_arrival_time() -> None:
    """A false start (a good header whose length runs past the frame behind it) hides a real frame
    until the line falls silent; the flush that finds it must stamp it with the time its closing
    flag arrived, like any other live frame, not leave it without a time."""
    false_start = raw("fw_kamstrup_list3_2")[:20]  # header and HCS verify; 302 bytes promised
    frame = raw("amshan_aidon_list1_1")
    windows: list[tuple[float, float]] = []

    def live() -> Iterator[bytes]:
        for chunk in (false_start + frame[:10], frame[10:]):
            before = time.time()
            yield chunk
            windows.append((before, time.time()))
        yield b""  # silence: the pipeline (idle_flush=0) ends the false start

    pipeline = Pipeline(idle_flush=0)
    readings = list(pipeline.readings(live(), live=True))
    assert len(readings) == 1 and pipeline.stats.splitter.truncated == 1
    _, (lo, hi) = windows
    stamp = readings[0].received_at
    assert stamp is not None
    assert lo <= stamp.timestamp() <= hi  # the second chunk brought the closing flag


def test_splitter_flush_stamps_each_frame_with_its_own_closing_flag() -> None:
    """Two frames behind one false start, arrived at different (given) times, keep them apart."""
    a, b = raw("amshan_aidon_list1_1"), raw("amshan_aidon6525_list1_2")
    stream = raw("fw_kamstrup_list3_2")[:20] + a + b
    splitter = FrameSplitter()
    assert splitter.feed(stream, 1.0) == []
    ends = {20 + len(a) - 1: 10.0, 20 + len(a) + len(b) - 1: 20.0}
    frames = splitter.flush(lambda offset: ends.get(offset, -1.0))
    assert [f.raw for f in frames] == [a, b]
    assert [f.received_at for f in frames] == [10.0, 20.0]
