"""Event invocations: retried after a failed attempt with the service's delays, same request id."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lambdarig.rie_server.environments.environment import InvokeOutcome, InvokeRequest, OutcomeKind
from lambdarig.rie_server.invoke.async_invocations import (
    CONDITION_EVENT_AGE_EXCEEDED,
    CONDITION_RETRIES_EXHAUSTED,
    CONDITION_SUCCESS,
    DEFAULT_RETRY_DELAYS_S,
    failed,
    invoke_with_retries,
    run_event,
)
from tests.rie_server.fake_environment import outcome

REQUEST = InvokeRequest(request_id="11111111-2222-3333-4444-555555555555", payload=b"{}")


class Script:
    """An ``invoke`` that answers with ``kinds`` in turn and a ``sleep`` that only records."""

    def __init__(self, *kinds: OutcomeKind) -> None:
        self.kinds = list(kinds)
        self.requests: list[InvokeRequest] = []
        self.slept: list[float] = []

    async def invoke(self, request: InvokeRequest) -> InvokeOutcome:
        self.requests.append(request)
        return outcome(self.kinds.pop(0), error_type="Sandbox.Timedout")

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def run(script: Script, delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS_S) -> InvokeOutcome:
    return asyncio.run(invoke_with_retries(script.invoke, REQUEST, delays, sleep=script.sleep))


def test_the_services_delays_are_one_then_two_minutes() -> None:
    assert DEFAULT_RETRY_DELAYS_S == (60.0, 120.0)


def test_a_success_runs_once() -> None:
    script = Script(OutcomeKind.SUCCESS)
    assert run(script).kind is OutcomeKind.SUCCESS
    assert (len(script.requests), script.slept) == (1, [])


@pytest.mark.parametrize("kind", [kind for kind in OutcomeKind if kind is not OutcomeKind.SUCCESS])
def test_every_failure_kind_is_retried(kind: OutcomeKind) -> None:
    assert failed(outcome(kind))
    script = Script(kind, OutcomeKind.SUCCESS)
    assert run(script).kind is OutcomeKind.SUCCESS
    assert script.slept == [60.0]


def test_two_retries_then_the_last_failure_is_returned(caplog: pytest.LogCaptureFixture) -> None:
    script = Script(OutcomeKind.FUNCTION_ERROR, OutcomeKind.TIMEOUT, OutcomeKind.CRASH)
    with caplog.at_level(logging.INFO, logger="lambdarig.rie_server.invoke.async_invocations"):
        assert run(script).kind is OutcomeKind.CRASH
    assert script.slept == [60.0, 120.0]
    assert script.requests == [REQUEST, REQUEST, REQUEST]  # the same request id every time
    assert [record.getMessage() for record in caplog.records] == [
        f"Event invocation {REQUEST.request_id} failed (attempt 1, Sandbox.Timedout); "
        "retrying in 60 s",
        f"Event invocation {REQUEST.request_id} failed (attempt 2, Sandbox.Timedout); "
        "retrying in 120 s",
        f"Event invocation {REQUEST.request_id} failed after 3 attempt(s) (Sandbox.Timedout); "
        "dropped",
    ]


def test_no_delays_means_no_retries() -> None:
    script = Script(OutcomeKind.FUNCTION_ERROR)
    assert run(script, ()).kind is OutcomeKind.FUNCTION_ERROR
    assert (len(script.requests), script.slept) == (1, [])


def test_cancelling_during_a_delay_drops_the_invocation() -> None:
    attempts: list[InvokeRequest] = []

    async def invoke(request: InvokeRequest) -> InvokeOutcome:
        attempts.append(request)
        return outcome(OutcomeKind.FUNCTION_ERROR)

    async def main() -> None:
        task = asyncio.ensure_future(invoke_with_retries(invoke, REQUEST, (30.0,)))
        while not attempts:
            await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert len(attempts) == 1


def test_an_exception_from_invoke_propagates_without_retry() -> None:
    calls: list[InvokeRequest] = []

    async def invoke(request: InvokeRequest) -> InvokeOutcome:
        calls.append(request)
        raise OSError("no environment")

    with pytest.raises(OSError, match="no environment"):
        asyncio.run(invoke_with_retries(invoke, REQUEST, (0.0, 0.0)))
    assert len(calls) == 1


def test_a_runtimes_error_type_is_logged_on_one_line(caplog: pytest.LogCaptureFixture) -> None:
    forged = "Runtime.X\nlambdarig-rie: WARNING: forged"

    async def invoke(request: InvokeRequest) -> InvokeOutcome:
        return outcome(OutcomeKind.FUNCTION_ERROR, error_type=forged)

    with caplog.at_level(logging.INFO, logger="lambdarig.rie_server.invoke.async_invocations"):
        asyncio.run(invoke_with_retries(invoke, REQUEST, (0.0,)))
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 2
    assert all("\n" not in message for message in messages)
    assert "(Runtime.X\\nlambdarig-rie: WARNING: forged); dropped" in messages[1]


class Clock:
    """Seconds that pass only when a test (or a scripted sleep) moves them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_event_older_than_its_maximum_age_is_dropped_before_a_retry() -> None:
    clock = Clock()
    script = Script(OutcomeKind.FUNCTION_ERROR, OutcomeKind.SUCCESS)

    async def slow_sleep(seconds: float) -> None:
        clock.now += seconds

    result = asyncio.run(
        run_event(script.invoke, REQUEST, (61.0,), max_age_s=60, clock=clock, sleep=slow_sleep)
    )
    assert (result.condition, result.attempts) == (CONDITION_EVENT_AGE_EXCEEDED, 1)
    assert result.outcome is not None and result.outcome.kind is OutcomeKind.FUNCTION_ERROR
    assert len(script.requests) == 1  # the retry never ran


def test_run_event_says_how_the_invocation_ended() -> None:
    script = Script(OutcomeKind.FUNCTION_ERROR, OutcomeKind.SUCCESS)
    result = asyncio.run(run_event(script.invoke, REQUEST, (0.0,), sleep=script.sleep))
    assert (result.condition, result.attempts) == (CONDITION_SUCCESS, 2)
    script = Script(OutcomeKind.FUNCTION_ERROR)
    result = asyncio.run(run_event(script.invoke, REQUEST, (), max_age_s=60, sleep=script.sleep))
    assert (result.condition, result.attempts) == (CONDITION_RETRIES_EXHAUSTED, 1)
