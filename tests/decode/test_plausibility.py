"""Values no meter can mean are never printed silently (issue 13): left out, counted, told once.

Each case is a real capture's message with one thing wrong that real readers have got wrong: a
scaler not applied, a value misread. The limits are data (``contract.LIMITS``).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from amsread.contract import LIMITS, implausible
from amsread.cosem.ciphering import ApduUnwrapper, Keys
from amsread.decode.decoder import DecodeOptions, ReadingDecoder, to_reading
from amsread.decode.message import Message
from amsread.decode.pipeline import IMPLAUSIBLE, Pipeline
from amsread.wire.framer import Framer
from amsread.wire.hdlc import build_frame, strip_llc
from helpers.cli import run
from helpers.vectors import raw, vector

CELJE = "amsreader_gh615_iskra_am550_si_celje_2"
EVN = "evn_netznoe_doc_kaifa_ma309_mbus_gcm_1"


def message_of(name: str) -> Message:
    v = vector(name)
    keys = Keys.from_hex(v["key"], v.get("auth_key")) if v.get("key") else None
    (envelope,) = Framer().messages([raw(name)])
    info = envelope.payload
    apdu = strip_llc(info) if envelope.has_llc else info
    if apdu[:1] == b"\xdb":
        opened = ApduUnwrapper(keys)(apdu)
        assert opened is not None
        apdu = opened
    msg = ReadingDecoder().message(apdu)
    assert msg is not None
    return msg


def with_value(msg: Message, name: str, raw_value: int) -> Message:
    values = list(msg.values)
    values[[s.name for s in msg.slots].index(name)] = raw_value
    return replace(msg, values=tuple(values))


def test_a_voltage_without_its_scaler_is_left_out() -> None:
    """The Celje list read without the operator's 0.1 V scale: U3 2347 V, the issue's example."""
    msg = message_of(CELJE)
    unscaled = replace(msg, scalers=(None,) * len(msg.slots))
    reading = to_reading(unscaled, DecodeOptions())
    assert dict(reading.implausible) == {"voltage_l1": 2314, "voltage_l2": 2303, "voltage_l3": 2347}
    assert not any(k.startswith("voltage") for k in reading.values)
    assert reading.values["active_power_import"] == 2400  # the rest is printed
    assert str(to_reading(msg, DecodeOptions()).values["voltage_l3"]) == "234.7"


def test_ten_kiloamperes_is_no_current() -> None:
    msg = with_value(message_of(CELJE), "current_l2", 1_000_000)  # 10 000.00 A
    reading = to_reading(msg, DecodeOptions())
    assert dict(reading.implausible) == {"current_l2": Decimal("10000.00")}
    assert "current_l2" not in reading.values and str(reading.values["current_l1"]) == "4.59"


def test_a_current_transformer_meter_current_is_plausible() -> None:
    """The Danish CT capture's 939.55 A is a real primary current: kept."""
    (reading,) = Pipeline().readings([raw("fw_kamstrup_dklist_1")], decoder=ReadingDecoder())
    assert not reading.implausible and reading.values["current_l1"] > 900


def test_a_power_factor_above_one_is_left_out() -> None:
    msg = with_value(message_of(EVN), "power_factor", 1500)  # scaler -3: 1.500
    reading = to_reading(msg, DecodeOptions())
    assert dict(reading.implausible) == {"power_factor": Decimal("1.500")}
    assert "power_factor" not in reading.values
    assert str(to_reading(message_of(EVN), DecodeOptions()).values["power_factor"]) == "1.000"


def test_limits_are_data_with_a_cause() -> None:
    assert {limit.quantity for limit in LIMITS} == {"voltage", "current", "power_factor"}
    assert all(limit.cause and limit.low < limit.high for limit in LIMITS)
    assert implausible("voltage_l1", Decimal("500")) is None and implausible("voltage_l1", 501) is not None
    assert implausible("active_power_import", 10**9) is None  # no limit: a power is not judged


def test_stream_counts_each_and_warns_once_naming_the_cause() -> None:
    """An Aidon list 2 whose voltage scalers read 0 instead of -1: three voltages of ~2270 V."""
    (info,) = [e.payload for e in Framer().messages([raw("doc_aidon_6534_list2")])]
    assert info.count(b"\x0f\xff\x16\x23") == 3
    bad = build_frame(info.replace(b"\x0f\xff\x16\x23", b"\x0f\x00\x16\x23"))
    code, out, err = run("json", "-", input=bad + bad)
    assert code == 0, err
    rows = out.splitlines()
    assert len(rows) == 2 and all('"voltage' not in row and '"current_l1"' in row for row in rows)
    warnings = [line for line in err.splitlines() if "no measurement" in line]
    assert len(warnings) == 1 and "voltage_l1" in warnings[0] and "missing scaler" in warnings[0]
    assert f"6 {IMPLAUSIBLE}" in err.splitlines()[-1]
