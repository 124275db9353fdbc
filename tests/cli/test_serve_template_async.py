"""``lambdarig serve -t``: ``EventInvokeConfig`` and ``DeadLetterQueue`` (real processes: the
emulator, its runtimes and a moto server receiving SQS messages), ``--async-retry-delays`` and
``--watch`` reloading only the changed function."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from tests.build.moto import moto_server
from tests.cli.serving import RECORDER
from tests.probes import wait_until
from tests.rie_server.emulator_process import Running, emulator

SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")
RUNTIME = f"python3.{sys.version_info[1]}"
REGION = "us-east-1"
ACCOUNT = "123456789012"

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
  FailQueue:
    Type: AWS::SQS::Queue
  DeadQueue:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.worker
      EventInvokeConfig:
        MaximumRetryAttempts: 1
        MaximumEventAgeInSeconds: 600
        DestinationConfig:
          OnSuccess:
            Type: Lambda
            Destination: !GetAtt Recorder.Arn
          OnFailure:
            Type: SQS
            Destination: !GetAtt FailQueue.Arn
      DeadLetterQueue:
        Type: SQS
        TargetArn: !GetAtt DeadQueue.Arn
  NoRetry:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.worker
      EventInvokeConfig:
        MaximumRetryAttempts: 0
        DestinationConfig:
          OnFailure:
            Type: Lambda
            Destination: !GetAtt Recorder.Arn
  Recorder:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.recorder
"""

APP = (
    RECORDER
    + """
def worker(event, context):
    print("attempt", context.aws_request_id)
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"done": event}
"""
)


def write_project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text(APP)
    (root / "records").mkdir()
    template = root / "template.yaml"
    template.write_text(TEMPLATE)
    return template


def sqs_client(url: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )


def queue_messages(sqs: Any, name: str) -> list[dict[str, Any]]:
    queue = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    answer = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    )
    return list(answer.get("Messages", []))


def invoke_event(running: Running, name: str, event: dict[str, Any]) -> str:
    url = f"{running.url}/2015-03-31/functions/{name}/invocations"
    answer = httpx.post(url, json=event, headers={"X-Amz-Invocation-Type": "Event"}, timeout=30)
    assert answer.status_code == 202, answer.text
    return answer.headers["x-amzn-RequestId"]


@pytest.fixture(scope="module")
def aws() -> Iterator[str]:
    with moto_server() as url:
        sqs = sqs_client(url)
        for name in ("FailQueue", "DeadQueue"):
            sqs.create_queue(QueueName=name)
        yield url


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, aws: str) -> Iterator[tuple[Running, Path]]:
    tmp_path = tmp_path_factory.mktemp("async")
    template = write_project(tmp_path / "app")
    records = tmp_path / "app" / "records"
    argv = ["-t", str(template), "--port", "0", "--http-port", "0", "--region", REGION]
    argv += ["--parameter-overrides", f"RecordDir={records}", "--aws-endpoint-url", aws]
    argv += ["--async-retry-delays", "0.05,0.05"]
    with emulator(argv, tmp_path, cwd=tmp_path, entry=SERVE) as running:
        yield running, records


def read_record(records: Path, request_id: str) -> dict[str, Any]:
    path = records / f"{request_id}.json"
    wait_until(path.exists, f"the record of {request_id}", timeout_s=20)
    wait_until(lambda: path.read_text().endswith("}"), "the whole record")
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def test_a_function_destination_receives_the_success_record(
    project: tuple[Running, Path],
) -> None:
    running, records = project
    request_id = invoke_event(running, "Worker", {"n": 1})
    record = read_record(records, request_id)
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    assert record["requestContext"] == {
        "requestId": request_id,
        "functionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:Worker:$LATEST",
        "condition": "Success",
        "approximateInvokeCount": 1,
    }
    assert record["requestPayload"] == {"n": 1}
    assert record["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST"}
    assert record["responsePayload"] == {"done": {"n": 1}}


