"""Listening sockets for ``http.server.HttpServer``, with an accept loop of our own.

Why not ``loop.create_server``'s: when the process is out of file descriptors, asyncio's
``_accept_connection`` logs a traceback for each failed ``accept()`` and, lacking a ``return``,
goes on through the rest of its backlog, scheduling a retry each time (CPython issue 151615): with
slow clients holding every descriptor, stderr got tens of thousands of tracebacks in seconds.
Here an exhausted ``accept()`` stops accepting for ``retry_delay`` seconds and logs one warning
line per episode (and at most one a minute); the first connection accepted afterwards ends it.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Callable

__all__ = ["Listener", "bind", "resolvable"]

_log = logging.getLogger(__name__)

BACKLOG = 100  # as loop.create_server
_OUT_OF_RESOURCES = (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM)
_WARN_EVERY = 60.0  # seconds between two warnings, however often the episodes come


async def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address ``host`` resolves to, all on one port (``0``: one
    ephemeral port, the first socket's). Raises ``OSError`` as ``loop.create_server`` does."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(
        resolvable(host),
        port,
        family=socket.AF_UNSPEC,
        type=socket.SOCK_STREAM,
        flags=socket.AI_PASSIVE,
    )
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            if sockets and port == 0:
                address = (address[0], sockets[0].getsockname()[1], *address[2:])
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                reason = (exc.strerror or str(exc)).lower()
                raise OSError(
                    exc.errno, f"error while attempting to bind on address {address!r}: {reason}"
                ) from None
            sock.listen(BACKLOG)
            sock.setblocking(False)
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def resolvable(host: str) -> str | bytes:
    """``host`` as the emulator hands it to ``loop.getaddrinfo``: as bytes where it is ASCII, so
    that the resolving thread (asyncio's executor) never loads the ``idna`` codec. Loaded there,
    it is imported while the loop's thread may be importing too, and CPython 3.10's import locks
    can then print an "Exception ignored" traceback on stderr (seen once, under ``lambdarig
    invoke --template``)."""
    return host.encode("ascii") if host.isascii() else host


class Listener:
    """Accepts connections on ``sock`` and hands each (non-blocking) to ``on_accept``."""

    def __init__(
        self,
        sock: socket.socket,
        on_accept: Callable[[socket.socket], None],
        retry_delay: float = 1.0,
    ) -> None:
        self._sock = sock
        self._on_accept = on_accept
        self._retry_delay = retry_delay
        self._loop = asyncio.get_running_loop()
        self._retry: asyncio.TimerHandle | None = None
        self._exhausted = False  # an episode is under way
        self._warned = False  # ... and its warning was logged (so its end is too)
        self._warned_at = float("-inf")
        self.name = _address(sock)

    def start(self) -> None:
        self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._sock.fileno() >= 0:
            self._loop.remove_reader(self._sock.fileno())
            self._sock.close()

    def _accept(self) -> None:
        for _ in range(BACKLOG):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:
                continue
            except OSError as exc:
                self._back_off(exc)
                return
            if self._exhausted:
                self._exhausted = False
                if self._warned:
                    self._warned = False
                    _log.info("accepting connections on %s again", self.name)
            conn.setblocking(False)
            self._on_accept(conn)

    def _back_off(self, exc: OSError) -> None:
        """Stop accepting for ``retry_delay`` (the listening socket stays readable while the
        backlog holds connections, so accepting at once again would spin)."""
        self._loop.remove_reader(self._sock.fileno())
        self._retry = self._loop.call_later(self._retry_delay, self._resume)
        _log.debug(
            "accept() on %s failed (%s): retrying in %g s", self.name, exc, self._retry_delay
        )
        if self._exhausted:
            return
        self._exhausted = True
        now = self._loop.time()
        if now - self._warned_at < _WARN_EVERY:
            return
        self._warned_at, self._warned = now, True
        cause = "out of file descriptors" if exc.errno in _OUT_OF_RESOURCES else "accept() failed"
        _log.warning(
            "%s: not accepting connections on %s for %g s at a time until it succeeds (%s)",
            cause,
            self.name,
            self._retry_delay,
            exc,
        )

    def _resume(self) -> None:
        self._retry = None
        if self._sock.fileno() >= 0:
            self._loop.add_reader(self._sock.fileno(), self._accept)


def _address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
