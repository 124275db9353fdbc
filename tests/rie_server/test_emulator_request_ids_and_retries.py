"""The emulator honours a caller's ``X-Amzn-RequestId`` and retries failed ``Event`` invocations.

These span ``invoke.protocol`` / ``async_invocations`` (parsing, retry policy) and ``emulator``
(wiring): in-process fake environments behind real HTTP.
"""

from __future__ import annotations

import dataclasses
import time

import httpx

from lambdarig.rie_server.emulator import Emulator
from tests.probes import eventually
from tests.rie_server.fake_environment import FakeFactory
from tests.rie_server.test_emulator import CONFIG, URL, serve

CALLER_ID = "6f0c8a57-3b0e-4b9e-9d0c-2f6a1f3e9a11"
FAST_RETRIES = dataclasses.replace(CONFIG, async_retry_delays=(0.05, 0.1))


async def wait_for_invokes(factory: FakeFactory, count: int, timeout_s: float = 10.0) -> None:
    await eventually(
        lambda: sum(len(env.invokes) for env in factory.created) >= count,
        f"{count} invokes",
        timeout_s,
    )


def test_a_callers_uuid_is_the_request_id_the_runtime_sees() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        response = await client.post(
            URL.format("function"), content=b"{}", headers={"X-Amzn-RequestId": CALLER_ID}
        )
        assert response.status_code == 200
        assert response.headers["x-amzn-RequestId"] == CALLER_ID
        assert [request.request_id for request in factory.created[0].invokes] == [CALLER_ID]

    printed = serve(scenario)
    assert f"START RequestId: {CALLER_ID} Version: $LATEST" in printed
    assert f"REPORT RequestId: {CALLER_ID}\t" in printed


def test_a_request_id_that_is_not_a_uuid_is_400_and_runs_nothing() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        response = await client.post(
            URL.format("function"), content=b"{}", headers={"X-Amzn-RequestId": "my-id"}
        )
        assert response.status_code == 400
        assert response.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
        assert response.headers["x-amzn-RequestId"] != "my-id"
        assert factory.created[0].invokes == []

    serve(scenario)


def test_a_failed_event_is_retried_twice_with_the_same_request_id() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        started = time.monotonic()
        response = await client.post(
            URL.format("function"), content=b'"error"', headers={"X-Amz-Invocation-Type": "Event"}
        )
        assert response.status_code == 202
        request_id = response.headers["x-amzn-RequestId"]
        await wait_for_invokes(factory, 3)
        assert time.monotonic() - started >= 0.15  # both delays were waited
        invokes = [request for env in factory.created for request in env.invokes]
        assert [request.request_id for request in invokes] == [request_id] * 3
        # and no fourth attempt follows: the invocation is over (dropped after its last retry)
        await eventually(lambda: emulator.pending_events == 0, "the Event invocation to end")
        assert sum(len(env.invokes) for env in factory.created) == 3

    printed = serve(scenario, FAST_RETRIES)
    assert printed.count("START RequestId: ") == 3
    assert printed.count("REPORT RequestId: ") == 3


def test_a_successful_event_runs_once() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        response = await client.post(
            URL.format("function"), content=b"{}", headers={"X-Amz-Invocation-Type": "Event"}
        )
        assert response.status_code == 202
        await wait_for_invokes(factory, 1)
        await eventually(lambda: emulator.pending_events == 0, "the Event invocation to end")
        assert sum(len(env.invokes) for env in factory.created) == 1

    serve(scenario, FAST_RETRIES)


def test_stop_drops_an_event_waiting_for_its_retry() -> None:
    slow = dataclasses.replace(CONFIG, async_retry_delays=(600.0,))

    async def scenario(client: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        response = await client.post(
            URL.format("function"), content=b'"crash"', headers={"X-Amz-Invocation-Type": "Event"}
        )
        assert response.status_code == 202
        await wait_for_invokes(factory, 1)

    started = time.monotonic()
    serve(scenario, slow)  # serve() stops the emulator: the pending retry must not hold it up
    assert time.monotonic() - started < 10
