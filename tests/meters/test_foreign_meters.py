"""Meters from beyond Norway (issue 5): what the four captures say, value by value, and the shape rules.

* ``doc_landisgyr_e450_gcm_encrypted``: L+G E450, Netz Burgenland (AT), AES-GCM; 14 bare values.
* ``fw_kaifa_mbus-gcm_1``: Kaifa MA309 (PL), M-Bus, AES-CTR; a bare clock pair, then registers.
* ``fw_landisgyr_gbt_1``: L+G E450 (CH), block transfer; the push object list, then the values.
* ``issue_iskra_am550_segmented``: Iskra AM550 (CH), HDLC segmentation; a structure of registers.

Expected numbers are from the vectors' ``source_states``/notes where they give them, else from the
plaintext bytes (quoted beside each assertion).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from click.testing import CliRunner

from amsread.cli.main import cli
from amsread.contract import Reading
from amsread.cosem.axdr import Data
from amsread.cosem.ciphering import Keys
from amsread.decode.decoder import DecodeOptions, ReadingDecoder, to_reading
from amsread.decode.generic import items_from_tree
from amsread.decode.message import Message
from amsread.decode.pipeline import Pipeline
from amsread.errors import LayoutError
from amsread.meters import CAPTURE_OBJECT_SCALERS, POSITIONAL_LISTS
from amsread.meters.landisgyr import LANDISGYR_E450_AT_11, LANDISGYR_E450_AT_14
from amsread.wire.hdlc import build_frame
from helpers.decoding import axdr, o
from helpers.vectors import raw, vector

LG_GCM = "doc_landisgyr_e450_gcm_encrypted"
LG_KEYS = Keys.from_hex("34743677397A24432646294A404E6352", "C0C1C2C3C4C5C6C7C8C9CACBCCCDCECF")
KAIFA_PL = "fw_kaifa_mbus-gcm_1"
LG_GBT = "fw_landisgyr_gbt_1"
ISKRA = "issue_iskra_am550_segmented"
CET = dt.timezone(dt.timedelta(hours=1))
CEST = dt.timezone(dt.timedelta(hours=2))


def one(name: str, options: DecodeOptions | None = None) -> Reading:
    pipeline = Pipeline()
    readings = list(pipeline.readings([raw(name)], decoder=ReadingDecoder(options)))
    assert not pipeline.stats.errors, dict(pipeline.stats.errors)
    (reading,) = readings
    return reading


def d(text: str) -> Decimal:
    return Decimal(text)


def assert_values(reading: Reading, want: dict[str, Any]) -> None:
    """Exactly these values, each equal and of the meter's resolution (``0.00`` is not ``0``)."""
    assert set(reading.values) == set(want)
    for k, v in want.items():
        got = reading.values[k]
        assert got == v and type(got) is type(v), (k, got, v)
        if isinstance(v, Decimal):
            assert got.as_tuple().exponent == v.as_tuple().exponent, (k, got, v)


# --------------------------------------------------------------------------------------------
# the four captures
# --------------------------------------------------------------------------------------------


def test_landisgyr_e450_gcm() -> None:
    r = one(LG_GCM, DecodeOptions(keys=LG_KEYS))
    # header 0C 07E7 03 1C 02 13 0B 14 FF 8000 00: 2023-03-28 19:11:20, deviation not specified
    assert r.meter_time == dt.datetime(2023, 3, 28, 19, 11, 20, tzinfo=CEST)
    assert r.manufacturer == "landisgyr"  # system title "LGZ..."
    assert r.list is None and r.layout == "generic:landisgyr-e450-at-14"
    assert_values(
        r,
        {
            "meter_id": "30137181",  # 09 08 "30137181"
            "voltage_l1": 236,  # 12 00EC, whole volts
            "voltage_l2": 237,
            "voltage_l3": 236,
            "current_l1": d("0.00"),  # 12 0000 x 0.01 A
            "current_l2": d("0.04"),
            "current_l3": d("0.26"),  # 12 001A
            "active_power_import": 29,  # 06 0000001D W
            "active_power_export": 0,
            "active_energy_import": d("31358.606"),  # 06 01DE7E8E Wh
            "active_energy_export": d("7.619"),  # 06 00001DC3 Wh
        },
    )


