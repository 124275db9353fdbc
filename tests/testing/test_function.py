"""LambdaFunction on real stacks: ours, and aws-lambda-rie + awslambdaric."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lambdarig.testing import (
    EmulatorCrashed,
    FunctionSpec,
    HarnessSettings,
    LambdaFunction,
    MissingDependency,
    ProcessRegistry,
)
from tests.testing.conftest import FIXTURES, Stack, make_stack


def _spec() -> FunctionSpec:
    return FunctionSpec.build("app.handler", code=FIXTURES / "app", env={"GREETING": "hi"})


@pytest.fixture(scope="module")
def started(stack: Stack) -> Iterator[LambdaFunction]:
    """One emulator per stack for this module (the plugin's habit), reset before each test."""
    registry = ProcessRegistry()
    with LambdaFunction(_spec(), stack.settings, registry) as function:
        yield function
    registry.check()


@pytest.fixture
def fn(started: LambdaFunction) -> Iterator[LambdaFunction]:
    started.reset()
    yield started
    started.check()


def test_invoke_returns_payload_logs_and_report(stack: Stack) -> None:
    registry = ProcessRegistry()
    with LambdaFunction(_spec(), stack.settings, registry) as fn:  # a cold start of its own
        _check_cold_then_warm(fn)
    registry.check()


def _check_cold_then_warm(fn: LambdaFunction) -> None:
    first = fn.invoke({"n": 1})
    assert first.status_code == 200
    assert first.payload == {"echo": {"n": 1}, "request_id": first.request_id}
    assert first.function_error is None
    # Init output precedes START when the emulator initialises eagerly (the service, ours), and
    # follows it when init is lazy (aws-lambda-rie starts the runtime inside the first invoke).
    assert first.init_logs + first.logs == ["init: module loaded", 'handling {"n": 1}']
    assert first.report is not None and first.report.request_id == first.request_id
    assert first.report.init_duration_ms is not None and first.report.init_duration_ms > 0
    assert first.report.duration_ms > 0 and first.report.billed_duration_ms >= 1
    assert first.report.memory_size_mb == 128 and 0 < first.report.max_memory_used_mb <= 128
    second = fn.invoke({"n": 2})
    assert second.logs == ['handling {"n": 2}'] and second.init_logs == []
    assert second.report is not None and second.report.init_duration_ms is None


def test_url_is_the_invoke_url(fn: LambdaFunction) -> None:
    assert fn.url == fn.endpoint_url + "/2015-03-31/functions/function/invocations"
    answer = httpx.post(fn.url, content=b'{"n": 4}', timeout=30)
    assert (answer.status_code, answer.json()["echo"]) == (200, {"n": 4})


def test_environment_reaches_the_function(fn: LambdaFunction) -> None:
    assert fn.invoke({"env": "GREETING"}).payload == "hi"
    assert fn.invoke({"env": "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"}).payload == "128"


def test_function_error_is_data_not_an_exception(fn: LambdaFunction, stack: Stack) -> None:
    result = fn.invoke({"fail": "boom"})
    assert result.payload["errorType"] == "ValueError"
    assert result.payload["errorMessage"] == "boom"
    # aws-lambda-rie omits X-Amz-Function-Error (its issue #20); the service and ours send it.
    assert result.function_error == (None if stack.emulator == "aws-rie" else "Unhandled")
    assert fn.invoke({"n": 3}).function_error is None


def test_a_traceback_without_newline_stays_in_its_invocations_logs(fn: LambdaFunction) -> None:
    """``logging.exception`` through the runtime client's log sink ends without a newline: its
    last line is in that invocation's ``logs``, not the next one's (our emulator ends the line
    before END; aws-lambda-rie glues it onto END, which the log book takes apart)."""
    first = fn.invoke({"log_exception": "first-tail"})
    second = fn.invoke({"n": 2})
    assert 'handling {"log_exception": "first-tail"}' in first.logs
    assert first.logs[-1] == "ValueError: first-tail"
    assert second.logs == ['handling {"n": 2}']


def test_invoke_async(fn: LambdaFunction) -> None:
    async def both() -> list[object]:
        results = [await fn.invoke_async({"n": n}) for n in (1, 2)]
        return [r.payload["echo"] for r in results]

    assert asyncio.run(both()) == [{"n": 1}, {"n": 2}]


@pytest.mark.filterwarnings("ignore:Boto3 will no longer support Python 3.9")
def test_boto3_client_is_pointed_at_the_emulator(fn: LambdaFunction) -> None:
    pytest.importorskip("boto3")
    answer = fn.boto3_client().invoke(FunctionName="function", Payload=b'{"n": 5}')
    assert answer["StatusCode"] == 200
    import json

    assert json.loads(answer["Payload"].read())["echo"] == {"n": 5}


def test_boto3_missing_is_a_clear_error(
    fn: LambdaFunction, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(MissingDependency, match=r"pip install 'lambdarig\[aws\]'"):
        fn.boto3_client()


def test_bootstrap_command_runtime() -> None:
    stack = make_stack("ours+lambdarig")
    spec = FunctionSpec.build(
        "app.handler",
        code=FIXTURES / "app",
        runtime=["./bootstrap"],
        env={"LAMBDARIG_TEST_PYTHON": sys.executable},
    )
    registry = ProcessRegistry()
    with LambdaFunction(spec, stack.settings, registry) as function:
        assert function.invoke({"n": 7}).payload["echo"] == {"n": 7}
    registry.check()


def test_event_invocation_and_log_tail(fn: LambdaFunction, stack: Stack) -> None:
    queued = fn.invoke_event({"n": 8})
    tailed = fn.invoke({"n": 9}, tail=True)
    if stack.emulator == "aws-rie":  # it ignores X-Amz-Invocation-Type and X-Amz-Log-Type
        assert (queued.status_code, tailed.log_result) == (200, None)
        return
    assert (queued.status_code, queued.raw, queued.report) == (202, b"", None)
    assert tailed.log_result is not None
    assert 'handling {"n": 9}' in tailed.log_result
    assert tailed.log_result.rstrip("\n").splitlines()[-1].startswith("REPORT RequestId: ")


def test_killed_emulator_is_raised_then_restarted(stack: Stack) -> None:
    registry = ProcessRegistry()
    with LambdaFunction(_spec(), stack.settings, registry) as function:
        assert function.pid is not None
        os.killpg(function.pid, signal.SIGKILL)
        with pytest.raises(EmulatorCrashed, match="exited with status -9"):
            function.invoke({"n": 1})
        function.reset()
        assert function.invoke({"n": 2}).payload["echo"] == {"n": 2}
    registry.check()


def test_layers_are_laid_out_for_the_runtime() -> None:
    stack = make_stack("ours+lambdarig")
    spec = FunctionSpec.build("app.handler", code=FIXTURES / "layered", layers=[FIXTURES / "layer"])
    registry = ProcessRegistry()
    with LambdaFunction(spec, stack.settings, registry) as function:
        assert function.invoke({}).payload == "hi from a layer"
    registry.check()


def test_image_mode_passes_the_handler_as_the_container_command() -> None:
    spec = FunctionSpec.build("app.other", image="fn:latest", emulator_args=["--compat", "service"])
    argv, _ = LambdaFunction(spec, HarnessSettings(emulator=("lambdarig-rie",))).emulator_argv()
    assert argv[-5:] == ["--image", "fn:latest", "--compat", "service", "app.other"]


def test_image_without_the_docker_sdk_is_a_missing_dependency(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Said before any emulator starts, not buried in EmulatorStartError."""
    import sys

    monkeypatch.setitem(sys.modules, "docker", None)
    function = LambdaFunction(FunctionSpec.build("app.handler", image="fn:latest"))
    with pytest.raises(
        MissingDependency, match=r"image='fn:latest' \(pip install 'lambdarig\[dock"
    ):
        function.start()
    function.registry.check()  # nothing was started


@pytest.mark.docker
@pytest.mark.slow
def test_image_handler_overrides_the_images_cmd(docker_client: Any) -> None:
    """ImageConfig.Command overrides CMD: the image says app.handler, the spec app.other."""
    from tests.images.conftest import built_image, require_base, session_tag

    base = require_base(docker_client, "bookworm")
    code, tag = FIXTURES / "two_handlers", session_tag("harness-cmd")
    with built_image(docker_client, tag, code, base_image=base, handler="app.handler") as built:
        registry = ProcessRegistry()
        spec = FunctionSpec.build("app.other", image=built.tag)
        with LambdaFunction(spec, HarnessSettings(base_env=dict(os.environ)), registry) as fn:
            assert fn.invoke({}).payload == "the spec's handler ran"
        registry.check()


def test_timeout_and_memory_reach_the_function() -> None:
    stack = make_stack("ours+lambdarig")
    spec = FunctionSpec.build("app.handler", code=FIXTURES / "app", timeout=1, memory=256)
    registry = ProcessRegistry()
    with LambdaFunction(spec, stack.settings, registry) as function:
        assert function.invoke({"env": "AWS_LAMBDA_FUNCTION_MEMORY_SIZE"}).payload == "256"
        slow = function.invoke({"sleep": 5})
        assert slow.function_error == "Unhandled"
        assert slow.payload["errorType"] == "Sandbox.Timedout"
        assert slow.report is not None and slow.report.status == "timeout"
        assert slow.report.memory_size_mb == 256
    registry.check()
