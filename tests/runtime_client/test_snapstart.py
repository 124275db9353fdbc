"""SnapStart hooks: order, /restore/next, and both failure exits (64, 65) in real subprocesses.

A stand-in ``snapshot_restore_py`` (``tests/stand_ins``, same API as AWS's package) sits next
to the handler.
"""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
import types
from pathlib import Path
from typing import Any

import pytest

from lambdarig import runtime_api as wire
from lambdarig.runtime_client import snapstart
from lambdarig.runtime_client.config import RuntimeConfig
from lambdarig.runtime_client.errors import RuntimeAPIError
from tests.runtime_client.conftest import Spawn, runtime_env
from tests.runtime_client.fake_runtime_api import FakeRuntimeAPI, Reply
from tests.runtime_client.test_loop import RecordingSink
from tests.stand_ins import SNAPSHOT_RESTORE_PY

APP = """
import os
from snapshot_restore_py import register_before_snapshot, register_after_restore

FAIL = os.environ.get("FAIL_HOOK", "")
LOG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hooks.log")

def record(name):
    with open(LOG, "a") as log:
        log.write(name + "\\n")
    if name == FAIL:
        raise RuntimeError(f"hook {name} failed")

register_before_snapshot(record, "before-1")
register_before_snapshot(record, "before-2")
register_after_restore(record, "after-1")
register_after_restore(record, name="after-2")

def handler(event, context):
    return "ok"
"""

TIMEOUT = 20


def write_function(directory: Path, with_package: bool = True) -> None:
    (directory / "app.py").write_text(textwrap.dedent(APP))
    if with_package:
        shutil.copy(SNAPSHOT_RESTORE_PY, directory)


def snap_env(api: str, fail: str = "") -> dict[str, str]:
    return runtime_env(api, {"AWS_LAMBDA_INITIALIZATION_TYPE": "snap-start", "FAIL_HOOK": fail})


