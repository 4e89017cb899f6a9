"""Home Assistant discovery payloads, checked against the MQTT contract's table on real captures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from amsread import __version__
from amsread.contract import Reading
from amsread.sinks.homeassistant import (
    ENERGY_EXPIRE_AFTER,
    STATE_EXPIRE_AFTER,
    TARIFF_SENSORS,
    Meter,
    base_topic,
    discovery_config,
    discovery_payload,
    discovery_topic,
    entity_names,
    sensor_class,
    tariff_component,
    topic_id,
)
from helpers.captures import captures_file, decode_file

#: mqtt-contract.md, "Home Assistant discovery", as (value, device_class, state_class, unit).
CONTRACT_TABLE = [
    ("active_power_import", "power", "measurement", "W"),
    ("active_power_export", "power", "measurement", "W"),
    ("reactive_power_import", "reactive_power", "measurement", "var"),
    ("reactive_power_export", "reactive_power", "measurement", "var"),
    ("current_l1", "current", "measurement", "A"),
    ("current_l3", "current", "measurement", "A"),
    ("voltage_l2", "voltage", "measurement", "V"),
    ("active_energy_import", "energy", "total_increasing", "kWh"),
    ("active_energy_export", "energy", "total_increasing", "kWh"),
    ("reactive_energy_import", None, "total_increasing", "kvarh"),
    ("reactive_energy_export", None, "total_increasing", "kvarh"),
    ("meter_time", "timestamp", None, None),
]


def reading(tmp_path: Path, name: str) -> Reading:
    return decode_file(captures_file(tmp_path, [name]))[0]


@pytest.mark.parametrize(("name", "device_class", "state_class", "unit"), CONTRACT_TABLE)
def test_each_value_gets_the_contracts_classes(
    name: str, device_class: str | None, state_class: str | None, unit: str | None
) -> None:
    config = discovery_config(Meter("7359992890941742", "aidon", "6534"), [name])
    (cmp,) = config["cmps"].values()
    assert cmp.get("device_class") == device_class
    assert cmp.get("state_class") == state_class
    assert cmp.get("unit_of_measurement") == unit


@pytest.mark.parametrize(
    "name", ["meter_id", "meter_type", "list_version", "list", "power_factor", "1-0:0.0.0.255"]
)
def test_ids_and_values_outside_the_table_get_no_entity(name: str) -> None:
    assert sensor_class(name) is None
    assert discovery_config(Meter("1"), [name])["cmps"] == {}


def test_a_list_2_makes_a_device_with_one_sensor_per_value_it_sends(tmp_path: Path) -> None:
    r = reading(tmp_path, "doc_aidon_6534_list2")
    meter = Meter.of(r)
    assert meter == Meter("7359992891237028", "aidon", "6534")
    config = json.loads(discovery_payload(meter, entity_names(r)))
    assert discovery_topic(meter.meter_id) == "homeassistant/device/amsread_7359992891237028/config"
    assert config["dev"] == {
        "ids": ["amsread_7359992891237028"],
        "name": "Aidon 6534",
        "mf": "Aidon",
        "mdl": "6534",
        "sn": "7359992891237028",
    }
    assert config["o"] == {"name": "amsread", "sw": __version__}
    assert config["availability"][0]["topic"] == "amsread/7359992891237028/status"
    names = [
        n for n in r.as_dict() if n not in ("manufacturer", "list", "list_version", "meter_id", "meter_type")
    ]
    assert list(config["cmps"]) == names  # every value sent, in contract order
    voltage = config["cmps"]["voltage_l1"]
    assert voltage == {
        "p": "sensor",
        "name": "Voltage L1",
        "unique_id": "amsread_7359992891237028_voltage_l1",
        "state_topic": "amsread/7359992891237028/state",
        "value_template": "{{ value_json.voltage_l1 | default('') }}",
        "expire_after": STATE_EXPIRE_AFTER,
        "device_class": "voltage",
        "state_class": "measurement",
        "unit_of_measurement": "V",
    }


def test_a_record_without_the_value_leaves_the_sensor_as_it_is() -> None:
    """Numbers render empty (ignored by Home Assistant); the timestamp keeps the entity's state."""
    cmps = discovery_config(Meter("1"), ["meter_time", "active_power_import"])["cmps"]
    assert (
        cmps["active_power_import"]["value_template"] == "{{ value_json.active_power_import | default('') }}"
    )
    assert cmps["meter_time"]["value_template"] == (
        "{{ value_json.meter_time if value_json.meter_time is defined else this.state }}"
    )


