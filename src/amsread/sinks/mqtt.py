"""Publish readings to an MQTT broker, as ``mqtt-contract.md`` says, with paho-mqtt 2.x.

What goes where (``<base>`` is ``<prefix>/<meter_id>``):

* ``<base>/status``, retained, QoS 1: ``online`` once connected, ``offline`` on a clean close; the
  same ``offline`` is the last will, so a killed process or a lost connection reads ``offline``.
* ``<base>/state``, QoS 0: every reading, exactly the record ``amsread json`` prints. A throttle
  publishes at most one per ``throttle`` seconds, the latest winning. Dropped while disconnected:
  only the latest matters.
* ``<base>/energy``, retained, QoS 1: hourly lists (list 3) only, never a stale repeat (one whose
  meter clock equals the previous hourly list's). Kept, in order, in a bounded queue while the
  broker is away, and published when it is back: no hourly counter is lost to a broker restart.
* ``<base>/raw``, QoS 0, on request: each complete frame, as bytes or as hex text.
* ``<base>/tariff``, retained, QoS 1, with ``run --grid``: the live capacity-tariff figures
  (``publish_tariff``), when they change, at most once per ``throttle`` seconds (the latest
  wins), and again on every connect and when Home Assistant comes online. Only the latest matters,
  so nothing is queued while the broker is away. Discovery then adds the tariff entities.
* Home Assistant discovery (``sinks.homeassistant``), retained, when a meter is first seen,
  when it shows a value not seen before (its first hourly list adds the energy sensors), on every
  reconnect, and 0.5-3 s (at random, so a house of publishers does not answer at once) after
  Home Assistant announces itself on ``<discovery_prefix>/status`` with ``online``.

List 1 frames carry no meter id, so nothing is published, and no connection is made, until the
first reading with a meter id: the last will must name the meter's status topic. Later list 1
readings are published under that meter.

Threads: paho's own network thread connects, reconnects with backoff (TLS included) and calls
our callbacks, which only put events on a queue. One sender thread of ours owns every decision and
every ``publish`` call, so ``handle`` never blocks on the network and no lock of ours is held
while paho holds its own. Energy messages go one at a time: the next is handed to paho only when
the broker has acknowledged the previous one (paho resends an unacknowledged one after a
reconnect), so the retained energy value never goes backwards, even across a broker restart.

Secrets: the broker password comes from the URL, a file or ``AMSREAD_MQTT_PASSWORD`` and is held
in a ``Secret``, whose ``repr`` and ``str`` are ``***``; ``BrokerUrl`` prints with ``***`` too, and
no message of ours contains the password.

The publisher has the small interface every ``amsread run`` destination shares: a ``name``,
``handle(reading, raw)`` and ``close()``.
"""

from __future__ import annotations

import os
import queue
import random
import ssl
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode

from amsread.contract import Frames, Reading
from amsread.errors import MqttError
from amsread.formats import json_line
from amsread.sinks.homeassistant import (
    DEFAULT_DISCOVERY_PREFIX,
    DEFAULT_PREFIX,
    Meter,
    base_topic,
    discovery_payload,
    discovery_topic,
    entity_names,
)

#: Where the password may come from when the URL has none.
PASSWORD_ENV: Final = "AMSREAD_MQTT_PASSWORD"
DEFAULT_PORTS: Final = {"mqtt": 1883, "mqtts": 8883}
#: Hourly lists kept while the broker is away: 10,000 hours is more than a year.
DEFAULT_QUEUE_LIMIT: Final = 10_000
#: Home Assistant's answer window: re-send discovery this long after its birth message.
REDISCOVERY_DELAY: Final = (0.5, 3.0)
#: Readings handed over and not yet done with (queued for the sender, or their ``state`` message
#: not yet written to the socket) before ``handle`` waits: a replay must not pile megabytes up in
#: paho's outgoing queue. A meter sends one reading every 2 s; live, this is never reached.
MAX_OUTSTANDING: Final = 1_000
#: How long ``handle`` waits for room before it hands the reading over anyway.
OUTSTANDING_WAIT: Final = 10.0

RawFormat = Literal["binary", "hex"]


