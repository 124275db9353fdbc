"""The Invoke API end to end: emulator process -> real runtime (ours, awslambdaric) -> handler."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import FUNCTION_NAME, HANDLERS, LOCAL, TIMEOUT_S, invoke_url
from tests.rie_server.emulator_process import Running, emulator

ARN = f"arn:aws:lambda:us-east-1:012345678912:function:{FUNCTION_NAME}"


def post(
    running: Running,
    event: object,
    headers: dict[str, str] | None = None,
    name: str = FUNCTION_NAME,
) -> httpx.Response:
    body = json.dumps(event).encode()
    return httpx.post(invoke_url(running, name), content=body, headers=headers, timeout=30)


def wait_for(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_request_response(served: Running) -> None:
    response = post(served, {"action": "echo", "n": [1, 2]})
    assert response.status_code == 200
    assert response.json() == {"action": "echo", "n": [1, 2]}
    assert response.headers["X-Amz-Executed-Version"] == "$LATEST"
    assert response.headers["x-amzn-RequestId"]
    assert "X-Amz-Function-Error" not in response.headers


@pytest.mark.parametrize(
    "name",
    ["function", FUNCTION_NAME, ARN, f"{ARN}:$LATEST", f"012345678912:function:{FUNCTION_NAME}"],
)
def test_function_names(served: Running, name: str) -> None:
    assert post(served, {"action": "echo"}, name=name).status_code == 200


def test_unknown_function_is_404(served: Running) -> None:
    response = post(served, {}, name="nope")
    assert response.status_code == 404
    assert response.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert response.json() == {
        "Type": "User",
        "Message": "Function not found: arn:aws:lambda:us-east-1:012345678912:function:nope",
    }


def test_function_error_is_unhandled_with_the_runtimes_body(served: Running) -> None:
    response = post(served, {"action": "error"})
    assert response.status_code == 200
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    body = response.json()
    assert (body["errorType"], body["errorMessage"]) == ("ValueError", "boom")


def test_timeout_is_sandbox_timedout_within_half_a_second(served: Running) -> None:
    started = time.monotonic()
    response = post(served, {"action": "sleep", "seconds": TIMEOUT_S + 3})
    elapsed = time.monotonic() - started
    request_id = response.headers["x-amzn-RequestId"]
    assert response.status_code == 200
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert response.content == (
        b'{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: '
        + request_id.encode()
        + f' Error: Task timed out after {TIMEOUT_S:.2f} seconds"}}'.encode()
    )
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + 1.0
    assert post(served, {"action": "echo"}).status_code == 200
    wait_for(lambda: f"REPORT RequestId: {request_id}" in served.stdout())
    report = next(
        line
        for line in served.stdout().splitlines()
        if line.startswith(f"REPORT RequestId: {request_id}")
    )
    assert report.endswith("\tStatus: timeout\t")


def test_crash_is_runtime_exit_error(served: Running) -> None:
    response = post(served, {"action": "crash", "code": 3})
    request_id = response.headers["x-amzn-RequestId"]
    assert response.status_code == 200
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert response.json() == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status 3",
    }
    assert post(served, {"action": "echo"}).status_code == 200


def test_response_too_large(served: Running) -> None:
    response = post(served, {"action": "big", "size": 7 * 1024 * 1024})
    assert response.status_code == 200
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert response.json()["errorType"] == "Function.ResponseSizeTooLarge"
    assert post(served, {"action": "echo"}).status_code == 200


def test_tail_is_the_last_4_kb_of_this_invocations_log(served: Running) -> None:
    response = post(served, {"action": "print", "lines": 3}, headers={"X-Amz-Log-Type": "Tail"})
    request_id = response.headers["x-amzn-RequestId"]
    log = base64.b64decode(response.headers["X-Amz-Log-Result"]).decode()
    lines = log.splitlines()
    assert lines[0] == f"START RequestId: {request_id} Version: $LATEST"
    assert [line for line in lines if line.endswith(("line 0", "line 1", "line 2"))]
    assert lines[-2] == f"END RequestId: {request_id}"
    assert lines[-1].startswith(f"REPORT RequestId: {request_id}\tDuration: ")
    long = post(served, {"action": "print", "lines": 2000}, headers={"X-Amz-Log-Type": "Tail"})
    tail = base64.b64decode(long.headers["X-Amz-Log-Result"])
    assert len(tail) == 4096
    assert tail.decode().rstrip("\n").splitlines()[-1].startswith("REPORT RequestId: ")


def test_a_traceback_without_newline_stays_inside_its_invocation(served: Running) -> None:
    """``logging.exception`` through the runtime client's log sink ends without a newline (every
    Flask / FastAPI error page): the line belongs to its own invocation, before its END, in the
    Tail and on stdout, not glued onto the next invocation's first line."""
    tag = f"tag-{time.monotonic_ns()}"
    tail = {"X-Amz-Log-Type": "Tail"}
    first = post(served, {"action": "log_exception", "tag": tag}, tail)
    second = post(served, {"action": "print", "lines": 1}, tail)
    first_id, second_id = (r.headers["x-amzn-RequestId"] for r in (first, second))
    logs = [base64.b64decode(r.headers["X-Amz-Log-Result"]).decode() for r in (first, second)]
    first_log, second_log = (log.splitlines() for log in logs)
    assert first_log[-3:-1] == [f"ValueError: {tag}", f"END RequestId: {first_id}"]
    assert tag not in logs[1] and "line 0" in second_log
    end = f"END RequestId: {second_id}"
    wait_for(lambda: end in served.stdout())
    printed = served.stdout().splitlines()
    assert printed[printed.index(f"ValueError: {tag}") + 1] == f"END RequestId: {first_id}"
    assert printed[printed.index(f"START RequestId: {second_id} Version: $LATEST") + 1] == "line 0"


