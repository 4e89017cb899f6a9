"""A TCP server as a destination: every client gets the stream from when it connects."""

from __future__ import annotations

import contextlib
import errno
import socket
from collections.abc import Callable

from amsread.errors import AmsReadError, DestinationError, PermissionDeniedError, PortBusyError, SourceError


def listen(host: str, port: int, *, what: str = "", other: type[AmsReadError] = SourceError) -> socket.socket:
    """A non-blocking listening socket on ``host:port``, or the error a user can act on: the port
    in use (exit 5), no permission (exit 4), anything else as ``other``. ``what`` starts the
    message (``--share: ``) where an option names the address."""
    try:
        server = socket.create_server((host, port))
    except OSError as e:
        where = f"{what}cannot listen on {host}:{port}"
        if e.errno == errno.EADDRINUSE:
            raise PortBusyError(f"{where}: the port is in use") from e
        if e.errno == errno.EACCES:
            raise PermissionDeniedError(f"{where}: permission denied") from e
        raise other(f"{where}: {e.strerror or e}") from e
    server.setblocking(False)
    return server


class TcpSink:
    """A TCP server that sends every frame to each connected client, like a serial-to-network bridge."""

    def __init__(self, host: str, port: int, *, log: Callable[[str], None]) -> None:
        self._log = log
        self.server = listen(host, port)
        self.address = self.server.getsockname()[:2]
        self.clients: list[socket.socket] = []
        self.served = 0

    def _accept(self) -> None:
        while True:
            try:
                conn, peer = self.server.accept()
            except (BlockingIOError, InterruptedError):
                return
            conn.setblocking(True)
            conn.settimeout(5.0)  # a client that stops reading is dropped, not waited for
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.clients.append(conn)
            self.served += 1
            self._log(f"client {peer[0]}:{peer[1]} connected")

    def write(self, frame: bytes) -> None:
        self._accept()
        for conn in list(self.clients):
            try:
                conn.sendall(frame)
            except OSError:
                self.clients.remove(conn)
                with contextlib.suppress(OSError):
                    conn.close()
                self._log("client disconnected")

    def close(self) -> None:
        for conn in self.clients:
            with contextlib.suppress(OSError):
                conn.close()
        self.server.close()

    def announce(self) -> str | None:
        # always said: with port 0 this is the only way to learn it
        return f"listening on {self.address[0]}:{self.address[1]}"

    def summary(self) -> str:
        return f"; {self.served} clients served"


def parse_address(value: str) -> tuple[str, int]:
    """``HOST:PORT`` or ``:PORT`` (all interfaces) or ``PORT`` (localhost) to a pair."""
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host = "127.0.0.1"
    host = host.strip("[]") or "0.0.0.0"
    try:
        port = int(port_text)
    except ValueError:
        raise DestinationError(f"expected HOST:PORT, got {value!r}") from None
    if not 0 <= port <= 65535:
        raise DestinationError(f"port {port} out of range 0-65535")
    return host, port
