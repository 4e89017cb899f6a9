"""The MQTT publisher against a real broker: mosquitto, and the pure-Python amqtt.

Every broker test runs once per broker this machine has (amqtt always, from the test extra;
mosquitto where installed), or only the one ``AMSREAD_TEST_BROKER`` names. Readings are real
captures, and the reference for ``state`` is what the ``amsread json`` command prints for them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from amsread.contract import Reading
from amsread.decode.decoder import ReadingDecoder
from amsread.decode.pipeline import Pipeline
from amsread.simulator import OSLO, SimulatedMeter
from amsread.sinks.homeassistant import discovery_topic
from amsread.sinks.mqtt import (
    PASSWORD_ENV,
    BrokerUrl,
    MqttError,
    MqttPublisher,
    Secret,
    TlsFiles,
    redact_url,
    resolve_password,
)
from helpers.captures import amsread_json, captures_file, decode_file
from helpers.mqtt_broker import (
    BROKER_ENV,
    TIMEOUT,
    Broker,
    Relay,
    Subscriber,
    broker_kind,
    free_port,
    make_certificates,
    mosquitto_binary,
    wait_until,
)

#: The meter of the doc_aidon_6534_* and fw_aidon_list3_* captures.
AIDON = "7359992891237028"
PASSWORD = "pw-Zq8!never-print-me"


def kinds() -> list[str]:
    forced = os.environ.get(BROKER_ENV)
    if forced:
        return [forced]
    return ["mosquitto", "amqtt"] if mosquitto_binary() else ["amqtt"]


@pytest.fixture(params=kinds())
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def broker(tmp_path: Path, kind: str) -> Iterator[Broker]:
    b = Broker(tmp_path, kind).start()
    try:
        yield b
    finally:
        b.stop()


class Low(random.Random):
    """Picks the low end of every range: the discovery re-send comes after 0.5 s, not up to 3."""

    def uniform(self, a: float, b: float) -> float:
        return a


def publisher(url: str, notices: list[str] | None = None, **options: object) -> MqttPublisher:
    options.setdefault("reconnect_delay", (0.05, 0.2))
    return MqttPublisher(url, on_notice=None if notices is None else notices.append, **options)  # type: ignore[arg-type]


def readings(tmp_path: Path, *names: str) -> list[Reading]:
    out: list[Reading] = []
    for name in names:
        out += decode_file(captures_file(tmp_path, [name]))
    return out


def connect(pub: MqttPublisher, first: Reading) -> None:
    """Hand over a reading with a meter id (the publisher connects then) and wait for the broker."""
    pub.handle(first)
    wait_until(lambda: pub.connected, what="the publisher to connect")


def test_the_broker_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    """``AMSREAD_TEST_BROKER=amqtt`` runs these tests on the pure-Python broker even beside mosquitto."""
    monkeypatch.setenv(BROKER_ENV, "amqtt")
    assert broker_kind() == "amqtt" and kinds() == ["amqtt"]
    monkeypatch.setenv(BROKER_ENV, "hivemq")
    with pytest.raises(ValueError, match="use one of mosquitto, amqtt"):
        broker_kind()


# --------------------------------------------------------------------------------------------
# URLs and passwords (no broker)
# --------------------------------------------------------------------------------------------


def test_broker_urls() -> None:
    assert BrokerUrl.parse("mqtt://pi.local") == BrokerUrl("pi.local", 1883)
    assert BrokerUrl.parse("mqtts://broker:9999") == BrokerUrl("broker", 9999, tls=True)
    assert BrokerUrl.parse("mqtts://h").port == 8883
    url = BrokerUrl.parse("mqtt://ams%40home:p%3Aw@[::1]:1884/")
    assert (url.host, url.port, url.username) == ("::1", 1884, "ams@home")
    assert url.password == Secret("p:w")
    assert url.password is not None and url.password.reveal() == "p:w"
    assert str(url) == "mqtt://ams@home:***@[::1]:1884"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (f"http://u:{PASSWORD}@h", "use mqtt:// or mqtts://"),
        (f"mqtt://u:{PASSWORD}@h:port", "bad MQTT broker URL mqtt://u:\\*\\*\\*@h:port"),
        (f"mqtt://u:{PASSWORD}@:1883", "no host"),
        (f"mqtt://u:{PASSWORD}@h/topic", "only mqtt"),
    ],
)
def test_a_bad_url_is_an_error_that_hides_the_password(url: str, message: str) -> None:
    with pytest.raises(MqttError, match=message) as caught:
        BrokerUrl.parse(url)
    assert PASSWORD not in str(caught.value)
    assert PASSWORD not in redact_url(url)


def test_the_password_never_prints(tmp_path: Path) -> None:
    url = BrokerUrl.parse(f"mqtt://meter:{PASSWORD}@127.0.0.1:1")
    pub = MqttPublisher(url)
    try:
        for text in (str(url), repr(url), repr(url.password), f"{url.password}", repr(pub), str(pub.url)):
            assert PASSWORD not in text
    finally:
        pub.close()


def test_password_from_the_url_else_a_file_else_the_environment(tmp_path: Path) -> None:
    file = tmp_path / "pw"
    file.write_text("from-file\n")
    env = {PASSWORD_ENV: "from-env"}
    with_password = BrokerUrl.parse("mqtt://u:from-url@h")
    without = BrokerUrl.parse("mqtt://u@h")
    assert resolve_password(with_password, password_file=file, env=env) == Secret("from-url")
    assert resolve_password(without, password_file=file, env=env) == Secret("from-file")
    assert resolve_password(without, env=env) == Secret("from-env")
    assert resolve_password(without, env={}) is None
    with pytest.raises(MqttError, match="cannot read the MQTT password file"):
        resolve_password(without, password_file=tmp_path / "missing")


def test_something_that_is_no_reading_is_skipped_and_the_sender_lives_on(tmp_path: Path) -> None:
    notices: list[str] = []
    pub = publisher(f"mqtt://127.0.0.1:{free_port()}", notices)
    try:
        pub.handle("not a reading")  # type: ignore[arg-type]
        pub.handle(readings(tmp_path, "doc_aidon_6534_list3")[0])
        wait_until(lambda: pub.waiting_hourly == 1, what="the hourly list queued")
        assert pub.stats.skipped == 1
        assert notices[0] == "MQTT: cannot publish str: 'str' object has no attribute 'values'"
    finally:
        pub.close(timeout=0.1)


def test_tls_files_need_mqtts() -> None:
    with pytest.raises(MqttError, match="use mqtts://"):
        MqttPublisher("mqtt://h", tls_files=TlsFiles(cafile="ca.pem"))


def test_hourly_lists_wait_in_a_bounded_queue_while_no_broker_answers(tmp_path: Path) -> None:
    """Nothing listens on the port: the oldest hourly lists go when more than the limit wait."""
    notices: list[str] = []
    pub = publisher(f"mqtt://127.0.0.1:{free_port()}", notices, queue_limit=2)
    hourly = hours(readings(tmp_path, "doc_aidon_6534_list3")[0], 4)
    for r in hourly:
        pub.handle(r)
    wait_until(lambda: pub.stats.energy_dropped == 2, what="two dropped hourly lists")
    wait_until(lambda: any("cannot connect" in n for n in notices), what="a notice")
    pub.close(timeout=0.1)
    assert any("queue of hourly lists is full" in n for n in notices)
    assert any("2 hourly lists were not published" in n for n in notices)
    with pytest.raises(MqttError, match="closed"):
        pub.handle(hourly[0])


def hours(reading: Reading, count: int) -> list[Reading]:
    """``count`` hourly lists of one real capture, an hour apart (each a fresh meter clock)."""
    assert reading.list == 3 and reading.meter_time is not None
    return [
        dataclasses.replace(reading, meter_time=reading.meter_time + dt.timedelta(hours=i))
        for i in range(count)
    ]


def simulated(sim: SimulatedMeter, count: int) -> list[Reading]:
    pipeline, decoder = Pipeline(), ReadingDecoder()
    out: list[Reading] = []
    for push, _ in zip(sim.pushes(), range(count), strict=False):
        out += pipeline.readings([push.frame], decoder=decoder)
    return out


# --------------------------------------------------------------------------------------------
# against a broker
# --------------------------------------------------------------------------------------------


def test_state_is_the_amsread_json_record_of_every_reading(tmp_path: Path, broker: Broker) -> None:
    """All plain captures, in a row: once the first meter id is known, every reading's ``state``
    payload is byte for byte the line ``amsread json`` prints for it."""
    capture = captures_file(tmp_path)
    reference = amsread_json(capture)
    decoded = decode_file(capture)
    first = next(i for i, r in enumerate(decoded) if r.values.get("meter_id"))
    watcher = Subscriber(broker, "amsread/+/state")
    pub = publisher(broker.url())
    try:
        for r in decoded[:first]:
            pub.handle(r)  # list 1 before any meter id: nothing to publish it under
        connect(pub, decoded[first])
        for r in decoded[first + 1 :]:
            pub.handle(r)
        expected = reference[first + 1 :]
        wait_until(lambda: len(watcher.messages) >= len(expected), what="every state message")
        assert [m.payload.decode() for m in watcher.messages] == expected
        assert all(not m.retain for m in watcher.messages)
        assert pub.stats.before_meter_id == first
    finally:
        pub.close()
        watcher.close()


def test_status_online_then_offline_on_a_clean_close(tmp_path: Path, broker: Broker) -> None:
    status = f"amsread/{AIDON}/status"
    watcher = Subscriber(broker, status)
    pub = publisher(broker.url())
    connect(pub, readings(tmp_path, "doc_aidon_6534_list2")[0])
    watcher.wait_for(status)
    pub.close()
    assert watcher.wait_for(status, 2)[-1].payload == b"offline"
    later = Subscriber(broker, status)  # retained
    try:
        # (amqtt hands a new subscriber its retained message twice, at QoS 0 and 1)
        assert {(m.payload, m.retain) for m in later.wait_for(status)} == {(b"offline", True)}
    finally:
        later.close()
        watcher.close()


def test_discovery_when_the_meter_is_first_seen_and_after_home_assistant_starts(
    tmp_path: Path, broker: Broker
) -> None:
    list1, list2, list3 = readings(
        tmp_path, "doc_aidon_6534_list1", "doc_aidon_6534_list2", "doc_aidon_6534_list3"
    )
    config = discovery_topic(AIDON)
    watcher = Subscriber(broker, "#")
    pub = publisher(broker.url(), rng=Low())
    try:
        pub.handle(list1)
        assert pub.flush(TIMEOUT)
        assert watcher.messages == []  # list 1 names no meter: nothing, not even a connection
        connect(pub, list2)
        first = json.loads(watcher.wait_for(config)[0].payload)
        assert "active_energy_import" not in first["cmps"] and "voltage_l3" in first["cmps"]
        pub.handle(list3)  # an hourly list shows the energy values: the config grows
        grown = json.loads(watcher.wait_for(config, 2)[-1].payload)
        assert grown["cmps"]["active_energy_import"]["state_topic"] == f"amsread/{AIDON}/energy"
        watcher.client.publish("homeassistant/status", b"online")
        again = watcher.wait_for(config, 3)[-1]
        assert json.loads(again.payload) == grown
        later = Subscriber(broker, config)  # retained for a Home Assistant that starts later
        try:
            assert json.loads(later.wait_for(config)[0].payload) == grown
            assert later.on(config)[0].retain
        finally:
            later.close()
    finally:
        pub.close()
        watcher.close()


def test_energy_is_retained_and_stale_hourly_lists_are_left_out(tmp_path: Path, broker: Broker) -> None:
    """fw_aidon_list3_3 repeats list3_2's meter clock with stale counters: on ``state`` (it is a
    reading), never on ``energy``, where Home Assistant would book it as the hour's energy."""
    hourly = readings(
        tmp_path, "fw_aidon_list3_1", "fw_aidon_list3_2", "fw_aidon_list3_3", "fw_aidon_list3_4"
    )
    meter = hourly[0].values["meter_id"]
    energy, state = f"amsread/{meter}/energy", f"amsread/{meter}/state"
    watcher = Subscriber(broker, energy, state)
    pub = publisher(broker.url())
    try:
        connect(pub, hourly[0])
        for r in hourly[1:]:
            pub.handle(r)
        assert pub.flush(TIMEOUT)
        lines = amsread_json(
            captures_file(
                tmp_path, ["fw_aidon_list3_1", "fw_aidon_list3_2", "fw_aidon_list3_3", "fw_aidon_list3_4"]
            )
        )
        got = watcher.wait_for(energy, 3)
        assert [m.payload.decode() for m in got] == [lines[0], lines[1], lines[3]]
        assert all(m.qos == 1 for m in got)
        assert watcher.wait_for(state, 3) and pub.stats.stale_skipped == 1
        later = Subscriber(broker, energy)
        try:
            kept = later.wait_for(energy)
            assert {(m.payload.decode(), m.retain) for m in kept} == {(lines[3], True)}
        finally:
            later.close()
    finally:
        pub.close()
        watcher.close()


