"""A simulated HAN meter: real frames, plausible moving values, the real push cadence.

Without a meter nobody can try ``amsread watch``, and the tests need endless streams that are
realistic and reproducible. ``SimulatedMeter`` builds every frame with the same construct
declarations the decoder parses with (``layouts`` for the body, ``cosem.apdu.NotificationHead`` for the
APDU head, ``hdlc.build_frame`` for the frame), so what it sends is exactly what a real meter of
that family sends, addresses, control byte and header date-time form included
(AID-IF, KFM, KAM-NVE; IEC 62056-46 for the frames). Each ``Push`` also carries the values it was built from, in the output
contract's names and units, so a test can check that the real pipeline decodes them back.

The values follow a household: an active power that random-walks around a daily shape with
appliances switching on and off, a fridge compressor cycling, reactive power from a drifting power
factor, per-phase voltages near 230 V that sag a little with current, currents consistent with
power and voltage (I = S / U per phase), and energy counters integrated from the power, read at
the top of the hour. Everything is drawn from one ``random.Random(seed)``: the same seed and start
give the same frames, byte for byte.

The cadence (AID-IF §2.4.1, KFM p.1 and p.5, KAM-NVE §2.7.2 and §2.8.2): Aidon list 1 every 2.5 s, list 2 every 10 s, list 3 at
XX:00:10 (its clock XX:00:00); Kaifa 2 s / 10 s / XX:00:10; Kamstrup its 10 s list at xx:xx:x0 and
its hourly list at XX:00:05. Where two lists fall on the same instant the longer one is sent: it
holds everything the shorter one does.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from amsread.cosem.apdu import NotificationHead
from amsread.cosem.axdr import CosemDateTime
from amsread.decode.flat import LayoutIndex
from amsread.decode.layout import Shape
from amsread.decode.message import slot_for
from amsread.errors import SimulatorError
from amsread.meters import LAYOUTS, MODELS
from amsread.meters import p1 as p1_meter
from amsread.meters.model import HOUR_MS, MeterModel
from amsread.obis import info_for_raw
from amsread.wire import hdlc
from amsread.wire.p1 import build_telegram

METERS: Final = (*dict.fromkeys(maker for maker, _ in MODELS), "p1")
PHASES: Final = (1, 3)
OSLO: Final = ZoneInfo("Europe/Oslo")

#: Unit enumeration sent in Aidon scaler-unit structures, by contract unit (BB13 Table 4). Energy
#: is sent in Wh / varh and printed in kWh / kvarh.
_UNIT_ENUM: Final = {"W": 27, "var": 29, "A": 33, "V": 35, "kWh": 30, "kvarh": 32}


def model_for(meter: str = "aidon", phases: int = 3) -> MeterModel:
    """The model of ``meter`` with ``phases`` phases, or a ``SimulatorError`` saying what exists."""
    model = p1_meter.MODELS.get(phases) if meter.lower() == "p1" else MODELS.get((meter.lower(), phases))
    if model is None:
        raise SimulatorError(
            f"no simulated {meter} meter with {phases} phases (meters: {', '.join(METERS)}; phases: 1 or 3)"
        )
    return model


@dataclass(frozen=True, slots=True)
class Push:
    """One frame as the meter pushed it, with what it was built from.

    ``values`` and ``meter_time`` are what decoding ``frame`` must give back, in the contract's
    names and units (Decimal or int; text as str).
    """

    at: float
    """The meter's time when it sent the frame (POSIX seconds)."""
    list: int
    layout: str
    frame: bytes
    meter_time: dt.datetime | None
    values: dict[str, Any]
    manufacturer: str


@dataclass(slots=True)
class _Load:
    phase: int
    watts: float
    until_ms: int


@dataclass(slots=True)
class _State:
    """The household's electrical state; advanced in steps of at most a second."""

    base: float
    phase_weight: list[float]
    voltage: list[float]
    tan_phi: float
    capacitive: float
    loads: list[_Load] = field(default_factory=list)
    energy_wh: dict[str, float] = field(default_factory=dict)


