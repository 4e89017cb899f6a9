"""A real MQTT broker for the tests, started on a free port on 127.0.0.1, and a recording subscriber.

mosquitto where its binary exists (``.ci/run`` installs it from the distribution's packages);
elsewhere the pure-Python amqtt from the ``test`` extra, so the README's test command passes on a
fresh machine too. ``AMSREAD_TEST_BROKER=amqtt`` (or ``mosquitto``) forces one, so both paths are
tested. Each broker runs as a child process with a configuration file written here: a plain
listener, optionally a TLS listener with a certificate made by ``make_certificates`` (a CA and a
server certificate for 127.0.0.1 from the ``cryptography`` package), and optionally a password file
with anonymous access refused. No mock: the publisher under test talks MQTT to a real broker.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import ipaddress
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

BROKER_ENV = "AMSREAD_TEST_BROKER"
KINDS = ("mosquitto", "amqtt")
#: Generous bounds for things that take milliseconds; a test only waits this long when it fails.
TIMEOUT = 10.0


def mosquitto_binary() -> str | None:
    """mosquitto on PATH, or in sbin where Debian puts it (not on a normal user's PATH)."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
    return shutil.which("mosquitto", path=path)


def broker_kind() -> str:
    """The broker these tests start: forced by ``AMSREAD_TEST_BROKER``, else mosquitto if present."""
    forced = os.environ.get(BROKER_ENV, "")
    if forced:
        if forced not in KINDS:
            raise ValueError(f"{BROKER_ENV}={forced!r}: use one of {', '.join(KINDS)}")
        return forced
    return "mosquitto" if mosquitto_binary() else "amqtt"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float = TIMEOUT, what: str = "condition") -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds. Not a sleep: it returns
    the moment the condition holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


@dataclass(frozen=True)
class Certificates:
    """A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, as PEM files."""

    ca: Path
    cert: Path
    key: Path
    client_cert: Path
    client_key: Path


def make_certificates(directory: Path) -> Certificates:
    """A fresh CA, and a server certificate it signed, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(name("amsread test CA"))
        .issuer_name(name("amsread test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def issue(
        subject: str, usage: x509.ObjectIdentifier, names: list[x509.GeneralName]
    ) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(ca_key, hashes.SHA256())
        pem_key = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return cert.public_bytes(serialization.Encoding.PEM), pem_key

    server = issue(
        "127.0.0.1",
        x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")],
    )
    client = issue("amsread test client", x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH, [])
    out = Certificates(
        directory / "ca.pem",
        directory / "server.pem",
        directory / "server.key",
        directory / "client.pem",
        directory / "client.key",
    )
    out.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for (cert_path, key_path), (cert_pem, key_pem) in (
        ((out.cert, out.key), server),
        ((out.client_cert, out.client_key), client),
    ):
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key_pem)
    return out


def _mosquitto_hash(password: str) -> str:
    """mosquitto_passwd's format: PBKDF2-SHA512, 101 rounds, 12 bytes of salt (``$7$``)."""
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 101)
    return f"$7$101${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _amqtt_hash(password: str) -> str:
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    # cheap parameters: a test password file, verified on every connection attempt
    return PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),)).hash(password)