def test_the_throttle_publishes_the_first_and_then_the_latest(tmp_path: Path, broker: Broker) -> None:
    sim = SimulatedMeter("kaifa", 3, seed=3, start=dt.datetime(2026, 1, 5, tzinfo=OSLO))
    rows = [r for r in simulated(sim, 40) if r.list == 2][:5]
    state = "amsread/6970631403275928/state"
    watcher = Subscriber(broker, state)
    pub = publisher(broker.url(), throttle=3600.0)
    connect(pub, rows[0])
    for r in rows[1:]:
        pub.handle(r)
    watcher.wait_for(state)
    pub.close()  # the one held back goes out on close
    watcher.wait_for(state, count=2)  # it may reach the subscriber a moment after close returns
    got = [json.loads(p)["meter_time"] for p in watcher.payloads(state)]
    watcher.close()
    # the first went before the broker had accepted us (dropped); then one, then the latest
    assert got == [rows[1].meter_time.isoformat(), rows[4].meter_time.isoformat()]  # type: ignore[union-attr]


@pytest.mark.parametrize("form", ["binary", "hex"])
def test_raw_frames_on_request(tmp_path: Path, broker: Broker, form: str) -> None:
    frame = captures_file(tmp_path, ["doc_aidon_6534_list2"]).read_bytes()
    second = captures_file(tmp_path, ["doc_aidon_6534_list1"]).read_bytes()
    (reading,) = decode_file(captures_file(tmp_path, ["doc_aidon_6534_list2"]))
    topic = f"amsread/{AIDON}/raw"
    watcher = Subscriber(broker, topic)
    pub = publisher(broker.url(), raw=form)
    try:
        connect(pub, reading)
        # a message that came in two frames (segmented): one MQTT message per frame, in order
        pub.handle(reading, (frame, second))
        got = watcher.wait_for(topic, count=2)
        wanted = [frame, second] if form == "binary" else [frame.hex().encode(), second.hex().encode()]
        assert [m.payload for m in got] == wanted
    finally:
        pub.close()
        watcher.close()


