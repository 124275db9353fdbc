"""Response streaming end to end: the real emulator, our runtime client, a generator handler.

boto3's ``invoke_with_response_stream`` reads chunks as the function yields them (the handler
waits for a file the test creates only after it saw the first chunk), a mid-stream failure ends
in ``InvokeComplete`` with ``ErrorCode``/``ErrorDetails``, a plain ``Invoke`` buffers (with the
function's content type) up to 6 MB, then answers ``Function.ResponseSizeTooLarge``.

Limits, as the service documents them
(https://docs.aws.amazon.com/lambda/latest/dg/configuration-response-streaming.html): past the
first 6 MB the stream is held to 2 MiB/s (the emulator's other tests turn that off with
``--no-stream-throttle``); a stream past 200 MB is cut there and ends ``InvokeComplete`` with
``Function.ResponseSizeTooLarge``; a function that times out mid-stream ends it with
``Sandbox.Timedout`` and its REPORT line says so.
"""

from __future__ import annotations

import json
import os
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from lambdarig.rie_server.invoke.streaming import BURST_BYTES, RATE_BYTES_PER_S
from lambdarig.rie_server.runtime.streaming import MAX_STREAM_SIZE
from tests.probes import wait_until
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
        mib = b"x" * (1024 * 1024)
        return (mib for _ in range(event["mb"]))
    if action == "stall":
        def stalling():
            yield b"one,"
            yield b"two"
            time.sleep(30)  # past the function's timeout
            yield b"never"
        return stalling()
    return StreamingResponse(iter([b"<p>", b"hi</p>"]), "text/html")
"""
LOCAL = [
    "--runtime-interface-emulator-address",
    "127.0.0.1:0",
    "--runtime-api-address",
    "127.0.0.1:0",
]


def start(factory: pytest.TempPathFactory, *flags: str) -> Iterator[Running]:
    code = factory.mktemp("stream_app")
    (code / "stream_app.py").write_text(APP)
    argv = [*LOCAL, *flags, *OUR_RUNTIME, "stream_app.handler"]
    path = os.pathsep.join(filter(None, [str(code), os.environ.get("PYTHONPATH")]))
    with emulator(argv, code, cwd=code, env={"PYTHONPATH": path}) as emulator_running:
        yield emulator_running


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from start(tmp_path_factory, "--no-stream-throttle")


@pytest.fixture(scope="module")
def throttled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from start(tmp_path_factory, "--timeout", "30")


@pytest.fixture(scope="module")
def short_timeout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    yield from start(tmp_path_factory, "--no-stream-throttle", "--timeout", "1")


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


STREAM_PATH = "/2021-11-15/functions/function/response-streaming-invocations"


class Events:
    """An ``InvokeWithResponseStream`` answer read as it arrives: when each payload byte came
    (``arrivals``: (seconds since the request, payload bytes so far)) and the final event."""

    def __init__(self, running: Running, event: dict[str, Any]) -> None:
        self.arrivals: list[tuple[float, int]] = []
        self.complete: dict[str, Any] | None = None
        buffer = b""
        size = 0
        started = time.monotonic()
        body = json.dumps(event).encode()
        with httpx.stream("POST", running.url + STREAM_PATH, content=body, timeout=120) as answer:
            assert answer.status_code == 200
            for data in answer.iter_raw():
                buffer += data
                while len(buffer) >= 12:
                    total, headers_size = struct.unpack(">II", buffer[:8])
                    if len(buffer) < total:
                        break
                    headers = buffer[12 : 12 + headers_size]
                    payload = buffer[12 + headers_size : total - 4]
                    buffer = buffer[total:]
                    if b"InvokeComplete" in headers:
                        self.complete = json.loads(payload)
                    else:
                        size += len(payload)
                        self.arrivals.append((time.monotonic() - started, size))
        assert buffer == b""

    @property
    def size(self) -> int:
        return self.arrivals[-1][1] if self.arrivals else 0


def test_past_the_first_6_mb_the_stream_keeps_to_2_mib_per_s(throttled: Running) -> None:
    read = Events(throttled, {"action": "big", "mb": 9})  # 6 MiB, then 3 MiB: at least 1.5 s
    assert read.size == 9 * 1024 * 1024 and read.complete == {}
    first, last = read.arrivals[0][0], read.arrivals[-1][0]
    past_burst = read.size - BURST_BYTES
    assert last - first >= 1.0, f"3 MiB past the burst took {last - first:.2f} s"
    rate = past_burst / (last - first)
    assert rate <= RATE_BYTES_PER_S * 1.05, f"{rate / 2**20:.2f} MiB/s past the burst"


def test_a_stream_past_200_mb_is_cut_there(running: Running) -> None:
    read = Events(running, {"action": "big", "mb": 201})
    assert read.size == MAX_STREAM_SIZE == 200 * 1024 * 1024
    assert read.complete is not None
    assert read.complete["ErrorCode"] == "Function.ResponseSizeTooLarge"
    details = json.loads(read.complete["ErrorDetails"])
    assert details["errorMessage"] == (
        "Response payload size exceeded maximum allowed payload size (209715200 bytes)."
    )


def test_a_timeout_mid_stream_ends_it_with_the_timeout(short_timeout: Running) -> None:
    read = Events(short_timeout, {"action": "stall"})
    assert read.size == len(b"one,two")
    assert read.complete is not None
    assert read.complete["ErrorCode"] == "Sandbox.Timedout"
    details = json.loads(read.complete["ErrorDetails"])
    assert details["errorType"] == "Sandbox.Timedout"
    assert details["errorMessage"].endswith("Task timed out after 1.00 seconds")
    wait_until(lambda: "REPORT" in short_timeout.stdout(), "the REPORT line")
    report = [line for line in short_timeout.stdout().splitlines() if "REPORT" in line]
    assert report and "Status: timeout" in report[-1]