def test_event_is_202_and_runs_in_the_background(served: Running) -> None:
    marker = f"event-marker-{time.monotonic_ns()}"
    response = post(
        served, {"action": "echo", "marker": marker}, {"X-Amz-Invocation-Type": "Event"}
    )
    assert response.status_code == 202
    assert response.content == b""
    request_id = response.headers["x-amzn-RequestId"]
    wait_for(lambda: f"END RequestId: {request_id}" in served.stdout())


def test_event_over_1_mb_is_413(served: Running) -> None:
    response = post(served, "x" * (1024 * 1024), {"X-Amz-Invocation-Type": "Event"})
    assert response.status_code == 413
    assert response.headers["x-amzn-ErrorType"] == "RequestTooLargeException"


def test_dry_run_is_204(served: Running) -> None:
    response = post(served, {"action": "crash"}, {"X-Amz-Invocation-Type": "DryRun"})
    assert response.status_code == 204
    assert response.content == b""


def test_request_errors(served: Running) -> None:
    url = invoke_url(served)
    not_json = httpx.post(url, content=b"{not json", timeout=30)
    assert not_json.status_code == 400
    assert not_json.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    too_big = httpx.post(url, content=b'"' + b"a" * 6291456 + b'"', timeout=30)
    assert too_big.status_code == 413
    assert too_big.headers["x-amzn-ErrorType"] == "RequestTooLargeException"
    bad_context = httpx.post(url, content=b"{}", headers={"X-Amz-Client-Context": "@@"}, timeout=30)
    assert bad_context.status_code == 400
    assert bad_context.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"


def test_context_headers_and_environment_reach_the_handler(served: Running) -> None:
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    response = post(
        served,
        {"action": "context"},
        {"X-Amzn-Trace-Id": trace, "X-Amz-Client-Context": context, "X-Amz-Tenant-Id": "t-1"},
    )
    body = response.json()
    assert body["request_id"] == response.headers["x-amzn-RequestId"]
    assert body["arn"] == ARN
    assert 0 < body["remaining_ms"] <= TIMEOUT_S * 1000
    assert (body["memory"], body["name"]) == ("256", FUNCTION_NAME)
    assert body["client_context"] == {"k": "v"}
    assert body["trace"] == trace
    env = body["env"]
    assert env["_HANDLER"] == "app.handler"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == FUNCTION_NAME
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_LAMBDA_RUNTIME_API"].startswith("127.0.0.1:")
    assert env["TZ"] == ":UTC"
    assert env["LAMBDA_TASK_ROOT"] == str(HANDLERS)  # where the handler is resolved from


def test_generated_trace_id_when_caller_sends_none(served: Running) -> None:
    trace = post(served, {"action": "context"}).json()["trace"]
    assert trace.startswith("Root=1-") and trace.endswith(";Sampled=0")


def test_concurrent_invokes_use_separate_environments_then_throttle(served: Running) -> None:
    results: list[httpx.Response] = []

    def call() -> None:
        results.append(post(served, {"action": "sleep", "seconds": 1.0}))

    started = served.stdout().count("START RequestId:")
    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    # START is printed once an environment is reserved: both sleeps are then in flight.
    wait_for(lambda: served.stdout().count("START RequestId:") >= started + 2)
    assert not results
    third = post(served, {"action": "echo"})
    for thread in threads:
        thread.join()
    assert third.status_code == 429
    assert third.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert third.json()["Reason"] == "ConcurrentInvocationLimitExceeded"
    assert [r.status_code for r in results] == [200, 200]
    pids = {r.json()["pid"] for r in results}
    assert len(pids) == 2
    assert len({r.json()["api"] for r in results}) == 2  # each its own Runtime API endpoint
    groups = {os.getpgid(pid) for pid in pids}  # each its own process group (still warm)
    assert len(groups) == 2 and os.getpgid(served.process.pid) not in groups


