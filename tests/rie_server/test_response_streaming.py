"""Response streaming end to end: the real emulator, our runtime client, a generator handler.

boto3's ``invoke_with_response_stream`` reads chunks as the function yields them (the handler
waits for a file the test creates only after it saw the first chunk), a mid-stream failure ends
in ``InvokeComplete`` with ``ErrorCode``/``ErrorDetails``, a plain ``Invoke`` buffers (with the
function's content type) up to 6 MB, then answers ``Function.ResponseSizeTooLarge``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rie_server.emulator_process import OUR_RUNTIME, Running, emulator

boto3 = pytest.importorskip("boto3")

APP = """
import os, time
from lambdarig.runtime_client.streaming import StreamingResponse

def handler(event, context):
    action = event["action"]
    if action == "gate":
        def chunks():
            yield b"first"
            deadline = time.monotonic() + 20  # the function's own bounded wait for the test
            while not os.path.exists(event["gate"]) and time.monotonic() < deadline:
                time.sleep(0.01)
            yield b"last"
        return chunks()
    if action == "fail":
        def failing():
            yield b"partial"
            raise ValueError("boom mid-stream")
        return failing()
    if action == "big":
        return (b"x" * (1024 * 1024) for _ in range(event["mb"]))
    return StreamingResponse(iter([b"<p>", b"hi</p>"]), "text/html")
"""
LOCAL = [
    "--runtime-interface-emulator-address",
    "127.0.0.1:0",
    "--runtime-api-address",
    "127.0.0.1:0",
    "--no-stream-throttle",
]


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    code = tmp_path_factory.mktemp("stream_app")
    (code / "stream_app.py").write_text(APP)
    argv = [*LOCAL, *OUR_RUNTIME, "stream_app.handler"]
    path = os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")]))
    with emulator(argv, code, cwd=code, env={"PYTHONPATH": path}) as emulator_running:
        yield emulator_running


def client(running: Running) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=running.url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def stream(running: Running, event: dict[str, Any]) -> tuple[dict[str, Any], Iterator[Any]]:
    answer = client(running).invoke_with_response_stream(
        FunctionName="function", Payload=json.dumps(event).encode()
    )
    return answer, iter(answer["EventStream"])


def test_chunks_arrive_before_the_handler_finishes(running: Running, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    answer, events = stream(running, {"action": "gate", "gate": str(gate)})
    assert answer["StatusCode"] == 200 and answer["ExecutedVersion"] == "$LATEST"
    assert next(events) == {"PayloadChunk": {"Payload": b"first"}}
    gate.touch()  # only now may the handler yield its last chunk
    rest = list(events)
    assert rest == [{"PayloadChunk": {"Payload": b"last"}}, {"InvokeComplete": {}}]


def test_a_mid_stream_error_ends_in_invoke_complete(running: Running) -> None:
    _, events = stream(running, {"action": "fail"})
    received = list(events)
    assert received[0] == {"PayloadChunk": {"Payload": b"partial"}}
    complete = received[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "ValueError"
    assert json.loads(complete["ErrorDetails"])["errorMessage"] == "boom mid-stream"


def test_a_plain_invoke_buffers_with_the_functions_content_type(running: Running) -> None:
    answer = client(running).invoke(FunctionName="function", Payload=b'{"action": "typed"}')
    assert answer["Payload"].read() == b"<p>hi</p>"
    assert answer["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "text/html"
    assert "FunctionError" not in answer


def test_a_plain_invoke_over_6_mb_is_the_services_error(running: Running) -> None:
    payload = json.dumps({"action": "big", "mb": 7}).encode()
    answer = client(running).invoke(FunctionName="function", Payload=payload)
    assert answer["FunctionError"] == "Unhandled"
    assert json.loads(answer["Payload"].read())["errorType"] == "Function.ResponseSizeTooLarge"


def test_a_stream_over_6_mb_streams_whole(running: Running) -> None:
    _, events = stream(running, {"action": "big", "mb": 7})
    received = list(events)
    size = sum(len(event["PayloadChunk"]["Payload"]) for event in received[:-1])
    assert size == 7 * 1024 * 1024 and received[-1] == {"InvokeComplete": {}}
