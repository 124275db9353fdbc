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
  (no task: a long-poll ``/next``) or an awaitable of a reply (one task); if the client hangs up
  meanwhile, a server made with ``cancel_on_hangup`` cancels the task or calls the
  ``Deferred``'s ``on_hangup`` (a long-poll ``/next`` is withdrawn that way).

No TLS, no upgrades, no streaming responses. The parser (``RequestParser``) does no I/O.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Iterator, Mapping
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Callable, Union
from urllib.parse import parse_qsl

_log = logging.getLogger(__name__)

MAX_LINE = 8190  # request line and each header line, as aiohttp's limits
MAX_HEADER_BYTES = 64 * 1024
_CHUNK_LINE_MAX = 1024


class Headers(Mapping[str, str]):
    """Case-insensitive, read-only request headers; repeated fields are joined by ``", "``."""

    __slots__ = ("_items",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        items: dict[str, tuple[str, str]] = {}
        for name, value in pairs:
            _add(items, name, value)
        self._items = items

    @classmethod
    def _of(cls, items: dict[str, tuple[str, str]]) -> Headers:
        """Wrap ``{lower-case name: (name, value)}`` as built by the parser (no copy)."""
        headers = cls.__new__(cls)
        headers._items = items
        return headers

    def _raw(self, key: str) -> str | None:
        """The value for an already lower-case ``key`` (the parser's own lookups)."""
        found = self._items.get(key)
        return None if found is None else found[1]

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()][1]

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        found = self._items.get(name.lower())
        return default if found is None else found[1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class HttpRequest:
    """One complete request. ``body`` holds at most the server's ``keep_bytes``; ``received`` is
    how many body bytes arrived in all; ``content_length`` is ``None`` for chunked or no body."""

    method: str
    target: str
    version: str
    headers: Headers
    body: bytes
    content_length: int | None
    received: int

    @property
    def path(self) -> str:
        """The target without its query string (still percent-encoded)."""
        return self.target.partition("?")[0]

    @property
    def query(self) -> dict[str, str]:
        """The query string's parameters (a repeated one: the last value; ``+``/``%XX`` decoded)."""
        query = self.target.partition("?")[2]
        return dict(parse_qsl(query, keep_blank_values=True)) if query else {}

    @property
    def keep_alive(self) -> bool:
        connection = (self.headers.get("Connection") or "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


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


class BadRequest(Exception):
    """The bytes received are not an acceptable HTTP/1.1 request (answered, then closed)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class RequestParser:
    """Sans-IO: ``feed`` bytes, then take requests with ``next_request`` until it returns ``None``.

    ``expects_continue`` turns true once a request's head asked for ``100-continue`` and its body
    is still to come; the caller answers and calls ``continue_sent``.
    """

    def __init__(self, keep_bytes: int) -> None:
        self._keep = keep_bytes
        self._buf = bytearray()
        self._head: tuple[str, str, str, Headers] | None = None
        self._length: int | None = None  # Content-Length of the pending body; None = chunked
        self._chunks: list[bytes] = []
        self._kept = 0
        self._received = 0
        self._chunk_left = -1  # chunked: bytes left in the current chunk (-1 = size line next)
        self._in_trailers = False
        self.expects_continue = False

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> None:
        self._buf += data

    def continue_sent(self) -> None:
        self.expects_continue = False

    def next_request(self) -> HttpRequest | None:
        """The next complete request, or ``None`` until more bytes arrive; raises ``BadRequest``."""
        if self._head is None and (not self._buf or not self._read_head()):
            return None
        assert self._head is not None
        done = self._read_chunked() if self._length is None else self._read_length()
        if not done:
            return None
        method, target, version, headers = self._head
        body = b"".join(self._chunks)
        request = HttpRequest(method, target, version, headers, body, self._length, self._received)
        self._head, self._chunks, self._kept, self._received = None, [], 0, 0
        self._chunk_left, self._in_trailers, self.expects_continue = -1, False, False
        return request

    def _read_head(self) -> bool:
        while self._buf.startswith(b"\r\n"):  # RFC 9112 §2.2: ignore empty lines before a request
            del self._buf[:2]
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > MAX_HEADER_BYTES:
                raise BadRequest("request header section too large", 431)
            return False
        if end > MAX_HEADER_BYTES:
            raise BadRequest("request header section too large", 431)
        first, _, rest = bytes(self._buf[:end]).partition(b"\r\n")
        del self._buf[: end + 4]
        method, target, version = _request_line(first)
        headers = Headers._of(_header_items(rest))
        self._length = _body_length(headers)
        self._head = (method, target, version, headers)
        expect = (headers._raw("expect") or "").lower()
        has_body = self._length is None or self._length > 0
        self.expects_continue = expect == "100-continue" and has_body and not self._buf
        return True

    def _take(self, size: int) -> None:
        data = bytes(self._buf[:size])
        del self._buf[:size]
        self._received += size
        room = self._keep - self._kept
        if room > 0:
            kept = data[:room]
            self._chunks.append(kept)
            self._kept += len(kept)

    def _read_length(self) -> bool:
        assert self._length is not None
        self._take(min(self._length - self._received, len(self._buf)))
        return self._received == self._length

    def _read_chunked(self) -> bool:
        while True:
            if self._in_trailers:
                return self._skip_trailers()
            if self._chunk_left > 0:
                step = min(self._chunk_left, len(self._buf))
                self._take(step)
                self._chunk_left -= step
                if self._chunk_left > 0:
                    return False
            line = self._line()
            if line is None:
                return False
            if self._chunk_left == 0:  # the CRLF closing a chunk's data
                if line:
                    raise BadRequest("expected CRLF after a chunk's data")
                self._chunk_left = -1
                continue
            self._chunk_left = _chunk_size(line)
            if self._chunk_left == 0:
                self._in_trailers = True

    def _skip_trailers(self) -> bool:
        while True:
            line = self._line()
            if line is None:
                return False
            if not line:
                return True

    def _line(self) -> bytes | None:
        end = self._buf.find(b"\r\n")
        if end < 0:
            if len(self._buf) > _CHUNK_LINE_MAX:
                raise BadRequest("chunk size or trailer line too long")
            return None
        line = bytes(self._buf[:end])
        del self._buf[: end + 2]
        return line


def _request_line(line: bytes) -> tuple[str, str, str]:
    parts = line.split(b" ")
    if len(line) > MAX_LINE or len(parts) != 3 or not parts[0].isalpha():
        raise BadRequest(f"expected a request line like 'GET /path HTTP/1.1', got {line[:80]!r}")
    version = parts[2].decode("ascii", "replace")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(f"expected HTTP/1.1 or HTTP/1.0, got {version!r}", 505)
    target = parts[1].decode("ascii", "replace")
    if not target.startswith("/") and target != "*":
        target = "/" + target.partition("://")[2].partition("/")[2] if "://" in target else target
    return parts[0].decode("ascii"), target, version


def _add(items: dict[str, tuple[str, str]], name: str, value: str) -> None:
    key = name.lower()
    found = items.get(key)
    items[key] = (name, value) if found is None else (found[0], f"{found[1]}, {value}")


def _header_items(block: bytes) -> dict[str, tuple[str, str]]:
    """``{lower-case name: (name, value)}`` of a header block (one pass, no per-line calls)."""
    items: dict[str, tuple[str, str]] = {}
    if not block:
        return items
    for line in block.split(b"\r\n"):
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip() or len(line) > MAX_LINE:
            raise BadRequest(f"expected a 'Name: value' header line, got {line[:80]!r}")
        text = value.strip(b" \t").decode("utf-8", "surrogateescape")
        _add(items, name.decode("ascii", "replace"), text)
    return items


def _body_length(headers: Headers) -> int | None:
    """Declared body length; ``None`` = chunked. Refuses ambiguous framing (smuggling)."""
    encoding = headers._raw("transfer-encoding")
    length = headers._raw("content-length")
    if encoding is not None:
        if length is not None:
            raise BadRequest("expected Content-Length or Transfer-Encoding, got both")
        if encoding.lower().replace(" ", "") != "chunked":
            raise BadRequest(f"expected Transfer-Encoding: chunked, got {encoding!r}", 501)
        return None
    if length is None:
        return 0
    values = {value.strip() for value in length.split(",")}
    if len(values) != 1 or not next(iter(values)).isdigit():
        raise BadRequest(f"expected a decimal Content-Length, got {length!r}")
    return int(values.pop())


def _chunk_size(line: bytes) -> int:
    size = line.split(b";", 1)[0].strip()
    try:
        return int(size, 16)
    except ValueError:
        raise BadRequest(f"expected a hexadecimal chunk size, got {size[:40]!r}") from None


_REASONS = {status.value: status.phrase for status in HTTPStatus}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_date_cache: tuple[int, str] = (0, "")


def _date() -> str:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


def render(reply: HttpReply, head_only: bool = False, close: bool = False) -> bytes:
    """The reply's bytes: status line, its headers, ``Content-Length``, ``Date``, body."""
    reason = _REASONS.get(reply.status, "Unknown")
    lines = [f"HTTP/1.1 {reply.status} {reason}"]
    lines.extend(f"{name}: {value}" for name, value in reply.headers)
    lines.append(f"Content-Length: {len(reply.body)}")
    lines.append(f"Date: {_date()}")
    if close:
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
    return head if head_only else head + reply.body


class _Connection(asyncio.Protocol):
    """One client connection: parses requests, runs the handler, writes replies in order."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
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

    def data_received(self, data: bytes) -> None:
        self._parser.feed(data)
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
            _log.exception("HTTP handler failed for %s %s", request.method, request.target)
            self._write(HttpReply(500, b"500 Internal Server Error\n"), close=True)
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
            self._task = asyncio.ensure_future(self._respond(request, result))

    async def _respond(self, request: HttpRequest, pending: Awaitable[HttpReply]) -> None:
        """Await the handler's reply and write it from this task (no extra loop iteration)."""
        try:
            reply = await pending
        except asyncio.CancelledError:
            self._task = None
            raise
        except Exception:
            self._task = None
            _log.exception("HTTP handler failed for %s %s", request.method, request.target)
            self._write(HttpReply(500, b"500 Internal Server Error\n"), close=True)
            return
        self._task = None
        self._reply(request, reply)
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


class HttpServer:
    """Listens on ``host:port`` (0 = ephemeral) and answers with ``handler``.

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
    ) -> None:
        self.handler = handler
        self.keep_bytes = keep_bytes
        self.cancel_on_hangup = cancel_on_hangup
        self.connections: set[_Connection] = set()
        self._host, self._port = host, port
        self._server: asyncio.AbstractServer | None = None
        self.port = 0

    async def start(self) -> int:
        """Bind and serve; returns the bound port."""
        loop = asyncio.get_running_loop()
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
