"""``--share HOST:PORT``: the raw bytes from the port, served to any number of TCP clients.

Like ser2net, so ``amsread watch socket://pi:2000`` runs on a laptop while ``amsread run`` owns
the serial port. Unlike ``sinks.tcp`` (which may wait up to seconds for a client, fine for the
simulator), nothing here ever waits: every socket is non-blocking, each client has a bounded
backlog of unsent bytes, and a client whose backlog overflows (it stopped reading) or whose
socket fails (it left) is dropped at once. The reader of the port is the one that calls
``write``, so a blocked send would stop the reading; it cannot happen.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from amsread.errors import ShareError
from amsread.sinks.tcp import listen

#: Unsent bytes a client may fall behind by before it is dropped: about five minutes of a meter
#: at 2400 baud, far more than any network hiccup, far less than memory to worry about.
DEFAULT_CLIENT_BACKLOG: Final = 64 * 1024
#: Each client's kernel send buffer (Linux doubles it): seconds of meter data, not megabytes.
SEND_BUFFER: Final = 64 * 1024


@dataclass(slots=True)
class _Client:
    conn: socket.socket
    peer: str
    backlog: bytearray = field(default_factory=bytearray)


class RawShare:
    """A TCP server handing every byte written to it to each connected client, never waiting."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        log: Callable[[str], None],
        client_backlog: int = DEFAULT_CLIENT_BACKLOG,
    ) -> None:
        self._log = log
        self.client_backlog = client_backlog
        self.server = listen(host, port, what="--share: ", other=ShareError)
        self.address: tuple[str, int] = self.server.getsockname()[:2]
        self.clients: list[_Client] = []
        self.served = 0
        self.dropped = 0

    def _accept(self) -> None:
        while True:
            try:
                conn, peer = self.server.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:  # too many open files, ...: the port reading goes on
                self._log(f"share: cannot accept a client: {e.strerror or e}")
                return
            conn.setblocking(False)
            with contextlib.suppress(OSError):
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                # a modest kernel buffer, so a client that stops reading shows in its backlog
                # within seconds instead of after megabytes of kernel memory
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
            self.clients.append(_Client(conn, f"{peer[0]}:{peer[1]}"))
            self.served += 1
            self._log(f"share: client {peer[0]}:{peer[1]} connected")

    def write(self, data: bytes) -> None:
        """Queue ``data`` for every client and send what each socket takes now (``b""`` only
        accepts newcomers and retries backlogs: a live source yields it on every quiet read)."""
        self._accept()
        for client in list(self.clients):
            client.backlog += data
            if len(client.backlog) > self.client_backlog:
                self._drop(client, "not reading")
                continue
            try:
                while client.backlog:
                    sent = client.conn.send(client.backlog)
                    del client.backlog[:sent]
            except (BlockingIOError, InterruptedError):
                continue  # its buffer is full: the rest waits in its backlog
            except OSError:
                self._drop(client, "left")

    def _drop(self, client: _Client, why: str) -> None:
        self.clients.remove(client)
        self.dropped += 1
        with contextlib.suppress(OSError):
            client.conn.close()
        self._log(f"share: client {client.peer} dropped ({why})")

    def close(self) -> None:
        for client in self.clients:
            with contextlib.suppress(OSError):
                client.conn.close()
        self.clients = []
        self.server.close()

    def summary(self) -> str:
        return f"share: {self.served} clients served, {self.dropped} dropped"
