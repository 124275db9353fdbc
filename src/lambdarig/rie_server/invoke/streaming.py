"""Invocations whose function may stream its response: ``InvokeWithResponseStream`` and a plain
``Invoke`` of a streaming function.

* ``start`` runs the invocation and returns as soon as the function either streams (its
  ``ResponseStream``) or finishes without streaming.
* ``relay`` sends a stream to an ``InvokeWithResponseStream`` caller as event-stream
  ``PayloadChunk`` events as the chunks arrive, then ``InvokeComplete`` (``invoke.event_stream``).
  Past the first ``BURST_BYTES`` it keeps to ``RATE_BYTES_PER_S`` unless ``throttle`` is off
  (the service's bandwidth rule); a caller that hangs up does not stop the function: its bytes
  are read and dropped and its REPORT is still printed.
* ``Buffered`` reads a stream for a plain ``Invoke``: up to the 6 MB payload limit, past which the
  invocation ends ``Function.ResponseSizeTooLarge`` (the function still runs to its end).

https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Callable

from lambdarig.rie_server.environments.outcomes import InvokeOutcome, InvokeRequest, OutcomeKind
from lambdarig.rie_server.http.streams import ReplyStream
from lambdarig.rie_server.invoke.protocol import HttpResponse, base64_text, outcome_body
from lambdarig.runtime_api import FUNCTION_RESPONSE_SIZE_TOO_LARGE, MAX_PAYLOAD_SIZE

if TYPE_CHECKING:  # a runtime's stream (runtime.streaming loads with the first one)
    from lambdarig.rie_server.runtime.streaming import ResponseStream

# ``event_stream`` (with ``struct`` and ``zlib``, ~0.5 ms of start-up) loads with the first
# InvokeWithResponseStream: ``relay``, ``complete_event`` and ``events_of`` import it.

BURST_BYTES = 6 * 1024 * 1024  # sent at full speed
RATE_BYTES_PER_S = 2 * 1024 * 1024  # then at most this fast

MESSAGE_STREAM_INVOCATION_TYPE = (
    "Unsupported invocation type Event for InvokeWithResponseStream: "
    "expected RequestResponse or DryRun"
)

_log = logging.getLogger(__name__)
Run = Callable[[InvokeRequest], Awaitable[InvokeOutcome]]


async def start(
    run: Run, request: InvokeRequest
) -> tuple[asyncio.Future[InvokeOutcome], ResponseStream | None]:
    """Run ``request``; return once the function streams (the stream) or ends (``None``).
    Raises what ``run`` raises before either (``Throttled``...)."""
    loop = asyncio.get_running_loop()
    arrived: asyncio.Future[ResponseStream] = loop.create_future()

    def take(stream: ResponseStream) -> None:
        if arrived.done():
            stream.discard()
        else:
            arrived.set_result(stream)

    task = asyncio.ensure_future(run(dataclasses.replace(request, on_stream=take)))
    waits: set[asyncio.Future[Any]] = {task, arrived}
    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    if not arrived.done():
        arrived.cancel()
        task.result()  # raises what the invocation raised
        return task, None
    stream = arrived.result()
    task.add_done_callback(lambda _: stream.stop())  # a deadline ends the reading too
    return task, stream


class Buffered:
    """A plain ``Invoke``'s view of a streamed response: ``take`` is the request's
    ``on_stream``; ``outcome`` puts the whole body in the outcome, or makes it
    ``RESPONSE_TOO_LARGE`` past ``MAX_PAYLOAD_SIZE``. Costs nothing when nothing streams."""

    __slots__ = ("_stream", "_reading", "_streamed_body")

    def __init__(self) -> None:
        self._stream: ResponseStream | None = None
        self._reading: asyncio.Future[list[bytes] | None] | None = None
        self._streamed_body = False

    def take(self, stream: ResponseStream) -> None:
        if self._stream is not None:
            stream.discard()
            return
        self._stream = stream
        self._reading = asyncio.ensure_future(_read_all(stream))

    @property
    def streamed(self) -> bool:
        """Whether the function streamed its response (only then has ``outcome`` work to do)."""
        return self._stream is not None

    async def outcome(self, result: InvokeOutcome) -> InvokeOutcome:
        stream, reading = self._stream, self._reading
        if stream is None or reading is None:
            return result
        stream.stop()  # the invocation is over: what has not arrived never will
        parts = await reading
        if result.kind is not OutcomeKind.SUCCESS:
            return result
        if parts is None:
            return dataclasses.replace(
                result,
                kind=OutcomeKind.RESPONSE_TOO_LARGE,
                error_type=FUNCTION_RESPONSE_SIZE_TOO_LARGE,
            )
        self._streamed_body = True
        return dataclasses.replace(result, body=b"".join(parts), content_type=stream.content_type)

    def typed(self, answer: HttpResponse) -> HttpResponse:
        """``answer`` with the streamed body's own content type (as the function sent it)."""
        if not self._streamed_body or self._stream is None:
            return answer
        content_type = ("Content-Type", self._stream.content_type)
        headers = [h for h in answer.headers if h[0].lower() != "content-type"]
        return answer._replace(headers=(content_type, *headers))


