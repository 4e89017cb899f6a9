"""Every HAN-port meter in Europe with no options (issue 13): positional lists, EVN, Sagemcom, makers.

Each capture here is real (``tests/data/valid``, copied from the shared set with its ``source``);
the expected numbers are the captures' reference readings, which rest on the documents each
layout's table names.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from amsread.cli.main import cli
from amsread.contract import Reading
from amsread.cosem.apdu import decode_apdu
from amsread.cosem.ciphering import ApduUnwrapper, Keys
from amsread.decode.decoder import DecodeOptions, ReadingDecoder, to_reading
from amsread.decode.pipeline import Pipeline
from amsread.errors import LayoutError
from amsread.wire.framer import Framer
from amsread.wire.hdlc import strip_llc
from amsread.wire.mbus import MbusSplitter, build_mbus_frame, mbus_checksum
from helpers.vectors import raw, vector, vectors

#: Reference values that are wrong by the rule of issue 13, and why.
WRONG_REFERENCES: dict[str, str] = {
    **{
        name: "a lone Aidon / L+G E350 list 1: the same bytes from both makers, so it names none "
        "(test_a_lone_shared_list1_names_no_maker)"
        for name in (
            "fw_landisgyr_list1_1",
            "amsreader_lngraw_lg_e350_no_zff1_list1_1",
            "doc_aidon_6534_list1",
            "amshan_aidon6525_list1_2",
            "amshan_aidon_list1_1",
            "hassams_aidon6534_list1_1",
        )
    }
}

#: What the frame cannot tell, as the shared checker's ``needs_preset`` says.
PRESETS: dict[str, list[str]] = {"fw_kamstrup_list3_5": ["--country", "SE"]}

#: Each new positional list: a capture of it and the layout it must be read as.
POSITIONAL = {
    "amsreader_gh615_iskra_am550_si_5s_2": "iskra-si-ljubljana-18",
    "amsreader_gh615_iskra_am550_si_15min_2": "iskra-si-ljubljana-12",
    "amsreader_gh869_iskra_am550_si_1p_1": "iskra-si-ljubljana-1p",
    "amsreader_gh615_iskra_am550_si_celje_2": "iskra-si-celje-12",
    "amsreader_gh787_iskra_am550_at_kelag_gcm_1": "at-variant1-12",
    "shrdzm_siemens_im350_at_gcm_2": "at-variant1-12",
    "shrdzm_siemens_im350_at_wels_gcm_1": "at-variant1-10",
    "energyagent_wienernetze_ir_iskra_am550_gcm_2": "wiener-netze-9",
    "energyagent_wienernetze_ir_siemens_gcm_1": "siemens-wiener-netze-10",
}


def keys_of(v: dict[str, Any]) -> Keys | None:
    if not v.get("key"):
        return None
    return Keys.from_hex(v["key"], v.get("auth_key"))


def key_args(v: dict[str, Any]) -> list[str]:
    args = ["--key", v["key"]] if v.get("key") else []
    return args + (["--auth-key", v["auth_key"]] if v.get("auth_key") else [])


def same(want: Any, got: Any, field: str) -> bool:
    """The shared checker's comparison: meter_time to the second, numbers exactly."""
    if field == "meter_time":
        return isinstance(got, str) and got[:19] == str(want)[:19]
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        return got is not None and Decimal(str(got)) == Decimal(str(want))
    return got == want


def readings_of(name: str) -> list[Reading]:
    v = vector(name)
    pipeline = Pipeline()
    out = list(pipeline.readings([raw(name)], decoder=ReadingDecoder(DecodeOptions(keys=keys_of(v)))))
    assert not pipeline.stats.errors, dict(pipeline.stats.errors)
    return out


def plain_apdu(name: str) -> bytes:
    """The capture's (deciphered) data-notification."""
    v = vector(name)
    unwrap = ApduUnwrapper(keys_of(v))
    for envelope in Framer().messages([raw(name)]):
        info = envelope.payload
        apdu = strip_llc(info) if envelope.has_llc else info
        if apdu[:1] == b"\xdb":
            opened = unwrap(apdu)
            assert opened is not None
            apdu = opened
        return apdu
    raise AssertionError(f"{name}: no message")


# --------------------------------------------------------------------------------------------
# the whole shared set, as check-readings runs it
# --------------------------------------------------------------------------------------------