class Broker:
    """One broker child process; ``stop`` and ``start`` again keep its ports (a restart)."""

    def __init__(
        self,
        directory: Path,
        kind: str | None = None,
        *,
        users: dict[str, str] | None = None,
        certificates: Certificates | None = None,
        client_certificates: bool = False,
    ) -> None:
        self.directory = directory
        self.kind = kind or broker_kind()
        self.users = users
        self.certificates = certificates
        self.client_certificates = client_certificates
        """The TLS listener checks client certificates against the CA (mosquitto: requires one;
        amqtt verifies one when offered but cannot require it)."""
        self.port = free_port()
        self.tls_port = free_port() if certificates else None
        self.log = directory / f"{self.kind}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._config = self._write_config()

    def url(self, *, user: str | None = None, password: str | None = None, tls: bool = False) -> str:
        cred = ""
        if user is not None:
            cred = user + (f":{password}" if password is not None else "") + "@"
        if tls:
            return f"mqtts://{cred}127.0.0.1:{self.tls_port}"
        return f"mqtt://{cred}127.0.0.1:{self.port}"

    def _write_config(self) -> Path:
        if self.kind == "mosquitto":
            return self._mosquitto_config()
        return self._amqtt_config()

    def _mosquitto_config(self) -> Path:
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", f"log_dest file {self.log}"]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to user mosquitto, who cannot read tmp_path
        if self.certificates is not None:
            c = self.certificates
            lines += [f"listener {self.tls_port} 127.0.0.1", f"certfile {c.cert}", f"keyfile {c.key}"]
            if self.client_certificates:
                lines += [f"cafile {c.ca}", "require_certificate true"]
        if self.users is None:
            lines.append("allow_anonymous true")
        else:
            passwords = self.directory / "passwords"
            passwords.write_text("".join(f"{u}:{_mosquitto_hash(p)}\n" for u, p in self.users.items()))
            lines += ["allow_anonymous false", f"password_file {passwords}"]
        path = self.directory / "mosquitto.conf"
        path.write_text("\n".join(lines) + "\n")
        return path

    def _amqtt_config(self) -> Path:
        lines = ["listeners:", "  default:", "    type: tcp", f"    bind: 127.0.0.1:{self.port}"]
        if self.certificates is not None:
            c = self.certificates
            lines += [
                "  tls:",
                "    type: tcp",
                f"    bind: 127.0.0.1:{self.tls_port}",
                "    ssl: true",
                f"    certfile: {c.cert}",
                f"    keyfile: {c.key}",
            ]
            if self.client_certificates:
                lines.append(f"    cafile: {c.ca}")
        lines.append("plugins:")
        if self.users is None:
            lines += ["  amqtt.plugins.authentication.AnonymousAuthPlugin:", "    allow_anonymous: true"]
        else:
            passwords = self.directory / "passwords"
            passwords.write_text("".join(f"{u}:{_amqtt_hash(p)}\n" for u, p in self.users.items()))
            lines += ["  amqtt.plugins.authentication.FileAuthPlugin:", f"    password_file: {passwords}"]
        path = self.directory / "amqtt.yaml"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start(self) -> Broker:
        if self.kind == "mosquitto":
            binary = mosquitto_binary()
            if binary is None:
                raise RuntimeError(f"{BROKER_ENV}=mosquitto but no mosquitto binary here")
            command = [binary, "-c", str(self._config)]
        else:
            command = [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(self._config)]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        for port in (self.port, self.tls_port):
            if port is not None:
                wait_until(lambda p=port: self._listening(p), what=f"{self.kind} on port {port}")  # type: ignore[misc]
        return self

    def _listening(self, port: int) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(
                f"{self.kind} exited {self.process.returncode}: {self.log.read_text()[-2000:]}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=TIMEOUT)
        self.process = None


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    qos: int


class Subscriber:
    """A paho client that records every message on its subscriptions, for assertions."""

    def __init__(
        self, broker: Broker, *topics: str, user: str | None = None, password: str | None = None
    ) -> None:
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"test-{secrets.token_hex(4)}")
        if user is not None:
            self.client.username_pw_set(user, password)
        self.client.on_message = self._message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        self.client.subscribe([(t, 1) for t in topics])
        if not self._subscribed.wait(TIMEOUT):
            raise AssertionError("the test subscriber was not subscribed")

    def _message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(
                Received(message.topic, bytes(message.payload), bool(message.retain), message.qos)
            )

    def on(self, topic: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def payloads(self, topic: str) -> list[bytes]:
        return [m.payload for m in self.on(topic)]

    def wait_for(self, topic: str, count: int = 1, timeout: float = TIMEOUT) -> list[Received]:
        wait_until(lambda: len(self.on(topic)) >= count, timeout, f"{count} messages on {topic}")
        return self.on(topic)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Relay:
    """A TCP forwarder on its own port to the broker's, with a gate: while shut, a client that
    connects is hung up on at once. The broker-restart test uses it to have its subscriber
    subscribed to the restarted broker before the publisher can reconnect, so the test can see
    every queued message arrive without racing the publisher's backoff."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.open = threading.Event()
        self.open.set()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            if not self.open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=TIMEOUT)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()

    def close(self) -> None:
        self._server.close()
        for s in self._sockets:
            s.close()
