"""Real P1 telegrams to readings (``decode.p1``): each decodes to the values it states.

The output contract's names and units: kW → W and kvar → var exactly, kWh as sent; energy from
1.8.0/2.8.0 or the sum of the tariff registers; ``meter_id`` hex-decoded; ``meter_time`` in the
meter's zone with its S/W letter; the Belgian capacity-tariff lines as extra columns.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from amsread.decode.decoder import DecodeOptions, ReadingDecoder
from amsread.decode.p1 import hex_text, meter_time, p1_reading
from amsread.decode.pipeline import Pipeline
from amsread.errors import LayoutError
from amsread.wire.framer import Envelope, Framing
from amsread.wire.p1 import build_telegram
from helpers.telegrams import telegram, telegrams, wire

CET = ZoneInfo("Europe/Stockholm")
READABLE = [t["name"] for t in telegrams() if t["crc"] != "bad"]


def decode(name: str):
    readings = list(Pipeline().readings([wire(name)], decoder=ReadingDecoder(DecodeOptions(meter_tz=CET))))
    assert len(readings) == 1
    return readings[0]


def _as_text(value: object) -> str:
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


@pytest.mark.parametrize("name", READABLE)
def test_each_telegram_decodes_to_its_stated_values(name: str) -> None:
    reading = decode(name)
    fields = {**reading.as_dict()}
    for key, expected in telegram(name)["readings"].items():
        assert key in fields, f"{name}: {key} missing"
        assert _as_text(fields[key]) == expected, f"{name}: {key}"


@pytest.mark.parametrize("name", [t["name"] for t in telegrams("bad")])
def test_a_bad_crc_is_never_a_reading(name: str) -> None:
    pipeline = Pipeline()
    assert list(pipeline.readings([wire(name)], decoder=ReadingDecoder())) == []
    assert pipeline.stats.errors == {"bad P1 CRC": 1}


def test_numbers_are_exact_decimals_in_contract_units() -> None:
    values = decode("se_aidon_6534_1").values
    assert values["active_power_import"] == Decimal("870")
    assert isinstance(values["active_energy_import"], Decimal)
    assert str(values["reactive_power_export"]) == "551"


def test_tariff_registers_sum_when_no_total_is_sent_and_stay_as_columns() -> None:
    values = decode("be_fluvius_sagemcom").values
    assert values["active_energy_import"] == Decimal("661.701") + Decimal("776.784")
    assert values["active_energy_import_t1"] == Decimal("661.701")


def test_a_sent_total_wins_over_the_tariff_sum() -> None:
    lines = ["1-0:1.8.0(00000100.000*kWh)", "1-0:1.8.1(000010.000*kWh)", "1-0:1.8.2(000020.000*kWh)"]
    reading = p1_reading(build_telegram("ADN9 6534", lines), CET)
    assert reading.values["active_energy_import"] == Decimal("100.000")


def test_the_gas_meter_id_is_never_the_meter_id() -> None:
    values = decode("nl_dsmr5_iskra_example").values
    assert values["meter_id"] == "K8EG004046395507"
    assert values["0-1:96.1.0"] == "3232323241424344313233343536373839"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("231029023000S", "2023-10-29T02:30:00+02:00"),  # the first 02:30 of the autumn night
        ("231029023000W", "2023-10-29T02:30:00+01:00"),  # the second
        ("240112231755W", "2024-01-12T23:17:55+01:00"),
        ("000001000000W", None),  # month 0 is no date: the value is kept under its code
    ],
)
def test_meter_time_reads_its_summer_winter_letter(text: str, expected: str | None) -> None:
    got = meter_time(text, CET)
    assert (got.isoformat() if got else None) == expected


def test_hex_ids_are_decoded_and_other_text_kept() -> None:
    assert hex_text("4B384547303034303436333935353037") == "K8EG004046395507"
    assert hex_text("4530xxx") == "4530xxx"
    assert hex_text("00000000") == "00000000"  # NUL characters: kept as sent


def test_a_telegram_without_values_is_a_layout_error() -> None:
    with pytest.raises(LayoutError):
        p1_reading(build_telegram("XYZ5 nothing", []), CET)


def test_control_characters_in_text_values_are_made_visible() -> None:
    reading = p1_reading(
        build_telegram("ADN9 6534", ["0-0:96.13.0(1B5B324A)", "1-0:1.7.0(0001.000*kW)"]), CET
    )
    assert reading.values["active_power_import"] == Decimal("1000")
    assert "\x1b" not in str(reading.values)


def test_the_decoder_dispatches_on_the_framing() -> None:
    data = wire("se_landisgyr_e360").rstrip(b"\r\n")
    reading = ReadingDecoder().decode(Envelope(Framing.P1, data, None, None, (data,)))
    assert reading is not None and reading.manufacturer == "landisgyr"
