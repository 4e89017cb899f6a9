"""The flat per-layout declarations against the generic A-XDR tree, and the OBIS naming table (issue 3).

Four views of one body must agree on every real capture: the compiled flat declaration, the same
declaration interpreted, the generic ``cosem.axdr.Data`` tree, and the bytes themselves (every layout
rebuilds the body it parsed). The layout tables are held against han-protocol.md §3.4, and every
OBIS code amsread names has its own row (han-protocol.md §9: "copy-paste OBIS").
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import construct as c
import pytest

from amsread import obis as obis_module
from amsread.contract import Reading
from amsread.cosem.axdr import Data
from amsread.cosem.tags import TAG
from amsread.decode.decoder import DecodeOptions
from amsread.decode.flat import CompiledLayout
from amsread.decode.layout import Layout
from amsread.errors import LayoutError
from amsread.meters import BY_NAME, LAYOUTS
from amsread.obis import _BY_CDEF, Obis, info_for, info_for_raw
from amsread.wire.hdlc import build_frame
from helpers.decoding import body_of, decode, decoder, infos, one, plain_params, plain_vectors

#: What a flat parse of a body that is not its layout raises (compiled construct: struct.error too).
MISMATCH = (c.ConstructError, struct.error, ValueError, IndexError)

COMPILED = {layout.name: CompiledLayout(layout) for layout in LAYOUTS}


def _comparable(reading: Reading) -> dict[str, Any]:
    return {
        "fields": reading.as_dict(),
        "order": list(reading.as_dict()),
        "units": reading.units,
        "obis": reading.obis,
        "meter_time": reading.meter_time,
        "offset": reading.meter_time.utcoffset() if reading.meter_time else None,
        "types": {k: type(v).__name__ for k, v in reading.values.items()},
        "exponents": {k: v.as_tuple().exponent for k, v in reading.values.items() if isinstance(v, Decimal)},
    }


def _known(v: dict[str, Any]) -> list[tuple[bytes, CompiledLayout]]:
    """(body, compiled layout) of each message of ``v`` that a flat layout decodes."""
    out = []
    for info, reading in zip(infos(v["name"]), decode(v["name"])[0], strict=True):
        if reading.layout in COMPILED:
            out.append((body_of(info), COMPILED[reading.layout]))
    return out


def _fields(parsed: Any) -> dict[str, Any]:
    return {k: v for k, v in parsed.items() if not k.startswith("_")}


# --------------------------------------------------------------------------------------------
# flat layouts against the generic tree
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("v", plain_params())
@pytest.mark.parametrize(
    "options",
    [None, DecodeOptions(country="SE"), DecodeOptions(ct_ratio=Decimal("7.5"), manufacturer="landisgyr")],
    ids=["default", "SE", "ct+hint"],
)
def test_flat_and_generic_give_identical_readings(v: dict[str, Any], options: DecodeOptions | None) -> None:
    flat, p1 = decode(v["name"], options)
    tree, p2 = decode(v["name"], options, use_layouts=False)
    assert p1.stats.errors == p2.stats.errors
    assert len(flat) == len(tree) >= 1
    for a, b in zip(flat, tree, strict=True):
        assert b.layout.startswith("generic:")
        assert (a.manufacturer, a.list) == (b.manufacturer, b.list)
        assert _comparable(a) == _comparable(b)


#: Captures only the generic road reads: Iskra's register structure, and the Slovenian positional
#: lists (read by count and type, issue 13).
GENERIC_ONLY = {"issue_iskra_am550_segmented"} | {
    v["name"]
    for v in plain_vectors()
    if v["name"].startswith(("amsreader_gh615_", "amsreader_gh869_", "amsreader_gh956_"))
}


@pytest.mark.parametrize("list_id", [b"KFM_002", b"XYZ_001"])
def test_kaifa_positional_list_needs_its_list_id(list_id: bytes) -> None:
    (info,) = infos("fw_kaifa_list2_1")
    info = info.replace(b"KFM_001", list_id)
    for use_layouts in (False, True):
        with pytest.raises(LayoutError):
            decoder(use_layouts=use_layouts).decode(info)


def test_every_capture_but_iskra_takes_the_fast_road() -> None:
    generic = {v["name"] for v in plain_vectors() for r in decode(v["name"])[0] if r.layout not in COMPILED}
    assert generic == GENERIC_ONLY


@pytest.mark.parametrize("v", plain_params(exclude=GENERIC_ONLY))
def test_compiled_and_interpreted_declarations_agree(v: dict[str, Any]) -> None:
    for body, cl in _known(v):
        compiled = _fields(cl.compiled.parse(body))
        interpreted = _fields(cl.declaration.parse(body))
        assert compiled == interpreted
        assert compiled  # the values are there: v0, v1, ...
        assert all(k[0] in "vsu" and k[1:].isdigit() for k in compiled), sorted(compiled)


@pytest.mark.parametrize("v", plain_params(exclude=GENERIC_ONLY))
def test_exactly_one_layout_matches(v: dict[str, Any]) -> None:
    for body, cl in _known(v):
        matches = []
        for name, other in COMPILED.items():
            try:
                other.compiled.parse(body)
            except MISMATCH:
                continue
            matches.append(name)
        assert matches == [cl.layout.name]


def _leaves(node: Any) -> Iterator[tuple[int, Any]]:
    """The scalar values of a parsed ``cosem.axdr.Data`` tree in wire order, as (tag, value)."""
    if node.tag in (TAG.ARRAY, TAG.STRUCTURE):
        for element in node.value:
            yield from _leaves(element)
    else:
        yield node.tag, node.value


def _expected_leaves(layout: Layout, parsed: Any) -> Iterator[tuple[int, Any]]:
    """The same scalars, from the layout's table and the flat parse: OBIS codes, values, scaler-units."""
    for i, f in enumerate(layout.fields):
        if f.shape == "null_pair":
            yield TAG.NULL, None
            yield TAG.NULL, None
            continue
        if f.shape not in ("version", "bare", "bare_clock"):
            yield TAG.OCTET_STRING, f.obis
        tag = TAG.OCTET_STRING if f.shape.endswith("clock") else f.tag
        yield tag, f.const if f.const is not None else parsed[f"v{i}"]  # a required list id is a Const
        if f.shape == "reg":
            yield TAG.INTEGER, parsed[f"s{i}"]
            yield TAG.ENUM, parsed[f"u{i}"]


