"""``python -m lambdarig.runtime_client`` as a whole process against the fake Runtime API.

End to end through the real socket transport, the real environment and real pipes: what reaches
the handler from ``/next``, what the process does to ``os.environ``, its output streams and the
telemetry fd, signals, and how a Runtime API failure ends it.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

from lambdarig import runtime_api as wire
from tests.runtime_client.conftest import Spawn, runtime_env
from tests.runtime_client.fake_runtime_api import FakeRuntimeAPI, Reply

TIMEOUT = 20
DEADLINE = 4102444800000
ARN = "arn:aws:lambda:us-east-1:123456789012:function:f:live"

CONTEXT_APP = """
import os

def handler(event, context):
    if event == b"fail":
        raise ValueError("boom")
    identity = context.identity
    client = context.client_context
    return {
        "event_type": type(event).__name__,
        "event": event.decode() if isinstance(event, bytes) else event,
        "request_id": context.aws_request_id,
        "arn": context.invoked_function_arn,
        "deadline": context._epoch_deadline_time_in_ms,
        "remaining_positive": context.get_remaining_time_in_millis() > 0,
        "tenant_id": context.tenant_id,
        "identity": [identity.cognito_identity_id, identity.cognito_identity_pool_id],
        "client": None if client is None else [client.custom, client.env, client.client.app_title],
        "memory": context.memory_limit_in_mb,
        "trace_env": os.environ.get("_X_AMZN_TRACE_ID"),
    }
"""
FULL = wire.Invocation(
    "req-full",
    DEADLINE,
    ARN,
    b'{"a": 1}',
    content_type=None,
    trace_id="Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1",
    client_context=json.dumps(
        {"custom": {"k": "v"}, "env": {"e": 1}, "client": {"app_title": "app"}}
    ),
    cognito_identity=json.dumps({"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"}),
    tenant_id="tenant-1",
    invocation_id="nonce-1",
)
MINIMAL = wire.Invocation("req-min", DEADLINE, ARN, b'{"a": 2}')
FAILING = wire.Invocation(
    "req-fail", DEADLINE, ARN, b"fail", content_type="text/plain", invocation_id="nonce-3"
)


def start(
    spawn: Spawn,
    fake: FakeRuntimeAPI,
    directory: Path,
    source: str,
    *invocations: wire.Invocation,
    module: str = "app",
    env: dict[str, str] | None = None,
    **popen: Any,
) -> subprocess.Popen[bytes]:
    """Write ``source`` as ``<module>.py``, queue ``invocations`` and start the runtime on it."""
    (directory / f"{module}.py").write_text(textwrap.dedent(source))
    for inv in invocations:
        fake.queue_invocation(inv)
    return spawn(f"{module}.handler", env=runtime_env(fake.address, env), **popen)


def read_until(stream: int, expected: bytes, timeout: float = TIMEOUT) -> bytes:
    """Read ``stream`` (a pipe fd) until ``expected`` appears, without waiting for EOF."""
    data, deadline = b"", time.monotonic() + timeout
    while expected not in data:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"expected {expected!r} on the pipe, got {data!r}"
        ready, _, _ = select.select([stream], [], [], remaining)
        if ready:
            chunk = os.read(stream, 65536)
            assert chunk, f"pipe closed before {expected!r} arrived; got {data!r}"
            data += chunk
    return data


def read_frames(data: bytes) -> list[tuple[str, str]]:
    """(frame type as hex, message) of each telemetry frame in ``data``."""
    frames = []
    while data:
        length = int.from_bytes(data[4:8], "big")
        frames.append((data[:4].hex(), data[16 : 16 + length].decode()))
        data = data[16 + length :]
    return frames


def stop(proc: subprocess.Popen[bytes]) -> tuple[int, bytes, bytes]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out, err


def test_every_next_header_reaches_the_handler(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    (tmp_path / "app.py").write_text(textwrap.dedent(CONTEXT_APP))
    for inv in (FULL, MINIMAL, FAILING):
        fake_api.queue_invocation(inv)
    env = runtime_env(
        fake_api.address,
        {"_HANDLER": "app.handler", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256"},
    )
    proc = spawn(env=env)  # no argv: the handler comes from _HANDLER
    fake_api.wait_for(lambda f: len(f.posts()) == 3 and f.waiting_next == 1, "3 posts")
    status, _, err = stop(proc)
    assert status == 128 + signal.SIGTERM, err

    full, minimal, failed = fake_api.posts()
    assert json.loads(full.body) == {
        "event_type": "bytes",  # no Content-Type on /next: not exactly application/json
        "event": '{"a": 1}',
        "request_id": "req-full",
        "arn": ARN,
        "deadline": DEADLINE,
        "remaining_positive": True,
        "tenant_id": "tenant-1",
        "identity": ["id-1", "pool-1"],
        "client": [{"k": "v"}, {"e": 1}, "app"],
        "memory": "256",
        "trace_env": FULL.trace_id,
    }
    assert full.headers["lambda-runtime-invocation-id"] == "nonce-1"
    assert json.loads(minimal.body) == {
        **json.loads(full.body),
        "event_type": "dict",
        "event": {"a": 2},
        "request_id": "req-min",
        "tenant_id": None,
        "identity": [None, None],
        "client": None,
        "trace_env": None,  # removed from os.environ: this invoke carried no trace id
    }
    assert "lambda-runtime-invocation-id" not in minimal.headers
    assert failed.path == wire.error_path("req-fail")
    assert failed.headers["lambda-runtime-invocation-id"] == "nonce-3"
    assert "lambda-runtime-function-xray-error-cause" in failed.headers
    assert json.loads(failed.body)["errorType"] == "ValueError"


OUTPUT_APP = """
import logging, sys

