"""``FunctionHost``'s records live as long as what they describe: an invocation's (Tail capture,
telemetry start time) until it ends, an environment's (its Telemetry API, colour, captures) until
it stops. A long ``lambdarig serve --watch`` session must not grow with invocations or reloads."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import io
import json
import os
import sys
import tracemalloc
from pathlib import Path

import httpx

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from lambdarig.rie_server.environments.environment import EnvironmentSpec
from lambdarig.rie_server.environments.pool import PooledEnvironment, warm_plan
from lambdarig.rie_server.watch import reinitialise
from tests.probes import eventually
from tests.rie_server.fake_environment import FakeFactory

HANDLERS = Path(__file__).resolve().parents[1] / "integration" / "handlers"
URL = "/2015-03-31/functions/function/invocations"
REAL = EmulatorConfig(
    command=(sys.executable, "-m", "lambdarig.runtime_client", "app.handler"),
    cwd=str(HANDLERS),
    invoke_host="127.0.0.1",
    invoke_port=0,
    runtime_api_address="127.0.0.1:0",
    timeout_s=5.0,
    memory_mb=128,
)
TAIL = {"X-Amz-Log-Type": "Tail"}


def test_reloads_leave_no_records_of_the_retired_environments() -> None:
    # Each --watch reload retires every environment and starts new ones under new ids; their
    # Telemetry API hubs (with the init's events) and Tail capture maps were kept until stop.
    async def main() -> None:
        emulator = Emulator(REAL, output=io.StringIO())
        await emulator.start()
        logs = emulator.host._logs
        try:
            async with httpx.AsyncClient(base_url=emulator.invoke_url, timeout=30) as client:
                for _ in range(4):
                    await reinitialise(emulator.pool, warm_plan(emulator.config))
                    response = await client.post(URL, content=b"{}", headers=TAIL)
                    assert response.status_code == 200
                    assert response.headers["X-Amz-Log-Result"]
            live = {slot.env_id for slot in emulator.pool._slots}
            assert len(live) == 1
            assert set(logs.telemetry) == live  # was: one hub per environment ever created
            assert set(logs._open) <= live
        finally:
            await emulator.stop()
        assert logs.telemetry == {}

    asyncio.run(main())


def test_an_invocation_the_emulator_could_not_run_leaves_no_records() -> None:
    # The environment raised (e.g. a re-init that cannot spawn): 500 to the caller, and the
    # records opened at its START (Tail capture, telemetry start time) must go too.
    factory = FakeFactory()
    emulator: Emulator | None = None

    def with_telemetry(spec: EnvironmentSpec, env_id: str) -> PooledEnvironment:
        assert emulator is not None
        emulator.host._telemetry(env_id)  # what the default environments get
        return factory(spec, env_id)

    async def main() -> None:
        nonlocal emulator
        emulator = Emulator(REAL, environment_factory=with_telemetry, output=io.StringIO())
        factory.on_output = emulator.on_output
        await emulator.start()
        logs = emulator.host._logs
        try:
            async with httpx.AsyncClient(base_url=emulator.invoke_url) as client:
                for _ in range(20):
                    failure = b'"emulator-failure"'
                    response = await client.post(URL, content=failure, headers=TAIL)
                    assert response.status_code == 500
                response = await client.post(URL, content=b"{}", headers=TAIL)
                assert response.status_code == 200
            hub = logs.telemetry["env-1"]
            assert hub._starts == {}  # was: one start time per failed invocation
            assert logs._open["env-1"] == {}  # was: one Tail capture per failed invocation
            assert logs.wanted == set() and logs.tails == {}
        finally:
            await emulator.stop()

    asyncio.run(main())


# One cycle of the bounded soak: what a developer's calls look like (a sync echo, an error, a
# Tail, a DryRun, an Event, a malformed call), with rarer crashes, timeouts and hang-ups.
CYCLE = ("echo", "raise", "echo", "tail", "dry_run", "event", "echo", "raise", "bad", "echo")
WARM_UP = 500  # past every bounded record's plateau (64 runtime-state entries per process)
MEASURED = 1000  # a multiple of 500: both snapshots follow the same stretch of _call's schedule
GROWTH_BOUND = 64 * 1024  # bytes still held after MEASURED more invocations
# Two environments at most: each holds its process's last 64 invocations, whose count at either
# snapshot varies with which environment ran what (a plateau, but noise between snapshots).
SOAK = dataclasses.replace(REAL, timeout_s=1.0, max_concurrency=2, async_retry_delays=(0.01,))
KIND_HEADERS = {
    "tail": TAIL,
    "dry_run": {"X-Amz-Invocation-Type": "DryRun"},
    "event": {"X-Amz-Invocation-Type": "Event"},
    "bad": {"X-Amz-Invocation-Type": "Nonsense"},
}
KIND_EVENTS: dict[str, object] = {
    "raise": {"action": "error"},
    "crash": {"action": "crash", "code": 3},
    "timeout": {"action": "sleep", "seconds": 3},
    "hang_up": {"action": "sleep", "seconds": 0.2},
}
KIND_STATUS = {"dry_run": 204, "event": 202, "bad": 400}


async def _call(client: httpx.AsyncClient, emulator: Emulator, number: int) -> None:
    kind = CYCLE[number % len(CYCLE)]
    if number % 500 == 499:
        kind = "timeout"
    elif number % 250 == 124:
        kind = "crash"
    elif number % 100 == 49:
        kind = "hang_up"
    headers = dict(KIND_HEADERS.get(kind, {}))
    event = KIND_EVENTS.get(kind, {"action": "echo", "n": number})
    if kind == "hang_up":
        with contextlib.suppress(httpx.TimeoutException):
            await client.post(URL, json=event, timeout=0.05)
        # Its invocation runs on: with both environments busy (an Event in the other) the next
        # call would get 429.
        await eventually(lambda: emulator.pool.in_flight == 0, "the hung-up invocation to end")
        return
    body = b"{" if kind == "bad" else json.dumps(event).encode()
    response = await client.post(URL, content=body, headers=headers)
    assert response.status_code == KIND_STATUS.get(kind, 200), (kind, response.content)


def _small_blocks(snapshot: tracemalloc.Snapshot) -> tuple[int, int]:
    """Bytes and count of the blocks below 16 KiB allocated outside site-packages (the emulator
    uses only the standard library; httpx, the test's client, holds some per failed import): a
    record per invocation is one of those; the read buffer of a connection open at one snapshot
    but not the other is not."""
    ours = snapshot.filter_traces([tracemalloc.Filter(False, "*/site-packages/*")])
    sizes = [trace.size for trace in ours.traces if trace.size < 16 * 1024]
    return sum(sizes), len(sizes)


def _snapshot() -> tracemalloc.Snapshot:
    gc.collect()
    return tracemalloc.take_snapshot()


def test_thousands_of_invocations_of_every_kind_leave_memory_where_it_was() -> None:
    # A fixed count (not a fixed time): what the process still holds after WARM_UP invocations
    # and again after MEASURED more (one frame per allocation: deeper tracing costs 15x).
    async def settled(emulator: Emulator) -> None:
        await eventually(
            lambda: emulator.pending_events == 0 and emulator.pool.in_flight == 0,
            "the Event invocations and hung-up calls to end",
            timeout_s=30,
        )

    async def main() -> tuple[tracemalloc.Snapshot, tracemalloc.Snapshot]:
        emulator = Emulator(SOAK, output=devnull)  # a StringIO would hold every line
        await emulator.start()
        try:
            async with httpx.AsyncClient(base_url=emulator.invoke_url, timeout=30) as client:
                for number in range(WARM_UP):
                    await _call(client, emulator, number)
                await settled(emulator)
                before = _snapshot()
                for number in range(WARM_UP, WARM_UP + MEASURED):
                    await _call(client, emulator, number)
                await settled(emulator)
                after = _snapshot()
        finally:
            await emulator.stop()
        return before, after

    tracemalloc.start(1)
    try:
        with open(os.devnull, "w") as devnull:
            before, after = asyncio.run(main())
    finally:
        tracemalloc.stop()
    grown = after.compare_to(before, "lineno")  # for the message
    small = [_small_blocks(snapshot) for snapshot in (before, after)]
    growth = small[1][0] - small[0][0], small[1][1] - small[0][1]
    print(f"held after {MEASURED} more invocations: {growth[0]:+} bytes in {growth[1]:+} blocks")
    assert growth[0] < GROWTH_BOUND, "\n".join(str(stat) for stat in grown[:10])