def test_a_failure_goes_to_the_sqs_destination_and_the_dead_letter_queue(
    project: tuple[Running, Path], aws: str
) -> None:
    running, _ = project
    request_id = invoke_event(running, "Worker", {"fail": True})
    sqs = sqs_client(aws)
    failures: list[dict[str, Any]] = []
    dead: list[dict[str, Any]] = []
    wait_until(
        lambda: bool(failures.extend(queue_messages(sqs, "FailQueue")) or failures),
        "the OnFailure record in FailQueue",
        timeout_s=20,
    )
    wait_until(
        lambda: bool(dead.extend(queue_messages(sqs, "DeadQueue")) or dead),
        "the event in DeadQueue",
        timeout_s=20,
    )
    record = json.loads(failures[0]["Body"])
    context = record["requestContext"]
    assert (context["requestId"], context["condition"]) == (request_id, "RetriesExhausted")
    assert context["approximateInvokeCount"] == 2  # MaximumRetryAttempts: 1
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorMessage"] == "asked to fail"
    assert record["requestPayload"] == {"fail": True}
    assert json.loads(dead[0]["Body"]) == {"fail": True}
    attributes = {
        name: value["StringValue"] for name, value in dead[0]["MessageAttributes"].items()
    }
    assert attributes == {
        "RequestID": request_id,
        "ErrorCode": "200",
        "ErrorMessage": "asked to fail",
    }
    assert running.stdout().count(f"attempt {request_id}") == 2


def test_maximum_retry_attempts_zero_runs_once(project: tuple[Running, Path]) -> None:
    running, records = project
    request_id = invoke_event(running, "NoRetry", {"fail": True})
    record = read_record(records, request_id)
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert record["requestContext"]["functionArn"].endswith(":function:NoRetry:$LATEST")
    assert running.stdout().count(f"attempt {request_id}") == 1


def test_without_an_endpoint_other_destinations_are_logged_as_not_delivered(
    tmp_path: Path,
) -> None:
    template = write_project(tmp_path / "app")
    argv = ["-t", str(template), "--port", "0", "--http-port", "0", "--region", REGION]
    argv += ["--parameter-overrides", "RecordDir=/nonexistent", "--async-retry-delays", ""]
    with emulator(argv, tmp_path, cwd=tmp_path, entry=SERVE) as running:
        invoke_event(running, "Worker", {"fail": True})
        running.wait_stderr(r"Worker: OnFailure record not delivered to arn:aws:sqs:.*:FailQueue")
        running.wait_stderr(r"Worker: DeadLetterQueue event not delivered to arn:aws:sqs:")


WATCHED = f"""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: {RUNTIME}
    Handler: app.handler
Resources:
  First:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: first/
  Second:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: second/
"""

VERSIONED = """\
import os
VERSION = {version}

def handler(event, context):
    return {{"version": VERSION, "pid": os.getpid()}}
"""


def test_watch_reinitialises_only_the_function_whose_code_changed(tmp_path: Path) -> None:
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "app.py").write_text(VERSIONED.format(version=1))
    template = tmp_path / "template.yaml"
    template.write_text(WATCHED)
    argv = ["-t", str(template), "--port", "0", "--http-port", "0", "--watch"]
    with emulator(argv, tmp_path, cwd=tmp_path, entry=SERVE) as running:

        def call(name: str) -> dict[str, Any]:
            url = f"{running.url}/2015-03-31/functions/{name}/invocations"
            body: dict[str, Any] = httpx.post(url, content=b"{}", timeout=30).json()
            return body

        second_before = call("Second")
        assert call("First")["version"] == 1
        (tmp_path / "first" / "app.py").write_text(VERSIONED.format(version=2))
        wait_until(lambda: call("First")["version"] == 2, "First's new code", timeout_s=20)
        assert call("Second") == second_before  # same environment: not re-initialised
        running.wait_stderr(r"1 file\(s\) changed \(first/app\.py\)")
        assert not any("second" in line for line in running.stderr_lines if "changed" in line)


