"""``FunctionHost``'s records live as long as what they describe: an invocation's (Tail capture,
telemetry start time) until it ends, an environment's (its Telemetry API, colour, captures) until
it stops. A long ``lambdarig serve --watch`` session must not grow with invocations or reloads."""

from __future__ import annotations

import asyncio
import io
import sys
from pathlib import Path

import httpx

from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from lambdarig.rie_server.environments.environment import EnvironmentSpec
from lambdarig.rie_server.environments.pool import PooledEnvironment
from lambdarig.rie_server.watch import reinitialise, warm_plan
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
        emulator.host._telemetry_hub(env_id)  # what the default environments get
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