def test_energy_sensors_read_the_retained_energy_topic(tmp_path: Path) -> None:
    r = reading(tmp_path, "doc_aidon_6534_list3")
    config = discovery_config(Meter.of(r), entity_names(r), prefix="house/meters")  # type: ignore[arg-type]
    energy = config["cmps"]["active_energy_import"]
    assert energy["state_topic"] == "house/meters/7359992891237028/energy"
    assert energy["expire_after"] == ENERGY_EXPIRE_AFTER > 3600
    assert config["cmps"]["active_power_import"]["state_topic"] == "house/meters/7359992891237028/state"
    assert STATE_EXPIRE_AFTER < 3600


def test_a_3_wire_meter_gets_no_l2_current(tmp_path: Path) -> None:
    """The Aidon 6525 on an IT grid measures two currents: no entity for the third."""
    r = reading(tmp_path, "amshan_aidon6525_list2_1")
    cmps = discovery_config(Meter.of(r), entity_names(r))["cmps"]  # type: ignore[arg-type]
    assert "current_l1" in cmps and "current_l3" in cmps and "voltage_l2" in cmps
    assert "current_l2" not in cmps


def test_a_list_1_names_no_meter(tmp_path: Path) -> None:
    assert Meter.of(reading(tmp_path, "doc_aidon_6534_list1")) is None


def test_meter_ids_cannot_escape_their_topic_level() -> None:
    assert topic_id("12/+#3") == "12___3"
    assert base_topic("12/+#3", "amsread") == "amsread/12___3"
    assert discovery_topic("a b") == "homeassistant/device/amsread_a_b/config"


#: docs/mqtt.md, "Home Assistant entities", as (component, device_class, unit, key in the object).
TARIFF_TABLE = [
    ("tariff_hour_kwh", None, "kWh", "hour_kwh"),
    ("tariff_left_kwh", None, "kWh", "left_kwh"),
    ("tariff_allowed_kw", "power", "kW", "allowed_kw"),
    ("tariff_capacity_kwh", None, "kWh", "capacity_kwh"),
    ("tariff_step_from_kwh", None, "kWh", "step"),
    ("tariff_next_threshold_kwh", None, "kWh", "next_threshold_kwh"),
    ("tariff_capacity_nok", None, "NOK", "capacity_nok"),
]


def test_the_tariff_entities_are_measurements_never_energy(tmp_path: Path) -> None:
    meter = Meter.of(reading(tmp_path, "doc_aidon_6534_list2"))
    assert meter is not None
    names = entity_names(reading(tmp_path, "doc_aidon_6534_list2"))
    assert not any(k.startswith("tariff_") for k in discovery_config(meter, names)["cmps"])
    cmps = discovery_config(meter, names, tariff=True)["cmps"]
    tariff = {k: v for k, v in cmps.items() if k.startswith("tariff_")}
    assert [(k, v.get("device_class"), v["unit_of_measurement"]) for k, v in tariff.items()] == [
        (k, dc, unit) for k, dc, unit, _ in TARIFF_TABLE
    ]
    for key, _, _, field in TARIFF_TABLE:
        entity = tariff[key]
        assert entity["state_class"] == "measurement" and entity.get("device_class") != "energy"
        assert entity["state_topic"] == f"{base_topic(meter.meter_id)}/tariff"
        assert entity["unique_id"] == f"amsread_{meter.meter_id}_{key}"
        assert f"value_json.{field}" in entity["value_template"]
    assert tariff["tariff_capacity_kwh"]["json_attributes_topic"] == f"{base_topic(meter.meter_id)}/tariff"
    documented = (Path(__file__).resolve().parents[2] / "docs" / "mqtt.md").read_text()
    assert all(f"| `{k}` |" in documented for k, *_ in TARIFF_TABLE)


def test_a_null_tariff_figure_renders_as_none_home_assistants_unknown() -> None:
    left = tariff_component("m", TARIFF_SENSORS[1])
    assert (
        left["value_template"] == "{{ value_json.left_kwh if value_json.left_kwh is not none else 'None' }}"
    )
    step = tariff_component("m", next(s for s in TARIFF_SENSORS if s.key == "step.from_kwh"))
    assert step["value_template"] == "{{ value_json.step.from_kwh if value_json.step else 'None' }}"