def handler(event, context):
    if event == b"fail":
        raise ValueError("boom")
    print("printed", end="")
    sys.stderr.write("to stderr")
    logging.getLogger("app").warning("logged")
    context.log("raw context line")
    return "ok"
"""


def test_stdout_and_stderr_are_unbuffered(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    proc = start(spawn, fake_api, tmp_path, OUTPUT_APP, MINIMAL)
    assert proc.stdout is not None and proc.stderr is not None
    try:
        # Both arrive while the process is alive and waiting on /next: nothing sits in a buffer.
        out = read_until(proc.stdout.fileno(), b"raw context line")
        err = read_until(proc.stderr.fileno(), b"to stderr")
        assert out.startswith(b"printed[WARNING]\t") and b"\treq-min\tlogged\n" in out
        assert err == b"to stderr"
    finally:
        stop(proc)


def test_logs_go_to_the_telemetry_fd_as_frames(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    read_fd, write_fd = os.pipe()
    env = {"_LAMBDA_TELEMETRY_LOG_FD": str(write_fd)}
    try:
        proc = start(
            spawn, fake_api, tmp_path, OUTPUT_APP, MINIMAL, FAILING, env=env, pass_fds=(write_fd,)
        )
        os.close(write_fd)
        fake_api.wait_for(lambda f: len(f.posts()) == 2 and f.waiting_next == 1, "2 posts")
        _, out, _ = stop(proc)
        with open(read_fd, "rb", closefd=False) as pipe:
            frames = read_frames(pipe.read())
    finally:
        os.close(read_fd)
    assert out == b"printed"  # print() is not framed: it stays on stdout
    (warning_type, warning), (raw_type, raw), (error_type, error) = frames
    assert warning_type == raw_type == "a55a0003"  # no level configured: the default frame type
    assert warning.startswith("[WARNING]\t") and warning.endswith("\treq-min\tlogged\n")
    assert raw == "raw context line"
    assert error_type == "a55a0017"  # text ERROR
    lines = error.split("\n")  # one frame, lines joined with \n (not \r as on stdout)
    assert lines[:2] == ["[ERROR] ValueError: boom", "Traceback (most recent call last):"]
    assert lines[2].startswith("\u00a0\u00a0File ") and lines[2].endswith(", in handler")


FINALLY_APP = """
import atexit, os, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
atexit.register(lambda: open(os.path.join(HERE, "atexit-ran"), "w").close())

def handler(event, context):
    try:
        print("handler started")
        while True:
            time.sleep(0.05)
    finally:
        open(os.path.join(HERE, "finally-ran"), "w").close()
"""


def test_sigterm_during_the_handler_runs_finally_and_atexit(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    proc = start(spawn, fake_api, tmp_path, FINALLY_APP, MINIMAL)
    assert proc.stdout is not None
    read_until(proc.stdout.fileno(), b"handler started")
    status, _, err = stop(proc)
    assert status == 128 + signal.SIGTERM, err
    assert (tmp_path / "finally-ran").exists() and (tmp_path / "atexit-ran").exists()
    assert fake_api.posts() == []  # the invocation was abandoned, not reported


def test_a_runtime_api_failure_ends_the_process_with_status_1(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    fake_api.queue_next(Reply(500, b'{"errorType":"InternalServerError"}'))
    proc = start(spawn, fake_api, tmp_path, "def handler(event, context):\n    return 1\n")
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 1, err
    assert out.startswith(
        b"LAMBDA_RUNTIME Runtime API failure, exiting: Request to Lambda Runtime "
        b"'/2018-06-01/runtime/invocation/next' endpoint failed. Reason: '500'."
    )


def test_stack_traces_are_trimmed_by_module_not_by_file_name(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    # awslambdaric drops leading frames whose file name contains "/bootstrap.py", so a user module
    # called bootstrap.py loses its frames there; we drop only our own modules' frames.
    source = "def handler(event, context):\n    raise KeyError('k')\n"
    proc = start(spawn, fake_api, tmp_path, source, MINIMAL, module="bootstrap")
    (post,) = fake_api.wait_for_posts(1)
    stop(proc)
    (frame,) = json.loads(post.body)["stackTrace"]
    assert frame == (
        f"  File \"{tmp_path / 'bootstrap.py'}\", line 2, in handler\n    raise KeyError('k')\n"
    )
