"""``Event`` invocations as the service runs them: in the background, retried after a failure.

The service retries an asynchronous invocation whose function failed (an error, a timeout, a crash,
an init failure, a response too large) twice: about one minute after the first attempt, then about
two minutes after the second (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html;
``MaximumRetryAttempts`` 0-2). Every attempt carries the same request id, so each prints its own
START / END / REPORT under that id. The delays are a parameter so tests (``--async-retry-delays
0.1,0.2``) need not wait three minutes.

``MaximumEventAgeInSeconds``: an event older than that when an attempt is due is dropped
(``EventAgeExceeded``). ``run_event`` says how the invocation ended (``EventResult``: the
condition a destination record carries, ``invoke.destinations``); sending records is the caller's.

Not modelled: retries of throttles or emulator failures (an exception from ``invoke`` ends the
invocation and propagates, for the caller to log). Orchestration only: the environments run the
attempts, ``sleep`` waits between them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from lambdarig.rie_server.choices import DEFAULT_RETRY_DELAYS_S
from lambdarig.rie_server.environments.outcomes import InvokeOutcome, InvokeRequest, OutcomeKind
from lambdarig.rie_server.untrusted import printable

# MaximumEventAgeInSeconds: 60 s to 6 hours (the default).
EVENT_AGE_RANGE_S = (60, 21600)
# The ``condition`` of a destination record.
CONDITION_SUCCESS = "Success"
CONDITION_RETRIES_EXHAUSTED = "RetriesExhausted"
CONDITION_EVENT_AGE_EXCEEDED = "EventAgeExceeded"

Invoke = Callable[[InvokeRequest], Awaitable[InvokeOutcome]]
Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]  # seconds, for event ages


@dataclass(frozen=True)
class EventResult:
    """How an ``Event`` invocation ended: ``condition`` (``CONDITION_*``), the attempts made and
    the last attempt's outcome (None when the event expired before its first attempt, or was
    ``throttled``: a function whose reserved concurrency is 0 runs no attempt)."""

    condition: str
    attempts: int
    outcome: InvokeOutcome | None
    throttled: bool = False


_log = logging.getLogger(__name__)


def failed(outcome: InvokeOutcome) -> bool:
    """Whether the service would retry an asynchronous attempt that ended with ``outcome``."""
    return outcome.kind is not OutcomeKind.SUCCESS


async def invoke_with_retries(
    invoke: Invoke,
    request: InvokeRequest,
    delays_s: Sequence[float] = DEFAULT_RETRY_DELAYS_S,
    *,
    sleep: Sleep | None = None,
) -> InvokeOutcome:
    """Run ``request`` through ``invoke``; after a failed attempt wait ``delays_s[i]`` and retry,
    at most ``len(delays_s)`` times. Returns the last attempt's outcome.

    Blocks for the attempts and the delays; cancel it to drop the invocation (the emulator does on
    stop). Exceptions from ``invoke`` propagate without a retry. ``sleep`` defaults to
    ``asyncio.sleep``.
    """
    result = await run_event(invoke, request, delays_s, sleep=sleep)
    assert result.outcome is not None  # without an age limit the first attempt always runs
    return result.outcome


async def run_event(
    invoke: Invoke,
    request: InvokeRequest,
    delays_s: Sequence[float] = DEFAULT_RETRY_DELAYS_S,
    *,
    max_age_s: float | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep | None = None,
) -> EventResult:
    """``invoke_with_retries`` that also drops the event once it is older than ``max_age_s``
    (measured on ``clock`` from this call, checked before each attempt), and says how it ended."""
    if sleep is None:
        import asyncio  # here, not at the top: ``config`` imports this module's constants

        sleep = asyncio.sleep
    born = clock()
    outcome: InvokeOutcome | None = None
    attempts = 0
    for delay in (None, *delays_s):
        if delay is not None:
            assert outcome is not None
            _log.info(
                "Event invocation %s failed (attempt %d, %s); retrying in %g s",
                request.request_id,
                attempts,
                printable(outcome.error_type or outcome.kind.value),
                delay,
            )
            await sleep(delay)
        if max_age_s is not None and clock() - born > max_age_s:
            _log.warning(
                "Event invocation %s is older than %g s after %d attempt(s); dropped",
                request.request_id,
                max_age_s,
                attempts,
            )
            return EventResult(CONDITION_EVENT_AGE_EXCEEDED, attempts, outcome)
        outcome = await invoke(request)
        attempts += 1
        if not failed(outcome):
            return EventResult(CONDITION_SUCCESS, attempts, outcome)
    assert outcome is not None
    _log.warning(
        "Event invocation %s failed after %d attempt(s) (%s); dropped",
        request.request_id,
        attempts,
        printable(outcome.error_type or outcome.kind.value),
    )
    return EventResult(CONDITION_RETRIES_EXHAUSTED, attempts, outcome)