def test_an_event_past_its_maximum_age_goes_to_on_failure_as_event_age_exceeded(
    tmp_path: Path,
) -> None:
    """In-process (the runtime is a real process) with a clock the test moves past the age."""
    import asyncio
    import datetime
    import io
    import os

    from lambdarig.cli.hosting import hosted_function
    from lambdarig.project import load_project
    from lambdarig.rie_server.invoke import protocol as proto
    from lambdarig.rie_server.invoke.destinations import Delivery
    from lambdarig.rie_server.project_emulator import ProjectEmulator
    from tests.probes import eventually

    template = write_project(tmp_path / "app")
    template.write_text(
        TEMPLATE.replace("MaximumEventAgeInSeconds: 600", "MaximumEventAgeInSeconds: 60")
    )
    project = load_project(template, region=REGION, parameter_overrides={"RecordDir": "x"})
    worker = project.function("Worker")
    hosted = hosted_function(
        worker, project, worker.code, dict(os.environ), [], retry_delays=(1.0,)
    )
    skew = datetime.timedelta()

    def clock() -> datetime.datetime:
        return datetime.datetime.now(datetime.timezone.utc) + skew

    sent: list[Delivery] = []

    async def send(delivery: Delivery) -> None:
        sent.append(delivery)

    output = io.StringIO()

    async def scenario() -> None:
        nonlocal skew
        emulator = ProjectEmulator([hosted], "127.0.0.1", 0, output=output, send=send, clock=clock)
        await emulator.start()
        try:
            call = proto.InvokeCall(
                request_id="aaaaaaaa-1111-2222-3333-444444444444",
                invocation_type=proto.InvocationType.EVENT,
                tail=False,
                payload=b'{"fail": true}',
                invoked_function_arn=hosted.config.function.arn,
                trace_id=None,
            )
            answer = await emulator.host_for("Worker").run(call)
            assert isinstance(answer, proto.HttpResponse) and answer.status == 202
            await eventually(lambda: "REPORT" in output.getvalue(), "the first attempt's REPORT")
            skew = datetime.timedelta(seconds=120)  # the retry is due after the maximum age
            await eventually(lambda: len(sent) == 2, "OnFailure and DeadLetterQueue deliveries")
        finally:
            await emulator.stop()

    asyncio.run(scenario())
    record = json.loads(sent[0].body)
    assert sent[0].kind == "OnFailure"
    assert record["requestContext"]["condition"] == "EventAgeExceeded"
    assert record["requestContext"]["approximateInvokeCount"] == 1
    assert output.getvalue().count("START RequestId") == 1  # the retry never ran


def test_bad_async_settings_are_one_line_and_exit_2(tmp_path: Path) -> None:
    import subprocess

    template = write_project(tmp_path / "app")
    cases = [
        (
            TEMPLATE.replace("MaximumRetryAttempts: 1", "MaximumRetryAttempts: 5"),
            [],
            "expected Worker.EventInvokeConfig.MaximumRetryAttempts to be an integer in 0-2, got 5",
        ),
        (
            TEMPLATE.replace("MaximumEventAgeInSeconds: 600", "MaximumEventAgeInSeconds: 30"),
            [],
            "expected Worker.EventInvokeConfig.MaximumEventAgeInSeconds to be an integer in "
            "60-21600, got 30",
        ),
        (
            TEMPLATE.replace("Type: SQS\n        TargetArn", "Type: SES\n        TargetArn"),
            [],
            "expected Worker.DeadLetterQueue.Type in SQS, SNS, got 'SES'",
        ),  # fmt: skip
        (TEMPLATE, ["--aws-endpoint-url", "nope"], "expected --aws-endpoint-url like http://"),
        (TEMPLATE, ["--async-retry-delays", "1,2,3"], "expected --async-retry-delays to be up to"),
    ]
    for text, extra, message in cases:
        template.write_text(text)
        done = subprocess.run(
            [*SERVE, "-t", str(template), "--port", "0", "--parameter-overrides", "RecordDir=x"]
            + extra,
            capture_output=True,
            text=True,
            timeout=30,
            cwd=tmp_path,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith(f"lambdarig: error: {message}"), done.stderr
        assert done.stderr.count("\n") == 1, done.stderr
