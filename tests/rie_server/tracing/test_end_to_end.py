"""Active tracing end to end: ``lambdarig-rie --tracing active`` (the console script, a real
process) running a real runtime (ours, and awslambdaric when the peers are fetched), with a fake
X-Ray daemon on a UDP port the test bound."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import peers
from tests.rie_server.emulator_process import OUR_RUNTIME, emulator
from tests.rie_server.tracing.fake_daemon import FakeDaemon, by_origin

BIN = Path(sys.executable).parent
RIE = (str(BIN / "lambdarig-rie"),) if (BIN / "lambdarig-rie").exists() else None
URL = "/2015-03-31/functions/function/invocations"
CALLER_ROOT = "1-5759e988-bd862e3fe1be46a994272793"
CALLER_PARENT = "53995c3f42cd8ad8"
HANDLER = """\
import os

NAMES = ("_X_AMZN_TRACE_ID", "AWS_XRAY_DAEMON_ADDRESS", "_AWS_XRAY_DAEMON_ADDRESS",
         "_AWS_XRAY_DAEMON_PORT", "AWS_XRAY_CONTEXT_MISSING")


def handler(event, context):
    return {name: os.environ.get(name) for name in NAMES}
"""


def entry() -> tuple[str, ...]:
    if RIE is None:
        pytest.fail(f"expected the lambdarig-rie console script in {BIN}")
    return RIE


def runtime(which: str) -> list[str]:
    if which == "awslambdaric":
        return [str(peers.require_awslambdaric()), "-m", "awslambdaric"]
    return list(OUR_RUNTIME)


def header_fields(value: str) -> dict[str, str]:
    return dict(field.split("=", 1) for field in value.split(";"))


def invoke(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = httpx.post(url + URL, content=b"{}", headers=headers or {}, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def serve_argv(daemon: FakeDaemon, command: Sequence[str]) -> list[str]:
    return [
        "--runtime-interface-emulator-address",
        "127.0.0.1:0",
        "--runtime-api-address",
        "127.0.0.1:0",
        "--tracing",
        "active",
        "--xray-daemon-address",
        daemon.address,
        "--",
        *command,
        "trace_app.handler",
    ]


@pytest.mark.parametrize(
    "which", ["lambdarig", pytest.param("awslambdaric", marks=pytest.mark.peers)]
)
def test_segments_go_to_the_daemon_and_the_runtime_sees_the_function_segment(
    which: str, tmp_path: Path
) -> None:
    (tmp_path / "trace_app.py").write_text(HANDLER)
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    with (
        FakeDaemon() as daemon,
        emulator(
            serve_argv(daemon, runtime(which)), tmp_path, env=env, cwd=tmp_path, entry=entry()
        ) as running,
    ):
        fresh = invoke(running.url)  # no trace header: the emulator samples it
        caller = f"Root={CALLER_ROOT};Parent={CALLER_PARENT};Sampled=1"
        traced = invoke(running.url, {"X-Amzn-Trace-Id": caller})
        declined = f"Root=1-5759e988-000000000000000000000000;Parent={CALLER_PARENT};Sampled=0"
        untraced = invoke(running.url, {"X-Amzn-Trace-Id": declined})
        garbage = invoke(running.url, {"X-Amzn-Trace-Id": "Root=" + "z" * 6000})
        documents = daemon.receive(6)  # fresh, traced, garbage: two each (none for Sampled=0)

    assert fresh["AWS_XRAY_DAEMON_ADDRESS"] == daemon.address
    assert fresh["_AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1"
    assert fresh["_AWS_XRAY_DAEMON_PORT"] == str(daemon.port)
    assert fresh["AWS_XRAY_CONTEXT_MISSING"] == "LOG_ERROR"

    first = header_fields(fresh["_X_AMZN_TRACE_ID"])
    assert first["Sampled"] == "1"
    segments = by_origin(documents, first["Root"])
    service, function = segments["AWS::Lambda"], segments["AWS::Lambda::Function"]
    assert "parent_id" not in service
    assert function["parent_id"] == service["id"]
    assert function["id"] == first["Parent"]
    cold = [sub["name"] for sub in function["subsegments"]]
    assert cold == ["Initialization", "Invocation", "Overhead"]

    second = header_fields(traced["_X_AMZN_TRACE_ID"])
    assert second["Root"] == CALLER_ROOT
    assert second["Sampled"] == "1"
    segments = by_origin(documents, CALLER_ROOT)
    assert segments["AWS::Lambda"]["parent_id"] == CALLER_PARENT
    assert segments["AWS::Lambda::Function"]["id"] == second["Parent"]
    warm = [sub["name"] for sub in segments["AWS::Lambda::Function"]["subsegments"]]
    assert warm == ["Invocation", "Overhead"]

    assert untraced["_X_AMZN_TRACE_ID"] == declined
    assert all(doc["trace_id"] != header_fields(declined)["Root"] for doc in documents)

    replaced = header_fields(garbage["_X_AMZN_TRACE_ID"])  # a fresh trace, sampled
    assert len(by_origin(documents, replaced["Root"])) == 2
    assert len({doc["trace_id"] for doc in documents}) == 3
    for doc in documents:
        assert doc["start_time"] <= doc["end_time"]
        assert json.dumps(doc).isascii()


def test_passthrough_sends_nothing_and_sets_no_daemon_variables(tmp_path: Path) -> None:
    (tmp_path / "trace_app.py").write_text(HANDLER)
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")])}
    with FakeDaemon() as daemon:
        argv = serve_argv(daemon, OUR_RUNTIME)
        argv[argv.index("active")] = "passthrough"
        with emulator(argv, tmp_path, env=env, cwd=tmp_path, entry=entry()) as running:
            seen = invoke(running.url, {"X-Amzn-Trace-Id": f"Root={CALLER_ROOT};Sampled=1"})
        assert seen["_X_AMZN_TRACE_ID"] == f"Root={CALLER_ROOT};Sampled=1"
        assert seen["AWS_XRAY_DAEMON_ADDRESS"] is None
        assert seen["AWS_XRAY_CONTEXT_MISSING"] is None
        # The invocation is over and its answer read: a segment would have been sent by now.
        with pytest.raises(BlockingIOError):
            daemon.sock.recv(65536, socket.MSG_DONTWAIT)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--tracing", "sometimes"],
            "expected --tracing to be active or passthrough, got 'sometimes'",
        ),
        (
            ["--xray-daemon-address", "nowhere"],
            "expected --xray-daemon-address as HOST:PORT with PORT in 0-65535, got 'nowhere'",
        ),
    ],
)
def test_bad_tracing_flags_are_one_line_errors(
    argv: list[str], message: str, tmp_path: Path
) -> None:
    rie = subprocess.run(
        [*entry(), *argv, "python"], capture_output=True, text=True, timeout=30, check=False
    )
    assert (rie.returncode, rie.stderr, rie.stdout) == (2, f"lambdarig-rie: error: {message}\n", "")
    lambdarig = shutil.which("lambdarig", path=str(BIN))
    assert lambdarig is not None
    for mode in (
        ["app.handler", "--code", str(tmp_path)],
        ["--template", str(tmp_path / "t.yaml")],
    ):
        serve = subprocess.run(
            [lambdarig, "serve", *mode, *argv],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert (serve.returncode, serve.stderr) == (2, f"lambdarig: error: {message}\n")