WILL_CHILD = textwrap.dedent(
    """
    import sys
    from amsread.decode.decoder import ReadingDecoder
    from amsread.decode.pipeline import Pipeline
    from amsread.sinks.mqtt import MqttPublisher

    pub = MqttPublisher(sys.argv[1])
    for reading in Pipeline().readings([bytes.fromhex(sys.argv[2])], decoder=ReadingDecoder()):
        pub.handle(reading)
    pub.flush(10)
    print("published", flush=True)
    sys.stdin.readline()
    """
)


def test_the_last_will_says_offline_when_the_publisher_is_killed(tmp_path: Path, broker: Broker) -> None:
    frame = captures_file(tmp_path, ["doc_aidon_6534_list2"]).read_bytes()
    status = f"amsread/{AIDON}/status"
    watcher = Subscriber(broker, status)
    child = subprocess.Popen(
        [sys.executable, "-c", WILL_CHILD, broker.url(), frame.hex()],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "published\n"
        assert watcher.wait_for(status)[0].payload == b"online"
        os.kill(child.pid, signal.SIGKILL)
        (_, will) = watcher.wait_for(status, 2)
        assert (will.payload, will.qos) == (b"offline", 1)
    finally:
        child.kill()
        child.wait(TIMEOUT)
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()
        watcher.close()


def test_a_broker_restart_loses_no_hourly_list(tmp_path: Path, broker: Broker) -> None:
    """The broker stops with the publisher connected; hourly lists keep coming; it starts again.
    Every hourly list reaches a subscriber of the restarted broker, in order."""
    hourly = hours(readings(tmp_path, "doc_aidon_6534_list3")[0], 6)
    relay = Relay(broker.port)
    energy = f"amsread/{AIDON}/energy"
    notices: list[str] = []
    pub = publisher(f"mqtt://127.0.0.1:{relay.port}", notices)
    try:
        connect(pub, hourly[0])
        assert pub.flush(TIMEOUT)
        broker.stop()
        wait_until(lambda: not pub.connected, what="the publisher to notice")
        for r in hourly[1:]:
            pub.handle(r)
        relay.open.clear()  # the publisher may not reconnect before our subscriber is back
        broker.start()
        watcher = Subscriber(broker, energy)
        try:
            relay.open.set()
            got = watcher.wait_for(energy, 5)
            assert [m.payload for m in got] == [json_payload(r) for r in hourly[1:]]
            assert pub.flush(TIMEOUT)
            assert pub.stats.energy_published == 6 and pub.stats.energy_dropped == 0
            assert any("lost" in n for n in notices)
        finally:
            watcher.close()
    finally:
        pub.close()
        relay.close()


def json_payload(r: Reading) -> bytes:
    from amsread.formats import json_line

    return json_line(r).encode()


# --------------------------------------------------------------------------------------------
# TLS and passwords
# --------------------------------------------------------------------------------------------


def test_tls_with_a_private_ca(tmp_path: Path, kind: str) -> None:
    certs = make_certificates(tmp_path)
    broker = Broker(tmp_path, kind, certificates=certs).start()
    (reading,) = readings(tmp_path, "doc_aidon_6534_list2")
    status = f"amsread/{AIDON}/status"
    watcher = Subscriber(broker, status)
    trusting = publisher(broker.url(tls=True), tls_files=TlsFiles(cafile=certs.ca))
    notices: list[str] = []
    doubting = publisher(broker.url(tls=True), notices)  # system CAs do not know our CA
    try:
        connect(trusting, reading)
        assert watcher.wait_for(status)[0].payload == b"online"
        doubting.handle(reading)
        wait_until(lambda: any("cannot connect" in n for n in notices), what="the refusal")
        assert not doubting.connected
    finally:
        trusting.close()
        doubting.close(timeout=0.1)
        watcher.close()
        broker.stop()


def test_tls_with_a_client_certificate(tmp_path: Path, kind: str) -> None:
    certs = make_certificates(tmp_path)
    broker = Broker(tmp_path, kind, certificates=certs, client_certificates=True).start()
    (reading,) = readings(tmp_path, "doc_aidon_6534_list2")
    status = f"amsread/{AIDON}/status"
    watcher = Subscriber(broker, status)
    files = TlsFiles(cafile=certs.ca, certfile=certs.client_cert, keyfile=certs.client_key)
    with_cert = publisher(broker.url(tls=True), tls_files=files)
    notices: list[str] = []
    without = publisher(broker.url(tls=True), notices, tls_files=TlsFiles(cafile=certs.ca))
    try:
        connect(with_cert, reading)
        assert watcher.wait_for(status)[0].payload == b"online"
        if kind == "mosquitto":  # amqtt verifies a client certificate when offered, but cannot require one
            without.handle(reading)
            wait_until(lambda: bool(notices), what="the refusal")
            assert not without.connected
    finally:
        with_cert.close()
        without.close(timeout=0.1)
        watcher.close()
        broker.stop()


def test_a_password_file_and_anonymous_access_refused(
    tmp_path: Path, kind: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    broker = Broker(tmp_path, kind, users={"meter": PASSWORD, "ha": "ha-pw"}).start()
    (reading,) = readings(tmp_path, "doc_aidon_6534_list2")
    status = f"amsread/{AIDON}/status"
    watcher = Subscriber(broker, status, user="ha", password="ha-pw")
    password_file = tmp_path / "mqtt-password"
    password_file.write_text(PASSWORD + "\n")
    notices: list[str] = []
    once = {"reconnect_delay": (30.0, 60.0)}  # the refused try once within the test
    anonymous = publisher(broker.url(), notices, **once)
    wrong = publisher(broker.url(user="meter", password="guess"), notices, **once)
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    from_env = publisher(broker.url(user="meter"), notices)
    from_file = publisher(broker.url(user="meter"), notices, password_file=password_file, env={})
    try:
        for pub in (anonymous, wrong):
            pub.handle(reading)
        connect(from_file, reading)
        connect(from_env, reading)
        wait_until(lambda: sum("refused" in n for n in notices) >= 2, what="two refusals")
        assert not anonymous.connected and not wrong.connected
        assert watcher.wait_for(status)[0].payload == b"online"
    finally:
        # at once: paho's thread notices a close within a second while it waits to retry
        closers = [
            threading.Thread(target=p.close, args=(0.5,)) for p in (anonymous, wrong, from_env, from_file)
        ]
        for t in closers:
            t.start()
        for t in closers:
            t.join()
        watcher.close()
        broker.stop()
    out, err = capfd.readouterr()
    shown = [*notices, out, err, *(repr(p) for p in (anonymous, wrong, from_env, from_file))]
    assert all(PASSWORD not in text for text in shown)
    assert any("refused" in n for n in notices)


def test_a_fast_replay_is_held_back_instead_of_piling_up_in_paho(tmp_path: Path, broker: Broker) -> None:
    """Readings as fast as a replay makes them: ``handle`` waits once ``MAX_OUTSTANDING`` are not
    yet written to the socket, so memory stays bounded, and every state still arrives."""
    from amsread.sinks.mqtt import MAX_OUTSTANDING

    sim = SimulatedMeter("kaifa", 3, seed=9, start=dt.datetime(2026, 1, 5, tzinfo=OSLO))
    rows = [r for r in simulated(sim, 400) if r.values.get("meter_id")]
    many = rows * (3 * MAX_OUTSTANDING // len(rows) + 1)
    watcher = Subscriber(broker, "amsread/+/state")
    pub = publisher(broker.url())
    try:
        connect(pub, many[0])
        peak = 0
        for r in many[1:]:
            pub.handle(r)
            peak = max(peak, pub.outstanding)
        assert peak <= MAX_OUTSTANDING
        wait_until(lambda: len(watcher.messages) >= len(many) - 1, what="every state message")
        assert pub.stats.state_dropped <= 1  # the first, handed over before the broker accepted us
    finally:
        pub.close()
        watcher.close()


def test_tariff_figures_are_retained_throttled_and_resent_when_home_assistant_starts(
    tmp_path: Path, broker: Broker
) -> None:
    """``run --grid``'s figures: retained on ``<base>/tariff``, the first at once and then at most
    one per throttle (the latest kept for the close), again when Home Assistant comes online; the
    discovery config gains the tariff entities with the first figures."""
    (list2,) = readings(tmp_path, "doc_aidon_6534_list2")
    topic, config = f"amsread/{AIDON}/tariff", discovery_topic(AIDON)
    watcher = Subscriber(broker, "#")
    pub = publisher(broker.url(), rng=Low(), throttle=3600)
    try:
        pub.publish_tariff(AIDON, '{"left_kwh": 1.000}')  # before the meter is known: waits for it
        connect(pub, list2)
        assert watcher.wait_for(topic)[0].payload == b'{"left_kwh": 1.000}'
        configs = watcher.wait_for(config, 2)
        assert not any(k.startswith("tariff_") for k in json.loads(configs[0].payload)["cmps"])
        assert "tariff_left_kwh" in json.loads(configs[-1].payload)["cmps"]
        pub.publish_tariff(AIDON, '{"left_kwh": 2.000}')
        pub.publish_tariff(AIDON, '{"left_kwh": 3.000}')
        assert pub.flush(TIMEOUT)
        assert watcher.payloads(topic) == [b'{"left_kwh": 1.000}']  # the throttle holds them back
        watcher.client.publish("homeassistant/status", b"online")
        wait_until(lambda: len(watcher.on(topic)) == 2, what="the figures again for Home Assistant")
        assert watcher.payloads(topic)[-1] == b'{"left_kwh": 1.000}'  # what was published, again
    finally:
        pub.close()
    try:
        # the latest, published at the close: the watcher hears it a moment after close returns
        wait_until(
            lambda: watcher.payloads(topic)[-1:] == [b'{"left_kwh": 3.000}'],
            what="the latest figures, published at the close",
        )
        later = Subscriber(broker, topic)
        try:
            assert later.wait_for(topic)[0].payload == b'{"left_kwh": 3.000}'
            assert later.on(topic)[0].retain
        finally:
            later.close()
    finally:
        watcher.close()