def test_hooks_run_in_order_around_restore_next(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    write_function(tmp_path)
    proc = spawn("app.handler", env=snap_env(fake_api.address))
    fake_api.wait_for(lambda f: f.waiting_next == 1, "the first /next after restore")
    proc.terminate()
    proc.communicate(timeout=TIMEOUT)
    assert [(r.method, r.path) for r in fake_api.requests] == [
        ("GET", wire.PATH_RESTORE_NEXT),
        ("GET", wire.PATH_NEXT),
    ]
    log = (tmp_path / "hooks.log").read_text().split()
    assert log == ["before-2", "before-1", "after-1", "after-2"]


def test_without_snapshot_restore_py_restore_next_is_still_called(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    (tmp_path / "app.py").write_text("def handler(event, context):\n    return 1\n")
    proc = spawn("app.handler", env=snap_env(fake_api.address))
    fake_api.wait_for(lambda f: f.waiting_next == 1, "the first /next after restore")
    proc.terminate()
    proc.communicate(timeout=TIMEOUT)
    assert [r.path for r in fake_api.requests] == [wire.PATH_RESTORE_NEXT, wire.PATH_NEXT]


def test_before_snapshot_failure_posts_init_error_and_exits_64(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    write_function(tmp_path)
    proc = spawn("app.handler", env=snap_env(fake_api.address, fail="before-1"))
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 64, err
    (post,) = fake_api.requests
    assert post.path == wire.PATH_INIT_ERROR
    assert post.headers["lambda-runtime-function-error-type"] == "Runtime.BeforeSnapshotError"
    body = json.loads(post.body)
    assert (body["errorMessage"], body["errorType"], body["requestId"]) == (
        "hook before-1 failed",
        "RuntimeError",
        "",
    )
    assert body["stackTrace"][-1].startswith(f'  File "{tmp_path / "app.py"}", line')
    assert not any("lambdarig" in line for line in body["stackTrace"])
    assert b"[ERROR] RuntimeError: hook before-1 failed\r" in out
    assert b"LAMBDA_WARNING" not in out


def test_after_restore_failure_posts_restore_error_and_exits_65(
    spawn: Spawn, fake_api: FakeRuntimeAPI, tmp_path: Path
) -> None:
    write_function(tmp_path)
    proc = spawn("app.handler", env=snap_env(fake_api.address, fail="after-2"))
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 65, err
    restore_next, post = fake_api.requests
    assert restore_next.path == wire.PATH_RESTORE_NEXT
    assert post.path == wire.PATH_RESTORE_ERROR
    assert post.headers["lambda-runtime-function-error-type"] == "Runtime.AfterRestoreError"
    assert json.loads(post.body)["errorMessage"] == "hook after-2 failed"
    assert (tmp_path / "hooks.log").read_text().split() == [
        "before-2",
        "before-1",
        "after-1",
        "after-2",
    ]


class RecordingClient:
    """Stands in for RuntimeAPIClient in the in-process tests below."""

    def __init__(self, calls: list[str], restore_fails: bool = False) -> None:
        self.calls = calls
        self.restore_fails = restore_fails
        self.posts: list[tuple[str, bytes, str]] = []

    def restore_next(self) -> None:
        self.calls.append("restore/next")
        if self.restore_fails:
            raise RuntimeAPIError(wire.PATH_RESTORE_NEXT, 500, b"down")

    def post_init_error(self, body: bytes, error_type: str) -> None:
        self.posts.append(("init/error", body, error_type))

    def post_restore_error(self, body: bytes, error_type: str) -> None:
        self.posts.append(("restore/error", body, error_type))


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    registry = types.SimpleNamespace(before=[], after=[])
    module = types.ModuleType("snapshot_restore_py")
    module.get_before_snapshot = lambda: registry.before  # type: ignore[attr-defined]
    module.get_after_restore = lambda: registry.after  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return registry


def test_run_hooks_order_and_args_in_process(hooks: types.SimpleNamespace) -> None:
    calls: list[str] = []

    def hook(*args: Any, **kwargs: Any) -> None:
        calls.append(f"{args}{kwargs}")

    hooks.before += [(hook, ("b1",), {}), (hook, ("b2",), {"k": 1})]
    hooks.after += [(hook, ("a1",), {}), (hook, (), {"k": "a2"})]
    client = RecordingClient(calls)
    config = RuntimeConfig("127.0.0.1:9", "app.handler", initialization_type="snap-start")
    assert snapstart.run_hooks(config, client, RecordingSink()) == 0  # type: ignore[arg-type]
    assert calls == ["('b2',){'k': 1}", "('b1',){}", "restore/next", "('a1',){}", "(){'k': 'a2'}"]
    assert hooks.before == []  # popped, as awslambdaric does


def test_restore_next_failure_is_a_before_snapshot_error(hooks: types.SimpleNamespace) -> None:
    client = RecordingClient([], restore_fails=True)
    sink = RecordingSink()
    config = RuntimeConfig("127.0.0.1:9", "app.handler")
    assert snapstart.run_hooks(config, client, sink) == 64  # type: ignore[arg-type]
    ((kind, body, error_type),) = client.posts
    assert (kind, error_type) == ("init/error", "Runtime.BeforeSnapshotError")
    assert json.loads(body)["errorType"] == "RuntimeAPIError"
    assert sink.errors[0][0].startswith("[ERROR] RuntimeAPIError: Request to Lambda Runtime")


def test_a_failing_report_keeps_the_exit_status(
    hooks: types.SimpleNamespace, fake_api: FakeRuntimeAPI
) -> None:
    from lambdarig.runtime_client.client import RuntimeAPIClient
    from lambdarig.runtime_client.transport import SocketTransport

    def boom() -> None:
        raise ValueError("after")

    hooks.after.append((boom, (), {}))
    fake_api.script("POST", wire.PATH_RESTORE_ERROR, Reply(500, b"no"))
    client = RuntimeAPIClient(SocketTransport(fake_api.address))
    sink = RecordingSink()
    try:
        config = RuntimeConfig(fake_api.address, "app.handler")
        assert snapstart.run_hooks(config, client, sink) == 65
    finally:
        client.transport.close()
    assert sink.lines[-1].startswith(
        "LAMBDA_RUNTIME Could not report the SnapStart hook failure: Request to Lambda Runtime "
        "'/2018-06-01/runtime/restore/error' endpoint failed. Reason: '500'."
    )
