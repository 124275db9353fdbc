"""A caller's request id, Event retries and ``--log-level``, end to end with real runtimes."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx

from tests.integration.conftest import FUNCTION_NAME, HANDLERS, LOCAL, invoke_url
from tests.rie_server.emulator_process import OUR_RUNTIME, Running, emulator

NEVER = re.compile(r"(?!)")
CALLER_ID = "3d6f1b2a-9c4e-4f7a-8b1d-0e2c5a7f9b13"


def test_a_callers_request_id_reaches_the_handler(served: Running) -> None:
    response = httpx.post(
        invoke_url(served),
        json={"action": "context"},
        headers={"X-Amzn-RequestId": CALLER_ID},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.headers["x-amzn-RequestId"] == CALLER_ID
    assert response.json()["request_id"] == CALLER_ID


def test_a_request_id_that_is_not_a_uuid_is_400(served: Running) -> None:
    response = httpx.post(
        invoke_url(served), json={}, headers={"X-Amzn-RequestId": "not-a-uuid"}, timeout=30
    )
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    assert response.json() == {
        "Type": "User",
        "Message": "The x-amzn-RequestId header is not a valid UUID string: not-a-uuid",
    }


def serve_app(tmp_path: Path, *flags: str) -> tuple[list[str], Path, dict[str, str]]:
    argv = [*LOCAL, "--timeout", "3", *flags, *OUR_RUNTIME, "app.handler"]
    return argv, tmp_path, {"AWS_LAMBDA_FUNCTION_NAME": FUNCTION_NAME}


def test_a_failed_event_is_retried_twice_then_dropped(tmp_path: Path) -> None:
    argv, path, env = serve_app(tmp_path, "--async-retry-delays", "0.2,0.3")
    with emulator(argv, path, env=env, cwd=HANDLERS) as running:
        started = time.monotonic()
        response = httpx.post(
            invoke_url(running),
            content=json.dumps({"action": "error"}).encode(),
            headers={"X-Amz-Invocation-Type": "Event"},
            timeout=30,
        )
        assert response.status_code == 202
        request_id = response.headers["x-amzn-RequestId"]
        prefix = f"^lambdarig-rie: INFO: Event invocation {request_id} failed"
        running.wait_stderr(prefix + r" \(attempt 1, .*\); retrying in 0.2 s$")
        running.wait_stderr(prefix + r" \(attempt 2, .*\); retrying in 0.3 s$")
        running.wait_stderr(
            f"^lambdarig-rie: WARNING: Event invocation {request_id} failed after 3 attempt"
        )
        assert time.monotonic() - started >= 0.5
        printed = running.stdout()
    assert printed.count(f"START RequestId: {request_id} ") == 3
    assert printed.count(f"REPORT RequestId: {request_id}\t") == 3


def test_log_level_debug_prints_the_configuration(tmp_path: Path) -> None:
    argv, path, env = serve_app(tmp_path, "--log-level", "debug", "--lazy-init")
    with emulator(argv, path, env=env, cwd=HANDLERS) as running:
        lines = list(running.stderr_lines)
    debug = [line for line in lines if line.startswith("lambdarig-rie: DEBUG: ")]
    arn = f"arn:aws:lambda:us-east-1:012345678912:function:{FUNCTION_NAME}"
    assert f"lambdarig-rie: DEBUG: handler: app.handler; function: {arn}" in debug
    assert any(line.startswith("lambdarig-rie: DEBUG: command: ") for line in debug)
    assert lines[-1].startswith("lambdarig-rie: listening on http://127.0.0.1:")


def test_log_level_info_prints_no_debug_and_error_hides_retries(tmp_path: Path) -> None:
    argv, path, env = serve_app(tmp_path, "--lazy-init")
    with emulator(argv, path, env=env, cwd=HANDLERS) as running:
        assert [line for line in running.stderr_lines if ": DEBUG: " in line] == []
    argv, path, env = serve_app(tmp_path, "--async-retry-delays", "0", "--lazy-init")
    env["LOG_LEVEL"] = "error"
    with emulator(argv, path, env=env, cwd=HANDLERS) as running:
        response = httpx.post(
            invoke_url(running),
            content=json.dumps({"action": "error"}).encode(),
            headers={"X-Amz-Invocation-Type": "Event"},
            timeout=30,
        )
        request_id = response.headers["x-amzn-RequestId"]
        deadline = time.monotonic() + 15
        while running.stdout().count(f"REPORT RequestId: {request_id}\t") < 2:
            assert time.monotonic() < deadline, "expected the Event and its one retry to run"
            time.sleep(0.05)
        running.process.terminate()
        running.process.wait(timeout=15)
        running.stderr.wait_for(NEVER, 5.0)  # read stderr to its end
    assert [line for line in running.stderr_lines if "Event invocation" in line] == []