async def _read_all(stream: ResponseStream) -> list[bytes] | None:
    """The stream's chunks, or ``None`` once they pass ``MAX_PAYLOAD_SIZE`` (the rest dropped)."""
    parts: list[bytes] = []
    size = 0
    while (chunk := await stream.next_chunk()) is not None:
        size += len(chunk)
        if size > MAX_PAYLOAD_SIZE:
            stream.discard()
            return None
        parts.append(chunk)
    return parts


class Pacer:
    """The service's bandwidth rule for one streamed response: ``admit`` (awaited before each
    chunk goes out) returns at once for the first ``BURST_BYTES``, then holds each chunk until
    the bytes past the burst, counted from the moment it was used up, keep to
    ``RATE_BYTES_PER_S`` (never when ``throttle`` is off)."""

    __slots__ = ("_throttle", "_sent", "_since")

    def __init__(self, throttle: bool = True) -> None:
        self._throttle = throttle
        self._sent = 0
        self._since: float | None = None  # when the burst was used up

    async def admit(self, size: int) -> None:
        """Wait until ``size`` more bytes may go out."""
        self._sent += size
        if not self._throttle or self._sent <= BURST_BYTES:
            return
        now = asyncio.get_running_loop().time()
        if self._since is None:
            self._since = now
        due = self._since + (self._sent - BURST_BYTES) / RATE_BYTES_PER_S
        if due > now:
            await asyncio.sleep(due - now)


async def relay(
    reply: ReplyStream,
    stream: ResponseStream,
    outcome: Awaitable[InvokeOutcome],
    complete: Callable[[InvokeOutcome], bytes],
    throttle: bool = True,
) -> None:
    """Send ``stream`` as ``PayloadChunk`` events, then ``complete(outcome)``, on ``reply``."""
    from lambdarig.rie_server.invoke.event_stream import payload_chunks

    reply.on_hangup = stream.discard
    pacer = Pacer(throttle)
    try:
        while (chunk := await stream.next_chunk()) is not None:
            await pacer.admit(len(chunk))  # the runtime waits meanwhile
            reply.write(b"".join(payload_chunks(chunk)))
            await reply.drain()
        result = await outcome
        reply.write(complete(result))
    except Exception:  # a bug of ours: the caller's stream ends without InvokeComplete
        _log.exception("relaying a streamed response failed")
    finally:
        reply.end()


def complete_event(outcome: InvokeOutcome, tail: bytes | None) -> bytes:
    """``InvokeComplete`` for ``outcome``: ``ErrorCode``/``ErrorDetails`` when the function
    failed (its error type and error JSON), ``LogResult`` when the Tail was asked for."""
    from lambdarig.rie_server.invoke.event_stream import invoke_complete

    log_result = None if tail is None else base64_text(tail)
    if outcome.kind is OutcomeKind.SUCCESS:
        return invoke_complete(log_result=log_result)
    details = outcome_body(outcome).decode("utf-8", "replace")
    return invoke_complete(outcome.error_type or "Unhandled", details, log_result)


def events_of(outcome: InvokeOutcome, complete: Callable[[InvokeOutcome], bytes]) -> bytes:
    """The whole answer for a function that did not stream: its body as ``PayloadChunk``
    events (when it succeeded), then ``InvokeComplete``."""
    from lambdarig.rie_server.invoke.event_stream import payload_chunks

    chunks = payload_chunks(outcome.body) if outcome.kind is OutcomeKind.SUCCESS else []
    return b"".join(chunks) + complete(outcome)
