"""``lambdarig serve -t``: ``ReservedConcurrentExecutions: 0`` throttles the function as the service
does (429 ``ReservedFunctionConcurrentInvocationLimitExceeded``; ``Event``: 202, then the
on-failure destination without any attempt; the fronts' answers for a throttled integration), and
nothing is started for it; with ``ReservedConcurrentExecutions: 1`` an invoke past it gets the
same reason (real processes, real HTTP)."""

from __future__ import annotations

import concurrent.futures
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.cli.serving import RECORDER, lambda_client, served
from tests.probes import wait_until
from tests.rie_server.emulator_process import Running, emulator

SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")
RUNTIME = f"python3.{sys.version_info[1]}"

TEMPLATE = f"""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  RecordDir:
    Type: String
Globals:
  Function:
    Runtime: {RUNTIME}
    CodeUri: src/
    Environment:
      Variables:
        RECORD_DIR: !Ref RecordDir
Resources:
  Paused:
    Type: AWS::Serverless::Function
    Properties:
      Handler: paused.handler
      ReservedConcurrentExecutions: 0
      FunctionUrlConfig:
        AuthType: NONE
      EventInvokeConfig:
        DestinationConfig:
          OnFailure:
            Type: Lambda
            Destination: !GetAtt Recorder.Arn
      Events:
        Get:
          Type: HttpApi
          Properties:
            Path: /paused
            Method: GET
  Recorder:
    Type: AWS::Serverless::Function
    Properties:
      Handler: recorder.recorder
  Held:
    Type: AWS::Serverless::Function
    Properties:
      Handler: held.handler
      ReservedConcurrentExecutions: 1
"""

# Importing it at all (an environment's init) leaves a file behind: the test proves there is none.
PAUSED = """\
import os
open(os.path.join(os.environ["RECORD_DIR"], "paused-started"), "w").close()

def handler(event, context):
    return {"ran": True}
"""


# Runs until the test releases it (bounded: 30 s), so its one reserved environment is busy.
HELD = """\
import os, time

def handler(event, context):
    records = os.environ["RECORD_DIR"]
    open(os.path.join(records, "held-running"), "w").close()
    deadline = time.monotonic() + 30
    while not os.path.exists(os.path.join(records, "release")) and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"held": True}
"""

THROTTLED_BODY = {
    "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
    "Type": "User",
    "message": "Rate Exceeded.",
}


def write_project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "paused.py").write_text(PAUSED)
    (root / "src" / "recorder.py").write_text(RECORDER)
    (root / "src" / "held.py").write_text(HELD)
    (root / "records").mkdir()
    template = root / "template.yaml"
    template.write_text(TEMPLATE)
    return template


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, Path]]:
    tmp_path = tmp_path_factory.mktemp("throttled")
    template = write_project(tmp_path / "app")
    records = tmp_path / "app" / "records"
    argv = ["-t", str(template), "--port", "0", "--http-port", "0"]
    argv += ["--parameter-overrides", f"RecordDir={records}"]
    with emulator(argv, tmp_path, cwd=tmp_path, entry=SERVE) as running:
        yield running, records


def invoke(running: Running, name: str, **headers: str) -> httpx.Response:
    url = f"{running.url}/2015-03-31/functions/{name}/invocations"
    return httpx.post(url, content=b'{"n": 1}', headers=headers, timeout=30)


def test_the_start_table_says_it_is_throttled(project: tuple[Running, Path]) -> None:
    running, _ = project
    table = "\n".join(running.stderr_lines)
    assert re.search(
        r"^Paused\s+Paused\s+throttled \(ReservedConcurrentExecutions: 0\): every invoke "
        r"answers 429$",
        table,
        re.MULTILINE,
    ), table
    assert set(served(running)) == {"HTTP API GET", "Function URL ANY"}