class Secret:
    """A password that prints as ``***`` (in reprs, f-strings, tracebacks' locals and logs)."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The password itself, for the one call that needs it (paho's ``username_pw_set``)."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class BrokerUrl:
    """``mqtt://[user[:password]@]host[:port]`` or ``mqtts://`` (TLS), parsed; prints redacted."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: Secret | None = field(default=None, repr=False)

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        """Parse a broker URL; errors quote it with any password replaced by ``***``."""
        shown = redact_url(url)
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as e:
            raise MqttError(f"bad MQTT broker URL {shown}: {_without(str(e), url)}") from None
        if parts.scheme not in DEFAULT_PORTS:
            raise MqttError(f"bad MQTT broker URL {shown}: use mqtt:// or mqtts://")
        if not parts.hostname:
            raise MqttError(f"bad MQTT broker URL {shown}: no host")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise MqttError(f"bad MQTT broker URL {shown}: only mqtt[s]://[user[:password]@]host[:port]")
        return cls(
            host=parts.hostname,
            port=port if port is not None else DEFAULT_PORTS[parts.scheme],
            tls=parts.scheme == "mqtts",
            username=unquote(parts.username) if parts.username else None,
            password=Secret(unquote(parts.password)) if parts.password is not None else None,
        )

    def __str__(self) -> str:
        scheme = "mqtts" if self.tls else "mqtt"
        user = ""
        if self.username is not None:
            user = self.username + (":***" if self.password is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{user}{host}:{self.port}"


def redact_url(url: str) -> str:
    """``url`` with the password of its user-info (if any) replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    userinfo, at, hostport = netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:***@{hostport}{slash}{tail}"


def _without(text: str, url: str) -> str:
    """An error text from a URL parser, with the URL's password cut out should it quote it."""
    password = urlsplit(url).password if "@" in url else None
    return text.replace(password, "***") if password else text


def resolve_password(
    url: BrokerUrl,
    *,
    password_file: Path | str | None = None,
    env: Mapping[str, str] | None = None,
) -> Secret | None:
    """The broker password: the URL's, else the file's (its first line), else ``AMSREAD_MQTT_PASSWORD``.

    A file or the environment keeps the password out of ``ps`` and shell history; a systemd unit
    can use ``LoadCredential=`` for the file.
    """
    if url.password is not None:
        return url.password
    if password_file is not None:
        path = Path(password_file)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else type(e).__name__
            raise MqttError(f"cannot read the MQTT password file {path}: {reason}") from None
        return Secret(text.splitlines()[0] if text else "")
    env = os.environ if env is None else env
    value = env.get(PASSWORD_ENV)
    return Secret(value) if value else None


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """TLS material beyond the system CAs: a CA file for a private CA, a client certificate and key."""

    cafile: Path | str | None = None
    certfile: Path | str | None = None
    keyfile: Path | str | None = None


# --------------------------------------------------------------------------------------------
# events from paho's thread and from ``handle`` to the sender thread
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reading:
    reading: Reading
    raw: Frames | None


@dataclass(frozen=True, slots=True)
class _Connected:
    refused: str | None
    """None when the broker accepted us, else its reason (bad password, not authorised, ...)."""


@dataclass(frozen=True, slots=True)
class _Disconnected:
    reason: str
    unreachable: bool = False
    """The connection could not even be made (no broker there, TLS handshake failed)."""


@dataclass(frozen=True, slots=True)
class _Acked:
    mid: int


@dataclass(frozen=True, slots=True)
class _HomeAssistant:
    payload: bytes


@dataclass(frozen=True, slots=True)
class _Tariff:
    meter_id: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class _Flush:
    done: threading.Event


@dataclass(frozen=True, slots=True)
class _Close:
    timeout: float


@dataclass(slots=True)
class _MeterState:
    meter: Meter
    names: set[str] = field(default_factory=set)
    last_hourly_clock: Any = None
    tariff: bytes | None = None
    """The latest live tariff figures (``run --grid``); discovery adds their entities once set."""


@dataclass(slots=True)
class MqttStats:
    """Counts for the summary line: what was published, dropped and held back."""

    state_published: int = 0
    state_dropped: int = 0
    """``state`` messages not sent: while disconnected, or replaced under the throttle."""
    energy_published: int = 0
    """Hourly lists the broker has acknowledged."""
    energy_dropped: int = 0
    """Hourly lists lost because the queue was full during a long outage."""
    stale_skipped: int = 0
    before_meter_id: int = 0
    """Readings before the first meter id (list 1 at start): nothing to publish them under."""
    discovery_published: int = 0
    tariff_published: int = 0
    connections: int = 0
    skipped: int = 0
    """Things handed to ``handle`` that are no reading."""


class MqttPublisher:
    """An ``amsread run`` destination publishing to one broker (see the module docstring).

    ``handle`` queues and returns; ``flush`` waits until everything handed over so far that the
    broker must acknowledge (status, discovery, energy) is acknowledged; ``close`` publishes
    ``offline``, flushes for up to ``timeout`` seconds and disconnects. ``on_notice`` hears
    one line per event worth telling a user (connected, refused, lost, hourly lists dropped),
    for stderr; it never contains the password.
    """

    name = "mqtt"

    def __init__(
        self,
        url: BrokerUrl | str,
        *,
        prefix: str = DEFAULT_PREFIX,
        discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX,
        discovery: bool = True,
        throttle: float = 0.0,
        raw: RawFormat | None = None,
        password_file: Path | str | None = None,
        env: Mapping[str, str] | None = None,
        tls_files: TlsFiles | None = None,
        queue_limit: int = DEFAULT_QUEUE_LIMIT,
        client_id: str | None = None,
        keepalive: int = 30,
        reconnect_delay: tuple[float, float] = (1.0, 60.0),
        on_notice: Callable[[str], None] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.url = BrokerUrl.parse(url) if isinstance(url, str) else url
        self._password = resolve_password(self.url, password_file=password_file, env=env)
        self.prefix = prefix.rstrip("/")
        self.discovery_prefix = discovery_prefix.rstrip("/")
        self.discovery = discovery
        self.throttle = throttle
        self.raw = raw
        self.tls_files = tls_files or TlsFiles()
        if (self.tls_files.cafile or self.tls_files.certfile) and not self.url.tls:
            raise MqttError(f"TLS files given for {self.url}: use mqtts:// for TLS")
        self.queue_limit = queue_limit
        self.client_id = client_id
        self.keepalive = keepalive
        self.reconnect_delay = reconnect_delay
        self.on_notice = on_notice
        self.rng = rng or random.Random()
        self.stats = MqttStats()
        self._events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._client: paho.Client | None = None
        self._connected = False
        self._refused = False
        self._closing_until: float | None = None
        self._closed = False
        self._meters: dict[str, _MeterState] = {}
        self._current: str | None = None
        self._pending_state: tuple[str, bytes] | None = None
        self._last_state_at = float("-inf")
        self._rediscover_at: float | None = None
        self._energy: deque[tuple[str, bytes]] = deque()
        self._energy_mid: int | None = None
        self._unacked: set[int] = set()
        self._flushes: list[threading.Event] = []
        self._told: set[str] = set()
        self._outstanding = 0
        self._holding = False
        self._room = threading.Condition()
        self._state_mids: set[int] = set()
        self._tariff_due: dict[str, bytes] = {}
        self._last_tariff_at = float("-inf")
        self._thread = threading.Thread(target=self._run, name="amsread-mqtt", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        return f"MqttPublisher({str(self.url)!r})"

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted the connection and not lost it since."""
        return self._connected

    @property
    def outstanding(self) -> int:
        """Readings handed over and not yet done with (see ``MAX_OUTSTANDING``)."""
        return self._outstanding

    @property
    def waiting_hourly(self) -> int:
        """Hourly lists not yet acknowledged by the broker (queued while it is away, or in flight)."""
        return len(self._energy)

    # -- the destination interface ------------------------------------------------------------

    def handle(self, reading: Reading, raw: Frames | None = None) -> None:
        """Hand one reading (and its frame, for the raw topic) to the sender; returns at once."""
        if self._closed:
            raise MqttError("the MQTT publisher is closed")
        with self._room:
            self._room.wait_for(lambda: self._outstanding < MAX_OUTSTANDING, OUTSTANDING_WAIT)
            self._outstanding += 1
        self._events.put(_Reading(reading, raw))

    def publish_tariff(self, meter_id: str, payload: bytes | str) -> None:
        """Hand the live tariff figures of ``meter_id`` (a JSON object) to the sender; the latest
        is published retained on ``<base>/tariff``. Returns at once."""
        if self._closed:
            raise MqttError("the MQTT publisher is closed")
        body = payload.encode() if isinstance(payload, str) else bytes(payload)
        self._events.put(_Tariff(str(meter_id), body))

    def _release(self, count: int = 1) -> None:
        """Readings done with (their state written, dropped or replaced): room for more."""
        with self._room:
            self._outstanding = max(0, self._outstanding - count)
            self._room.notify_all()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the broker has acknowledged every QoS 1 message handed over so far."""
        if not self._thread.is_alive():
            return not self._energy  # closed: nothing more will be acknowledged
        done = threading.Event()
        self._events.put(_Flush(done))
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Publish ``offline``, wait up to ``timeout`` s for the broker's acknowledgements, disconnect."""
        if self._closed:
            return
        self._closed = True
        self._events.put(_Close(timeout))
        self._thread.join(timeout + 5.0)

    # -- the sender thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                wait = self._next_deadline()
                try:
                    event = self._events.get(
                        timeout=None if wait is None else max(0.0, wait - time.monotonic())
                    )
                except queue.Empty:
                    event = None
                if event is not None:
                    self._dispatch(event)
                self._due(time.monotonic())
                self._answer_flushes()
                if self._closing_until is not None and (
                    self._settled() or time.monotonic() >= self._closing_until
                ):
                    return
        finally:
            self._shutdown()

    def _dispatch(self, event: Any) -> None:
        if isinstance(event, _Reading):
            self._holding = True  # released at once, unless its state message is written later
            try:
                self._reading(event.reading, event.raw)
            except (AttributeError, TypeError, ValueError) as e:
                self.stats.skipped += 1  # not a reading: counted and told, and the sender lives on
                self._tell("skipped", f"MQTT: cannot publish {type(event.reading).__name__}: {e}")
            finally:
                if self._holding:
                    self._release()
        elif isinstance(event, _Tariff):
            self._tariff_due[event.meter_id] = event.payload
            self._flush_tariff(force=False)
        elif isinstance(event, _Acked):
            self._acked(event.mid)
        elif isinstance(event, _Connected):
            self._on_connected(event.refused)
        elif isinstance(event, _Disconnected):
            self._on_disconnected(event.reason, event.unreachable)
        elif isinstance(event, _HomeAssistant):
            if event.payload.strip().lower() == b"online" and self.discovery:
                self._rediscover_at = time.monotonic() + self.rng.uniform(*REDISCOVERY_DELAY)
        elif isinstance(event, _Flush):
            self._flushes.append(event.done)
        elif isinstance(event, _Close):
            self._closing_until = time.monotonic() + event.timeout
            self._flush_state(force=True)
            self._flush_tariff(force=True)
            if self._connected:
                for meter_id in self._meters:
                    self._publish(f"{self._base(meter_id)}/status", b"offline", qos=1, retain=True)

    def _next_deadline(self) -> float | None:
        times = [t for t in (self._rediscover_at, self._closing_until) if t is not None]
        if self._pending_state is not None:
            times.append(self._last_state_at + self.throttle)
        if self._connected and any(m in self._meters for m in self._tariff_due):
            times.append(self._last_tariff_at + self.throttle)
        return min(times) if times else None

    def _due(self, now: float) -> None:
        if self._rediscover_at is not None and now >= self._rediscover_at:
            self._rediscover_at = None
            if self._connected:
                for meter_id in self._meters:
                    self._send_discovery(meter_id)
                    self._resend_tariff(meter_id)
        if self._pending_state is not None and now >= self._last_state_at + self.throttle:
            self._flush_state(force=False)
        if self._tariff_due:
            self._flush_tariff(force=False)

    def _settled(self) -> bool:
        return not self._unacked and not (self._energy and self._connected)

    def _answer_flushes(self) -> None:
        if self._flushes and self._settled() and not self._energy:
            for done in self._flushes:
                done.set()
            self._flushes = []

    # -- readings -----------------------------------------------------------------------------

    def _base(self, meter_id: str) -> str:
        return base_topic(meter_id, self.prefix)

    def _reading(self, reading: Reading, raw: Frames | None) -> None:
        meter = Meter.of(reading)
        if meter is not None:
            self._meet(meter)
        if self._current is None:
            self.stats.before_meter_id += 1
            return
        state = self._meters[self._current]
        names = entity_names(reading)
        if not state.names.issuperset(names):
            state.names.update(names)
            if self._connected:
                self._send_discovery(self._current)
        base = self._base(self._current)
        payload = json_line(reading).encode()
        if self._pending_state is not None:
            self.stats.state_dropped += 1  # replaced by a newer reading under the throttle
        self._pending_state = (f"{base}/state", payload)
        self._flush_state(force=False)
        if reading.list == 3:
            self._hourly(state, f"{base}/energy", reading, payload)
        if self.raw is not None and raw is not None and self._connected:
            for frame in raw:  # one MQTT message per frame, flag to flag (the contract)
                body = frame.hex().encode() if self.raw == "hex" else frame
                self._publish(f"{base}/raw", body, qos=0, retain=False)

    def _meet(self, meter: Meter) -> None:
        """A reading named a meter: remember it, and connect at the first one (its will)."""
        known = self._meters.get(meter.meter_id)
        if known is None:
            self._meters[meter.meter_id] = _MeterState(meter)
            if self._client is None:
                self._start(meter.meter_id)
            elif self._connected:
                self._publish(f"{self._base(meter.meter_id)}/status", b"online", qos=1, retain=True)
        elif known.meter != meter:
            known.meter = meter
        self._current = meter.meter_id

    def _flush_state(self, *, force: bool) -> None:
        if self._pending_state is None:
            return
        now = time.monotonic()
        if not force and now < self._last_state_at + self.throttle:
            return
        topic, payload = self._pending_state
        self._pending_state = None
        if not self._connected:
            self.stats.state_dropped += 1
            return
        assert self._client is not None
        info = self._client.publish(topic, payload, qos=0, retain=False)
        if self._holding and info.rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            self._holding = False  # released when paho has written it (its on_publish)
            self._state_mids.add(info.mid)
        self._last_state_at = now
        self.stats.state_published += 1

    def _flush_tariff(self, *, force: bool) -> None:
        """Publish the latest tariff figures of each meter the publisher knows, unless the throttle
        says wait (``force``: now). Kept while disconnected: the connect publishes them."""
        if not self._tariff_due or not self._connected:
            return
        now = time.monotonic()
        if not force and now < self._last_tariff_at + self.throttle:
            return
        ready = [m for m in self._tariff_due if m in self._meters]
        if not ready:
            return  # a meter the readings have not named here yet: published once they have
        for meter_id in ready:
            state = self._meters[meter_id]
            first = state.tariff is None
            state.tariff = self._tariff_due.pop(meter_id)
            if first:
                self._send_discovery(meter_id)  # the tariff entities join the device
            self._resend_tariff(meter_id)
        self._last_tariff_at = now

    def _resend_tariff(self, meter_id: str) -> None:
        """The meter's latest tariff figures, retained, if it has any."""
        payload = self._meters[meter_id].tariff
        if payload is not None:
            self._publish(f"{self._base(meter_id)}/tariff", payload, qos=1, retain=True)
            self.stats.tariff_published += 1

    def _hourly(self, state: _MeterState, topic: str, reading: Reading, payload: bytes) -> None:
        """Queue an hourly list for ``energy``, unless it repeats the previous one's meter clock."""
        clock = reading.meter_time
        if clock is not None and clock == state.last_hourly_clock:
            self.stats.stale_skipped += 1
            return
        state.last_hourly_clock = clock
        if len(self._energy) >= self.queue_limit:
            # drop the oldest one not already handed to paho
            del self._energy[1 if self._energy_mid is not None else 0]
            self.stats.energy_dropped += 1
            self._tell(
                "dropped",
                f"MQTT: the queue of hourly lists is full ({self.queue_limit}); dropping the oldest",
            )
        self._energy.append((topic, payload))
        self._pump_energy()

    def _pump_energy(self) -> None:
        """Hand the oldest waiting hourly list to paho, if none is waiting for its acknowledgement."""
        if self._energy_mid is not None or not self._energy or not self._connected:
            return
        topic, payload = self._energy[0]
        self._energy_mid = self._publish(topic, payload, qos=1, retain=True)

    def _acked(self, mid: int) -> None:
        self._unacked.discard(mid)
        if mid in self._state_mids:
            self._state_mids.discard(mid)
            self._release()
        if mid == self._energy_mid:
            self._energy_mid = None
            self._energy.popleft()
            self.stats.energy_published += 1
            self._pump_energy()

    def _send_discovery(self, meter_id: str) -> None:
        if not self.discovery:
            return
        state = self._meters[meter_id]
        payload = discovery_payload(
            state.meter, state.names, prefix=self.prefix, tariff=state.tariff is not None
        )
        self._publish(discovery_topic(meter_id, self.discovery_prefix), payload, qos=1, retain=True)
        self.stats.discovery_published += 1

    def _publish(self, topic: str, payload: bytes, *, qos: int, retain: bool) -> int | None:
        """Publish through paho; the message id of a QoS 1 message (paho keeps it until acked)."""
        assert self._client is not None
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            return None
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            self._tell(f"publish-{info.rc}", f"MQTT: cannot queue a message: {paho.error_string(info.rc)}")
            return None
        self._unacked.add(info.mid)
        return info.mid

    # -- the connection -----------------------------------------------------------------------

    def _start(self, meter_id: str) -> None:
        """Create paho's client with the meter's last will and let its thread connect."""
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id or f"amsread-{meter_id}-{uuid.uuid4().hex[:8]}",
            protocol=paho.MQTTv311,
            clean_session=True,
        )
        low, high = self.reconnect_delay
        client.reconnect_delay_set(min_delay=low, max_delay=high)  # type: ignore[arg-type]  # seconds, floats work
        if self.url.username is not None:
            client.username_pw_set(self.url.username, self._password.reveal() if self._password else None)
        if self.url.tls:
            files = self.tls_files
            client.tls_set(
                ca_certs=str(files.cafile) if files.cafile else None,
                certfile=str(files.certfile) if files.certfile else None,
                keyfile=str(files.keyfile) if files.keyfile else None,
                cert_reqs=ssl.CERT_REQUIRED,
            )
        client.will_set(f"{self._base(meter_id)}/status", b"offline", qos=1, retain=True)
        client.on_connect = self._paho_connect
        client.on_connect_fail = self._paho_connect_fail
        client.on_disconnect = self._paho_disconnect
        client.on_publish = self._paho_publish
        client.on_message = self._paho_message
        self._client = client
        try:
            client.connect_async(self.url.host, self.url.port, keepalive=self.keepalive)
        except (OSError, ValueError) as e:
            raise MqttError(f"cannot connect to the MQTT broker {self.url}: {e}") from None
        client.loop_start()

    def _on_connected(self, refused: str | None) -> None:
        if refused is not None:
            self._refused = True
            self._tell(f"refused-{refused}", f"MQTT broker {self.url} refused the connection: {refused}")
            return
        self._connected = True
        self.stats.connections += 1
        self._told.discard("lost")
        self._told.discard("unreachable")
        self._tell(f"connected-{self.stats.connections > 1}", f"MQTT: connected to {self.url}")
        assert self._client is not None
        if self.discovery:
            self._client.subscribe(f"{self.discovery_prefix}/status", qos=1)
        for meter_id in self._meters:
            self._publish(f"{self._base(meter_id)}/status", b"online", qos=1, retain=True)
            self._send_discovery(meter_id)
            if meter_id not in self._tariff_due:
                self._resend_tariff(meter_id)
        self._flush_tariff(force=True)
        self._pump_energy()

    def _on_disconnected(self, reason: str, unreachable: bool) -> None:
        """The connection ended, or never came to be: say so once per outage."""
        was, refused = self._connected, self._refused
        self._connected = False
        self._release(len(self._state_mids))  # paho forgets unsent QoS 0 messages on reconnect
        self._state_mids.clear()
        self._refused = False
        if self._closing_until is not None or refused:
            return  # a refusal has been told already
        if was:
            self._tell("lost", f"MQTT: connection to {self.url} lost ({reason}); reconnecting")
        else:
            why = "" if unreachable else f" ({reason})"
            self._tell("unreachable", f"MQTT: cannot connect to {self.url}{why}; retrying with backoff")

    def _shutdown(self) -> None:
        self._release(self._outstanding)  # nothing waits on a closed publisher
        client = self._client
        if client is not None:
            client.disconnect()
            client.loop_stop()
        self._connected = False
        waiting = len(self._energy)
        if waiting:
            self._tell("unsent", f"MQTT: {waiting} hourly lists were not published before closing")
        for done in self._flushes:
            done.set()

    def _tell(self, key: str, message: str) -> None:
        """One notice per kind of event until things change (a refused password is said once)."""
        if key in self._told:
            return
        self._told.add(key)
        if self.on_notice is not None:
            self.on_notice(message)

    # -- paho callbacks (paho's network thread): only queue events ------------------------------

    def _paho_connect(self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any) -> None:
        self._events.put(_Connected(str(reason) if reason.is_failure else None))

    def _paho_connect_fail(self, client: paho.Client, userdata: Any) -> None:
        self._events.put(_Disconnected("cannot connect", unreachable=True))

    def _paho_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, reason: Any, props: Any
    ) -> None:
        self._events.put(_Disconnected(str(reason)))

    def _paho_publish(self, client: paho.Client, userdata: Any, mid: int, reason: Any, props: Any) -> None:
        self._events.put(_Acked(mid))

    def _paho_message(self, client: paho.Client, userdata: Any, message: paho.MQTTMessage) -> None:
        self._events.put(_HomeAssistant(bytes(message.payload)))
