"""A small HTTP/1.1 server on ``asyncio.Protocol``: the transport of the emulator's two listeners.

Why not aiohttp's web server here: on the warm invoke path every invoke crosses three HTTP
exchanges (invoke, ``/next``, ``/response``), and aiohttp's request/response objects, routing and
per-request tasks cost ~100-150 µs of CPU per exchange against ~50 µs for this module (measured on
the benchmark machine, ``benchmarks/rie_server.py``). Only what the Runtime and Invoke APIs need:

* requests framed by ``Content-Length`` or ``Transfer-Encoding: chunked`` (trailers read and
  dropped); ``Expect: 100-continue`` answered before the body; keep-alive (HTTP/1.1 default,
  ``Connection: close``, HTTP/1.0), pipelined requests answered in order; the reply to ``HEAD``
  is its head alone, buffered or streamed (RFC 9110 §9.3.2);
* bodies bounded: at most ``keep_bytes`` are kept, the rest is read and counted but dropped, so
  "too large" stays detectable without holding the bytes;
* a malformed request gets its 4xx (``400``; ``431``/``414`` for oversized headers; ``505``) and
  the connection is closed; no exception from parsing reaches asyncio (a parser bug answers 500);
* a reply whose header would carry a control character (CR, LF, NUL, ...) is never written:
  ``render`` raises ``LocalHttpError`` and the client gets 500 instead;
* bounded waits on the client, never on the handler: a request's head must arrive within
  ``header_timeout`` of its first byte (and of the connection's start), its body must not stall
  longer than that (else ``408`` and close); a keep-alive connection idle between requests is
  closed after ``idle_timeout``. A long-poll ``/next`` or a 15-minute invocation is never cut;
* accepting backs off when the process is out of file descriptors, with one warning line
  (``http.listen``);
* a handler returns an ``HttpReply`` directly (no task), a ``Deferred`` another callback resolves
  (no task: a long-poll ``/next``) or an awaitable of a reply (run at once up to its first wait,
  then resumed by the futures it waits on, still without a task: ``http.handlers.Carried``); if
  the client hangs up meanwhile, a server made with ``cancel_on_hangup`` cancels the awaitable
  or calls the ``Deferred``'s ``on_hangup`` (a long-poll ``/next`` is withdrawn that way).

Streaming (``http.streams``), off the path of every other request: a server made with
``on_head`` may take a request's body piece by piece (a ``BodySink``), and a handler may answer
with a ``ReplyStream`` written chunk by chunk, with backpressure both ways.

No TLS, no upgrades. Parsing is ``http.parser`` and ``http.grammar``
(sans-IO), replies are written by ``http.reply``, connections accepted by ``http.listen``, each
served by an ``http.connection.Connection``; what a handler may return is ``http.handlers``.
"""

from __future__ import annotations

import asyncio
import logging
import socket

from lambdarig.rie_server.http.connection import Connection
from lambdarig.rie_server.http.grammar import LocalHttpError
from lambdarig.rie_server.http.handlers import Deferred, Handler, OnHead
from lambdarig.rie_server.http.listen import Listener, bind
from lambdarig.rie_server.http.parser import BadRequest, Headers, HttpRequest, RequestParser
from lambdarig.rie_server.http.reply import HttpReply, http_date, render
from lambdarig.rie_server.http.streams import BodySink, ReplyStream

__all__ = [
    "BadRequest",
    "BodySink",
    "Deferred",
    "Handler",
    "Headers",
    "HttpReply",
    "HttpRequest",
    "HttpServer",
    "LocalHttpError",
    "ReplyStream",
    "RequestParser",
    "http_date",
    "render",
]

_log = logging.getLogger(__name__)
HANDLER_CLEANUP_S = 5.0  # what ``close`` waits at most for the handlers it cancelled


class HttpServer:
    """Listens on ``host:port`` (0 = ephemeral) and answers with ``handler``.

    ``start()`` raises ``OSError`` when the address cannot be bound; ``close()`` stops listening
    and closes every connection (requests being handled are cancelled); idempotent.

    ``header_timeout`` bounds how long a client may take to send a request's head (from its
    first byte, or from connecting) and how long its body may stall; ``idle_timeout`` how long a
    keep-alive connection may sit between requests (clients such as urllib3 see the close and
    reconnect; ``None``: as long as it likes). Neither ever applies while the handler works on
    an answer. ``accept_retry_delay`` is the pause in accepting when the process is out of file
    descriptors. ``sock``: a socket already bound and listening (the command line binds before
    asyncio is imported, ``fast_start``); ``host`` and ``port`` are then not used.
    """

    def __init__(
        self,
        handler: Handler,
        host: str,
        port: int,
        *,
        keep_bytes: int,
        cancel_on_hangup: bool = False,
        on_head: OnHead | None = None,
        header_timeout: float = 10.0,
        idle_timeout: float | None = 60.0,
        accept_retry_delay: float = 1.0,
        sock: socket.socket | None = None,
    ) -> None:
        self.handler = handler
        self.keep_bytes = keep_bytes
        self.cancel_on_hangup = cancel_on_hangup
        self.on_head = on_head
        self.header_timeout = header_timeout
        self.idle_timeout = idle_timeout
        self.connections: set[Connection] = set()
        self._host, self._port = host, port
        self._accept_retry_delay = accept_retry_delay
        self._listeners: list[Listener] = []
        self._starting: set[asyncio.Task[None]] = set()  # accepted sockets becoming connections
        self._sock = sock  # already bound and listening (then host and port are not used)
        self.port = 0

    async def start(self) -> int:
        """Bind (unless given a listening socket) and serve; returns the bound port."""
        if self._sock is not None:
            sockets, self._sock = [self._sock], None
            sockets[0].setblocking(False)
        else:
            sockets = await bind(self._host, self._port)
        self._listeners = [Listener(s, self._accepted, self._accept_retry_delay) for s in sockets]
        for listener in self._listeners:
            listener.start()
        self.port = int(sockets[0].getsockname()[1])
        return self.port

    def _accepted(self, sock: socket.socket) -> None:
        task = asyncio.ensure_future(self._connect(sock))
        self._starting.add(task)
        task.add_done_callback(self._starting.discard)

    async def _connect(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.connect_accepted_socket(lambda: Connection(self), sock)
        except OSError as exc:  # the client left before its transport was made
            _log.debug("dropped a connection being set up: %s", exc)
            sock.close()

    async def close(self) -> None:
        listeners, self._listeners = self._listeners, []
        if not listeners:
            return
        for listener in listeners:
            listener.close()
        for task in list(self._starting):
            task.cancel()
        finishing = [connection.close() for connection in list(self.connections)]
        self.connections.clear()
        await asyncio.sleep(0)  # let the transports' close callbacks run
        # The handlers cancelled run their except/finally blocks (as asyncio.run lets a cancelled
        # task finish), within a bound: a handler's cleanup never holds the close for long.
        handlers = [end for end in finishing if end is not None]
        if handlers:
            await asyncio.wait(handlers, timeout=HANDLER_CLEANUP_S)
