from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from lambdarig.rie_server.environments.environment import (
    EnvironmentSpec,
    InvokeOutcome,
    InvokeRequest,
)
from lambdarig.rie_server.environments.pool import EnvironmentPool
from lambdarig.rie_server.errors import EnvironmentStopped, Throttled
from tests.rie_server.fake_environment import FakeFactory, OutcomeKind, outcome

T = TypeVar("T")
SPEC = EnvironmentSpec(
    command=("bootstrap",),
    cwd=None,
    env={"A": "1"},
    function_arn="arn:aws:lambda:us-east-1:012345678912:function:f",
    timeout_s=3.0,
    memory_mb=128,
    runtime_api_address="127.0.0.1:9001",
)


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []

    def invocation_started(self, env_id: str, request: InvokeRequest) -> None:
        self.events.append(("start", env_id, request.request_id))

    def invocation_finished(
        self, env_id: str, request: InvokeRequest, outcome: InvokeOutcome
    ) -> None:
        self.events.append(("finish", env_id, outcome.kind.value))

    def init_failed(self, env_id: str, outcome: InvokeOutcome) -> None:
        self.events.append(("init_failed", env_id, outcome.kind.value))

    def invocation_abandoned(self, env_id: str, request: InvokeRequest) -> None:
        self.events.append(("abandoned", env_id, request.request_id))

    async def environment_stopped(self, env_id: str) -> None:
        self.events.append(("stopped", env_id, ""))


def request(n: int, payload: bytes = b"{}") -> InvokeRequest:
    return InvokeRequest(request_id=f"req-{n}", payload=payload)


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(scenario())


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never became true")


def test_sequential_invokes_reuse_one_warm_environment() -> None:
    factory, recorder = FakeFactory(), Recorder()

    async def scenario() -> list[InvokeOutcome]:
        pool = EnvironmentPool(SPEC, factory, recorder)
        results = [await pool.invoke(request(n)) for n in range(3)]
        await pool.stop()
        return results

    results = run(scenario)
    assert [r.kind for r in results] == [OutcomeKind.SUCCESS] * 3
    assert len(factory.created) == 1
    assert factory.created[0].starts == 1
    assert factory.created[0].stopped
    assert recorder.events[:2] == [("start", "env-1", "req-0"), ("finish", "env-1", "success")]