def test_kaifa_ma309_mbus_ctr() -> None:
    states = vector(KAIFA_PL)["source_states"]
    r = one(KAIFA_PL, DecodeOptions(keys=Keys.from_hex(vector(KAIFA_PL)["key"])))
    # clock 07E5 09 1B 01 14 38 00 00 FF88 80: 20:56:00, deviation -120 (UTC = local - 2 h), DST
    assert r.meter_time == dt.datetime(2021, 9, 27, 20, 56, tzinfo=CEST)
    assert r.manufacturer == "kaifa" and r.layout == "generic:mixed"
    assert_values(
        r,
        {
            "meter_id": states["meter_id"],
            "voltage_l1": d("227.1"),
            "voltage_l2": d("233.0"),
            "voltage_l3": d("233.6"),
            "current_l1": d("12.41"),
            "current_l2": d("0.02"),
            "current_l3": d("0.31"),
            "active_power_import": states["p_act_in_W"],
            "active_power_export": 0,
            "active_energy_import": d("278.041"),
            "active_energy_export": d("0.000"),
            "reactive_energy_import": d("3.932"),
            "reactive_energy_export": d("38.584"),
            "0-0:42.0.0.255": b"KFM1200200169986".hex(),  # COSEM logical device name, no contract name
        },
    )
    assert r.values["active_energy_import"] == Decimal(str(states["a_act_in_kWh"]))
    for phase in (1, 2, 3):
        assert r.values[f"voltage_l{phase}"] == Decimal(str(states[f"ul{phase}_V"]))
        assert r.values[f"current_l{phase}"] == Decimal(str(states[f"il{phase}_A"]))


def test_landisgyr_e450_block_transfer() -> None:
    r = one(LG_GBT)
    # header 0C 07E8 02 1D 04 16 30 32 FF 8000 00: 2024-02-29 22:48:50, deviation not specified
    assert r.meter_time == dt.datetime(2024, 2, 29, 22, 48, 50, tzinfo=CET)
    assert r.manufacturer is None  # neither a system title nor a list id names the maker
    assert r.layout == "generic:capture-objects"
    assert_values(
        r,
        {
            "meter_id": "63326413",  # 0-0:96.1.0.255
            "active_power_import": 362,  # 1-0:1.7.0.255 = 06 0000016A, W
            "active_power_export": 0,
            "active_energy_import": d("2302.502"),  # 1-1:1.8.0.255 = 06 00232226 Wh
            "active_energy_export": d("1.048"),  # 1-1:2.8.0.255 = 06 00000418 Wh
            "1-1:5.8.0.255": 34671,  # reactive energy per quadrant: no contract names
            "1-1:6.8.0.255": 0,
            "1-1:7.8.0.255": 2675,
            "1-1:8.8.0.255": 706216,
            "current_l1": d("0.51"),  # 1-0:31.7.0.255 = 12 0033 x 0.01 A
            "current_l2": d("1.05"),
            "current_l3": d("0.52"),
        },
    )
    assert r.obis["active_energy_import"] == "1-1:1.8.0.255"
    assert one(LG_GBT, DecodeOptions(manufacturer="landisgyr")).manufacturer == "landisgyr"  # --meter


def test_iskra_am550_segmented() -> None:
    r = one(ISKRA)
    # header 0C 07E5 0B 02 02 15 33 00 00 FFC4 00: 21:51:00 with deviation -60 (CET)
    assert r.meter_time == dt.datetime(2021, 11, 2, 21, 51, tzinfo=CET)
    assert r.manufacturer is None and r.layout == "generic:register-structure"
    assert_values(
        r,
        {
            "meter_id": "78344537",  # 0-0:96.1.0.255
            # 0-0:96.1.1.255 is a second device id in IDIS lists, not the meter type (only
            # Kamstrup's 1-1:96.1.1.255 is): kept under its code, as sent
            "0-0:96.1.1.255": "313331333034",
            "active_power_import": 0,
            "active_power_export": 0,
            "active_energy_import": d("58.276"),  # 06 0000E3A4, scaler 0, Wh
            "active_energy_export": d("3.038"),
            "voltage_l1": d("233.6"),  # 12 0920, scaler -1
            "voltage_l2": d("0.0"),
            "voltage_l3": d("0.0"),
            "current_l1": d("0.00"),  # scaler -2
            "current_l2": d("0.00"),
            "current_l3": d("0.00"),
            "active_energy_import_t1": d("33.921"),
            "active_energy_import_t2": d("24.355"),
            "active_energy_export_t1": d("0.000"),
            "active_energy_export_t2": d("3.038"),
        },
    )
    assert (
        r.values["active_energy_import_t1"] + r.values["active_energy_import_t2"]
        == r.values["active_energy_import"]
    )


