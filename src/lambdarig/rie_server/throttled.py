"""A function whose reserved concurrency is 0 (``ReservedConcurrentExecutions: 0``): throttled.

On the service such a function runs nothing. Every synchronous invoke (and
``InvokeWithResponseStream``) answers 429 ``TooManyRequestsException`` with ``Reason``
``ReservedFunctionConcurrentInvocationLimitExceeded`` and ``message`` ``Rate Exceeded.``
(https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html, Errors); the HTTP fronts get
``Throttled`` and answer as their service answers a throttled integration. An ``Event`` invoke is
accepted (202), then, "without any retries", its event goes to the on-failure destination or the
dead-letter queue, if the function has one
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html, the note on reserved
concurrency set to zero). The service does not document that record's fields: it is sent with
``condition`` ``RetriesExhausted``, ``approximateInvokeCount`` 0 and no ``responseContext``; a
dead-letter message has ``ErrorCode`` 429 and ``ErrorMessage`` ``Rate Exceeded.``.

``ThrottledHost`` is the ``FunctionHost`` of such a function: it starts no environment, lays out
no layer and builds no container. ``throttle_reason`` names the limit a function's 429 says it
reached: its own reserved concurrency, or the account's.
"""

from __future__ import annotations

from pathlib import Path

from lambdarig import invoke_api
from lambdarig.rie_server.environments.environment import InvokeOutcome, InvokeRequest
from lambdarig.rie_server.errors import Throttled
from lambdarig.rie_server.functions import FunctionHost
from lambdarig.rie_server.http.streams import ReplyStream
from lambdarig.rie_server.invoke import protocol as proto
from lambdarig.rie_server.invoke.async_invocations import CONDITION_RETRIES_EXHAUSTED, EventResult

THROTTLED_EVENT_LINE = (
    "lambdarig-rie: Event invocation {request_id} throttled (reserved concurrency 0): "
    "sent without any attempt to the on-failure destination or dead-letter queue, if any"
)


class ThrottledHost(FunctionHost):
    """The host of a function with reserved concurrency 0 (see the module docs). ``start`` and
    ``code_changed`` do nothing; ``stop`` drops the ``Event`` deliveries still queued."""

    async def start(self) -> None:
        """Nothing to start: the function never runs."""

    async def code_changed(self, changed: list[Path]) -> None:
        """Nothing runs, so nothing to re-initialise."""

    async def run(
        self, call: proto.InvokeCall, *, streamed: bool = False
    ) -> proto.HttpResponse | ReplyStream:
        """429 for a synchronous or streamed call; an ``Event`` call is accepted (202) and goes
        to the destinations; ``DryRun`` is 204 (it only checks the request)."""
        kind = call.invocation_type
        if streamed and kind is proto.InvocationType.EVENT:
            return await super().run(call, streamed=True)  # 400: a stream is never an Event
        if kind is proto.InvocationType.EVENT:
            self._events.put(InvokeRequest(request_id=call.request_id, payload=call.payload))
            return proto.accepted(call, self.config.function)
        if kind is proto.InvocationType.DRY_RUN:
            return proto.accepted(call, self.config.function)
        return proto.throttled(call.request_id, invoke_api.THROTTLE_REASON_RESERVED)

    async def invoke(self, payload: bytes, *, request_id: str | None = None) -> InvokeOutcome:
        """The HTTP fronts' invoke: always ``Throttled``."""
        raise Throttled("expected a function with reserved concurrency, got 0: throttled")

    async def _run_event(self, request: InvokeRequest) -> EventResult:
        """No attempt: the event goes to the destinations at once (``on_event_done``)."""
        self.on_output("emulator", THROTTLED_EVENT_LINE.format(request_id=request.request_id))
        result = EventResult(CONDITION_RETRIES_EXHAUSTED, 0, None, throttled=True)
        if self._on_event_done is not None:
            await self._on_event_done(request, result)
        return result


def host_class(reserved_concurrency: int | None) -> type[FunctionHost]:
    """``ThrottledHost`` for reserved concurrency 0, else ``FunctionHost``."""
    return ThrottledHost if reserved_concurrency == 0 else FunctionHost


def throttle_reason(reserved_concurrency: int | None) -> str:
    """The ``Reason`` of a function's 429 ``TooManyRequestsException``
    (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html, Errors): a function with
    ``ReservedConcurrentExecutions`` (0 or N, all N busy) reached its own reserved concurrency;
    any other reached the account's concurrency limit, which is what ``--max-concurrency`` (and a
    template function's default of 10 environments) stands for."""
    if reserved_concurrency is None:
        return invoke_api.THROTTLE_REASON_CONCURRENT
    return invoke_api.THROTTLE_REASON_RESERVED