@pytest.mark.parametrize("v", plain_params(exclude=GENERIC_ONLY))
def test_generic_data_tree_agrees_with_flat_parse(v: dict[str, Any]) -> None:
    for body, cl in _known(v):
        tree = Data.parse(body)
        assert tree.tag == cl.layout.container
        assert len(tree.value) == cl.layout.count
        assert list(_leaves(tree)) == list(_expected_leaves(cl.layout, cl.compiled.parse(body)))


@pytest.mark.parametrize("v", plain_params(exclude=GENERIC_ONLY))
def test_layout_rebuilds_the_body(v: dict[str, Any]) -> None:
    for body, cl in _known(v):
        parsed = _fields(cl.compiled.parse(body))
        assert cl.build(parsed) == body
        assert Data.build(Data.parse(body)) == body


def test_body_declaration_rejects_trailing_and_missing_bytes() -> None:
    (info,) = infos("doc_aidon_6534_list2")
    body = body_of(info)
    cl = COMPILED["aidon-list2-4w"]
    cl.compiled.parse(body)
    for bad in (body + b"\x00", body[:-1]):
        with pytest.raises(MISMATCH):
            cl.compiled.parse(bad)


# --------------------------------------------------------------------------------------------
# the layout tables against han-protocol.md §3.4
# --------------------------------------------------------------------------------------------

ARRAY, STRUCT = TAG.ARRAY, TAG.STRUCTURE

