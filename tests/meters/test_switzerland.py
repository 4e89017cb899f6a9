"""The Swiss VSE lists (issue 13): no scaler in the frame, the scale from the meter type's table.

The E570 capture is real (``tests/data/valid/scs_lg_e570_ch_vse2026_noload_1``); the other types'
frames are built here with amsread's own construct declarations (``cosem.axdr.Data``,
``wire.hdlc.build_frame``), each object list and raw value as the published capture of that type
has it (scs/smartmeter-datacollector ``tests/testdata``; ``meters.switzerland`` names them).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from amsread.cli.main import cli
from amsread.contract import Reading
from amsread.cosem.apdu import decode_apdu
from amsread.cosem.axdr import Data
from amsread.cosem.ciphering import ApduUnwrapper
from amsread.decode.decoder import ReadingDecoder
from amsread.decode.generic import items_from_tree
from amsread.decode.pipeline import LEFT_OUT, LEFT_OUT_TOLD, Pipeline
from amsread.meters import MAKER_OF_LIST, UNSCALED_CAPTURE_LISTS
from amsread.meters.switzerland import AM550, E360, E450, E570, VSE_LIST
from amsread.wire.framer import Framer
from amsread.wire.hdlc import build_frame, strip_llc
from helpers.decoding import axdr, o
from helpers.vectors import raw

E570_CAPTURE = "scs_lg_e570_ch_vse2026_noload_1"

U16, U32, I64, U64, OSTR, VSTR, ENUM, F64 = 0x12, 0x06, 0x14, 0x15, 0x09, 0x0A, 0x16, 0x18
CLASS_OF = {"25.9.0": 40, "42.0.0": 1, "96.1.1": 1, "1.0.0": 8}


def descriptor(code: bytes, attribute: int = 2) -> Any:
    """A capture object definition ``{class_id, logical_name, attribute_index, data_index}``."""
    cde = f"{code[2]}.{code[3]}.{code[4]}"
    return (0x02, [(0x12, CLASS_OF.get(cde, 3)), (OSTR, code), (0x0F, attribute), (0x12, 0)])


def vse_frames(
    objects: tuple[bytes, ...], values: list[Any], *, attributes: dict[int, int] | None = None
) -> bytes:
    """One HDLC frame carrying a data-notification of the capture-object list ``objects`` (the
    push setup's own list first) with ``values`` after it; ``attributes`` overrides the value
    attribute by position (the E450 pushes its push setup's logical name, attribute 1)."""
    attributes = attributes or {}
    head = (0x01, [descriptor(code, attributes.get(i, 2)) for i, code in enumerate(objects)])
    body = Data.build(axdr((0x02, [head, *values])))
    stamp = bytes.fromhex("0c07ea06090210042800ff8880")  # 2026-06-09 16:04:40, -120 min, DST
    return build_frame(b"\xe6\xe7\x00\x0f\x00\x00\x00\x01" + stamp + body, segmented=False)


def readings(data: bytes, warnings: list[str] | None = None) -> tuple[list[Reading], Pipeline]:
    pipeline = Pipeline(on_warning=warnings.append if warnings is not None else None)
    return list(pipeline.readings([data], decoder=ReadingDecoder())), pipeline


def one(data: bytes, warnings: list[str] | None = None) -> Reading:
    found, pipeline = readings(data, warnings)
    assert not pipeline.stats.errors, dict(pipeline.stats.errors)
    (reading,) = found
    return reading


def same(got: Any, want: Decimal | int) -> bool:
    """Equal and of the meter's resolution (``0.06``, not ``0.060`` or ``6``)."""
    return (
        got == want
        and type(got) is type(want)
        and (not isinstance(want, Decimal) or got.as_tuple().exponent == want.as_tuple().exponent)
    )


def d(text: str) -> Decimal:
    return Decimal(text)


def name(text: str) -> Any:
    return (OSTR, text.encode())


def ints(tag: int, *values: int) -> list[Any]:
    return [(tag, v) for v in values]


# --------------------------------------------------------------------------------------------
# the real E570 capture
# --------------------------------------------------------------------------------------------


def test_the_e570_capture_takes_its_scale_from_the_table() -> None:
    """U1 ``12 00E8`` is 232 V and the currents whole amperes, because the table says the E570
    sends V and A: without the E570 entry the list is of unknown type and U/I are left out."""
    warnings: list[str] = []
    r = one(raw(E570_CAPTURE), warnings)
    assert r.layout == "generic:vse-2026-landisgyr-e570" and r.manufacturer == "landisgyr"
    assert r.meter_time == dt.datetime(2026, 6, 4, 17, 6, 40, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    for key, want in {
        "voltage_l1": 232,
        "voltage_l2": 0,
        "current_l1": 0,  # whole amperes: not 0.00
        "current_l3": 0,
        "active_power_import": 0,
        "active_energy_import": d("0.000"),
        "reactive_energy_export": d("0.000"),
    }.items():
        assert same(r.values[key], want), (key, r.values[key])
    assert warnings == [] and r.message is not None and r.message.left_out == ()


def capture_body() -> tuple[Any, ...]:
    """The reassembled data-notification body of the E570 capture."""
    unwrap = ApduUnwrapper()
    blocks = [
        e.payload if i else strip_llc(e.payload) for i, e in enumerate(Framer().messages([raw(E570_CAPTURE)]))
    ]
    (apdu,) = [a for a in map(unwrap, blocks) if a is not None]
    return decode_apdu(apdu).body


def test_the_e570_capture_without_its_table_entry_is_of_unknown_type() -> None:
    rule = dataclasses.replace(VSE_LIST, types=tuple(t for t in VSE_LIST.types if t is not E570))
    left_out: list[str] = []
    items, style = items_from_tree(capture_body(), unscaled=(rule,), left_out=left_out)
    codes = {it.obis[2:5] for it in items}
    assert style == "vse-2026-landisgyr" and bytes((32, 7, 0)) not in codes and bytes((31, 7, 0)) not in codes
    assert bytes((1, 8, 0)) in codes and bytes((1, 7, 0)) in codes  # energies and powers kept
    assert left_out == [
        "VSE-2026 list from meter LGZ1030781910790: no published scale for its voltages and "
        "currents (its object list is none of Landis+Gyr E360 or Landis+Gyr E450), left out"
    ]


def test_the_e570_object_list_is_the_captures() -> None:
    assert tuple(d[1] for d in capture_body()[0]) == E570.objects


# --------------------------------------------------------------------------------------------
# the other types, built here with their published raw values
# --------------------------------------------------------------------------------------------


def test_e570_under_load_sends_64_bit_values_in_volts_and_amperes() -> None:
    """scs ``test_lge570_load_vse_standard``: 229/230/229 V, 400/200/601 A, P+ 258874 W, as
    long64 (14) and long64-unsigned (15) values: the width varies, the list is the same."""
    values = [
        name("LGZ1030769231250"),
        *ints(U64, 2607383, 641338, 956364, 2329593),
        *ints(I64, 258874, 0, 229, 230, 229, 400, 200, 601),
    ]
    r = one(vse_frames(E570.objects, values))
    assert r.layout == "generic:vse-2026-landisgyr-e570"
    assert same(r.values["current_l1"], 400) and same(r.values["current_l3"], 601)
    assert same(r.values["voltage_l2"], 230) and same(r.values["active_power_import"], 258874)
    assert same(r.values["active_energy_import"], d("2607.383"))


def test_e360_voltage_in_tenths_current_in_hundredths() -> None:
    """scs ``test_lge360_vse_standard``: U1 ``0935`` 235.7 V, I1 ``0006`` 0.06 A; U3 before U2."""
    values = [
        name("LGZ1030163598905"),
        *ints(U32, 21956, 4547, 27256, 4432, 11, 0),
        *ints(U16, 2357, 0, 0, 6, 0, 0),
    ]
    r = one(vse_frames(E360.objects, values))
    assert r.layout == "generic:vse-2026-landisgyr-e360" and r.manufacturer == "landisgyr"
    assert same(r.values["voltage_l1"], d("235.7")) and same(r.values["voltage_l2"], d("0.0"))
    assert same(r.values["current_l1"], d("0.06")) and same(r.values["active_power_import"], 11)
    assert same(r.values["active_energy_import"], d("21.956"))


def test_e450_voltage_in_volts_current_in_hundredths() -> None:
    """scs ``lg_e450.py`` CFG2026: U ``00EC`` 236 V, I ``0009``/``0008``; the push setup's name,
    an id and the clock ride along."""
    values = [
        (OSTR, o("0-8:25.9.0.255")),
        name("LGZ1030653520967"),
        (OSTR, b"1909113"),
        (OSTR, bytes.fromhex("07ea0504010b2715ff800081")),
        *ints(U32, 482939, 0, 37, 344697, 28, 0),
        *ints(U16, 236, 236, 0, 9, 8, 0),
    ]
    r = one(vse_frames(E450.objects, values, attributes={1: 1}))
    assert r.layout == "generic:vse-2026-landisgyr-e450"
    assert same(r.values["voltage_l2"], 236) and same(r.values["current_l1"], d("0.09"))
    assert same(r.values["current_l2"], d("0.08")) and same(r.values["active_power_import"], 28)
    # the list's clock object, 07EA 05 04 01 0B 27 15 FF 8000 81: deviation not specified
    assert r.meter_time is not None and r.meter_time.isoformat() == "2026-05-04T11:39:21+02:00"


def test_am550_voltage_in_tenths_current_in_hundredths() -> None:
    """scs ``iskra_am550.py`` CFG2026: U1 ``092B`` 234.7 V (issue 13's "2347 V"), I1 ``000C``
    0.12 A beside P+ 27 W; its powers are on channel 1."""
    values = [
        name("ISK1030783821282"),
        *ints(U32, 15207, 8987, 26198, 12784, 27, 0),
        *ints(U16, 2347, 0, 0, 12, 0, 0),
    ]
    r = one(vse_frames(AM550.objects, values))
    assert r.layout == "generic:vse-2026-iskra-am550" and r.manufacturer == "iskra"
    assert same(r.values["voltage_l1"], d("234.7")) and same(r.values["current_l1"], d("0.12"))
    assert same(r.values["active_power_import"], 27) and same(r.values["active_energy_export"], d("8.987"))


def test_every_type_names_its_maker() -> None:
    assert MAKER_OF_LIST["vse-2026-landisgyr"] == "landisgyr" and MAKER_OF_LIST["vse-2026-iskra"] == "iskra"
    assert "vse-2026" not in MAKER_OF_LIST  # a maker the table does not know names nobody
    assert {t.name: MAKER_OF_LIST[t.name] for t in VSE_LIST.types} == {
        "vse-2026-landisgyr-e570": "landisgyr",
        "vse-2026-landisgyr-e360": "landisgyr",
        "vse-2026-landisgyr-e450": "landisgyr",
        "vse-2026-iskra-am550": "iskra",
    }
    assert UNSCALED_CAPTURE_LISTS == (VSE_LIST,)


# --------------------------------------------------------------------------------------------
# unknown types: voltages and currents left out, said once
# --------------------------------------------------------------------------------------------


def e570_values(device_name: str) -> list[Any]:
    return [name(device_name), *ints(U32, 1000, 0, 0, 0, 500, 0), *ints(U16, 230, 231, 232, 7, 8, 9)]


def test_an_unknown_maker_keeps_energy_and_power_and_leaves_u_and_i_out() -> None:
    warnings: list[str] = []
    frame = vse_frames(E570.objects, e570_values("XYZ0000000000042"))
    found, pipeline = readings(frame * 3, warnings)
    assert len(found) == 3 and not pipeline.stats.errors
    r = found[0]
    assert r.layout == "generic:vse-2026" and r.manufacturer is None
    assert not any(k.startswith(("voltage", "current")) for k in r.values)
    assert same(r.values["active_power_import"], 500) and same(r.values["active_energy_import"], d("1.000"))
    assert warnings == [
        "warning: VSE-2026 list from meter XYZ0000000000042: no published scale for its voltages and "
        "currents (no public source shows this list from maker XYZ), left out"
    ]
    assert pipeline.stats.warnings[LEFT_OUT] == 3


def test_ever_new_unknown_meters_are_counted_but_told_only_so_often() -> None:
    """A stream of frames each with another name must not flood stderr."""
    warnings: list[str] = []
    frames = b"".join(vse_frames(E570.objects, e570_values(f"XYZ{i:013d}")) for i in range(LEFT_OUT_TOLD + 9))
    found, pipeline = readings(frames, warnings)
    assert len(found) == LEFT_OUT_TOLD + 9 and pipeline.stats.warnings[LEFT_OUT] == LEFT_OUT_TOLD + 9
    assert len(warnings) == LEFT_OUT_TOLD and "XYZ0000000000000" in warnings[0]


def test_a_known_maker_with_another_object_order_is_of_unknown_type() -> None:
    """An Iskra list in the E570's order is no AM550 list (which has its powers on channel 1)."""
    warnings: list[str] = []
    r = one(vse_frames(E570.objects, e570_values("ISK1030783821282")), warnings)
    assert r.layout == "generic:vse-2026-iskra" and r.manufacturer == "iskra"  # ISK: the FLAG id
    assert "voltage_l1" not in r.values and "current_l1" not in r.values
    assert warnings == [
        "warning: VSE-2026 list from meter ISK1030783821282: no published scale for its voltages and "
        "currents (its object list is none of Iskra AM550), left out"
    ]


def test_the_command_line_says_why_once_on_stderr(tmp_path: Path) -> None:
    capture = tmp_path / "unknown.hex"
    capture.write_text((vse_frames(E570.objects, e570_values("ABC1234567890123")) * 2).hex() + "\n")
    result = CliRunner().invoke(cli, ["json", str(capture)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all('"voltage' not in line and '"current' not in line for line in lines)
    assert '"active_power_import": 500' in lines[0]
    told = [line for line in result.stderr.splitlines() if "ABC1234567890123" in line]
    assert len(told) == 1 and "no published scale for its voltages and currents" in told[0]
    assert f"2 {LEFT_OUT}" in result.stderr.splitlines()[-1]


# --------------------------------------------------------------------------------------------
# mutation: one value of another type is not a VSE list
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position", "mutant"),
    [
        (0, (VSTR, b"LGZ1030781910790")),  # the device name as visible-string
        (0, (U32, 42)),  # the device name as a number
        (0, (OSTR, b"lgz1030781910790")),  # no FLAG id
        (1, (OSTR, b"\x00\x00\x03\xe8")),  # A+ as octet-string
        (7, (OSTR, b"\x00\xe6")),  # U1 as octet-string
        (12, (ENUM, 9)),  # I3 as enum
        (9, (F64, 232.0)),  # U3 as float64
    ],
)
def test_one_value_of_another_type_is_not_a_vse_list(position: int, mutant: Any) -> None:
    values = e570_values("LGZ1030781910790")
    assert one(vse_frames(E570.objects, values)).layout == "generic:vse-2026-landisgyr-e570"
    values[position] = mutant
    found, pipeline = readings(vse_frames(E570.objects, values))
    assert all(not r.layout.startswith("generic:vse-2026") for r in found)
    assert found or pipeline.stats.errors  # read by the plain capture-object rule, or a counted skip


def test_an_extra_register_is_not_a_vse_list() -> None:
    """A register without a published scale (power factor) makes another list: nothing would
    say its scale."""
    objects = (*E570.objects, o("1-0:13.7.0.255"))
    r = one(vse_frames(objects, [*e570_values("LGZ1030781910790"), (0x10, 998)]))
    assert r.layout == "generic:capture-objects"


def test_an_m_bus_channel_id_is_not_the_meter_id() -> None:
    """The E450's push of its M-Bus channels (scs capture) carries 0-1..0-4:96.1.0, the device ids
    of the sub-meters on channels 1-4 (the capture's notes: "must not mis-assign the sub-meter id
    as the meter id"; DSMR names 0-1:96.1.0 the gas meter's id the same way). They keep their
    codes; channel 4's empty id once overwrote meter_id with ""."""
    r = one(raw("scs_lg_e450_ch_gbt_mbus_channels_1"))
    assert "meter_id" not in r.values
    assert r.values["0-1:96.1.0.255"] == b"24521662".hex()  # an unnamed octet string: in hex
    assert [r.values[f"0-{b}:24.2.1.255"] for b in (1, 2, 3, 4)] == [30545, 0, 0, 0]  # source_states
    assert r.meter_time is not None and r.meter_time.isoformat() == "2024-06-11T16:00:00+02:00"
