"""boto3's Lambda client pointed at the emulator (dummy credentials, retries off)."""

from __future__ import annotations

import base64
import json
import threading
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.conftest import FUNCTION_NAME
from tests.rie_server.emulator_process import Running

boto3 = pytest.importorskip("boto3")
from botocore.config import Config  # noqa: E402


@pytest.fixture(scope="module")
def client(served: Running) -> Iterator[Any]:
    with warnings.catch_warnings():
        # boto3 warns on Python 3.9 that its support ends; that is not what these tests check.
        warnings.filterwarnings("ignore", message="Boto3 will no longer support Python")
        lambda_client = _client(served)
    yield lambda_client
    lambda_client.close()  # its pooled keep-alive sockets, else a ResourceWarning at collection


def _client(served: Running) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=served.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}, read_timeout=30),
    )


def test_invoke(client: Any) -> None:
    response = client.invoke(FunctionName=FUNCTION_NAME, Payload=json.dumps({"a": 1}))
    assert response["StatusCode"] == 200
    assert response["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"a": 1}


def test_invoke_without_payload(client: Any) -> None:
    response = client.invoke(FunctionName=FUNCTION_NAME)
    assert json.loads(response["Payload"].read()) == {}


def test_function_error(client: Any) -> None:
    response = client.invoke(FunctionName=FUNCTION_NAME, Payload=b'{"action": "error"}')
    assert response["StatusCode"] == 200
    assert response["FunctionError"] == "Unhandled"
    assert json.loads(response["Payload"].read())["errorType"] == "ValueError"


def test_event(client: Any) -> None:
    response = client.invoke(
        FunctionName=FUNCTION_NAME, InvocationType="Event", Payload=b'{"action": "echo"}'
    )
    assert response["StatusCode"] == 202


def test_dry_run(client: Any) -> None:
    response = client.invoke(FunctionName=FUNCTION_NAME, InvocationType="DryRun")
    assert response["StatusCode"] == 204


def test_tail(client: Any) -> None:
    response = client.invoke(
        FunctionName=FUNCTION_NAME, LogType="Tail", Payload=b'{"action": "print", "lines": 2}'
    )
    assert json.loads(response["Payload"].read()) == "printed"  # read: frees the connection
    log = base64.b64decode(response["LogResult"]).decode()
    assert "START RequestId: " in log and "line 1" in log and "REPORT RequestId: " in log


def test_qualifier_and_arn(client: Any) -> None:
    arn = f"arn:aws:lambda:us-east-1:012345678912:function:{FUNCTION_NAME}"
    response = client.invoke(FunctionName=arn, Qualifier="$LATEST", Payload=b"{}")
    assert response["StatusCode"] == 200
    assert json.loads(response["Payload"].read()) == {}


def test_not_found(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.invoke(FunctionName="nope", Payload=b"{}")
    message = caught.value.response["Error"]["Message"]
    assert message == "Function not found: arn:aws:lambda:us-east-1:012345678912:function:nope"


def test_invalid_json(client: Any) -> None:
    with pytest.raises(client.exceptions.InvalidRequestContentException):
        client.invoke(FunctionName=FUNCTION_NAME, Payload=b"{oops")


def test_throttling(client: Any, served: Running) -> None:
    started = served.stdout().count("START RequestId:")
    payload = json.dumps({"action": "sleep", "seconds": 1.0})

    def sleep() -> None:
        client.invoke(FunctionName=FUNCTION_NAME, Payload=payload)["Payload"].read()

    threads = [threading.Thread(target=sleep) for _ in range(2)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 15
    while served.stdout().count("START RequestId:") < started + 2:
        assert time.monotonic() < deadline, "the two sleeping invocations never started"
        time.sleep(0.02)
    try:
        with pytest.raises(client.exceptions.TooManyRequestsException) as caught:
            client.invoke(FunctionName=FUNCTION_NAME, Payload=b"{}")
        assert caught.value.response["Reason"] == "ConcurrentInvocationLimitExceeded"
    finally:
        for thread in threads:
            thread.join()
