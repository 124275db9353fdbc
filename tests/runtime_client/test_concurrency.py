"""Multi-concurrency: N forked workers (subprocess tests) and the worker client's policy."""

from __future__ import annotations

import json
import logging
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdarig import runtime_api as wire
from lambdarig.runtime_client.concurrency import MultiConcurrentClient
from lambdarig.runtime_client.errors import RuntimeAPIError
from lambdarig.runtime_client.transport import SocketTransport
from tests.runtime_client.conftest import Spawn, runtime_env
from tests.runtime_client.fake_runtime_api import FakeRuntimeAPI, Reply

TIMEOUT = 20
APP = """
import os, sys, time

def handler(event, context):
    print("hello from worker", os.getpid())
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "ppid": os.getppid()}
"""


def invocation(request_id: str, body: bytes = b"{}") -> wire.Invocation:
    return wire.Invocation(request_id, 4102444800000, "arn:aws:lambda:::function:f", body)


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="surrogateescape") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def wait_until_dead(pids: set[int]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while any(alive(pid) for pid in pids):
        assert time.monotonic() < deadline, f"workers still alive: {pids}"
        time.sleep(0.02)


def start_workers(
    spawn: Spawn, fake: FakeRuntimeAPI, tmp_path: Path, count: int, **env: str
) -> tuple[subprocess.Popen[bytes], set[int]]:
    """Start the runtime with ``count`` workers, serve one invocation per worker, return pids."""
    (tmp_path / "app.py").write_text(APP)
    proc = spawn(
        "app.handler",
        env=runtime_env(fake.address, {"AWS_LAMBDA_MAX_CONCURRENCY": str(count), **env}),
    )
    fake.wait_for(
        lambda f: f.waiting_next == count or proc.poll() is not None,
        f"{count} concurrent /next polls",
    )
    assert proc.poll() is None, proc.communicate()
    for i in range(count):
        fake.queue_invocation(invocation(f"r{i}", b'{"sleep": 0.2}'))
    posts = fake.wait_for_posts(count)
    return proc, {json.loads(p.body)["pid"] for p in posts}


def test_three_workers_poll_concurrently_and_sigterm_stops_them_all(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    proc, pids = start_workers(spawn, fake_api, tmp_path, 3)
    assert len(pids) == 3
    assert all(json.loads(p.body)["ppid"] == proc.pid for p in fake_api.posts())
    fake_api.wait_for(lambda f: f.waiting_next == 3, "the workers to poll again")
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 128 + signal.SIGTERM
    wait_until_dead(pids)


def test_workers_die_with_a_killed_parent(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    proc, pids = start_workers(spawn, fake_api, tmp_path, 2)
    proc.kill()
    proc.communicate(timeout=TIMEOUT)
    wait_until_dead(pids)


def test_init_error_403s_are_swallowed_and_the_parent_exits_1(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    forbidden = Reply(403, b'{"errorType":"InvalidStateTransition"}')
    fake_api.script("POST", wire.PATH_INIT_ERROR, Reply(202, wire.STATUS_OK_BODY), forbidden)
    fake_api.script("POST", wire.PATH_INIT_ERROR, forbidden)
    env = runtime_env(fake_api.address, {"AWS_LAMBDA_MAX_CONCURRENCY": "3"})
    proc = spawn("missing.handler", env=env)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 1, err
    assert len(fake_api.posts(wire.PATH_INIT_ERROR)) == 3
    assert b"LAMBDA_RUNTIME Runtime API failure" not in out


def test_worker_output_goes_to_the_fd_provider_socket(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    path = str(tmp_path / "fd.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)
    received: list[bytes] = []
    conns: list[socket.socket] = []

    def read(conn: socket.socket) -> None:
        for chunk in iter(lambda: conn.recv(4096), b""):
            received.append(chunk)

    def accept_and_read() -> None:
        for _ in range(2):
            conn, _ = listener.accept()
            conns.append(conn)
            threading.Thread(target=read, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept_and_read, daemon=True)
    acceptor.start()
    try:
        proc, pids = start_workers(
            spawn, fake_api, tmp_path, 1, _LAMBDA_TELEMETRY_LOG_FD_PROVIDER_SOCKET=path
        )
        acceptor.join(TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        while b"hello from worker" not in b"".join(received):
            assert time.monotonic() < deadline, received
            time.sleep(0.02)
        proc.terminate()
        out, _ = proc.communicate(timeout=TIMEOUT)
    finally:
        for conn in conns:
            conn.close()
        listener.close()
    assert b"hello from worker" not in out
    assert len(conns) == 2


# --- MultiConcurrentClient in process ---------------------------------------------------------


@pytest.fixture
def mc_client(fake_api: FakeRuntimeAPI) -> Iterator[tuple[MultiConcurrentClient, list[float]]]:
    sleeps: list[float] = []
    client = MultiConcurrentClient(SocketTransport(fake_api.address), sleep=sleeps.append)
    yield client, sleeps
    client.transport.close()


def test_next_is_retried_with_doubling_delays(
    fake_api: FakeRuntimeAPI,
    mc_client: tuple[MultiConcurrentClient, list[float]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, sleeps = mc_client
    fake_api.queue_next(Reply(500, b"a"))
    fake_api.queue_next(Reply(500, b"b"))
    fake_api.queue_invocation(invocation("ok"))
    with caplog.at_level(logging.INFO):
        assert client.next_invocation().request_id == "ok"
    assert sleeps == [0.1, 0.2]
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0].startswith("Initial runtime_client.next() failed: Request to Lambda Runtime")
    assert messages[1] == "Retrying runtime_client.next() [attempt 2]..."
    assert messages[2].startswith("Attempt 2 failed: ")
    assert messages[3] == "Retrying runtime_client.next() [attempt 3]..."


def test_next_gives_up_after_five_attempts(
    fake_api: FakeRuntimeAPI, mc_client: tuple[MultiConcurrentClient, list[float]]
) -> None:
    client, sleeps = mc_client
    for i in range(5):
        fake_api.queue_next(Reply(500, b"attempt %d" % (i + 1)))
    with pytest.raises(RuntimeAPIError) as info:
        client.next_invocation()
    assert info.value.body == b"attempt 5"
    assert sleeps == [0.1, 0.2, 0.4, 0.8]
    assert len(fake_api.requests) == 5


def test_post_failures_are_logged_not_raised(
    fake_api: FakeRuntimeAPI,
    mc_client: tuple[MultiConcurrentClient, list[float]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, _ = mc_client
    inv = invocation("r1")
    fake_api.script("POST", wire.response_path("r1"), Reply(410, b"gone"))
    fake_api.script("POST", wire.error_path("r1"), Reply(500, b"oops"))
    client.post_response(inv, b"1", "application/json")
    client.post_error(inv, b"{}", None)
    assert [r.getMessage() for r in caplog.records] == [
        "Request to Lambda Runtime '/2018-06-01/runtime/invocation/r1/response' endpoint failed. "
        "Reason: '410'. Response body: 'gone': This won't kill the Runtime loop",
        "Request to Lambda Runtime '/2018-06-01/runtime/invocation/r1/error' endpoint failed. "
        "Reason: '500'. Response body: 'oops': This won't kill the Runtime loop",
    ]


def test_only_a_403_on_init_error_is_swallowed(
    fake_api: FakeRuntimeAPI, mc_client: tuple[MultiConcurrentClient, list[float]]
) -> None:
    client, _ = mc_client
    fake_api.script("POST", wire.PATH_INIT_ERROR, Reply(403, b"x"), Reply(500, b"y"))
    client.post_init_error(b"{}", "Runtime.ImportModuleError")
    with pytest.raises(RuntimeAPIError):
        client.post_init_error(b"{}", "Runtime.ImportModuleError")


def first_line_masked(cmd: list[str], env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, timeout=TIMEOUT)
    line = proc.stdout.decode().splitlines()[0]
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z", "<ts>", line)


@pytest.mark.peers
@pytest.mark.parametrize("log_format", ["Text", "JSON"])
def test_worker_pool_event_matches_awslambdaric(
    awslambdaric_python: Path, tmp_path: Path, log_format: str
) -> None:
    (tmp_path / "app.py").write_text(APP)
    with socket.create_server(("127.0.0.1", 0)) as probe:  # a port nobody listens on
        dead = f"127.0.0.1:{probe.getsockname()[1]}"
    env = runtime_env(
        dead,
        {
            "AWS_LAMBDA_MAX_CONCURRENCY": "2",
            "AWS_LAMBDA_LOG_LEVEL": "DEBUG",
            "AWS_LAMBDA_LOG_FORMAT": log_format,
        },
    )
    ours = first_line_masked(
        [sys.executable, "-m", "lambdarig.runtime_client", "app.handler"], env, tmp_path
    )
    theirs = first_line_masked(
        [str(awslambdaric_python), "-m", "awslambdaric", "app.handler"], env, tmp_path
    )
    assert "runtime_worker_pool_initializing" in ours
    assert ours == theirs
