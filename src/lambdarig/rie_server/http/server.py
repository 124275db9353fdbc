"""A small HTTP/1.1 server on ``asyncio.Protocol``: the transport of the emulator's two listeners.

Why not aiohttp's web server here: on the warm invoke path every invoke crosses three HTTP
exchanges (invoke, ``/next``, ``/response``), and aiohttp's request/response objects, routing and
per-request tasks cost ~100-150 µs of CPU per exchange against ~50 µs for this module (measured on
the benchmark machine, ``benchmarks/rie_server.py``). Only what the Runtime and Invoke APIs need:

* requests framed by ``Content-Length`` or ``Transfer-Encoding: chunked`` (trailers read and
  dropped); ``Expect: 100-continue`` answered before the body; keep-alive (HTTP/1.1 default,
  ``Connection: close``, HTTP/1.0), pipelined requests answered in order;
* bodies bounded: at most ``keep_bytes`` are kept, the rest is read and counted but dropped, so
  "too large" stays detectable without holding the bytes;
* a malformed request gets ``400`` (``431`` for oversized headers) and the connection is closed;
* a handler returns an ``HttpReply`` directly (no task), a ``Deferred`` another callback resolves
  (no task: a long-poll ``/next``) or an awaitable of a reply (run at once up to its first wait,
  then one task); if the client hangs up meanwhile, a server made with ``cancel_on_hangup``
  cancels the task or calls the ``Deferred``'s ``on_hangup`` (a long-poll ``/next`` is withdrawn
  that way).

No TLS, no upgrades, no streaming responses. Parsing is ``http11_parser`` (sans-IO).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Awaitable, Coroutine, Generator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Callable, Union

from lambdarig.rie_server.http.parser import (
    MAX_HEADER_BYTES,
    BadRequest,
    Headers,
    HttpRequest,
    RequestParser,
)

__all__ = [
    "BadRequest",
    "Deferred",
    "Handler",
    "Headers",
    "HttpReply",
    "HttpRequest",
    "HttpServer",
    "RequestParser",
    "http_date",
    "render",
]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpReply:
    """A complete answer; ``Content-Length`` and ``Date`` are added when written."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


class Deferred:
    """A reply a callback gives later, without a task: ``resolve`` writes it at once (a long
    poll answered from whatever produced its event). ``on_hangup`` runs if the client leaves
    first on a server made with ``cancel_on_hangup``."""

    __slots__ = ("reply", "on_hangup", "_sink")

    def __init__(self) -> None:
        self.reply: HttpReply | None = None
        self.on_hangup: Callable[[], None] | None = None
        self._sink: Callable[[HttpReply], None] | None = None

    def resolve(self, reply: HttpReply) -> None:
        sink, self._sink = self._sink, None
        if sink is not None:
            sink(reply)
        elif self.reply is None:
            self.reply = reply

    def _attach(self, sink: Callable[[HttpReply], None]) -> None:
        self._sink = sink

    def _hang_up(self) -> None:
        self._sink = None
        callback, self.on_hangup = self.on_hangup, None
        if callback is not None:
            callback()


Handler = Callable[[HttpRequest], Union[HttpReply, Deferred, Awaitable[HttpReply]]]


_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_STATUS_LINES = {
    status.value: f"HTTP/1.1 {status.value} {status.phrase}\r\n" for status in HTTPStatus
}
_date_cache: tuple[int, str] = (0, "")
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(epoch_s: int) -> str:
    """RFC 9110's IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``), locale-independent: what
    ``email.utils.formatdate(usegmt=True)`` writes, without importing the ``email`` package."""
    t = time.gmtime(epoch_s)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year:04d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
    )


def _date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, http_date(now))
    return _date_cache[1]


def render(reply: HttpReply, head_only: bool = False, close: bool = False) -> bytes:
    """The reply's bytes: status line, its headers, ``Content-Length``, ``Date``, body (one
    string built with one join: this runs for every exchange)."""
    status = reply.status
    parts = [_STATUS_LINES.get(status) or f"HTTP/1.1 {status} Unknown\r\n"]
    for name, value in reply.headers:
        parts += (name, ": ", value, "\r\n")
    parts += ("Content-Length: ", str(len(reply.body)), "\r\nDate: ", _date())
    parts.append("\r\nConnection: close\r\n\r\n" if close else "\r\n\r\n")
    head = "".join(parts).encode("utf-8", "surrogateescape")
    return head if head_only else head + reply.body


_READ_SIZE = 256 * 1024  # per receive, as asyncio's own transports read


