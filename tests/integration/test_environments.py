"""Environment shapes through a real runtime: lazy/eager/provisioned init, Managed Instances mode,
JSON platform logs and memory enforcement."""

from __future__ import annotations

import json
import threading
import zipfile
from pathlib import Path

import httpx

from tests.integration.conftest import HANDLERS, LOCAL, invoke_url
from tests.rie_server.emulator_process import OUR_RUNTIME, Running, emulator

RUNTIME = [*OUR_RUNTIME, "app.handler"]


def post(running: Running, event: object, headers: dict[str, str] | None = None) -> httpx.Response:
    url = invoke_url(running, "function")
    return httpx.post(url, content=json.dumps(event).encode(), headers=headers, timeout=30)


def test_lazy_init_starts_nothing_before_the_first_invoke(tmp_path: Path) -> None:
    with emulator([*LOCAL, "--lazy-init", *RUNTIME], tmp_path, cwd=HANDLERS) as running:
        assert running.descendants() == set()
        assert post(running, {"action": "echo"}).status_code == 200
        assert running.descendants()


def test_eager_init_runs_the_runtime_before_the_first_invoke(tmp_path: Path) -> None:
    with emulator([*LOCAL, *RUNTIME], tmp_path, cwd=HANDLERS) as running:
        assert running.descendants()
        body = post(running, {"action": "context"}).json()
    assert body["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"


def test_provisioned_environments_are_prewarmed(tmp_path: Path) -> None:
    argv = [*LOCAL, "--provisioned", "2", *RUNTIME]
    with emulator(argv, tmp_path, cwd=HANDLERS) as running:
        assert len(running.descendants()) >= 2
        body = post(running, {"action": "context"}).json()
    assert body["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "provisioned-concurrency"


def test_managed_instances_mode_serves_concurrent_invokes_in_one_environment(
    tmp_path: Path,
) -> None:
    env = {"AWS_LAMBDA_MAX_CONCURRENCY": "2"}
    results: list[httpx.Response] = []
    with emulator([*LOCAL, *RUNTIME], tmp_path, cwd=HANDLERS, env=env) as running:
        threads = [
            threading.Thread(
                target=lambda: results.append(post(running, {"action": "sleep", "seconds": 0.5}))
            )
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        context = post(running, {"action": "context"}).json()
        printed = running.stdout()
    assert [r.status_code for r in results] == [200, 200]
    assert len({r.json()["api"] for r in results}) == 1  # one environment, two concurrent polls
    assert context["env"]["AWS_LAMBDA_INITIALIZATION_TYPE"] == "lambda-managed-instances"
    # RIE-LMI's default log format is JSON: platform events are JSON objects.
    events = [json.loads(line) for line in printed.splitlines() if line.startswith('{"time"')]
    assert {"platform.start", "platform.report"} <= {event["type"] for event in events}


def test_json_platform_logs(tmp_path: Path) -> None:
    env = {"AWS_LAMBDA_LOG_FORMAT": "JSON"}
    with emulator([*LOCAL, *RUNTIME], tmp_path, cwd=HANDLERS, env=env) as running:
        request_id = post(running, {"action": "echo"}).headers["x-amzn-RequestId"]
        printed = running.stdout()
    events = [json.loads(line) for line in printed.splitlines() if line.startswith('{"time"')]
    mine = [event for event in events if event["record"].get("requestId") == request_id]
    assert [event["type"] for event in mine] == ["platform.start", "platform.report"]
    metrics = mine[1]["record"]["metrics"]
    assert metrics["memorySizeMB"] == 3008
    assert metrics["maxMemoryUsedMB"] > 0
    assert "END RequestId" not in printed


def test_memory_limit_is_enforced_and_reported(tmp_path: Path) -> None:
    argv = [*LOCAL, "--memory", "128", "--timeout", "20", *RUNTIME]
    with emulator(argv, tmp_path, cwd=HANDLERS) as running:
        response = post(running, {"action": "alloc", "mb": 400, "hold": 5})
        request_id = response.headers["x-amzn-RequestId"]
        after = post(running, {"action": "echo"})
        printed = running.stdout()
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert response.json()["errorType"] == "Runtime.ExitError"
    report = next(
        line for line in printed.splitlines() if line.startswith(f"REPORT RequestId: {request_id}")
    )
    assert "\tMemory Size: 128 MB\t" in report
    assert report.endswith("\tStatus: error\tError Type: Runtime.OutOfMemory\t")
    assert after.status_code == 200 and "X-Amz-Function-Error" not in after.headers


def test_layers_are_laid_out_and_importable(tmp_path: Path) -> None:
    layer_dir = Path(__file__).resolve().parent / "layers" / "shared"
    zipped = tmp_path / "shared.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(layer_dir / "python" / "shared_greeting.py", "python/shared_greeting.py")
    argv = [*LOCAL, "--layer", str(zipped), *RUNTIME]
    with emulator(argv, tmp_path, cwd=HANDLERS) as running:
        body = post(running, {"action": "layer"}).json()
        opt = Path(body["file"]).parents[1]
        assert opt.name == "opt" and opt.is_dir()
    assert body["greeting"] == "hello from the layer"
    assert not opt.exists()  # the laid-out /opt is removed when the emulator stops
