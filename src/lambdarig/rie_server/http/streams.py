"""Streamed request bodies and streamed replies for ``http.server``.

* ``BodySink``: a request body received piece by piece. A server made with ``on_head`` offers
  each request's head to it as soon as the head is parsed; a ``BodySink`` it returns gets the
  body's pieces as the parser frames them (``data``), then ``end`` with the trailers, or
  ``abort`` when the client left or the body was malformed. The handler is called afterwards as
  usual, with ``HttpRequest.sink`` set (its ``body`` is empty). The sink may ``pause_reading``
  (backpressure: the client is not read until ``resume_reading``); while a sink receives, the
  body has no stall deadline (a function may think for minutes between two chunks).
* ``ReplyStream``: a reply written as it is produced, with chunked transfer encoding: a handler
  returns (or resolves its awaitable to) one; the producer calls ``write`` per chunk (each
  written at once), ``end`` at the end, and awaits ``drain`` for backpressure (the transport's
  buffer is over its high-water mark). A client that hangs up makes later writes no-ops and
  calls ``on_hangup``; the producer is never cancelled by the server. ``abort`` ends a reply
  that failed half-way: the connection is closed without the last chunk, so the client sees an
  incomplete body rather than a complete one. The reply to a ``HEAD`` request is its head alone
  (as a buffered reply's): the exchange ends there and the producer sees a hang-up.

No sockets here: the connection binds both to its transport.
"""

from __future__ import annotations

import asyncio
from typing import Callable

from lambdarig.rie_server.http.parser import Headers

__all__ = ["BodySink", "ReplyStream"]

_LAST_CHUNK = b"0\r\n\r\n"


class BodySink:
    """Receives one request body piece by piece; subclasses override ``data``/``end``/``abort``."""

    def __init__(self) -> None:
        self._pause: Callable[[], None] | None = None
        self._resume: Callable[[], None] | None = None

    def data(self, chunk: bytes) -> None:
        """A piece of the body (never empty)."""

    def end(self, trailers: Headers) -> None:
        """The body is complete; ``trailers`` are the chunked body's trailer fields (if any)."""

    def abort(self) -> None:
        """The body will never complete (client gone, malformed framing)."""

    def pause_reading(self) -> None:
        """Stop reading the client until ``resume_reading``."""
        if self._pause is not None:
            self._pause()

    def resume_reading(self) -> None:
        if self._resume is not None:
            self._resume()

    def _attach(self, pause: Callable[[], None], resume: Callable[[], None]) -> None:
        self._pause, self._resume = pause, resume

    def _detach(self) -> None:
        self._pause = self._resume = None


class ReplyStream:
    """A reply whose body is written chunk by chunk (``Transfer-Encoding: chunked``)."""

    def __init__(self, status: int, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.status = status
        self.headers = headers
        self.on_hangup: Callable[[], None] | None = None
        self._pending: list[bytes] = []  # written before the connection took the stream
        self._transport: asyncio.WriteTransport | None = None
        self._finished: Callable[[], None] | None = None
        self._ended = False
        self._aborted = False
        self._hung_up = False
        self._paused = False
        self._drained: asyncio.Future[None] | None = None

    @property
    def hung_up(self) -> bool:
        """The client left: what is written now goes nowhere."""
        return self._hung_up

    def write(self, data: bytes) -> None:
        """Send ``data`` as one chunk now (an empty ``data`` is not sent: it would end the body)."""
        if data and not self._ended and not self._hung_up:
            self._send(b"%x\r\n" % len(data), data, b"\r\n")

    def end(self) -> None:
        """End the body (idempotent)."""
        if self._ended:
            return
        self._ended = True
        if self._hung_up:
            return
        self._send(_LAST_CHUNK)
        if self._transport is not None:
            self._done()

    def abort(self) -> None:
        """End the body without its last chunk and close the connection (idempotent; nothing
        after ``end``)."""
        if self._ended:
            return
        self._ended = self._aborted = True
        transport = self._transport
        if transport is not None:
            self._transport = self._finished = None
            transport.close()  # the connection learns it as a hang-up

    async def drain(self) -> None:
        """Wait while the client reads slower than we write (returns at once after a hang-up)."""
        while self._paused and not self._hung_up:
            if self._drained is None:
                self._drained = asyncio.get_running_loop().create_future()
            await self._drained

    def _send(self, *parts: bytes) -> None:
        transport = self._transport
        if transport is None:
            self._pending.extend(parts)
        else:
            transport.writelines(parts)

    def _done(self) -> None:
        finished, self._finished = self._finished, None
        self._transport = None
        if finished is not None:
            finished()

    def _attach(
        self,
        transport: asyncio.WriteTransport,
        head: bytes,
        finished: Callable[[], None],
        head_only: bool = False,
    ) -> None:
        """The connection writes the head and takes over; ``finished`` runs after ``end``.
        ``head_only`` (a ``HEAD`` request): the head is the whole reply, ``finished`` runs at
        once and what the producer writes goes nowhere, as after a hang-up."""
        transport.write(head)
        if head_only:
            self._hang_up()
            finished()
            return
        pending, self._pending = self._pending, []
        if pending:
            transport.writelines(pending)
        if self._aborted:
            transport.close()
            return
        self._transport, self._finished = transport, finished
        if self._ended:
            self._done()

    def _set_paused(self, paused: bool) -> None:
        self._paused = paused
        if not paused:
            self._wake()

    def _wake(self) -> None:
        drained, self._drained = self._drained, None
        if drained is not None and not drained.done():
            drained.set_result(None)

    def _hang_up(self) -> None:
        self._hung_up = True
        self._transport = None
        self._finished = None
        self._pending = []
        self._wake()
        callback, self.on_hangup = self.on_hangup, None
        if callback is not None:
            callback()