def test_concurrent_invokes_get_their_own_environments_then_429_at_the_limit() -> None:
    factory = FakeFactory(hold=True)

    async def scenario() -> tuple[list[InvokeOutcome], EnvironmentPool]:
        pool = EnvironmentPool(SPEC, factory, Recorder(), max_environments=3)
        tasks = [asyncio.ensure_future(pool.invoke(request(n))) for n in range(3)]
        await until(lambda: sum(env.in_flight for env in factory.created) == 3)
        with pytest.raises(Throttled, match="expected a free execution environment, got all 3"):
            await pool.invoke(request(99))
        factory.release_all()
        results = list(await asyncio.gather(*tasks))
        await pool.stop()
        return results, pool

    results, pool = run(scenario)
    assert len(results) == 3 and pool.environment_count == 3
    assert [env.peak_in_flight for env in factory.created] == [1, 1, 1]
    specs = [env.spec for env in factory.created]
    assert specs[0].runtime_api_address == "127.0.0.1:9001"
    assert {s.runtime_api_address for s in specs[1:]} == {"127.0.0.1:0"}
    assert all(s.env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand" for s in specs)
    assert all(s.env["A"] == "1" for s in specs)


def test_waiting_invokes_queue_for_a_free_slot() -> None:
    factory = FakeFactory(hold=True)

    async def scenario() -> list[InvokeOutcome]:
        pool = EnvironmentPool(SPEC, factory, Recorder(), max_environments=1)
        first = asyncio.ensure_future(pool.invoke(request(1)))
        await until(lambda: pool.in_flight == 1)
        second = asyncio.ensure_future(pool.invoke(request(2), wait=True))
        await until(lambda: pool.waiting == 1)  # queued behind the first, not refused
        assert not second.done()
        factory.release_all()
        results = [await first, await second]
        await pool.stop()
        return results

    assert [r.body for r in run(scenario)] == [b"{}", b"{}"]
    assert len(factory.created) == 1


def test_prewarm_provisioned_environments() -> None:
    factory = FakeFactory()

    async def scenario() -> None:
        pool = EnvironmentPool(SPEC, factory, Recorder(), max_environments=5)
        await pool.prewarm(3, "provisioned-concurrency")
        assert pool.environment_count == 3
        first = await pool.invoke(request(1))
        assert pool.environment_count == 3  # a warm one was reused
        # The service reports no Init Duration for provisioned concurrency: init ran ahead.
        assert first.init_duration_ms is None
        await pool.stop()

    run(scenario)
    assert [env.starts for env in factory.created] == [1, 1, 1]
    types = {env.spec.env["AWS_LAMBDA_INITIALIZATION_TYPE"] for env in factory.created}
    assert types == {"provisioned-concurrency"}


def test_on_demand_first_invoke_reports_its_init() -> None:
    async def scenario() -> InvokeOutcome:
        pool = EnvironmentPool(SPEC, FakeFactory(), Recorder(), max_environments=5)
        await pool.prewarm(1)
        try:
            return await pool.invoke(request(1))
        finally:
            await pool.stop()

    assert run(scenario).init_duration_ms == 10.0


def test_prewarm_never_exceeds_the_limit() -> None:
    factory = FakeFactory()

    async def scenario() -> int:
        pool = EnvironmentPool(SPEC, factory, Recorder(), max_environments=2)
        await pool.prewarm(5)
        count = pool.environment_count
        await pool.stop()
        return count

    assert run(scenario) == 2


def test_managed_instances_one_environment_many_slots() -> None:
    factory = FakeFactory(hold=True)

    async def scenario() -> None:
        pool = EnvironmentPool(SPEC, factory, Recorder(), max_environments=10, per_environment=4)
        assert pool.capacity == 4
        tasks = [asyncio.ensure_future(pool.invoke(request(n))) for n in range(4)]
        await until(lambda: pool.in_flight == 4 and factory.created[0].in_flight == 4)
        with pytest.raises(Throttled):
            await pool.invoke(request(5))
        factory.release_all()
        await asyncio.gather(*tasks)
        await pool.stop()

    run(scenario)
    assert len(factory.created) == 1
    assert factory.created[0].starts == 1  # concurrent first invokes share one start
    assert factory.created[0].peak_in_flight == 4


def test_init_failure_is_reported_once_and_invoke_still_runs() -> None:
    failed = outcome(OutcomeKind.INIT_ERROR, b'{"errorType":"Runtime.ImportModuleError"}')
    factory, recorder = FakeFactory(init_error=failed), Recorder()

    async def scenario() -> InvokeOutcome:
        pool = EnvironmentPool(SPEC, factory, recorder)
        await pool.prewarm(1)
        result = await pool.invoke(request(1))
        await pool.stop()
        return result

    assert run(scenario).kind is OutcomeKind.INIT_ERROR
    assert recorder.events[0] == ("init_failed", "env-1", "init_error")
    assert [e[0] for e in recorder.events].count("init_failed") == 1


def test_crashed_environment_is_reused_for_the_next_invoke() -> None:
    factory = FakeFactory()

    async def scenario() -> list[InvokeOutcome]:
        pool = EnvironmentPool(SPEC, factory, Recorder())
        results = [await pool.invoke(request(1, b'"crash"')), await pool.invoke(request(2))]
        await pool.stop()
        return results

    crash, ok = run(scenario)
    assert (crash.kind, ok.kind) == (OutcomeKind.CRASH, OutcomeKind.SUCCESS)
    assert len(factory.created) == 1


def test_stop_is_idempotent_and_blocks_new_environments() -> None:
    factory = FakeFactory()

    async def scenario() -> None:
        pool = EnvironmentPool(SPEC, factory, Recorder())
        await pool.stop()
        await pool.stop()
        with pytest.raises(EnvironmentStopped):
            await pool.invoke(request(1))

    run(scenario)
    assert factory.created == []


def test_use_spec_applies_to_environments_created_afterwards_only() -> None:
    factory = FakeFactory()
    changed = dataclasses.replace(SPEC, env={"A": "2"})

    async def scenario() -> None:
        pool = EnvironmentPool(SPEC, factory, Recorder(), max_environments=2)
        await pool.prewarm(1)
        pool.use_spec(changed)
        await pool.retire()
        await pool.prewarm(1)
        await pool.stop()

    run(scenario)
    assert [env.spec.env["A"] for env in factory.created] == ["1", "2"]
    assert [env.env_id for env in factory.created] == ["env-1", "env-2"]


def test_an_invocation_its_environment_raised_on_is_reported_abandoned() -> None:
    # The listener keeps records from invocation_started on (Tail captures, telemetry start
    # times): an invoke that never finishes must say so, or one record leaks per such invoke.
    factory, recorder = FakeFactory(), Recorder()

    async def scenario() -> None:
        pool = EnvironmentPool(SPEC, factory, recorder)
        with pytest.raises(OSError):
            await pool.invoke(request(1, b'"emulator-failure"'))
        await pool.invoke(request(2))
        await pool.stop()

    run(scenario)
    assert recorder.events[:3] == [
        ("start", "env-1", "req-1"),
        ("abandoned", "env-1", "req-1"),
        ("start", "env-1", "req-2"),
    ]


def test_retired_environments_are_reported_once_stopped_idle_or_busy() -> None:
    # The listener keeps records per environment id: a retired environment's must go when it
    # stops, or every --watch reload leaks one set.
    factory, recorder = FakeFactory(hold=True), Recorder()

    async def scenario() -> None:
        pool = EnvironmentPool(SPEC, factory, recorder, max_environments=2)
        await pool.prewarm(2)
        busy = asyncio.ensure_future(pool.invoke(request(1)))
        await until(lambda: factory.created[0].in_flight == 1)
        await pool.retire()
        assert ("stopped", "env-2", "") in recorder.events  # the idle one, at once
        assert ("stopped", "env-1", "") not in recorder.events  # still busy
        factory.release_all()
        await busy
        await until(lambda: ("stopped", "env-1", "") in recorder.events)
        await pool.stop()

    run(scenario)
    stopped = [event for event in recorder.events if event[0] == "stopped"]
    assert sorted(stopped) == [("stopped", "env-1", ""), ("stopped", "env-2", "")]