def test_every_invoke_is_429_reserved_function_limit(project: tuple[Running, Path]) -> None:
    running, records = project
    for name in ("Paused", "arn:aws:lambda:us-east-1:123456789012:function:Paused"):
        answer = invoke(running, name)
        assert answer.status_code == 429
        assert answer.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
        assert answer.json() == THROTTLED_BODY
    assert invoke(running, "Paused", **{"X-Amz-Invocation-Type": "DryRun"}).status_code == 204
    client = lambda_client(running)
    with pytest.raises(client.exceptions.TooManyRequestsException) as raised:
        client.invoke(FunctionName="Paused", Payload=b"{}")
    assert raised.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert client.get_function(FunctionName="Paused")["Concurrency"] == {
        "ReservedConcurrentExecutions": 0
    }
    assert not (records / "paused-started").exists()


def test_past_a_reserved_concurrency_of_1_the_reason_is_the_functions_own(
    project: tuple[Running, Path],
) -> None:
    """API_Invoke.html, Errors: TooManyRequestsException, Reason
    ``ReservedFunctionConcurrentInvocationLimitExceeded`` (not the account's
    ``ConcurrentInvocationLimitExceeded``) once the function's reserved concurrency is in use."""
    running, records = project
    client = lambda_client(running)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        held = pool.submit(invoke, running, "Held")
        try:
            wait_until(
                lambda: (records / "held-running").exists() or held.done(),
                "the held invocation to run",
                timeout_s=30,
            )
            with pytest.raises(client.exceptions.TooManyRequestsException) as raised:
                client.invoke(FunctionName="Held", Payload=b"{}")
            assert raised.value.response["Reason"] == (
                "ReservedFunctionConcurrentInvocationLimitExceeded"
            )
            assert raised.value.response["Error"]["Message"] == "Rate Exceeded."
        finally:
            (records / "release").touch()
        assert (held.result().status_code, held.result().json()) == (200, {"held": True})


def test_an_event_is_accepted_then_sent_to_on_failure_without_running(
    project: tuple[Running, Path],
) -> None:
    running, records = project
    answer = invoke(running, "Paused", **{"X-Amz-Invocation-Type": "Event"})
    assert answer.status_code == 202, answer.text
    request_id = answer.headers["x-amzn-RequestId"]
    path = records / f"{request_id}.json"
    wait_until(path.exists, f"the on-failure record of {request_id}", timeout_s=20)
    record = json.loads(path.read_text())
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:Paused:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 0,
    }
    assert record["requestPayload"] == {"n": 1}
    assert "responseContext" not in record
    assert f"[Paused] lambdarig-rie: Event invocation {request_id} throttled" in running.stdout()
    assert not (records / "paused-started").exists()


def test_the_fronts_answer_as_for_a_throttled_integration(project: tuple[Running, Path]) -> None:
    running, records = project
    urls = served(running)
    api = httpx.get(urls["HTTP API GET"], timeout=30)
    assert (api.status_code, api.json()) == (500, {"message": "Internal Server Error"})
    url = httpx.get(urls["Function URL ANY"].split(" ")[0], timeout=30)
    assert (url.status_code, url.json()) == (429, {"Message": "Rate Exceeded."})
    assert not (records / "paused-started").exists()


def test_a_one_shot_invoke_of_a_throttled_function_is_one_line(tmp_path: Path) -> None:
    template = write_project(tmp_path / "app")
    records = tmp_path / "app" / "records"
    done = subprocess.run(
        [sys.executable, "-m", "lambdarig.cli", "invoke", "Paused", "-t", str(template),
         "--parameter-overrides", f"RecordDir={records}", "--event", "-"],
        input="{}", capture_output=True, text=True, check=False, timeout=60, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "lambdarig: error: expected the invoke to succeed, got HTTP 429 TooManyRequestsException: "
        + json.dumps(THROTTLED_BODY, separators=(",", ":"))
        + "\n"
    )
    assert not (records / "paused-started").exists()


def test_a_negative_reservation_is_one_line(tmp_path: Path) -> None:
    template = write_project(tmp_path / "app")
    template.write_text(
        TEMPLATE.replace("ReservedConcurrentExecutions: 0", "ReservedConcurrentExecutions: -1")
    )
    done = subprocess.run(
        [*SERVE, "-t", str(template), "--port", "0", "--parameter-overrides", "RecordDir=x"],
        capture_output=True, text=True, check=False, timeout=30, cwd=tmp_path,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (
        2,
        "lambdarig: error: Paused: expected ReservedConcurrentExecutions >= 0, got -1\n",
    )