class _Connection(asyncio.BufferedProtocol):
    """One client connection: parses requests, runs the handler, writes replies in order.

    Bytes are received into one buffer per connection (``recv_into``): a plain ``Protocol`` gets
    a new 256 KiB ``bytes`` per receive, which the allocator maps and unmaps again (three system
    calls each, three receives per warm invoke)."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._buffer = memoryview(bytearray(_READ_SIZE))
        self._parser = RequestParser(server.keep_bytes)
        self._transport: asyncio.Transport | None = None
        self._task: asyncio.Future[None] | None = None  # the request being handled
        self._deferred: Deferred | None = None  # ... or the reply it is waiting for
        self._paused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        self._transport = None
        task, self._task = self._task, None
        deferred, self._deferred = self._deferred, None
        if self._server.cancel_on_hangup:
            if task is not None:
                task.cancel()
            if deferred is not None:
                deferred._hang_up()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        self._parser.feed(self._buffer[:nbytes])  # copied into the parser's buffer
        if self._task is None and self._deferred is None:
            self._advance()
        elif self._parser.buffered > MAX_HEADER_BYTES and not self._paused:
            self._paused = True  # a client pipelining while we answer: stop reading for now
            assert self._transport is not None
            self._transport.pause_reading()

    def close(self) -> None:
        """Close the connection now; a request being handled is cancelled."""
        if self._transport is not None:
            self._transport.close()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            deferred._hang_up()

    def _advance(self) -> None:
        """Answer every complete request buffered, until one needs to wait."""
        while self._transport is not None and self._task is None and self._deferred is None:
            try:
                request = self._parser.next_request()
            except BadRequest as exc:
                self._write(HttpReply(exc.status, f"{exc}\n".encode()), close=True)
                return
            if request is None:
                if self._parser.expects_continue:
                    self._parser.continue_sent()
                    self._transport.write(_CONTINUE)
                if self._paused:
                    self._paused = False
                    self._transport.resume_reading()
                return
            self._handle(request)

    def _handle(self, request: HttpRequest) -> None:
        try:
            result = self._server.handler(request)
        except Exception:
            self._handler_failed(request)
            return
        if isinstance(result, HttpReply):
            self._reply(request, result)
        elif isinstance(result, Deferred):
            if result.reply is not None:
                self._reply(request, result.reply)
                return
            self._deferred = result
            result._attach(lambda reply: self._resolved(request, result, reply))
        else:
            self._start(self._respond(request, result))

    def _handler_failed(self, request: HttpRequest) -> None:
        """Call from an ``except`` block: log the handler's exception, answer 500 and close."""
        _log.exception("HTTP handler failed for %s %s", request.method, request.target)
        self._write(HttpReply(500, b"500 Internal Server Error\n"), close=True)

    def _start(self, respond: Coroutine[Any, Any, None]) -> None:
        """Run ``respond`` at once up to its first wait (an invoke's event reaches the runtime in
        this loop iteration, not the next); only then does a task take it over."""
        try:
            waiting_on = respond.send(None)
        except (StopIteration, asyncio.CancelledError):
            return  # answered without waiting (it wrote its reply)
        loop = self._server.loop  # not asyncio's lookup: each get_running_loop() is a getpid()
        assert loop is not None  # connections exist only once the server started
        self._task = loop.create_task(_Started(respond, waiting_on))

    async def _respond(self, request: HttpRequest, pending: Awaitable[HttpReply]) -> None:
        """Await the handler's reply and write it (from the task, if one took over)."""
        try:
            reply = await pending
        except asyncio.CancelledError:
            self._task = None
            raise
        except Exception:
            self._task = None
            self._handler_failed(request)
            return
        in_task, self._task = self._task is not None, None
        self._reply(request, reply)
        if in_task:  # else the caller's _advance loop goes on
            self._advance()

    def _resolved(self, request: HttpRequest, deferred: Deferred, reply: HttpReply) -> None:
        if deferred is not self._deferred:
            return  # the connection was closed meanwhile
        self._deferred = None
        self._reply(request, reply)
        self._advance()

    def _reply(self, request: HttpRequest, reply: HttpReply) -> None:
        self._write(reply, close=not request.keep_alive, head_only=request.method == "HEAD")

    def _write(self, reply: HttpReply, close: bool, head_only: bool = False) -> None:
        transport = self._transport
        if transport is None:
            return
        transport.write(render(reply, head_only, close))
        if close:
            transport.close()
            self._transport = None


class _Started(Coroutine[Any, None, None]):
    """A coroutine already run up to its first wait, for a task to carry on: the task's first
    step gets what it waits on; later steps and cancellation go to the coroutine itself."""

    __slots__ = ("_coro", "_first", "_pending")

    def __init__(self, coro: Coroutine[Any, Any, None], first: Any) -> None:
        self._coro = coro
        self._first: Any = first
        self._pending = True

    def send(self, value: None) -> Any:
        if self._pending:
            self._pending = False
            return self._first
        return self._coro.send(value)

    def throw(self, exc: Any, *_: Any) -> Any:
        self._pending = False
        return self._coro.throw(exc)

    def close(self) -> None:
        self._coro.close()

    def __await__(self) -> Generator[Any, None, None]:
        raise TypeError("_Started is driven by a task, not awaited")


class HttpServer:
    """Listens on ``host:port`` (0 = ephemeral), or on ``sock`` already bound, and answers with
    ``handler``.

    ``start()`` raises ``OSError`` when the address cannot be bound; ``close()`` stops listening
    and closes every connection (requests being handled are cancelled); idempotent.
    """

    def __init__(
        self,
        handler: Handler,
        host: str,
        port: int,
        *,
        keep_bytes: int,
        cancel_on_hangup: bool = False,
        sock: socket.socket | None = None,
    ) -> None:
        self.handler = handler
        self.keep_bytes = keep_bytes
        self.cancel_on_hangup = cancel_on_hangup
        self.connections: set[_Connection] = set()
        self._host, self._port = host, port
        self._sock = sock  # already bound and listening (then host and port are not used)
        self._server: asyncio.AbstractServer | None = None
        self.port = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    async def start(self) -> int:
        """Bind and serve; returns the bound port."""
        loop = self.loop = asyncio.get_running_loop()
        if self._sock is not None:
            sock, self._sock = self._sock, None
            server = await loop.create_server(lambda: _Connection(self), sock=sock)
        else:
            server = await loop.create_server(
                lambda: _Connection(self), self._host, self._port, reuse_address=True
            )
        self._server = server
        self.port = int(server.sockets[0].getsockname()[1])
        return self.port

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for connection in list(self.connections):
            connection.close()
        self.connections.clear()
        await server.wait_closed()