def _daily_shape(hour: float) -> float:
    """Typical Norwegian household consumption (W) by local hour: low at night, two peaks."""
    return (
        350.0
        + 1500.0 * math.exp(-(((hour - 7.5) / 1.3) ** 2))
        + 2100.0 * math.exp(-(((hour - 18.5) / 2.2) ** 2))
        + 350.0 * math.exp(-(((hour - 12.5) / 3.0) ** 2))
    )


def _quantize(value: float, step: Decimal) -> Decimal:
    """``value`` rounded to a whole number of ``step`` (the meter's resolution), exactly."""
    return Decimal(round(value / float(step))) * step


class SimulatedMeter:
    """An endless, deterministic stream of ``Push`` objects from one simulated meter.

    ``start`` is the meter's clock at the beginning (aware; default: now); ``seed`` makes the
    values reproducible. Time is simulated: iterate ``pushes()`` as fast as you like, and pace it
    with ``paced`` to get the real cadence.
    """

    def __init__(
        self,
        meter: str = "aidon",
        phases: int = 3,
        *,
        seed: int | None = None,
        start: dt.datetime | None = None,
        tz: dt.tzinfo = OSLO,
    ) -> None:
        self.model = model_for(meter, phases)
        #: A P1 meter sends ASCII telegrams (``wire.p1``), not HDLC frames.
        self.p1 = meter.lower() == "p1"
        self.tz = tz
        self.rng = random.Random(seed)
        start = start or dt.datetime.now(dt.UTC)
        if start.tzinfo is None:
            start = start.replace(tzinfo=tz)
        self._t_ms = round(start.timestamp() * 1000)
        self.start_ms = self._t_ms
        self._index = LayoutIndex(LAYOUTS)
        self._compiled = {n: self._index.compiled(name) for n, name in self.model.layouts.items()}
        self._fields = {n: list(enumerate(cl.layout.fields)) for n, cl in self._compiled.items()}
        rng = self.rng
        n = self.model.phases
        self._state = _State(
            base=_daily_shape(self._local(self._t_ms).hour),
            phase_weight=[1.0 + rng.uniform(-0.2, 0.2) for _ in range(n)],
            voltage=[230.0 + rng.uniform(-3.0, 3.0) for _ in range(n)],
            tan_phi=rng.uniform(0.15, 0.35),
            capacitive=rng.uniform(80.0, 200.0),
        )
        total_kwh = rng.uniform(8_000.0, 60_000.0)
        self._state.energy_wh = {
            "active_energy_import": total_kwh * 1000.0,
            "active_energy_export": rng.choice((0.0, rng.uniform(100.0, 2000.0))) * 1000.0,
            "reactive_energy_import": total_kwh * rng.uniform(0.03, 0.08) * 1000.0,
            "reactive_energy_export": total_kwh * rng.uniform(0.01, 0.04) * 1000.0,
        }
        self._at_hour: dict[str, Decimal] = self._counters()
        self._phase_power: list[float] = [0.0] * n
        self._update_instant(0.0)

    # -- time ---------------------------------------------------------------------------------

    def _local(self, t_ms: int) -> dt.datetime:
        return dt.datetime.fromtimestamp(t_ms / 1000, self.tz)

    @property
    def now(self) -> dt.datetime:
        """The meter's clock (aware, in its time zone)."""
        return self._local(self._t_ms)

    def _next_push(self) -> tuple[int, int]:
        """The next instant a list is due after now, and the longest list due then."""
        best_t, best_list = None, 0
        for level, period, offset in self.model.schedule:
            k = (self._t_ms - offset) // period + 1
            t = k * period + offset
            if best_t is None or t < best_t or (t == best_t and level > best_list):
                best_t, best_list = t, level
        assert best_t is not None
        return best_t, best_list

    # -- the household --------------------------------------------------------------------------

    def _advance(self, to_ms: int) -> None:
        """Integrate the household up to ``to_ms``, snapshotting the counters at each full hour."""
        while self._t_ms < to_ms:
            hour_end = (self._t_ms // HOUR_MS + 1) * HOUR_MS
            step_end = min(to_ms, self._t_ms + 1000, hour_end)
            self._step((step_end - self._t_ms) / 1000.0)
            self._t_ms = step_end
            if self._t_ms == hour_end:
                self._at_hour = self._counters()

    def _step(self, dt_s: float) -> None:
        rng, s = self.rng, self._state
        local = self._local(self._t_ms)
        hour = local.hour + local.minute / 60 + local.second / 3600
        target = _daily_shape(hour)
        # Ornstein-Uhlenbeck random walk around the daily shape: drifts back within minutes.
        s.base += (target - s.base) * dt_s / 180.0 + 18.0 * math.sqrt(dt_s) * rng.gauss(0.0, 1.0)
        s.base = max(120.0, s.base)
        s.tan_phi = min(0.6, max(0.05, s.tan_phi + 0.002 * math.sqrt(dt_s) * rng.gauss(0.0, 1.0)))
        for k in range(len(s.voltage)):
            v = s.voltage[k]
            s.voltage[k] = v + (230.0 - v) * dt_s / 600.0 + 0.06 * math.sqrt(dt_s) * rng.gauss(0.0, 1.0)
            w = s.phase_weight[k]
            s.phase_weight[k] = min(1.6, max(0.5, w + (1.0 - w) * dt_s / 900.0 + 0.01 * rng.gauss(0.0, 1.0)))
        # Appliances: a kettle, an oven, a heater, a car charger...
        t = self._t_ms
        s.loads = [ld for ld in s.loads if ld.until_ms > t]
        # Appliances are switched on more often when people are up: the rate follows the shape.
        if rng.random() < dt_s / 600.0 * target / 1200.0 and len(s.loads) < 3:
            watts, seconds = rng.choice(((2000, 180), (1200, 900), (800, 1800), (2500, 420), (3600, 2400)))
            scale = 1.0 if len(s.voltage) == 3 else 0.6  # a 1-phase supply has a smaller main fuse
            phase = rng.randrange(len(s.voltage))
            s.loads.append(_Load(phase, watts * scale * rng.uniform(0.9, 1.1), t + seconds * 1000))
        self._update_instant(dt_s)

    def _update_instant(self, dt_s: float) -> None:
        """Phase powers from the state; integrate the energy counters over ``dt_s``."""
        s = self._state
        fridge = 110.0 if (self._t_ms // 60_000) % 40 < 15 else 0.0
        weights = sum(s.phase_weight)
        powers = [s.base * w / weights for w in s.phase_weight]
        powers[0] += fridge
        for ld in s.loads:
            powers[ld.phase] += ld.watts
        self._phase_power = powers
        p = sum(powers)
        q = p * s.tan_phi - s.capacitive
        e = s.energy_wh
        hours = dt_s / 3600.0
        e["active_energy_import"] += p * hours
        e["reactive_energy_import"] += max(q, 0.0) * hours
        e["reactive_energy_export"] += max(-q, 0.0) * hours

    def _counters(self) -> dict[str, Decimal]:
        """The energy counters as the meter shows them: whole steps of its resolution, rounded down."""
        step = self.model.resolution["energy"]
        out = {}
        for name, wh in self._state.energy_wh.items():
            steps = math.floor(wh / 1000.0 / float(step))
            out[name] = Decimal(steps) * step
        return out

    def instant(self) -> dict[str, Any]:
        """The instantaneous quantities now, quantized to the meter's resolution."""
        res = self.model.resolution
        s = self._state
        p = sum(self._phase_power)
        q = p * s.tan_phi - s.capacitive
        values: dict[str, Any] = {
            "active_power_import": int(_quantize(p, res["power"])),
            "active_power_export": 0,
            "reactive_power_import": int(_quantize(max(q, 0.0), res["power"])),
            "reactive_power_export": int(_quantize(max(-q, 0.0), res["power"])),
        }
        names = ("l1", "l2", "l3")
        for k, pk in enumerate(self._phase_power):
            apparent = math.hypot(pk, q * pk / p if p else 0.0)
            # The supply sags a little under load (about 0.15 ohm of line impedance).
            volts = s.voltage[k] - 0.15 * apparent / s.voltage[k]
            values[f"current_{names[k]}"] = _quantize(apparent / volts, res["current"])
            values[f"voltage_{names[k]}"] = _quantize(volts, res["voltage"])
        return values

    # -- frames ---------------------------------------------------------------------------------

    def _clock_bytes(self, when: dt.datetime) -> bytes:
        m = self.model
        weekday = when.isoweekday() % 7 if m.sunday_zero else when.isoweekday()
        summer = bool(when.dst())
        stamp = CosemDateTime(
            when.year,
            when.month,
            when.day,
            when.hour,
            when.minute,
            when.second,
            None,
            m.deviation,
            0x80 if (m.dst_status and summer) else 0x00,
            weekday,
        )
        return stamp.raw

    def _body(self, level: int, values: dict[str, Any], clock: bytes | None) -> bytes:
        """The notification body of list ``level``, built with the layout's own declaration."""
        res = self.model.resolution
        build: dict[str, Any] = {}
        for i, f in self._fields[level]:
            if f.shape is Shape.NULL_PAIR:
                continue
            info = info_for_raw(f.obis)
            assert info is not None, f"layout field {f.obis.hex()} has no contract name"
            if info.name == "meter_time":
                build[f"v{i}"] = clock
                continue
            value = values[info.name]
            if isinstance(value, str):
                build[f"v{i}"] = value.encode("latin-1")
                continue
            step = res[slot_for(f.obis).quantity]
            build[f"v{i}"] = int(Decimal(value) / step)
            if f.shape is Shape.REG:
                build[f"s{i}"] = step.scaleb(-info.exponent).normalize().as_tuple().exponent
                build[f"u{i}"] = _UNIT_ENUM[info.unit]
        return self._compiled[level].build(build)

    def _frame(self, body: bytes, header_time: dt.datetime) -> bytes:
        m = self.model
        if m.header_time == 0x00:
            stamp: dict[str, Any] = {"form": 0x00, "value": None}
        else:
            stamp = {"form": m.header_time, "value": self._clock_bytes(header_time)}
        head = NotificationHead.build({"long_invoke_id_and_priority": m.invoke_id, "date_time": stamp})
        return hdlc.build_frame(
            hdlc.LLC + head + body, destination=m.destination, source=m.source, control=m.control
        )

    def push(self) -> Push:
        """Advance to the next due list and build it."""
        t_ms, level = self._next_push()
        self._advance(t_ms)
        if self.p1:
            return self._p1_push(t_ms)
        m = self.model
        sent = self._local(t_ms)
        instant = self.instant()
        values: dict[str, Any]
        if level == 1:
            values = {"active_power_import": instant["active_power_import"]}
        else:
            values = {"list_version": m.list_version, "meter_id": m.meter_id, "meter_type": m.meter_type}
            values.update(instant)
        clock: bytes | None = None
        meter_time = sent if m.header_time else None
        if level == 3:
            values.update(self._at_hour)
            clock_time = sent.replace(minute=0, second=0) if m.clock_at_hour else sent
            clock = self._clock_bytes(clock_time)
            meter_time = clock_time
        layout = self._compiled[level].layout
        names = {info.name for f in layout.fields if f.obis and (info := info_for_raw(f.obis)) is not None}
        values = {k: v for k, v in values.items() if k in names}
        frame = self._frame(self._body(level, values, clock), sent)
        return Push(t_ms / 1000.0, level, layout.name, frame, meter_time, values, m.manufacturer)

    def _p1_push(self, t_ms: int) -> Push:
        """One P1 telegram, built through ``wire.p1``'s declaration: the clock with its S/W
        letter, the counters as they stand (a P1 meter sends them every time) and the instant
        values, in kW, kvar, V and A as the Swedish telegrams write them."""
        sent = self._local(t_ms)
        values: dict[str, Any] = {**self.instant(), **self._counters()}
        lines = [f"0-0:1.0.0({sent:%y%m%d%H%M%S}{'S' if sent.dst() else 'W'})"]
        for code, name, unit in _P1_LINES:
            if name not in values:
                continue
            value = Decimal(values[name])
            if unit in ("kW", "kvar"):
                lines.append(f"{code}({value.scaleb(-3):08.3f}*{unit})")
            elif unit in ("kWh", "kvarh"):
                lines.append(f"{code}({value:012.3f}*{unit})")
            else:
                lines.append(f"{code}({value:05.1f}*{unit})")
        telegram = build_telegram(p1_meter.IDENTIFICATION, lines)
        return Push(t_ms / 1000.0, 0, "p1", telegram, sent, values, self.model.manufacturer)

    def pushes(self) -> Iterator[Push]:
        """Every push from now on, in order, forever."""
        while True:
            yield self.push()


#: The lines of the simulated P1 telegram: code, contract name, unit as written (Swedish order).
_P1_LINES: Final = (
    ("1-0:1.8.0", "active_energy_import", "kWh"),
    ("1-0:2.8.0", "active_energy_export", "kWh"),
    ("1-0:3.8.0", "reactive_energy_import", "kvarh"),
    ("1-0:4.8.0", "reactive_energy_export", "kvarh"),
    ("1-0:1.7.0", "active_power_import", "kW"),
    ("1-0:2.7.0", "active_power_export", "kW"),
    ("1-0:3.7.0", "reactive_power_import", "kvar"),
    ("1-0:4.7.0", "reactive_power_export", "kvar"),
    ("1-0:32.7.0", "voltage_l1", "V"),
    ("1-0:52.7.0", "voltage_l2", "V"),
    ("1-0:72.7.0", "voltage_l3", "V"),
    ("1-0:31.7.0", "current_l1", "A"),
    ("1-0:51.7.0", "current_l2", "A"),
    ("1-0:71.7.0", "current_l3", "A"),
)


def next_hour_start(lead: float = 2.0, tz: dt.tzinfo = OSLO) -> dt.datetime:
    """A clock ``lead`` seconds before the next full hour: the demo shows all three lists at once."""
    now = dt.datetime.now(tz)
    top = now.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    return top - dt.timedelta(seconds=lead)


def paced(
    pushes: Iterator[Push],
    speed: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Push]:
    """Hand on each push when it is due in real time, ``speed`` times faster; 0 means at once.

    Due times are measured from the first push, so a slow consumer catches up rather than drifts.
    """
    first_at: float | None = None
    t0 = clock()
    for push in pushes:
        if speed > 0:
            if first_at is None:
                first_at = push.at
            wait = t0 + (push.at - first_at) / speed - clock()
            if wait > 0:
                sleep(wait)
        yield push


def live_chunks(
    pushes: Iterator[Push],
    speed: float,
    *,
    tick: float = 0.1,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[bytes]:
    """Frames as a live byte source: each frame when due, and ``b""`` every ``tick`` in between.

    The idle ``b""`` is the same signal a serial source gives when its read times out, so the
    live view refreshes its clocks while it waits for the meter.
    """
    first_at: float | None = None
    t0 = clock()
    for push in pushes:
        if first_at is None:
            first_at = push.at
        due = t0 + (push.at - first_at) / speed if speed > 0 else 0.0
        while (wait := due - clock()) > 0:
            sleep(min(wait, tick))
            if due - clock() > 0:
                yield b""
        yield push.frame