def test_every_capture_matches_its_reference_through_amsread_json(tmp_path: Path) -> None:
    """``check-readings`` in-process: every capture with reference readings (and its published
    keys) through ``amsread json``; no difference but the references named wrong above."""
    checked = differences = 0
    wrong: list[str] = []
    for v in vectors("valid"):
        if not v.get("readings") or (v.get("encrypted") and not v.get("key")):
            continue
        path = tmp_path / f"{v['name']}.bin"
        path.write_bytes(bytes.fromhex(v["hex"]))
        result = CliRunner().invoke(cli, ["json", str(path), "-q", *key_args(v), *PRESETS.get(v["name"], [])])
        assert result.exit_code == 0, (v["name"], result.output)
        got = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(got) == len(v["readings"]), v["name"]
        for want, reading in zip(v["readings"], got, strict=True):
            for key, value in want.items():
                checked += 1
                if not same(value, reading.get(key), key):
                    differences += 1
                    wrong.append(f"{v['name']}.{key}: want {value!r}, got {reading.get(key)!r}")
    assert checked >= 1560
    unexplained = [w for w in wrong if w.split(".")[0] not in WRONG_REFERENCES]
    assert unexplained == []
    assert sorted({w.split(".")[0] for w in wrong}) == sorted(WRONG_REFERENCES)


# --------------------------------------------------------------------------------------------
# positional lists: one test per layout, and the mutation that must not pass as it
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "layout"), POSITIONAL.items(), ids=list(POSITIONAL))
def test_positional_list_is_recognised_with_no_option(name: str, layout: str) -> None:
    (reading,) = readings_of(name)
    assert reading.layout == f"generic:{layout}"
    for key, want in vector(name)["readings"][0].items():
        assert same(
            want, reading.as_dict().get(key) if key != "meter_time" else reading.meter_time.isoformat(), key
        ), key


def _retyped(apdu: bytes) -> bytes:
    """The same APDU with its first double-long-unsigned (06) made double-long (05), or its first
    long-unsigned (12) made long (10): same size and, for these values, same number."""
    decoded = decode_apdu(apdu)
    k = next(i for i, t in enumerate(decoded.element_tags) if t in (0x06, 0x12))
    tag = decoded.element_tags[k]
    value = decoded.body[k]
    size = 4 if tag == 0x06 else 2
    wire = bytes((tag,)) + value.to_bytes(size, "big")
    at = apdu.index(wire, 18)
    return apdu[:at] + bytes((tag - 1 if tag == 0x06 else 0x10,)) + apdu[at + 1 :]


@pytest.mark.parametrize(("name", "layout"), POSITIONAL.items(), ids=list(POSITIONAL))
def test_one_value_of_another_type_is_not_that_layout(name: str, layout: str) -> None:
    apdu = plain_apdu(name)
    assert ReadingDecoder().message(apdu) is not None  # the original is read ...
    mutated = _retyped(apdu)
    assert mutated != apdu and len(mutated) == len(apdu)
    try:
        msg = ReadingDecoder().message(mutated)
    except LayoutError:
        return  # ... the mutant is no known list
    assert msg is not None and msg.layout != f"generic:{layout}"


def test_slovenian_18_values_keep_per_phase_import_and_export_apart() -> None:
    (reading,) = readings_of("amsreader_gh615_iskra_am550_si_5s_2")
    v = reading.values
    assert (v["active_power_import_l3"], v["active_power_export_l1"], v["active_power_export_l2"]) == (
        968,
        21,
        38,
    )
    assert str(v["voltage_l1"]) == "239.7" and str(v["current_l1"]) == "1.08"
    assert reading.manufacturer == "iskra"


def test_variant1_reads_the_meter_number_and_the_ciphered_title_names_the_maker() -> None:
    (kelag,) = readings_of("amsreader_gh787_iskra_am550_at_kelag_gcm_1")
    (wels,) = readings_of("shrdzm_siemens_im350_at_wels_gcm_1")
    assert (kelag.manufacturer, kelag.values["meter_id"]) == ("iskra", "1121378381199")
    assert (wels.manufacturer, wels.values["meter_id"]) == ("siemens", "18037098")
    assert str(kelag.values["active_energy_import"]) == "14370.048"


