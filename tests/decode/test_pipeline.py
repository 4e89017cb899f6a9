"""Pipeline behaviour across messages: what it counts and warns about, never what it decodes."""

from __future__ import annotations

from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import STALE_HOURLY, Pipeline
from amsread.wire.hdlc import FrameSplitter, build_frame
from helpers.vectors import raw


def test_an_hourly_list_sent_again_is_printed_but_warned_about() -> None:
    """fw_aidon_list3_3 was sent at 18:00 with the 17:00 clock and the 17:00 counters of
    fw_aidon_list3_2 (amsreader-firmware issue 1119): a reader booking hourly energy from it would
    book 0 kWh for one hour and double the next."""
    warnings: list[str] = []
    pipeline = Pipeline(on_warning=warnings.append)
    stream = (
        raw("fw_aidon_list3_1") + raw("fw_aidon_list3_2") + raw("fw_aidon_list3_3") + raw("fw_aidon_list3_4")
    )
    readings = list(pipeline.readings([stream], decoder=ReadingDecoder()))
    assert [r.meter_time.hour for r in readings if r.meter_time] == [16, 17, 17, 19]
    assert readings[1].values["active_energy_import"] == readings[2].values["active_energy_import"]
    assert warnings == [
        "warning: hourly list at 2025-12-14T17:00:00+01:00 repeats the previous one's clock: its counters are stale"
    ]
    assert pipeline.stats.warnings[STALE_HOURLY] == 1
    assert STALE_HOURLY not in pipeline.stats.errors  # a warning, not a skipped frame
    assert pipeline.stats.readings == 4  # the reading is still printed, as sent


def test_hourly_lists_of_two_meters_are_followed_apart() -> None:
    """The same clock from two meters is no repetition; the same meter again is."""
    info = FrameSplitter().feed(raw("doc_aidon_6534_list3"))[0].information
    other = info.replace(b"7359992891237028", b"7359992891237029")
    assert other != info
    warnings: list[str] = []
    pipeline = Pipeline(on_warning=warnings.append)
    readings = list(pipeline.readings([build_frame(info) + build_frame(other)], decoder=ReadingDecoder()))
    assert [r.values["meter_id"] for r in readings] == ["7359992891237028", "7359992891237029"]
    assert warnings == []
    list(pipeline.readings([build_frame(info)], decoder=ReadingDecoder()))
    assert len(warnings) == 1


def test_a_stale_hourly_list_is_counted_apart_from_errors_and_summarised_as_before() -> None:
    pipeline = Pipeline()
    list(pipeline.readings([raw("fw_aidon_list3_2") + raw("fw_aidon_list3_3")], decoder=ReadingDecoder()))
    assert pipeline.stats.warnings == {STALE_HOURLY: 1} and not pipeline.stats.errors
    assert pipeline.stats.summary().startswith("2 frames: 2 readings, 1 stale hourly list; ")
