"""SnapStart end to end: the real emulator with ``--snapstart``, a handler registering hooks
through ``snapshot_restore_py``, run by our runtime client and (peers) by awslambdaric.

The sequence (snapstart-runtime-hooks.html): init with ``AWS_LAMBDA_INITIALIZATION_TYPE=snap-start``
→ before-snapshot hooks → ``GET /restore/next`` → (``RESTORE_START``) after-restore hooks →
``/invocation/next`` (``RESTORE_REPORT``); the first REPORT carries ``Restore Duration`` and
``Billed Restore Duration`` (snapstart-monitoring.html), not ``Init Duration``. A failing
after-restore hook makes the invoke fail with ``SnapStartException`` (400); a failing
before-snapshot hook is an init error ``Runtime.BeforeSnapshotError``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rie_server.emulator_process import Running, emulator
from tests.stand_ins import SNAPSHOT_RESTORE_PY

ROOT = Path(__file__).resolve().parents[2]
APP = """
import os
from snapshot_restore_py import register_after_restore, register_before_snapshot

calls = []

@register_before_snapshot
def before():
    calls.append("before")
    print("before-snapshot hook ran", flush=True)
    if os.environ.get("FAIL_BEFORE_SNAPSHOT"):
        raise RuntimeError("cannot snapshot")

@register_after_restore
def after():
    calls.append("after")
    print("after-restore hook ran", flush=True)
    if os.environ.get("FAIL_AFTER_RESTORE"):
        raise RuntimeError("cannot restore")

def handler(event, context):
    return {"calls": calls, "type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"],
            "log_group": os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")}
"""
LOCAL = [
    "--runtime-interface-emulator-address",
    "127.0.0.1:0",
    "--runtime-api-address",
    "127.0.0.1:0",
    "--snapstart",
]
INVOKE = "/2015-03-31/functions/function/invocations"


def _ours(code: Path) -> tuple[list[str], str]:
    shim = code / "shim"
    shim.mkdir(exist_ok=True)
    shutil.copy(SNAPSHOT_RESTORE_PY, shim)
    path = os.pathsep.join([str(code), str(shim), str(ROOT / "src")])
    return [sys.executable, "-m", "lambdarig.runtime_client", "snap_app.handler"], path


def _awslambdaric(code: Path, python: Path) -> tuple[list[str], str]:
    return [str(python), "-m", "awslambdaric", "snap_app.handler"], os.pathsep.join(
        [str(code), str(ROOT / "src")]
    )


@pytest.fixture(params=["ours", pytest.param("awslambdaric", marks=pytest.mark.peers)])
def runtime(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[list[str], str]:
    code = tmp_path / "code"
    code.mkdir()
    (code / "snap_app.py").write_text(APP)
    if request.param == "ours":
        return _ours(code)
    return _awslambdaric(code, request.getfixturevalue("awslambdaric_python"))


@contextlib.contextmanager
def _running(runtime: tuple[list[str], str], tmp_path: Path, **env: str) -> Iterator[Running]:
    command, path = runtime
    variables = {"PYTHONPATH": path, **env}
    with emulator([*LOCAL, *command], tmp_path, env=variables, cwd=tmp_path) as running:
        yield running


def _invoke(running: Running) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(running.url + INVOKE, data=b"{}", method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _wait_stdout(running: Running, pattern: str) -> str:
    """Poll the emulator's stdout (a file) until ``pattern`` appears; the whole text."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        text = running.stdout()
        if re.search(pattern, text):
            return text
        time.sleep(0.02)
    raise AssertionError(f"no {pattern!r} in stdout: {running.stdout()!r}")


def test_restore_runs_the_hooks_and_reports_its_duration(runtime, tmp_path: Path) -> None:
    with _running(runtime, tmp_path) as running:
        status, _, body = _invoke(running)
        assert status == 200, body
        assert json.loads(body) == {
            "calls": ["before", "after"],
            "type": "snap-start",
            "log_group": None,
        }
        text = _wait_stdout(running, r"REPORT RequestId")
        lines = text.splitlines()
        order = [
            next(i for i, line in enumerate(lines) if marker in line)
            for marker in (
                "before-snapshot hook ran",
                "RESTORE_START",
                "after-restore hook ran",
                "RESTORE_REPORT Restore Duration: ",
                "START RequestId",
                "REPORT RequestId",
            )
        ]
        assert order == sorted(order), lines
        report = next(line for line in lines if line.startswith("REPORT RequestId"))
        assert re.search(
            r"\tRestore Duration: \d+\.\d\d ms\tBilled Restore Duration: \d+ ms\t", report
        ), report
        assert "Init Duration" not in report
        _invoke(running)  # a warm invoke: no restore, no Restore Duration
        text = _wait_stdout(running, r"(?s)REPORT RequestId.*REPORT RequestId")
        assert "Restore Duration" not in text.splitlines()[-1]
        assert text.count("RESTORE_START") == 1


def test_a_failing_after_restore_hook_fails_the_invoke(runtime, tmp_path: Path) -> None:
    with _running(runtime, tmp_path, FAIL_AFTER_RESTORE="1") as running:
        status, headers, body = _invoke(running)
        assert status == 400, body
        assert headers["x-amzn-ErrorType"] == "SnapStartException"
        assert json.loads(body)["Message"].startswith("The afterRestore() runtime hook")
        text = _wait_stdout(running, r"RESTORE_REPORT.*Runtime\.AfterRestoreError")
        assert "RESTORE_REPORT Restore Duration: " in text
        assert "\tStatus: error\tError Type: Runtime.AfterRestoreError" in text
        assert "INIT_REPORT" not in text


def test_a_failing_before_snapshot_hook_is_an_init_error(runtime, tmp_path: Path) -> None:
    with _running(runtime, tmp_path, FAIL_BEFORE_SNAPSHOT="1") as running:
        status, headers, body = _invoke(running)
        assert status == 200, body
        assert headers["X-Amz-Function-Error"] == "Unhandled"
        assert json.loads(body)["errorMessage"] == "cannot snapshot"
        text = _wait_stdout(running, r"INIT_REPORT.*Runtime\.BeforeSnapshotError")
        assert "RESTORE_START" not in text