def test_wiener_netze_siemens_form_has_its_meter_id_first() -> None:
    (siemens,) = readings_of("energyagent_wienernetze_ir_siemens_gcm_1")
    (iskra,) = readings_of("energyagent_wienernetze_ir_iskra_am550_gcm_2")
    assert siemens.values["meter_id"] == "SMS1030788000020" and "meter_id" not in iskra.values
    assert siemens.meter_time is not None and siemens.meter_time.isoformat() == "2021-10-21T05:40:34+02:00"


# --------------------------------------------------------------------------------------------
# EVN Kaifa MA309, Sagemcom's 16-bit M-Bus length
# --------------------------------------------------------------------------------------------


def test_evn_kaifa_ma309_triples() -> None:
    (reading,) = readings_of("evn_netznoe_doc_kaifa_ma309_mbus_gcm_1")
    assert reading.layout == "generic:kaifa-evn-ma309" and reading.manufacturer == "kaifa"
    v = reading.values
    assert v["meter_id"] == "181220000009"
    assert (str(v["voltage_l1"]), str(v["current_l1"]), str(v["power_factor"])) == ("233.7", "0.00", "1.000")
    assert str(v["active_energy_import"]) == "12.937"
    assert reading.meter_time is not None and reading.meter_time.isoformat() == "2021-09-27T09:47:15+02:00"


def _sagemcom_form(frames: bytes) -> bytes:
    """The EVN capture's message re-cut as a Sagemcom T210-D sends it: a first segment of 257
    counted bytes under ``68 01 01 68``, the rest in an ordinary last segment."""
    found = MbusSplitter().feed(frames)
    data = b"".join(f.data for f in found)
    first, rest = data[: 257 - 5], data[257 - 5 :]
    body = bytes((0x53, 0xFF, 0x00, 0x01, 0x67)) + first
    head = b"\x68\x01\x01\x68" + body + bytes((mbus_checksum(body), 0x16))
    return head + build_mbus_frame(rest, 0x11)


def test_sagemcom_sixteen_bit_length_header() -> None:
    name = "evn_netznoe_doc_kaifa_ma309_mbus_gcm_1"
    data = _sagemcom_form(raw(name))
    assert data[:4] == b"\x68\x01\x01\x68" and len(MbusSplitter().feed(data)[0].raw) == 257 + 6
    pipeline = Pipeline()
    keys = keys_of(vector(name))
    (reading,) = pipeline.readings([data], decoder=ReadingDecoder(DecodeOptions(keys=keys)))
    assert not pipeline.stats.errors and pipeline.stats.mbus.frames_good == 2
    assert reading.values == readings_of(name)[0].values


def test_sagemcom_header_with_a_bad_checksum_is_a_counted_error() -> None:
    data = bytearray(_sagemcom_form(raw("evn_netznoe_doc_kaifa_ma309_mbus_gcm_1")))
    data[257 + 4] ^= 0xFF
    pipeline = Pipeline()
    assert list(pipeline.readings([bytes(data)], decoder=ReadingDecoder())) == []
    assert pipeline.stats.mbus.checksum_errors == 1


# --------------------------------------------------------------------------------------------
# the maker of a lone list 1
# --------------------------------------------------------------------------------------------


def test_a_lone_shared_list1_names_no_maker() -> None:
    """Aidon and the L+G E350 send list 1 byte for byte alike: alone it names nobody; after a
    list 2 of the same address it is that meter's; another address does not inherit it."""
    for name in WRONG_REFERENCES:
        (reading,) = readings_of(name)
        assert reading.manufacturer is None, name
    lg1, lg2 = raw("fw_landisgyr_list1_1"), raw("fw_landisgyr_list2_1")
    named = list(Pipeline().readings([lg2 + lg1], decoder=ReadingDecoder()))
    assert [r.manufacturer for r in named] == ["landisgyr", "landisgyr"]
    before = list(Pipeline().readings([lg1 + lg2 + lg1], decoder=ReadingDecoder()))
    assert [r.manufacturer for r in before] == [None, "landisgyr", "landisgyr"]
    other = list(Pipeline().readings([raw("fw_kamstrup_list2_1") + lg1], decoder=ReadingDecoder()))
    assert [r.manufacturer for r in other] == ["kamstrup", None]
    assert to_reading(named[1].message, DecodeOptions(manufacturer="aidon")).manufacturer == "aidon"  # type: ignore[arg-type]
