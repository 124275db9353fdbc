"""Function URLs with ``InvokeMode: RESPONSE_STREAM``: the function's stream, as it arrives, as the
HTTP answer (I/O; the decisions are ``stream_prelude``'s and ``responses``').

``answer`` takes an invocation started by the front's stream invoker (the outcome and the
function's ``ResponseStream``, or ``None`` when the function answered without streaming):

* a stream under ``application/vnd.awslambda.http-integration-response`` starts with the JSON
  prelude: its status, headers and cookies (``Set-Cookie``) open the answer; a prelude that is
  malformed, too large, or never ends is the Function URL's 502. Any other stream is answered
  200 with the function's content type;
* the body then goes out with ``Transfer-Encoding: chunked``, each chunk as it arrives, under the
  service's bandwidth rule (``invoke.streaming.Pacer``);
* a function that fails before the head is sent gets the Function URL's error answer; one that
  fails (or times out) after it ends the body without its last chunk and closes the connection:
  the status is gone, so the caller sees an incomplete body;
* a caller that hangs up does not stop the function: the rest of its stream is read and dropped
  and the invocation runs to its end (its REPORT line is printed as usual);
* a ``HEAD`` request gets the head alone (status, headers, ``Transfer-Encoding: chunked`` as a
  ``GET`` would), once the prelude is read; the function's body is then dropped as after a
  hang-up (``http.streams``), as a buffered answer to ``HEAD`` has no body either;
* a function that answered without streaming: its payload is the body, as sent, with its content
  type (no API Gateway 2.0 mapping in this mode).

https://docs.aws.amazon.com/lambda/latest/dg/config-rs-invoke-furls.html,
https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Collection, Sequence
from typing import Callable, Union

from lambdarig import runtime_api
from lambdarig.rie_server.environments.outcomes import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.fronts.responses import Failure, Malformed, Reply, gateway_error
from lambdarig.rie_server.fronts.stream_prelude import PreludeReader, has_prelude, plain_head
from lambdarig.rie_server.http.streams import ReplyStream
from lambdarig.rie_server.invoke.streaming import Pacer
from lambdarig.rie_server.runtime.streaming import ResponseStream

#: What a stream invoker returns: the invocation's outcome, and the function's stream (``None``
#: when it answered without streaming).
StreamStart = tuple["asyncio.Future[InvokeOutcome]", Union[ResponseStream, None]]
#: ``stream_invoke(function_name, event_bytes)``: starts one invocation and returns once the
#: function streams or ends; raises ``Throttled`` when no execution environment is free.
StreamInvoker = Callable[[str, bytes], Awaitable[StreamStart]]

_log = logging.getLogger(__name__)
_relays: set[asyncio.Future[None]] = set()  # answers being streamed (kept from the GC)


async def answer(
    start: StreamStart,
    extra_headers: Sequence[tuple[str, str]],
    throttle: bool = True,
    framing: Collection[str] = (),
) -> Reply | ReplyStream:
    """The answer for a started invocation; ``extra_headers`` (the request id...) follow the
    function's own headers, less those named in ``framing`` (lower case: the front frames the
    answer itself)."""
    outcome, stream = start
    if stream is None:
        return _buffered(outcome.result())
    first = b""
    if has_prelude(stream.content_type):
        try:
            head, first = await _head(stream, outcome)
        except Malformed:
            stream.discard()
            return gateway_error("url", Failure.MALFORMED)
        except _FailedEarly:
            return gateway_error("url", Failure.FUNCTION_ERROR)
    else:
        head = plain_head(stream.content_type)
    own = [(name, value) for name, value in head.headers if name.lower() not in framing]
    reply = ReplyStream(head.status, (*own, *extra_headers))
    task = asyncio.ensure_future(_relay(reply, stream, first, outcome, Pacer(throttle)))
    _relays.add(task)
    task.add_done_callback(_relays.discard)
    return reply


class _FailedEarly(Exception):
    """The function failed before its prelude was complete."""


async def _head(
    stream: ResponseStream, outcome: asyncio.Future[InvokeOutcome]
) -> tuple[Reply, bytes]:
    reader = PreludeReader()
    while True:
        chunk = await stream.next_chunk()
        if chunk is None:
            if (await outcome).kind is not OutcomeKind.SUCCESS:
                raise _FailedEarly
            return reader.finish()
        found = reader.feed(chunk)
        if found is not None:
            return found


def _buffered(result: InvokeOutcome) -> Reply:
    if result.kind is not OutcomeKind.SUCCESS:
        return gateway_error("url", Failure.FUNCTION_ERROR)
    content_type = result.content_type or runtime_api.CONTENT_TYPE_JSON
    if has_prelude(content_type):
        reader = PreludeReader()
        try:
            head, body = reader.feed(result.body) or reader.finish()
        except Malformed:
            return gateway_error("url", Failure.MALFORMED)
        return Reply(head.status, head.headers, body)
    return Reply(200, [("Content-Type", content_type)], result.body)


async def _relay(
    reply: ReplyStream,
    stream: ResponseStream,
    first: bytes,
    outcome: asyncio.Future[InvokeOutcome],
    pacer: Pacer,
) -> None:
    reply.on_hangup = stream.discard
    if reply.hung_up:  # a HEAD request (its head is the whole answer), or a caller gone already
        stream.discard()
    try:
        chunk: bytes | None = first or await stream.next_chunk()
        while chunk is not None:
            if not reply.hung_up:
                await pacer.admit(len(chunk))
            reply.write(chunk)
            await reply.drain()
            chunk = await stream.next_chunk()
        result = await outcome
    except Exception:  # a bug of ours: the caller's body ends incomplete
        _log.exception("relaying a streamed Function URL answer failed")
        reply.abort()
        return
    if result.kind is OutcomeKind.SUCCESS:
        reply.end()
    else:
        reply.abort()