#: name: (container, element count, Norwegian list level, a capture of it or None)
LAYOUT_TABLE: dict[str, tuple[int, int, int | None, str | None]] = {
    "aidon-list1": (ARRAY, 1, 1, "doc_aidon_6534_list1"),
    "aidon-list2-1p": (ARRAY, 9, 2, "doc_aidon_6515_list2_1phase_doc"),
    "aidon-list2-3w": (ARRAY, 12, 2, "amshan_aidon6525_list2_1"),
    "aidon-list2-4w": (ARRAY, 13, 2, "doc_aidon_6534_list2"),
    "aidon-list3-1p": (ARRAY, 14, 3, None),
    "aidon-list3-3w": (ARRAY, 17, 3, "amshan_aidon6525_list3_1"),
    "aidon-list3-4w": (ARRAY, 18, 3, "doc_aidon_6534_list3"),
    "aidon-se": (ARRAY, 27, None, "hassams_aidon6484_se_1"),
    "kaifa-list1": (STRUCT, 1, 1, "fw_kaifa_list1_1"),
    "kaifa-list2-1p": (STRUCT, 9, 2, "doc_kaifa_ma105h2e_list2_1phase"),
    "kaifa-list2-3p": (STRUCT, 13, 2, "fw_kaifa_list2_1"),
    "kaifa-list3-1p": (STRUCT, 14, 3, "doc_kaifa_ma105h2e_list3_1phase"),
    "kaifa-list3-3p": (STRUCT, 18, 3, "fw_kaifa_list3_1"),
    "kaifa-list3-3p-u64": (STRUCT, 18, 3, "fw_kaifa_list3_5"),
    "kaifa-se": (STRUCT, 36, None, "fw_kaifa_selist_1"),
    "kamstrup-list2-3p": (STRUCT, 25, 2, "fw_kamstrup_list2_1"),
    "kamstrup-list2-1p": (STRUCT, 25, 2, "fw_kamstrup_list2_7"),
    "kamstrup-list3-3p": (STRUCT, 35, 3, "fw_kamstrup_list3_1"),
    "kamstrup-list3-1p": (STRUCT, 35, 3, "fw_kamstrup_list3_4"),
    "kamstrup-list3-1p-doc": (STRUCT, 15, 3, "amshan_kamstrup_doc_list2_1"),
    "kamstrup-dk-ct": (STRUCT, 65, None, "fw_kamstrup_dklist_1"),
}


def test_layout_table_covers_every_layout() -> None:
    assert set(LAYOUT_TABLE) == set(BY_NAME) == {layout.name for layout in LAYOUTS}
    assert len(LAYOUTS) == len(BY_NAME)


@pytest.mark.parametrize("name", sorted(LAYOUT_TABLE))
def test_layout_count_and_prefix(name: str) -> None:
    container, count, level, capture = LAYOUT_TABLE[name]
    layout = BY_NAME[name]
    assert (layout.container, layout.count, layout.list_level) == (container, count, level)
    assert layout.prefix == bytes((container, count))
    if capture is not None:
        (info,) = infos(capture)
        assert body_of(info)[:2] == layout.prefix
        assert one(capture).layout == name


#: Codes a layout carries that have no contract name (kept under the code itself).
UNNAMED_IN_LAYOUTS = {"1-1:0.0.1.255"}


@pytest.mark.parametrize("name", sorted(LAYOUT_TABLE))
def test_layout_fields_are_well_formed(name: str) -> None:
    layout = BY_NAME[name]
    codes = [f.obis for f in layout.fields if f.shape != "null_pair"]
    assert len(codes) == len(set(codes)), "an OBIS code twice in one list"
    for f in layout.fields:
        if f.shape == "null_pair":
            assert f.obis == b""
            continue
        assert len(f.obis) == 6
        code = str(Obis.from_bytes(f.obis))
        assert (info_for_raw(f.obis) is not None) != (code in UNNAMED_IN_LAYOUTS), f"{name}: {code}"


