"""``Event`` invocations as the service runs them: in the background, retried after a failure.

The service retries an asynchronous invocation whose function failed (an error, a timeout, a crash,
an init failure, a response too large) twice: about one minute after the first attempt, then about
two minutes after the second (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html;
``MaximumRetryAttempts`` 0-2). Every attempt carries the same request id, so each prints its own
START / END / REPORT under that id. The delays are a parameter so tests (``--async-retry-delays
0.1,0.2``) need not wait three minutes.

Not modelled: event age limits, destinations and dead-letter queues; and retries of throttles or
emulator failures (an exception from ``invoke`` ends the invocation and propagates, for the caller
to log). Orchestration only: the environments run the attempts, ``sleep`` waits between them.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from lambdarig.rie_server.choices import DEFAULT_RETRY_DELAYS_S as DEFAULT_RETRY_DELAYS_S
from lambdarig.rie_server.choices import MAX_RETRY_ATTEMPTS as MAX_RETRY_ATTEMPTS
from lambdarig.rie_server.environments.outcomes import InvokeOutcome, InvokeRequest, OutcomeKind
from lambdarig.rie_server.untrusted import printable

Invoke = Callable[[InvokeRequest], Awaitable[InvokeOutcome]]
Sleep = Callable[[float], Awaitable[None]]

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
    if sleep is None:
        import asyncio  # here, not at the top: ``config`` imports this module's constants

        sleep = asyncio.sleep
    outcome = await invoke(request)
    attempts = 1
    for delay in delays_s:
        if not failed(outcome):
            return outcome
        _log.info(
            "Event invocation %s failed (attempt %d, %s); retrying in %g s",
            request.request_id,
            attempts,
            printable(outcome.error_type or outcome.kind.value),
            delay,
        )
        await sleep(delay)
        outcome = await invoke(request)
        attempts += 1
    if failed(outcome):
        _log.warning(
            "Event invocation %s failed after %d attempt(s) (%s); dropped",
            request.request_id,
            attempts,
            printable(outcome.error_type or outcome.kind.value),
        )
    return outcome
