"""``lambdarig serve --template`` with ``Tracing: Active`` (Globals and per function) and
``--tracing``: segments to a fake X-Ray daemon, ``TracingConfig`` in the control plane (real
processes: the ``lambdarig`` console script, httpx, boto3)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.cli.serving import lambda_client
from tests.rie_server.emulator_process import Running, emulator
from tests.rie_server.tracing.fake_daemon import FakeDaemon, by_origin

LAMBDARIG = shutil.which("lambdarig", path=str(Path(sys.executable).parent))
RUNTIME = f"python3.{sys.version_info[1]}"
TEMPLATE = f"""\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: {RUNTIME}
    CodeUri: src/
    Tracing: Active
Resources:
  TracedFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
  PlainFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Tracing: PassThrough
"""
APP = """\
import os


def handler(event, context):
    return {"trace": os.environ.get("_X_AMZN_TRACE_ID"),
            "daemon": os.environ.get("AWS_XRAY_DAEMON_ADDRESS")}
"""
ROOT = "1-5759e988-bd862e3fe1be46a994272793"


def write_project(root: Path, template: str = TEMPLATE) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(APP)
    (root / "template.yaml").write_text(template)
    return root / "template.yaml"


def serve(template: Path, daemon: FakeDaemon, tmp_path: Path, *flags: str) -> Any:
    assert LAMBDARIG is not None
    argv = ["serve", "-t", str(template), "--port", "0", "--http-port", "0"]
    argv += ["--xray-daemon-address", daemon.address, *flags]
    return emulator(argv, tmp_path, cwd=tmp_path, entry=(LAMBDARIG,))


def invoke(running: Running, name: str, trace: str) -> dict[str, Any]:
    url = f"{running.url}/2015-03-31/functions/{name}/invocations"
    response = httpx.post(url, content=b"{}", headers={"X-Amzn-Trace-Id": trace}, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def tracing_modes(running: Running) -> dict[str, str]:
    client = lambda_client(running)
    return {
        name: client.get_function_configuration(FunctionName=name)["TracingConfig"]["Mode"]
        for name in ("TracedFunction", "PlainFunction")
    }


def test_tracing_active_from_globals_and_passthrough_per_function(tmp_path: Path) -> None:
    template = write_project(tmp_path / "app")
    with FakeDaemon() as daemon, serve(template, daemon, tmp_path) as running:
        modes = tracing_modes(running)
        plain = invoke(running, "PlainFunction", f"Root={ROOT};Sampled=1")
        traced = invoke(running, "TracedFunction", f"Root={ROOT};Sampled=1")
        documents = daemon.receive(2)
    assert modes == {"TracedFunction": "Active", "PlainFunction": "PassThrough"}
    assert plain == {"trace": f"Root={ROOT};Sampled=1", "daemon": None}
    assert traced["daemon"] == daemon.address
    segments = by_origin(documents, ROOT)
    function = segments["AWS::Lambda::Function"]
    assert traced["trace"] == f"Root={ROOT};Parent={function['id']};Sampled=1"
    assert function["name"] == "TracedFunction"
    assert function["aws"]["function_arn"].endswith(":function:TracedFunction")
    assert segments["AWS::Lambda"]["aws"]["request_id"]


def test_the_tracing_flag_overrides_the_template(tmp_path: Path) -> None:
    template = write_project(tmp_path / "app")
    with (
        FakeDaemon() as daemon,
        serve(template, daemon, tmp_path, "--tracing", "active") as running,
    ):
        modes = tracing_modes(running)
        invoke(running, "PlainFunction", f"Root={ROOT};Sampled=1")
        documents = daemon.receive(2)
    assert modes == {"TracedFunction": "Active", "PlainFunction": "Active"}
    assert by_origin(documents, ROOT)["AWS::Lambda::Function"]["name"] == "PlainFunction"


@pytest.mark.parametrize("value", ["Sometimes", "[Active]"])
def test_a_bad_tracing_value_is_one_line(value: str, tmp_path: Path) -> None:
    template = write_project(
        tmp_path / "app", TEMPLATE.replace("Tracing: Active", f"Tracing: {value}")
    )
    assert LAMBDARIG is not None
    done = subprocess.run(
        [LAMBDARIG, "serve", "-t", str(template), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    shown = value if value == "Sometimes" else ["Active"]
    assert done.stderr == (
        "lambdarig: error: expected TracedFunction.Tracing in Active, PassThrough, Disabled, "
        f"got {shown!r}\n"
    )
