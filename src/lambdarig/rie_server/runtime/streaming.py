"""A streamed ``/response`` on its way from the runtime to the invoker.

A runtime streams its response by posting ``/response`` with
``Lambda-Runtime-Function-Response-Mode: streaming`` (chunked): the Runtime API server hands the
body's pieces, as they arrive, to a ``ResponseStream`` the waiting invocation reads with
``next_chunk``. A failure after the first byte comes as the trailers
``Lambda-Runtime-Function-Error-Type`` and ``Lambda-Runtime-Function-Error-Body`` (base64 of the
error JSON): the stream then ends as that function error. Bounds: the service's 200 MB (bytes past
it are dropped and the invocation ends ``Function.ResponseSizeTooLarge``); at most
``HIGH_WATER`` bytes wait for the invoker (then the runtime is not read until it catches up); an
invoker that hung up ``discard``s: the runtime is read and its bytes dropped, so the function
runs to its end.

https://docs.aws.amazon.com/lambda/latest/dg/runtimes-custom.html#runtimes-custom-response-streaming
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections import deque
from collections.abc import Mapping
from typing import Callable

from lambdarig import runtime_api
from lambdarig.rie_server.environments.outcomes import Finish, Posted
from lambdarig.rie_server.http.streams import BodySink
from lambdarig.rie_server.untrusted import printable

MAX_STREAM_SIZE = 200 * 1024 * 1024  # the service's cap on a streamed response
HIGH_WATER = 1024 * 1024  # bytes waiting for the invoker before the runtime is paused
_MAX_ERROR_TYPE = 256
MESSAGE_STREAM_TOO_LARGE = (
    "Response payload size exceeded maximum allowed payload size ({limit} bytes)."
)


def stream_end(trailers: Mapping[str, str], oversized: bool) -> Posted:
    """How a complete streamed response finished the invocation (sans-IO)."""
    if oversized:
        message = MESSAGE_STREAM_TOO_LARGE.format(limit=MAX_STREAM_SIZE)
        error = {"errorMessage": message, "errorType": runtime_api.FUNCTION_RESPONSE_SIZE_TOO_LARGE}
        return Posted(
            Finish.ERROR,
            json.dumps(error, separators=(",", ":")).encode(),
            runtime_api.CONTENT_TYPE_JSON,
            runtime_api.FUNCTION_RESPONSE_SIZE_TOO_LARGE,
        )
    error_type = trailers.get(runtime_api.HEADER_FUNCTION_ERROR_TYPE)
    if not error_type:
        return Posted(Finish.RESPONSE)
    encoded = trailers.get(runtime_api.HEADER_FUNCTION_ERROR_BODY) or ""
    try:
        body = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):  # not base64: kept as text, made printable
        body = printable(encoded).encode("utf-8")
    # The trailer's type is reported as sent (a field value: no control characters), as the
    # invoker's ErrorCode; only an /error post's header is reduced to Runtime/Function.Reason.
    return Posted(Finish.ERROR, body, runtime_api.CONTENT_TYPE_JSON, error_type[:_MAX_ERROR_TYPE])


class ResponseStream(BodySink):
    """One streamed response: ``data``/``end``/``abort`` from the Runtime API connection,
    ``next_chunk`` for the invoker. ``finished`` gets the ``Posted`` result at the end (not
    after ``abort``: a runtime gone mid-stream is a crash the environment sees itself)."""

    def __init__(self, content_type: str, finished: Callable[[Posted], None]) -> None:
        super().__init__()
        self.content_type = content_type
        self.received = 0
        self.ended = False  # the runtime ended (or abandoned) the stream
        self._finished = finished
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._waiter: asyncio.Future[None] | None = None
        self._discarding = False
        self._stopped = False

    def data(self, chunk: bytes) -> None:
        room = MAX_STREAM_SIZE - self.received
        self.received += len(chunk)
        if room < len(chunk):
            chunk = chunk[: max(room, 0)]
        if not chunk or self._discarding:
            return
        self._chunks.append(chunk)
        self._buffered += len(chunk)
        self._wake()
        if self._buffered > HIGH_WATER:
            self.pause_reading()

    def end(self, trailers: Mapping[str, str]) -> None:
        self.ended = True
        self._wake()
        self._finished(stream_end(trailers, self.received > MAX_STREAM_SIZE))

    def abort(self) -> None:
        self.ended = True
        self._wake()

    def discard(self) -> None:
        """Nobody will read on: drop what waits and what comes, read the runtime at full speed."""
        self._discarding = True
        self._chunks.clear()
        self._buffered = 0
        self.resume_reading()

    def stop(self) -> None:
        """The invocation is over (its deadline passed): ``next_chunk`` returns ``None``."""
        self._stopped = True
        self._wake()

    async def next_chunk(self) -> bytes | None:
        """What arrived since the last call (at least one byte), or ``None`` at the end."""
        while not self._chunks:
            if self.ended or self._stopped:
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        self.resume_reading()
        return data

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