def test_aidon_one_phase_list3_builds_and_decodes() -> None:
    # no capture of it: build one from the layout (AID-IF §3.2), frame it, decode it both ways
    cl = COMPILED["aidon-list3-1p"]
    values: dict[str, Any] = {
        "v0": b"AIDON_V0001",
        "v1": b"7359992890941742",
        "v2": b"6515",
        # 2022-02-13 (a Sunday: weekday 0 on Aidon) 22:00:00, deviation 0, status 0
        "v9": bytes.fromhex("07e6020d00160000ff000000"),
    }
    raw_values = {3: 1590, 4: 0, 5: 0, 6: 327, 7: -72, 8: 2331, 10: 1234567, 11: 0, 12: 89, 13: 45678}
    scaler_units = {3: (0, 27), 4: (0, 27), 5: (0, 29), 6: (0, 29), 7: (-1, 33), 8: (-1, 35)}
    scaler_units |= {10: (1, 30), 11: (1, 30), 12: (1, 32), 13: (1, 32)}
    for i, value in raw_values.items():
        values[f"v{i}"] = value
        values[f"s{i}"], values[f"u{i}"] = scaler_units[i]
    body = cl.build(values)
    assert body[:2] == b"\x01\x0e"
    apdu = b"\x0f\x40\x00\x00\x00\x00" + body
    frame = build_frame(b"\xe6\xe7\x00" + apdu, destination=b"\x41", source=b"\x08\x83")
    for use_layouts in (True, False):
        (reading,), pipeline = decode(frame, use_layouts=use_layouts)
        assert not pipeline.stats.errors
        assert reading.layout == ("aidon-list3-1p" if use_layouts else "generic:registers")
        assert (reading.manufacturer, reading.list) == ("aidon", 3)
        assert reading.values == {
            "list_version": "AIDON_V0001",
            "meter_id": "7359992890941742",
            "meter_type": "6515",
            "active_power_import": 1590,
            "active_power_export": 0,
            "reactive_power_import": 0,
            "reactive_power_export": 327,
            "current_l1": Decimal("-7.2"),
            "voltage_l1": Decimal("233.1"),
            "active_energy_import": Decimal("12345.67"),
            "active_energy_export": Decimal("0.00"),
            "reactive_energy_import": Decimal("0.89"),
            "reactive_energy_export": Decimal("456.78"),
        }
        assert reading.meter_time is not None
        assert reading.meter_time.isoformat() == "2022-02-13T22:00:00+01:00"


# --------------------------------------------------------------------------------------------
# OBIS codes and their contract names: one row per code
# --------------------------------------------------------------------------------------------

#: (code as sent, contract name, unit, exponent of the meter's base unit to the contract unit).
#: Written from IEC 62056-61 / the NEK and vendor lists, not copied from obis.py. Quantities match
#: on C.D.E.F whatever A (0 or 1) and B say; Kamstrup's own id and type codes (``KAMSTRUP_EXACT``)
#: match only in full (0-0:96.1.1.255 is a second device id in IDIS lists, e.g. Iskra AM550).
OBIS_ROWS: list[tuple[str, str, str, int]] = [
    ("1-1:0.2.129.255", "list_version", "", 0),
    ("0-0:96.1.0.255", "meter_id", "", 0),
    ("1-1:0.0.5.255", "meter_id", "", 0),
    ("0-0:96.1.7.255", "meter_type", "", 0),
    ("1-1:96.1.1.255", "meter_type", "", 0),
    ("0-0:1.0.0.255", "meter_time", "", 0),
    ("1-0:1.7.0.255", "active_power_import", "W", 0),
    ("1-0:2.7.0.255", "active_power_export", "W", 0),
    ("1-0:3.7.0.255", "reactive_power_import", "var", 0),
    ("1-0:4.7.0.255", "reactive_power_export", "var", 0),
    ("1-0:31.7.0.255", "current_l1", "A", 0),
    ("1-0:51.7.0.255", "current_l2", "A", 0),
    ("1-0:71.7.0.255", "current_l3", "A", 0),
    ("1-0:32.7.0.255", "voltage_l1", "V", 0),
    ("1-0:52.7.0.255", "voltage_l2", "V", 0),
    ("1-0:72.7.0.255", "voltage_l3", "V", 0),
    ("1-0:1.8.0.255", "active_energy_import", "kWh", -3),
    ("1-0:2.8.0.255", "active_energy_export", "kWh", -3),
    ("1-0:3.8.0.255", "reactive_energy_import", "kvarh", -3),
    ("1-0:4.8.0.255", "reactive_energy_export", "kvarh", -3),
    ("1-0:21.7.0.255", "active_power_import_l1", "W", 0),
    ("1-0:41.7.0.255", "active_power_import_l2", "W", 0),
    ("1-0:61.7.0.255", "active_power_import_l3", "W", 0),
    ("1-0:22.7.0.255", "active_power_export_l1", "W", 0),
    ("1-0:42.7.0.255", "active_power_export_l2", "W", 0),
    ("1-0:62.7.0.255", "active_power_export_l3", "W", 0),
    ("1-0:23.7.0.255", "reactive_power_import_l1", "var", 0),
    ("1-0:43.7.0.255", "reactive_power_import_l2", "var", 0),
    ("1-0:63.7.0.255", "reactive_power_import_l3", "var", 0),
    ("1-0:24.7.0.255", "reactive_power_export_l1", "var", 0),
    ("1-0:44.7.0.255", "reactive_power_export_l2", "var", 0),
    ("1-0:64.7.0.255", "reactive_power_export_l3", "var", 0),
    ("1-0:13.7.0.255", "power_factor", "", 0),
    ("1-0:33.7.0.255", "power_factor_l1", "", 0),
    ("1-0:53.7.0.255", "power_factor_l2", "", 0),
    ("1-0:73.7.0.255", "power_factor_l3", "", 0),
    ("1-0:14.7.0.255", "frequency", "Hz", 0),
    ("1-0:21.8.0.255", "active_energy_import_l1", "kWh", -3),
    ("1-0:41.8.0.255", "active_energy_import_l2", "kWh", -3),
    ("1-0:61.8.0.255", "active_energy_import_l3", "kWh", -3),
    ("1-0:22.8.0.255", "active_energy_export_l1", "kWh", -3),
    ("1-0:42.8.0.255", "active_energy_export_l2", "kWh", -3),
    ("1-0:62.8.0.255", "active_energy_export_l3", "kWh", -3),
    ("1-0:1.8.1.255", "active_energy_import_t1", "kWh", -3),
    ("1-0:1.8.2.255", "active_energy_import_t2", "kWh", -3),
    ("1-0:2.8.1.255", "active_energy_export_t1", "kWh", -3),
    ("1-0:2.8.2.255", "active_energy_export_t2", "kWh", -3),
    ("1-0:16.7.0.255", "active_power", "W", 0),
]


