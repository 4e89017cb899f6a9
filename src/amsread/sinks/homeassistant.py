"""Home Assistant MQTT discovery payloads for a meter: pure functions, no I/O.

The shapes follow ``mqtt-contract.md`` (section "Home Assistant discovery") and Home Assistant's
device-based discovery: one retained config per meter on
``<discovery_prefix>/device/amsread_<meter_id>/config`` holding the device (``dev``), the origin
(``o``), the availability topic and one sensor component (``cmps``) per value the meter sends.
The device, state and unit classes are a public interface: Home Assistant stores long-term
statistics by them, and changing a state class later raises a repair notice for every user. So
they live in one table here, ``SENSOR_CLASSES``, copied from the contract's table.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from amsread import __version__
from amsread.contract import COLUMNS, Reading

DEFAULT_PREFIX: Final = "amsread"
DEFAULT_DISCOVERY_PREFIX: Final = "homeassistant"

#: Seconds before a power, current or voltage entity reads "unavailable": six missed list 2
#: messages (every 10 s), so a meter that stops pushing shows within a minute.
STATE_EXPIRE_AFTER: Final = 60
#: Seconds before an energy entity expires: an hour and five minutes, one missed hourly list.
ENERGY_EXPIRE_AFTER: Final = 3900


@dataclass(frozen=True, slots=True)
class SensorClass:
    """How Home Assistant should treat one value; ``energy`` values come on the ``energy`` topic."""

    device_class: str | None
    state_class: str | None
    unit: str | None
    energy: bool = False


#: The contract's table: by the start of a contract name, the classes of its entity.
SENSOR_CLASSES: Final[tuple[tuple[str, SensorClass], ...]] = (
    ("active_power_", SensorClass("power", "measurement", "W")),
    ("reactive_power_", SensorClass("reactive_power", "measurement", "var")),
    ("current_l", SensorClass("current", "measurement", "A")),
    ("voltage_l", SensorClass("voltage", "measurement", "V")),
    ("active_energy_", SensorClass("energy", "total_increasing", "kWh", energy=True)),
    ("reactive_energy_", SensorClass(None, "total_increasing", "kvarh", energy=True)),
)
METER_TIME: Final = SensorClass("timestamp", None, None)

#: Friendly manufacturer names for the device card; anything else is shown as sent.
MANUFACTURERS: Final = {
    "aidon": "Aidon",
    "kaifa": "Kaifa",
    "kamstrup": "Kamstrup",
    "landisgyr": "Landis+Gyr",
    "iskra": "Iskra",
    "sagemcom": "Sagemcom",
    "siemens": "Siemens",
}

_UNSAFE_IN_TOPIC: Final = re.compile(r"[^A-Za-z0-9_-]")


def sensor_class(name: str) -> SensorClass | None:
    """The classes of a contract name, or None for values that get no entity (ids, list, extras
    outside the contract's table such as power factor)."""
    if name == "meter_time":
        return METER_TIME
    for start, classes in SENSOR_CLASSES:
        if name.startswith(start):
            return classes
    return None


def topic_id(meter_id: str) -> str:
    """The meter id as it may stand in a topic level and an entity id: MQTT wildcards (``+``,
    ``#``), slashes and anything else unusual become ``_`` (real ids are digits)."""
    return _UNSAFE_IN_TOPIC.sub("_", meter_id) or "_"


def base_topic(meter_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    """``<prefix>/<meter_id>``, under which status, state, energy and raw are published."""
    return f"{prefix}/{topic_id(meter_id)}"


def device_id(meter_id: str) -> str:
    return f"amsread_{topic_id(meter_id)}"


def discovery_topic(meter_id: str, discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX) -> str:
    return f"{discovery_prefix}/device/{device_id(meter_id)}/config"


@dataclass(frozen=True, slots=True)
class Meter:
    """What the device card shows: the meter's id, maker and model, as its list 2 says."""

    meter_id: str
    manufacturer: str | None = None
    meter_type: str | None = None

    @classmethod
    def of(cls, reading: Reading) -> Meter | None:
        """The meter a reading names, or None for a reading without a meter id (list 1)."""
        meter_id = reading.values.get("meter_id")
        if not meter_id:
            return None
        meter_type = reading.values.get("meter_type")
        return cls(str(meter_id), reading.manufacturer, str(meter_type) if meter_type else None)


def entity_names(reading: Reading) -> list[str]:
    """The values of a reading that get an entity, in contract order."""
    return [name for name in reading.as_dict() if sensor_class(name) is not None]


def _friendly(name: str) -> str:
    """``voltage_l1`` -> ``Voltage L1``; ``active_energy_import`` -> ``Active energy import``."""
    words = [w.upper() if re.fullmatch(r"l\d", w) else w for w in name.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _order(name: str) -> tuple[int, str]:
    return (COLUMNS.index(name), "") if name in COLUMNS else (len(COLUMNS), name)


def _template(name: str, classes: SensorClass) -> str:
    if classes.device_class == "timestamp":
        return f"{{{{ value_json.{name} if value_json.{name} is defined else this.state }}}}"
    return f"{{{{ value_json.{name} | default('') }}}}"


def component(meter_id: str, name: str, *, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """One sensor of the device: classes from ``SENSOR_CLASSES``, its topic and template.

    The template reads the contract name from the JSON record. A record may lack it (an Aidon
    list 1 record carries only ``active_power_import``): for a numeric sensor the template then
    renders nothing, which Home Assistant ignores (its MQTT sensor docs); the timestamp sensor is
    not numeric and would log an invalid timestamp, so its template keeps the entity's own state.
    """
    classes = sensor_class(name)
    if classes is None:
        raise ValueError(f"{name} has no Home Assistant entity")
    base = base_topic(meter_id, prefix)
    out: dict[str, Any] = {
        "p": "sensor",
        "name": _friendly(name),
        "unique_id": f"{device_id(meter_id)}_{name}",
        "state_topic": f"{base}/energy" if classes.energy else f"{base}/state",
        "value_template": _template(name, classes),
        "expire_after": ENERGY_EXPIRE_AFTER if classes.energy else STATE_EXPIRE_AFTER,
    }
    if classes.device_class is not None:
        out["device_class"] = classes.device_class
    if classes.state_class is not None:
        out["state_class"] = classes.state_class
    if classes.unit is not None:
        out["unit_of_measurement"] = classes.unit
    if classes.energy:
        out["qos"] = 1  # the energy topic is published with QoS 1: subscribe with it too
    return out


@dataclass(frozen=True, slots=True)
class TariffSensor:
    """One entity of the live capacity-tariff figures (``run --grid``, the ``<base>/tariff`` topic):
    its key (the field of the JSON object, ``step.from_kwh`` inside ``step``), name and classes."""

    key: str
    name: str
    device_class: str | None
    unit: str


#: The live tariff entities. None is an ``energy`` sensor: they go up and down within the month
#: (kWh left, this hour so far), so Home Assistant's energy dashboard must not take them for
#: counters. All are ``measurement``; the one power is ``power``. Fixed once released, like
#: ``SENSOR_CLASSES``.
TARIFF_SENSORS: Final[tuple[TariffSensor, ...]] = (
    TariffSensor("hour_kwh", "Energy this hour", None, "kWh"),
    TariffSensor("left_kwh", "kWh left this hour", None, "kWh"),
    TariffSensor("allowed_kw", "Power allowed for the rest of the hour", "power", "kW"),
    TariffSensor("capacity_kwh", "Mean of the month's peaks", None, "kWh"),
    TariffSensor("step.from_kwh", "Capacity step", None, "kWh"),
    TariffSensor("next_threshold_kwh", "Next capacity threshold", None, "kWh"),
    TariffSensor("capacity_nok", "Capacity charge this month", None, "NOK"),
)


def _tariff_template(key: str) -> str:
    """The value at ``key``; ``None`` (Home Assistant's word for unknown) when it is null, e.g. no
    threshold above the top step."""
    head, _, tail = key.partition(".")
    if tail:
        return f"{{{{ value_json.{key} if value_json.{head} else 'None' }}}}"
    return f"{{{{ value_json.{key} if value_json.{key} is not none else 'None' }}}}"


def tariff_component(meter_id: str, sensor: TariffSensor, *, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """One live tariff entity of the device, on ``<base>/tariff``. The mean of the peaks carries
    the whole object as attributes (the peaks' dates and sizes, the company, the step)."""
    name = "tariff_" + sensor.key.replace(".", "_")
    topic = f"{base_topic(meter_id, prefix)}/tariff"
    out: dict[str, Any] = {
        "p": "sensor",
        "name": sensor.name,
        "unique_id": f"{device_id(meter_id)}_{name}",
        "state_topic": topic,
        "value_template": _tariff_template(sensor.key),
        "state_class": "measurement",
        "unit_of_measurement": sensor.unit,
        "qos": 1,
    }
    if sensor.device_class is not None:
        out["device_class"] = sensor.device_class
    if sensor.key == "capacity_kwh":
        out["json_attributes_topic"] = topic
    return out


def tariff_components(meter_id: str, *, prefix: str = DEFAULT_PREFIX) -> dict[str, dict[str, Any]]:
    """Every live tariff entity, by component key."""
    return {
        "tariff_" + s.key.replace(".", "_"): tariff_component(meter_id, s, prefix=prefix)
        for s in TARIFF_SENSORS
    }


def discovery_config(
    meter: Meter,
    names: Iterable[str],
    *,
    prefix: str = DEFAULT_PREFIX,
    version: str = __version__,
    tariff: bool = False,
) -> dict[str, Any]:
    """The device-based discovery config of ``meter`` with one component per name it sends.

    ``names`` are the contract names seen from this meter so far; names without an entity are
    left out, so a 3-wire meter gets no L2 current and a meter gets energy entities once its first
    hourly list has shown them. ``tariff``: the live capacity-tariff entities too (``run --grid``).
    """
    wanted = sorted({n for n in names if sensor_class(n) is not None}, key=_order)
    maker = meter.manufacturer or ""
    device: dict[str, Any] = {
        "ids": [device_id(meter.meter_id)],
        "name": " ".join(p for p in (MANUFACTURERS.get(maker, maker), meter.meter_type or "meter") if p),
        "sn": meter.meter_id,
    }
    if maker:
        device["mf"] = MANUFACTURERS.get(maker, maker)
    if meter.meter_type:
        device["mdl"] = meter.meter_type
    return {
        "dev": device,
        "o": {"name": "amsread", "sw": version},
        "availability": [
            {
                "topic": f"{base_topic(meter.meter_id, prefix)}/status",
                "payload_available": "online",
                "payload_not_available": "offline",
            }
        ],
        "cmps": {
            **{name: component(meter.meter_id, name, prefix=prefix) for name in wanted},
            **(tariff_components(meter.meter_id, prefix=prefix) if tariff else {}),
        },
    }


def discovery_payload(
    meter: Meter, names: Iterable[str], *, prefix: str = DEFAULT_PREFIX, tariff: bool = False
) -> bytes:
    """The config as the bytes published (compact JSON, keys in a stable order)."""
    config = discovery_config(meter, names, prefix=prefix, tariff=tariff)
    return json.dumps(config, separators=(",", ":"), ensure_ascii=False).encode()
