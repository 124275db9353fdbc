"""`lambdarig-rie --image` end to end, driven through the harness (lambdarig.testing): each
execution environment is a container of the image; timeouts, crashes and out-of-memory kills answer
as the service does, and a --layer is mounted at /opt."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from lambdarig.testing import FunctionSpec, LambdaFunction

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def boxed(
    bookworm_image: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LambdaFunction]:
    layer = tmp_path_factory.mktemp("layer")
    (layer / "python").mkdir()
    (layer / "python" / "layered.py").write_text("VALUE = 'from a --layer'\n")
    spec = FunctionSpec.build(
        "app.handler", image=bookworm_image.tag, timeout=2, memory=128, layers=[layer]
    )
    with LambdaFunction(spec) as fn:
        yield fn


def test_success_and_layer(boxed: LambdaFunction) -> None:
    echo = boxed.invoke({"n": 1})
    assert echo.status_code == 200 and echo.function_error is None, echo
    assert echo.payload["event"] == {"n": 1}
    assert "hello from the function" in echo.logs
    assert boxed.invoke({"action": "opt"}).payload == {"layered": "from a --layer"}


def test_each_invocations_output_is_in_its_own_logs(boxed: LambdaFunction) -> None:
    """A container's output reaches the emulator through the engine, a few ms after the runtime
    wrote it, and can lose the race with the runtime's answer: the emulator must wait for it
    (ContainerProcess.output_settled) before it logs END, or the line lands after END."""
    for n in range(8):
        result = boxed.invoke({"n": n})
        assert result.logs == ["hello from the function"], (n, result.logs, result.init_logs)


def test_timeout(boxed: LambdaFunction) -> None:
    result = boxed.invoke({"action": "sleep", "seconds": 30})
    assert result.function_error == "Unhandled"
    assert result.payload == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after 2.00 seconds",
    }
    assert result.report is not None and result.report.status == "timeout"
    assert boxed.invoke({"n": 2}).payload["event"] == {"n": 2}


def _exit_error(request_id: str | None, how: str) -> dict[str, str]:
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: {how}",
    }


def test_crash(boxed: LambdaFunction) -> None:
    result = boxed.invoke({"action": "crash", "status": 3})
    assert result.function_error == "Unhandled"
    assert result.payload == _exit_error(result.request_id, "exit status 3")
    assert boxed.invoke({"n": 3}).payload["event"] == {"n": 3}


def test_out_of_memory(boxed: LambdaFunction) -> None:
    result = boxed.invoke({"action": "hog"})
    assert result.function_error == "Unhandled"
    assert result.payload == _exit_error(result.request_id, "signal: killed")
    assert result.report is not None
    assert result.report.error_type == "Runtime.OutOfMemory"
    assert result.report.max_memory_used_mb <= 128
    assert boxed.invoke({"n": 4}).payload["event"] == {"n": 4}
