"""The emulator wired end to end over real HTTP, with in-process fake environments behind it."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import io
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest

from lambdarig.rie_server.choices import CompatMode
from lambdarig.rie_server.config import EmulatorConfig
from lambdarig.rie_server.emulator import Emulator
from tests.probes import eventually
from tests.rie_server.fake_environment import (
    CONFIG,
    FakeEnvironment,
    FakeFactory,
    OutcomeKind,
    outcome,
)

URL = "/2015-03-31/functions/{}/invocations"

Scenario = Callable[[httpx.AsyncClient, Emulator, FakeFactory], Awaitable[None]]


def serve(
    scenario: Scenario, config: EmulatorConfig = CONFIG, factory: FakeFactory | None = None
) -> str:
    """Run ``scenario`` against a started emulator; returns what it printed."""
    factory = factory or FakeFactory()
    output = io.StringIO()

    async def main() -> None:
        emulator = Emulator(config, environment_factory=factory, output=output)
        factory.on_output = emulator.on_output
        await emulator.start()
        try:
            async with httpx.AsyncClient(base_url=emulator.invoke_url) as client:
                await scenario(client, emulator, factory)
        finally:
            await emulator.stop()
        assert all(env.stopped for env in factory.created)

    asyncio.run(main())
    return output.getvalue()


def test_request_response_round_trip_and_platform_logs() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, _: FakeFactory) -> None:
        response = await client.post(URL.format("function"), content=b'{"a": 1}')
        assert response.status_code == 200
        assert response.content == b'{"a": 1}'
        assert response.headers["X-Amz-Executed-Version"] == "$LATEST"
        request_id = response.headers["x-amzn-RequestId"]
        assert "X-Amz-Function-Error" not in response.headers
        assert "X-Amz-Log-Result" not in response.headers
        assert request_id

    printed = serve(scenario).splitlines()
    assert printed[0].startswith("START RequestId: ")
    assert printed[1].startswith("handling ")
    assert printed[2].startswith("END RequestId: ")
    assert printed[3].startswith("REPORT RequestId: ")
    assert "\tInit Duration: 10.00 ms\t" in printed[3]


def test_eager_init_at_start_unless_lazy() -> None:
    async def eager(_: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        assert [env.starts for env in factory.created] == [1]

    async def lazy(_: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        assert factory.created == []

    serve(eager)
    serve(lazy, dataclasses.replace(CONFIG, lazy_init=True))


def test_provisioned_prewarms_n_environments() -> None:
    async def scenario(_: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        assert len(factory.created) == 3
        types = {env.spec.env["AWS_LAMBDA_INITIALIZATION_TYPE"] for env in factory.created}
        assert types == {"provisioned-concurrency"}

    serve(scenario, dataclasses.replace(CONFIG, provisioned=3))


def test_tail_returns_base64_of_this_invocations_log() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, _: FakeFactory) -> None:
        response = await client.post(
            URL.format("function"), content=b"{}", headers={"X-Amz-Log-Type": "Tail"}
        )
        request_id = response.headers["x-amzn-RequestId"]
        log = base64.b64decode(response.headers["X-Amz-Log-Result"]).decode()
        lines = log.splitlines()
        assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
        assert lines[1] == f"handling {request_id}"
        assert lines[2] == f"END RequestId: {request_id}"
        assert lines[3].startswith(f"REPORT RequestId: {request_id}\tDuration: ")

    serve(scenario)


def test_function_error_and_crash_are_unhandled() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, _: FakeFactory) -> None:
        error = await client.post(URL.format("function"), content=b'"error"')
        assert error.status_code == 200
        assert error.headers["X-Amz-Function-Error"] == "Unhandled"
        assert error.json() == {"errorMessage": "boom", "errorType": "ValueError"}
        crash = await client.post(URL.format("function"), content=b'"crash"')
        assert crash.status_code == 200
        assert crash.headers["X-Amz-Function-Error"] == "Unhandled"
        assert crash.content.startswith(b'{"errorType":"Runtime.ExitError","errorMessage":')

    printed = serve(scenario)
    assert "Error: Runtime exited with error: exit status 1\nRuntime.ExitError\nEND" in printed


def test_event_is_202_and_runs_in_the_background() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        response = await client.post(
            URL.format("function"), content=b'{"e": 1}', headers={"X-Amz-Invocation-Type": "Event"}
        )
        assert response.status_code == 202
        assert response.content == b""
        request_id = response.headers["x-amzn-RequestId"]
        for _ in range(1000):
            if any(r.request_id == request_id for r in factory.created[0].invokes):
                break
            await asyncio.sleep(0.001)
        else:
            raise AssertionError("the Event invocation never ran")

    serve(scenario)


def test_dry_run_is_204_and_runs_nothing() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        response = await client.post(
            URL.format("function"), content=b"{}", headers={"X-Amz-Invocation-Type": "DryRun"}
        )
        assert response.status_code == 204
        assert factory.created[0].invokes == []

    serve(scenario)


def test_throttled_at_the_concurrency_limit() -> None:
    factory = FakeFactory(hold=True)

    async def scenario(client: httpx.AsyncClient, emulator: Emulator, fake: FakeFactory) -> None:
        first = asyncio.ensure_future(client.post(URL.format("function"), content=b"{}"))
        await eventually(lambda: emulator.pool.in_flight == 1, "the first invoke to be in flight")
        second = await client.post(URL.format("function"), content=b"{}")
        assert second.status_code == 429
        assert second.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
        assert second.json() == {
            "Reason": "ConcurrentInvocationLimitExceeded",
            "Type": "User",
            "message": "Rate Exceeded.",
        }
        fake.release_all()
        assert (await first).status_code == 200

    serve(scenario, dataclasses.replace(CONFIG, max_concurrency=1), factory)


def test_trace_id_is_passed_or_generated() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        await client.post(URL.format("function"), content=b"{}", headers={"X-Amzn-Trace-Id": trace})
        await client.post(URL.format("function"), content=b"{}")
        sent, generated = (r.trace_id for r in factory.created[0].invokes)
        assert sent == trace
        assert generated is not None
        assert generated.startswith("Root=1-") and generated.endswith(";Sampled=0")

    serve(scenario)


def test_init_failure_at_start_is_logged_and_returned_on_invoke() -> None:
    posted = b'{"errorMessage":"no module","errorType":"Runtime.ImportModuleError"}'
    failed = outcome(OutcomeKind.INIT_ERROR, posted, error_type="Runtime.ImportModuleError")

    async def scenario(client: httpx.AsyncClient, emulator: Emulator, _: FakeFactory) -> None:
        response = await client.post(URL.format("function"), content=b"{}")
        assert response.status_code == 200
        assert response.headers["X-Amz-Function-Error"] == "Unhandled"
        assert response.content == posted

    printed = serve(scenario, factory=FakeFactory(init_error=failed))
    assert printed.startswith("INIT_REPORT Init Duration: ")
    assert "\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError\n" in printed
    assert "\tPhase: invoke\tStatus: error" in printed


def test_compat_rie_shapes() -> None:
    async def scenario(client: httpx.AsyncClient, emulator: Emulator, _: FakeFactory) -> None:
        ok = await client.get(URL.format("function"))
        assert ok.status_code == 200
        assert "x-amzn-RequestId" not in ok.headers
        missing = await client.post(URL.format("test_function"), content=b"{}")
        assert (missing.status_code, missing.content) == (404, b"404 page not found\n")
        crash = await client.post(URL.format("function"), content=b'"crash"')
        assert crash.status_code == 502

    serve(scenario, dataclasses.replace(CONFIG, compat=CompatMode.RIE))


def test_address_in_use_raises_oserror() -> None:
    async def scenario(_: httpx.AsyncClient, emulator: Emulator, __: FakeFactory) -> None:
        taken = dataclasses.replace(CONFIG, invoke_port=emulator.invoke_port)
        second = Emulator(taken, environment_factory=FakeFactory(), output=io.StringIO())
        with pytest.raises(OSError):
            await second.start()
        await second.stop()

    serve(scenario)


def test_a_changed_layer_is_laid_out_anew_for_new_environments_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layer = tmp_path / "layer"
    (layer / "python").mkdir(parents=True)
    (layer / "python" / "helper.py").write_text("VERSION = 'one'\n")
    config = dataclasses.replace(CONFIG, layers=(str(layer),), watch_paths=(str(layer),))

    def python_dir(env: FakeEnvironment) -> Path:
        return Path(env.spec.env["PYTHONPATH"].split(os.pathsep)[-1])

    async def scenario(_: httpx.AsyncClient, emulator: Emulator, factory: FakeFactory) -> None:
        (layer / "python" / "helper.py").write_text("VERSION = 'two, edited'\n")
        deadline = time.monotonic() + 10
        while len(factory.created) < 2 or not factory.created[1].starts:
            assert time.monotonic() < deadline, "expected a new environment after the change"
            await asyncio.sleep(0.02)
        old, new = factory.created
        assert old.stopped and not new.stopped
        assert new.spec.env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
        # The retired environment's /opt is left as it was; the new one has the edit.
        assert (python_dir(old) / "helper.py").read_text() == "VERSION = 'one'\n"
        assert (python_dir(new) / "helper.py").read_text() == "VERSION = 'two, edited'\n"

    serve(scenario, config)
    assert "lambdarig: 1 file(s) changed (" in capsys.readouterr().err


def test_start_is_written_with_end_and_report_or_by_the_timer_while_a_silent_invoke_runs() -> None:
    factory = FakeFactory(hold=True)
    output = io.StringIO()

    async def main() -> None:
        emulator = Emulator(CONFIG, environment_factory=factory, output=output)
        await emulator.start()
        factory.created[0].on_output = lambda env_id, line: None  # the function prints nothing
        try:
            async with httpx.AsyncClient(base_url=emulator.invoke_url) as client:
                invoke = asyncio.ensure_future(client.post(URL.format("function"), content=b"{}"))
                deadline = time.monotonic() + 5
                while "START RequestId" not in output.getvalue():  # held, then the timer writes it
                    assert time.monotonic() < deadline, "START was never written"
                    await asyncio.sleep(0.005)
                assert emulator.pool.in_flight == 1 and "END" not in output.getvalue()
                factory.release_all()
                assert (await invoke).status_code == 200
        finally:
            await emulator.stop()

    asyncio.run(main())
    assert [line.split()[0] for line in output.getvalue().splitlines()] == [
        "START",
        "END",
        "REPORT",
    ]
