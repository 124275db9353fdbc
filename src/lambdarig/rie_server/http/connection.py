"""One client connection of ``http.server``: requests parsed, handlers run, replies written in
order, the client's waits bounded (``header_timeout``, ``idle_timeout``), streamed bodies and
replies (``http.streams``) attached."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any

from lambdarig.rie_server.http.grammar import LocalHttpError
from lambdarig.rie_server.http.handlers import Carried, Deferred
from lambdarig.rie_server.http.parser import (
    MAX_HEADER_BYTES,
    BadRequest,
    HttpRequest,
    RequestParser,
)
from lambdarig.rie_server.http.reply import CONTINUE, HttpReply, render, render_stream_head
from lambdarig.rie_server.http.streams import BodySink, ReplyStream

if TYPE_CHECKING:
    from lambdarig.rie_server.http.server import HttpServer

_log = logging.getLogger("lambdarig.rie_server.http.server")  # the server's log, as it always was


_IDLE, _HEAD, _BODY, _BUSY = "idle", "head", "body", "busy"  # what a connection waits for
_TIMED_OUT = HttpReply(408, b"408 Request Timeout: the request did not arrive in time\n")
_INTERNAL_ERROR = HttpReply(500, b"500 Internal Server Error\n")


_READ_SIZE = 256 * 1024  # per receive, as asyncio's own transports read


class Connection(asyncio.BufferedProtocol):
    """One client connection: parses requests, runs the handler, writes replies in order.

    ``_phase`` says what it waits for: the client (``_IDLE`` between requests, ``_HEAD``, ``_BODY``)
    or the handler (``_BUSY``, never timed out). One timer per connection, re-armed lazily: a
    phase change only moves ``_deadline``; the timer, when it fires, looks at it again.

    Bytes are received into one buffer per connection (``recv_into``): a plain ``Protocol`` gets
    a new 256 KiB ``bytes`` per receive, which the allocator maps and unmaps again (three system
    calls each, three receives per warm invoke)."""

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._buffer = memoryview(bytearray(_READ_SIZE))
        self._parser = RequestParser(server.keep_bytes)
        if server.on_head is not None:
            self._parser.on_head = self._on_head
        self._stream: ReplyStream | None = None  # the streamed reply being written
        self._stream_close = False
        self._sink_paused = False
        self._transport: asyncio.Transport | None = None
        self._carried: Carried | None = None  # the request being handled
        self._deferred: Deferred | None = None  # ... or the reply it is waiting for
        self._paused = False
        self._loop = asyncio.get_running_loop()
        self._phase = _IDLE
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        self._server.connections.add(self)
        self._wait(self._server.header_timeout)  # a client that connects and says nothing

    def connection_lost(self, exc: Exception | None) -> None:
        self._server.connections.discard(self)
        self._transport = None
        self._stop_timer()
        carried, self._carried = self._carried, None
        deferred, self._deferred = self._deferred, None
        self._end_streams()
        if self._server.cancel_on_hangup:
            if carried is not None:
                carried.cancel()
            if deferred is not None:
                deferred._hang_up()

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._buffer

    def buffer_updated(self, nbytes: int) -> None:
        self._parser.feed(self._buffer[:nbytes])  # copied into the parser's buffer
        if self._carried is None and self._deferred is None and self._stream is None:
            self._advance()
        elif self._parser.buffered > MAX_HEADER_BYTES and not self._paused:
            self._paused = True  # a client pipelining while we answer: stop reading for now
            assert self._transport is not None
            self._transport.pause_reading()

    def close(self) -> asyncio.Future[None] | None:
        """Close the connection now; a request being handled is cancelled: the future of its
        end (``Carried.finished``), or ``None``."""
        if self._transport is not None:
            self._transport.close()
        self._stop_timer()
        carried, self._carried = self._carried, None
        finishing = None
        if carried is not None:
            carried.cancel()
            finishing = carried.finished()
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            deferred._hang_up()
        self._end_streams()
        return finishing

    def _advance(self) -> None:
        """Answer every complete request buffered, until one needs to wait."""
        while (
            self._transport is not None
            and self._carried is None
            and self._deferred is None
            and self._stream is None
        ):
            try:
                request = self._parser.next_request()
            except BadRequest as exc:
                self._abort_sink()
                self._write(HttpReply(exc.status, f"{exc}\n".encode()), close=True)
                return
            except Exception:  # a bug of ours: answered, never a traceback from asyncio
                _log.exception("HTTP request parser failed (a bug in lambdarig)")
                self._abort_sink()
                self._write(_INTERNAL_ERROR, close=True)
                return
            if request is None:
                if self._parser.expects_continue:
                    self._parser.continue_sent()
                    self._transport.write(CONTINUE)
                if self._paused:
                    self._paused = False
                    self._transport.resume_reading()
                self._await_client()
                return
            self._phase = _BUSY
            self._handle(request)

    def _await_client(self) -> None:
        """Start the wait for the client's next bytes: ``idle_timeout`` between requests; a head
        has ``header_timeout`` from its first byte; a body, that long between its pieces."""
        parser, phase = self._parser, self._phase
        if parser.in_body:
            self._phase = _BODY
            self._wait(self._server.header_timeout if parser.sink is None else None)
        elif parser.in_request:
            if phase != _HEAD:  # a head's deadline does not move while it trickles in
                self._phase = _HEAD
                self._wait(self._server.header_timeout)
        elif phase != _IDLE:
            self._phase = _IDLE
            self._wait(self._server.idle_timeout)

    def _wait(self, seconds: float | None) -> None:
        """Move the deadline (``None``: no deadline); the timer is re-armed only if it would
        fire too late."""
        if seconds is None:
            self._deadline = math.inf
            return  # a timer still armed finds no deadline and lapses
        deadline = self._deadline = self._loop.time() + seconds
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = self._loop.call_at(deadline, self._check_deadline)

    def _stop_timer(self) -> None:
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _check_deadline(self) -> None:
        self._timer = None
        if self._transport is None or self._phase == _BUSY or self._deadline == math.inf:
            return  # the handler's time is not ours to bound; _await_client re-arms after it
        if self._loop.time() < self._deadline:
            self._timer = self._loop.call_at(self._deadline, self._check_deadline)
        elif self._phase == _IDLE:
            self._transport.close()
            self._transport = None
        else:
            self._write(_TIMED_OUT, close=True)

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
        self._write(_INTERNAL_ERROR, close=True, head_only=request.method == "HEAD")

    def _start(self, respond: Coroutine[Any, Any, None]) -> None:
        """Run ``respond`` at once up to its first wait (an invoke's event reaches the runtime in
        this loop iteration, not the next); then ``Carried`` resumes it from what it waits on."""
        try:
            waiting_on = respond.send(None)
        except (StopIteration, asyncio.CancelledError):
            return  # answered without waiting (it wrote its reply)
        self._carried = Carried(respond, waiting_on, self._loop)

    async def _respond(
        self, request: HttpRequest, pending: Awaitable[HttpReply | ReplyStream]
    ) -> None:
        """Await the handler's reply and write it (resumed by ``Carried`` after a wait)."""
        try:
            reply = await pending
        except asyncio.CancelledError:
            self._carried = None
            raise
        except Exception:
            self._carried = None
            self._handler_failed(request)
            return
        resumed, self._carried = self._carried is not None, None
        if reply.__class__ is not HttpReply:
            assert isinstance(reply, ReplyStream)
            self._start_stream(request, reply)
            return
        self._reply(request, reply)
        if resumed:  # else the caller's _advance loop goes on
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
        try:
            data = render(reply, head_only, close)
        except LocalHttpError:  # a handler of ours built a bad header: 500, never the header
            _log.exception("refused to write an HTTP %s reply", reply.status)
            data, close = render(_INTERNAL_ERROR, head_only, close=True), True
        transport.write(data)
        if close:
            transport.close()
            self._transport = None

    # --- streaming (``http.streams``): off the path of buffered requests ------------------------

    def _on_head(self, request: HttpRequest) -> BodySink | None:
        on_head = self._server.on_head
        assert on_head is not None
        sink = on_head(request)
        if sink is not None:
            sink._attach(self._pause_sink, self._resume_sink)
        return sink

    def _pause_sink(self) -> None:
        if self._transport is not None and not self._sink_paused:
            self._sink_paused = True
            self._transport.pause_reading()

    def _resume_sink(self) -> None:
        if self._sink_paused:
            self._sink_paused = False
            if self._transport is not None:
                self._transport.resume_reading()

    def _abort_sink(self) -> None:
        sink, self._parser.sink = self._parser.sink, None
        if sink is not None:
            sink._detach()
            sink.abort()

    def _end_streams(self) -> None:
        """The connection is gone: a body being received is aborted, a reply being streamed
        learns the client hung up (its producer is not cancelled)."""
        self._abort_sink()
        stream, self._stream = self._stream, None
        if stream is not None:
            stream._hang_up()

    def _start_stream(self, request: HttpRequest, stream: ReplyStream) -> None:
        transport = self._transport
        if transport is None:
            stream._hang_up()
            return
        close = not request.keep_alive
        try:
            head = render_stream_head(stream.status, stream.headers, close)
        except LocalHttpError:
            _log.exception("refused to write an HTTP %s streamed reply", stream.status)
            stream._hang_up()
            self._write(_INTERNAL_ERROR, close=True, head_only=request.method == "HEAD")
            return
        self._stream, self._stream_close = stream, close
        stream._attach(transport, head, self._stream_ended, head_only=request.method == "HEAD")

    def _stream_ended(self) -> None:
        self._stream = None
        if self._stream_close:
            if self._transport is not None:
                self._transport.close()
                self._transport = None
            return
        self._advance()

    def pause_writing(self) -> None:
        if self._stream is not None:
            self._stream._set_paused(True)

    def resume_writing(self) -> None:
        if self._stream is not None:
            self._stream._set_paused(False)