def test_json_lines_of_the_foreign_captures(tmp_path: Any) -> None:
    lines = []
    for name, args in ((LG_GBT, []), (ISKRA, []), (KAIFA_PL, ["--key", vector(KAIFA_PL)["key"]])):
        path = tmp_path / f"{name}.hex"
        path.write_text(vector(name)["hex"])
        result = CliRunner().invoke(cli, ["json", str(path), "-q", *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        lines += result.stdout.splitlines()
    assert len(lines) == 3
    assert '"current_l1": 0.51' in lines[0]
    assert '"active_energy_import": 58.276' in lines[1]
    assert '"meter_time": "2021-09-27T20:56:00+02:00"' in lines[2]


# --------------------------------------------------------------------------------------------
# the shape rules, on built bodies
# --------------------------------------------------------------------------------------------


def notification(body: Any) -> bytes:
    """An HDLC frame carrying a data-notification (no date-time) with ``body``."""
    return build_frame(b"\xe6\xe7\x00\x0f\x40\x00\x00\x00\x00" + Data.build(axdr(body)))


def decode_body(body: Any) -> Reading:
    pipeline = Pipeline()
    (reading,) = pipeline.readings([notification(body)], decoder=ReadingDecoder(use_layouts=False))
    assert not pipeline.stats.errors
    return reading


def reg(obis: str, tag: int, value: int, scaler: int, unit: int) -> Any:
    return (0x02, [(0x09, o(obis)), (tag, value), (0x02, [(0x0F, scaler), (0x16, unit)])])


def test_registers_in_an_array_are_aidon_style_and_in_a_structure_not() -> None:
    items = [reg("1-0:1.7.0.255", 0x06, 1500, 0, 27), reg("1-0:32.7.0.255", 0x12, 2301, -1, 35)]
    in_array = decode_body((0x01, items))
    in_structure = decode_body((0x02, items))
    assert in_array.layout == "generic:registers" and in_array.manufacturer == "aidon"
    assert in_structure.layout == "generic:register-structure" and in_structure.manufacturer is None
    assert in_structure.values == {"active_power_import": 1500, "voltage_l1": d("230.1")}


def test_mixed_pairs_and_registers() -> None:
    clock = bytes.fromhex("07e5091b0114380000ff8880")
    body = (
        0x02,
        [
            (0x09, o("0-0:1.0.0.255")),
            (0x09, clock),
            (0x02, [(0x09, o("0-0:96.1.0.255")), (0x09, b"1KFM0200169986")]),
            reg("1-0:31.7.0.255", 0x12, 1241, -2, 33),
            (0x00, None),
            (0x00, None),
            (0x09, o("1-0:1.7.0.255")),
            (0x06, 2867),
        ],
    )
    r = decode_body(body)
    assert r.layout == "generic:mixed"
    assert r.meter_time == dt.datetime(2021, 9, 27, 20, 56, tzinfo=CEST)
    assert r.values == {"meter_id": "1KFM0200169986", "current_l1": d("12.41"), "active_power_import": 2867}


def capture_body(extra_descriptor: bool = False) -> Any:
    descriptors = [
        (40, "0-8:25.9.0.255", 2, 0),
        (40, "0-8:25.9.0.255", 1, 0),
        (1, "0-0:96.1.0.255", 2, 0),
        (8, "0-0:1.0.0.255", 2, 0),
        (3, "1-0:1.7.0.255", 2, 0),
        (3, "1-0:31.7.0.255", 2, 0),
        (3, "1-0:32.7.0.255", 2, 0),
        (3, "1-0:1.8.0.255", 2, 0),
        (3, "1-0:13.7.0.255", 2, 0),
        (3, "1-0:1.7.0.255", 3, 0),
    ]
    if extra_descriptor:
        descriptors.append((3, "1-0:2.7.0.255", 2, 0))
    array = (
        0x01,
        [
            (0x02, [(0x12, cls), (0x09, o(code)), (0x0F, attr), (0x12, index)])
            for cls, code, attr, index in descriptors
        ],
    )
    values = [
        (0x09, o("0-8:25.9.0.255")),
        (0x09, b"63326413"),
        (0x09, bytes.fromhex("07e8021d04163032ff800000")),
        (0x06, 362),
        (0x12, 51),
        (0x12, 231),
        (0x06, 2302502),
        (0x12, 950),
        (0x02, [(0x0F, 0), (0x16, 27)]),
    ]
    return (0x02, [array, *values])


def test_capture_objects_rule() -> None:
    r = decode_body(capture_body())
    assert r.layout == "generic:capture-objects"
    assert r.meter_time == dt.datetime(2024, 2, 29, 22, 48, 50, tzinfo=CET)
    # push setup entries and the scaler-unit attribute are not readings; power factor has no
    # implicit scaler (none is documented): 950 is no power factor, so it is left out and
    # reported as implausible, never printed (issue 13)
    assert r.values == {
        "meter_id": "63326413",
        "active_power_import": 362,
        "current_l1": d("0.51"),
        "voltage_l1": 231,
        "active_energy_import": d("2302.502"),
    }
    assert r.implausible == (("power_factor", 950),)
    assert CAPTURE_OBJECT_SCALERS == {"current": -2, "voltage": 0, "power": 0, "energy": 0}


def test_capture_objects_need_one_value_per_object() -> None:
    tree_body = capture_body(extra_descriptor=True)
    with pytest.raises(LayoutError):
        decode_tree(tree_body)


def decode_tree(body: Any) -> Any:
    from amsread.cosem.axdr import decode_data

    return items_from_tree(
        decode_data(Data.build(axdr(body))), rules=POSITIONAL_LISTS, capture_scalers=CAPTURE_OBJECT_SCALERS
    )


def test_landisgyr_burgenland_eleven_values() -> None:
    """The 11-value form (Tasmota issue 23027: ``02 0B 12 00E4 12 00E2 12 00E6 12 030D ...``)."""
    values = [228, 226, 230, 781, 1482, 643, 5432, 0, 40090000, 0]
    body = (0x02, [*((0x12 if i < 6 else 0x06, v) for i, v in enumerate(values)), (0x09, b"30052002")])
    r = decode_body(body)
    assert r.layout == "generic:landisgyr-e450-at-11" and r.manufacturer == "landisgyr"
    assert r.values["current_l2"] == d("14.82") and r.values["voltage_l3"] == 230
    assert r.values["active_energy_import"] == d("40090.000") and r.values["meter_id"] == "30052002"
    assert len(LANDISGYR_E450_AT_11.layout.fields) == 11 and len(LANDISGYR_E450_AT_14.layout.fields) == 14


def test_bare_values_of_no_known_list_are_still_an_error() -> None:
    with pytest.raises(LayoutError, match="unknown layout: 3 bare values"):
        decode_tree((0x02, [(0x12, 1), (0x12, 2), (0x12, 3)]))


def test_to_reading_of_positional_items_keeps_unknown_positions_out() -> None:
    body = tuple([236, 237, 236, 0, 4, 26, 29, 0, 31358606, 7619, 400, 53, 295, b"30137181"])
    items, style = items_from_tree(body, rules=POSITIONAL_LISTS)
    assert style == "landisgyr-e450-at-14" and len(items) == 11
    r = to_reading(Message.from_items(items, None, "landisgyr", style), DecodeOptions())
    assert r.values["current_l3"] == d("0.26") and "400" not in str(r.values)
