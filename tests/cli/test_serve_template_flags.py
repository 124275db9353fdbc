"""Every flag of ``lambdarig serve`` either applies with ``--template`` or is refused there in one
line with exit status 2 (the real console script); template-only flags are refused without it."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from lambdarig.cli import build_parser
from lambdarig.cli.serve_flags import FUNCTION_FLAGS, TEMPLATE_FLAGS
from tests.rie_server.emulator_process import ROOT, Running, emulator

LAMBDARIG = str(Path(sys.executable).parent / "lambdarig")
RUNTIME = f"python3.{sys.version_info[1]}"
# The flags that apply to every function of a template.
APPLY_WITH_TEMPLATE = {
    "--template",
    "--port",
    "--host",
    "--http-port",
    "--watch",
    "--no-stream-throttle",
    "--async-retry-delays",
    "--aws-endpoint-url",
    "--tracing",
    "--xray-daemon-address",
    *TEMPLATE_FLAGS,
}
# A value for each refused flag (None: a switch).
VALUES: dict[str, str | None] = {
    "--code": ".",
    "--timeout": "3",
    "--memory": "128",
    "--env": "A=1",
    "--max-concurrency": "10",
    "--provisioned": "0",
    "--snapstart": None,
    "--layer": "layer.zip",
    "--image": "fn:latest",
    "--runtime": "python3 -m awslambdaric",
    "--http": "url",
    "--invoke-mode": "RESPONSE_STREAM",
    "--alb-multi-value-headers": None,
}
TEMPLATE = f"""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: >
  flags-app

Globals:
  Function:
    Timeout: 30

Resources:
  BigFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: big_function/
      Handler: app.lambda_handler
      Runtime: {RUNTIME}
      FunctionUrlConfig:
        AuthType: NONE
        InvokeMode: RESPONSE_STREAM
"""
APP = """\
def lambda_handler(event, context):
    return (b"x" * (1024 * 1024) for _ in range(22))
"""


def serve_flags() -> set[str]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    serve = subparsers.choices["serve"]  # type: ignore[attr-defined]
    return {action.option_strings[-1] for action in serve._actions if action.option_strings}


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LAMBDARIG, "serve", *argv], capture_output=True, text=True, check=False, timeout=60
    )


def test_every_flag_applies_with_a_template_or_is_refused() -> None:
    unclassified = serve_flags() - {"--help"} - APPLY_WITH_TEMPLATE - set(FUNCTION_FLAGS)
    assert not unclassified, f"decide what -t does with {sorted(unclassified)}"
    assert set(VALUES) == set(FUNCTION_FLAGS)


@pytest.mark.parametrize("flag", sorted(FUNCTION_FLAGS))
def test_a_single_function_flag_is_refused_with_a_template(flag: str, tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    value = VALUES[flag]
    given = [flag] if value is None else [flag, value]
    done = run("-t", str(tmp_path / "template.yaml"), *given)
    assert done.returncode == 2
    assert done.stderr == (
        f"lambdarig: error: expected no {flag} with --template (the template's "
        f"{FUNCTION_FLAGS[flag]} sets it), got {flag}\n"
    )


@pytest.mark.parametrize("flag", TEMPLATE_FLAGS)
def test_a_template_flag_is_refused_without_a_template(flag: str) -> None:
    done = run("app.handler", flag, "x=1" if flag == "--parameter-overrides" else "x")
    assert done.returncode == 2
    assert done.stderr == f"lambdarig: error: expected {flag} with --template, got it without\n"


def test_invoke_mode_needs_a_function_url() -> None:
    done = run("app.handler", "--http", "http", "--invoke-mode", "RESPONSE_STREAM")
    assert done.returncode == 2
    assert (
        done.stderr == "lambdarig: error: expected --invoke-mode with --http url, got --http http\n"
    )


def test_a_bad_invoke_mode_in_the_template_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text(TEMPLATE.replace("RESPONSE_STREAM", "STREAMING"))
    (tmp_path / "big_function").mkdir()
    done = run("-t", str(tmp_path / "template.yaml"), "--port", "0", "--http-port", "0")
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "lambdarig: error: expected BigFunction.FunctionUrlConfig.InvokeMode in BUFFERED, "
        "RESPONSE_STREAM, got 'STREAMING'"
    )


@pytest.fixture()
def unthrottled(tmp_path: Path) -> Iterator[Running]:
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "big_function").mkdir()
    (tmp_path / "big_function" / "app.py").write_text(APP)
    argv = ["-t", str(tmp_path / "template.yaml"), "--port", "0", "--http-port", "0"]
    with emulator(
        [*argv, "--no-stream-throttle"], tmp_path, cwd=ROOT, entry=(LAMBDARIG, "serve")
    ) as (running):
        yield running


def test_no_stream_throttle_applies_with_a_template(unthrottled: Running) -> None:
    # 22 MiB: throttled, the 16 MiB past the first 6 take at least 8 s (2 MiB/s).
    line = next(line for line in unthrottled.stderr_lines if "Function URL" in line)
    url = line.split()[-4]
    started = time.monotonic()
    response = httpx.get(url, timeout=60)
    elapsed = time.monotonic() - started
    assert response.status_code == 200 and len(response.content) == 22 * 1024 * 1024
    assert elapsed < 6, f"22 MiB took {elapsed:.2f} s: throttled"
    invoke = f"{unthrottled.url}/2021-11-15/functions/BigFunction/response-streaming-invocations"
    started = time.monotonic()
    streamed = httpx.post(invoke, content=b"{}", timeout=60)
    elapsed = time.monotonic() - started
    assert streamed.status_code == 200 and len(streamed.content) > 22 * 1024 * 1024
    assert elapsed < 6, f"22 MiB through the Invoke API took {elapsed:.2f} s: throttled"