KAMSTRUP_EXACT = {"1-1:0.0.5.255", "1-1:96.1.1.255"}


def test_obis_rows_cover_the_table_once() -> None:
    codes = [code for code, *_ in OBIS_ROWS]
    assert len(codes) == len(set(codes)), "a code listed twice"
    cdefs = [Obis.parse(code).group_cdef for code in codes if code not in KAMSTRUP_EXACT]
    assert len(cdefs) == len(set(cdefs)), "a quantity listed twice"
    assert set(cdefs) == set(_BY_CDEF), "obis.py names a code without a row here, or lost one"
    exact = {str(Obis.from_bytes(raw)) for raw in getattr(obis_module, "_EXACT", {})}
    assert exact == KAMSTRUP_EXACT


@pytest.mark.parametrize(("code", "name", "unit", "exponent"), OBIS_ROWS, ids=[row[0] for row in OBIS_ROWS])
def test_obis_code_name(code: str, name: str, unit: str, exponent: int) -> None:
    obis = Obis.parse(code)
    want = (name, unit, exponent)
    for got in (info_for(obis), info_for_raw(obis.to_bytes())):
        assert got is not None
        assert (got.name, got.unit, got.exponent) == want
    # Aidon/Kaifa send B = 0, Kamstrup B = 1, abstract codes A = 0: all name the same quantity,
    # except Kamstrup's own id/type codes, which name nothing in another group, and the abstract
    # device codes of another channel (0-1:96.1.0 is an M-Bus sub-meter's id, see
    # test_an_m_bus_channel_id_is_not_the_meter_id)
    for a in (0, 1):
        for b in (0, 1):
            other = Obis(a, b, obis.c, obis.d, obis.e, obis.f)
            if code in KAMSTRUP_EXACT or (a == 0 and b != 0 and obis.c == 96):
                assert other == obis or info_for(other) is None, other
            else:
                for got in (info_for(other), info_for_raw(other.to_bytes())):
                    assert got is not None and (got.name, got.unit, got.exponent) == want, other
    # another medium (A = 7, gas), another F (a billing period) or a neighbour code are not this one
    assert info_for(Obis(7, 0, obis.c, obis.d, obis.e, obis.f)) is None
    assert info_for_raw(bytes((7, 0, obis.c, obis.d, obis.e, obis.f))) is None
    assert info_for(Obis(1, 0, obis.c, obis.d, obis.e, 0)) is None


def test_obis_text_round_trip() -> None:
    for code, *_ in OBIS_ROWS:
        obis = Obis.parse(code)
        assert str(obis) == code
        assert Obis.from_bytes(obis.to_bytes()) == obis


def test_unnamed_codes() -> None:
    assert info_for(Obis.parse("1-0:99.99.0.255")) is None
    assert info_for(Obis.parse("1-1:0.0.1.255")) is None  # Kamstrup DK, kept under its code
    reading = one("fw_kamstrup_dklist_1")
    assert reading.values["1-1:0.0.1.255"] == 26733640