def test_environment_is_reinitialised_after_a_timeout_or_a_crash(
    runtime: list[str], tmp_path: Path
) -> None:
    argv = [*LOCAL, "--max-concurrency", "1", "--timeout", "1", *runtime, "app.handler"]
    tail = {"X-Amz-Log-Type": "Tail"}
    with emulator(argv, tmp_path, cwd=HANDLERS) as running:
        first = post(running, {"action": "sleep", "seconds": 0}, tail, name="function")
        warm = post(running, {"action": "sleep", "seconds": 0}, tail, name="function")
        timed_out = post(running, {"action": "sleep", "seconds": 3}, name="function")
        after_timeout = post(running, {"action": "sleep", "seconds": 0}, tail, name="function")
        crashed = post(running, {"action": "crash"}, name="function")
        after_crash = post(running, {"action": "sleep", "seconds": 0}, tail, name="function")

    def log(response: httpx.Response) -> str:
        return base64.b64decode(response.headers["X-Amz-Log-Result"]).decode()

    assert "\tInit Duration: " in log(first)
    assert "\tInit Duration: " not in log(warm)
    assert timed_out.json()["errorType"] == "Sandbox.Timedout"
    assert "\tInit Duration: " in log(after_timeout)
    assert after_timeout.json()["pid"] != warm.json()["pid"]
    assert crashed.json()["errorType"] == "Runtime.ExitError"
    assert "\tInit Duration: " in log(after_crash)
    assert after_crash.json()["pid"] != after_timeout.json()["pid"]


def test_init_error_is_returned_with_unhandled(runtime: list[str], tmp_path: Path) -> None:
    argv = [*LOCAL, "--timeout", "3", *runtime, "nosuchmodule.handler"]
    with emulator(argv, tmp_path, cwd=HANDLERS) as running:
        response = httpx.post(invoke_url(running, "function"), content=b"{}", timeout=30)
        printed = running.stdout()
    assert response.status_code == 200
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"
    assert response.json()["errorType"] == "Runtime.ImportModuleError"
    assert "INIT_REPORT Init Duration: " in printed
    assert "\tPhase: init\tStatus: error\tError Type: Runtime.ImportModuleError" in printed


def test_a_failed_eager_init_reports_how_long_it_took(runtime: list[str], tmp_path: Path) -> None:
    """The handler module sleeps 0.3 s at import, then raises: INIT_REPORT says >= 300 ms."""
    argv = [*LOCAL, *runtime, "slow_import_error.handler"]
    with emulator(argv, tmp_path, cwd=HANDLERS) as running:
        wait_for(lambda: "INIT_REPORT " in running.stdout())
        printed = running.stdout()
    report = next(line for line in printed.splitlines() if line.startswith("INIT_REPORT "))
    fields = dict(field.split(": ", 1) for field in report.split("\t"))
    assert (fields["Phase"], fields["Status"]) == ("init", "error")
    assert float(fields["INIT_REPORT Init Duration"].removesuffix(" ms")) >= 300.0


def test_compat_rie_shapes(runtime: list[str], tmp_path: Path) -> None:
    argv = [*LOCAL, "--compat", "rie", "--timeout", "1", *runtime, "app.handler"]
    with emulator(argv, tmp_path, cwd=HANDLERS) as running:
        url = invoke_url(running, "function")
        error = httpx.post(url, content=b'{"action": "error"}', timeout=30)
        timeout = httpx.post(url, content=b'{"action": "sleep", "seconds": 3}', timeout=30)
        crash = httpx.post(url, content=b'{"action": "crash"}', timeout=30)
        named = httpx.post(invoke_url(running, "test_function"), content=b"{}", timeout=30)
    assert error.status_code == 200 and "X-Amz-Function-Error" not in error.headers
    assert error.json()["errorType"] == "ValueError"
    assert (timeout.status_code, timeout.content) == (200, b"Task timed out after 1.00 seconds")
    assert crash.status_code == 502
    assert crash.json()["errorType"] == "Runtime.ExitError"
    assert (named.status_code, named.content) == (404, b"404 page not found\n")
