"""A Function URL with ``InvokeMode: RESPONSE_STREAM`` through a real ``lambdarig serve -t``.

The template is written as ``sam init`` writes one; the handler streams with lambdarig's runtime
client. httpx reads the answer as it arrives: the first chunk comes while the handler still waits
for a file the test creates only after reading it; the prelude's status, headers and cookies
open the answer; a hostile prelude is the Function URL's 502; a failure after the head ends the
body incomplete; a caller that hangs up does not stop the function; a ``HEAD`` request gets the
head and no body.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.probes import wait_until
from tests.rie_server.emulator_process import ROOT, Running, emulator
from tests.rie_server.fronts.raw_http import dechunked, raw_exchange

SERVE = (str(Path(sys.executable).parent / "lambdarig"), "serve")
RUNTIME = f"python3.{sys.version_info[1]}"
URL_LINE = re.compile(r"Function URL\s+ANY\s+(http://\S+)/ \(any path, streamed\)")

TEMPLATE = f"""\
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: >
  stream-app

  Sample SAM Template for stream-app

# More info about Globals: https://github.com/awslabs/serverless-application-model/blob/master/docs/globals.rst
Globals:
  Function:
    Timeout: 20

Resources:
  StreamFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: stream_function/
      Handler: app.lambda_handler
      Runtime: {RUNTIME}
      Architectures:
        - x86_64
      FunctionUrlConfig:
        AuthType: NONE
        InvokeMode: RESPONSE_STREAM

Outputs:
  StreamFunction:
    Description: "Stream Lambda Function ARN"
    Value: !GetAtt StreamFunction.Arn
"""

APP = r"""
import os, time
from lambdarig.runtime_client import StreamingResponse, http_response_stream

PRELUDE = "application/vnd.awslambda.http-integration-response"
NULS = b"\x00" * 8


def wait_for(path):
    deadline = time.monotonic() + 20  # the function's own bounded wait for the test
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)


def lambda_handler(event, context):
    path = event["rawPath"]
    query = event.get("queryStringParameters") or {}
    if path == "/gate":
        def body():
            yield "first,"
            wait_for(query["gate"])
            yield "last"
        headers = {"Content-Type": "text/plain", "X-Custom": "yes", "Content-Length": "99"}
        return http_response_stream(
            body(), status_code=201, headers=headers, cookies=["a=1; Path=/", "b=2"]
        )
    if path == "/plain":
        return StreamingResponse(iter([b"<p>", b"hi</p>"]), "text/html")
    if path == "/split":  # the prelude and its delimiter arrive in pieces
        parts = [b'{"statusCode": 4', b'04, "headers": {"X-A": "1"}}', b"\x00" * 3, b"\x00" * 5]
        return StreamingResponse(iter([*parts, b"body"]), PRELUDE)
    if path == "/fail":
        def failing():
            yield "partial"
            wait_for(query["gate"])
            raise ValueError("boom mid-stream")
        return http_response_stream(failing(), status_code=200)
    if path == "/raise":
        raise ValueError("boom before the first byte")
    if path == "/bad-value":
        prelude = b'{"statusCode": 200, "headers": {"X-Bad": "a\\r\\nInjected: 1"}}'
        return StreamingResponse(iter([prelude, NULS, b"body"]), PRELUDE)
    if path == "/bad-name":
        prelude = b'{"statusCode": 200, "headers": {"X\\u0001Bad": "v"}}'
        return StreamingResponse(iter([prelude, NULS, b"body"]), PRELUDE)
    if path == "/bad-cookie":
        prelude = b'{"statusCode": 200, "cookies": ["a=1\\u0000"]}'
        return StreamingResponse(iter([prelude, NULS, b"body"]), PRELUDE)
    if path == "/bad-status":
        return StreamingResponse(iter([b'{"statusCode": "teapot"}', NULS]), PRELUDE)
    if path == "/not-json":
        return StreamingResponse(iter([b"<html>", NULS, b"body"]), PRELUDE)
    if path == "/huge-prelude":
        return StreamingResponse((b"a" * 65536 for _ in range(100)), PRELUDE)
    if path == "/unterminated":
        return StreamingResponse(iter([b'{"statusCode": 200}']), PRELUDE)
    if path == "/hangup":
        def long():
            yield "x" * 10
            wait_for(query["gate"])
            for _ in range(20):
                yield "y" * 100_000
            with open(query["marker"] + ".part", "w") as f:  # the test waits for the name
                f.write("ran to the end")
            os.replace(query["marker"] + ".part", query["marker"])
        return http_response_stream(long(), status_code=200)
    return {"statusCode": 200, "body": "buffered"}
"""


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    project = tmp_path_factory.mktemp("stream-app")
    (project / "template.yaml").write_text(TEMPLATE)
    (project / "stream_function").mkdir()
    (project / "stream_function" / "app.py").write_text(APP)
    (project / "stream_function" / "requirements.txt").write_text("")
    argv = ["-t", str(project / "template.yaml"), "--port", "0", "--http-port", "0"]
    with emulator(argv, project, cwd=ROOT, entry=SERVE) as serving:
        yield serving


@pytest.fixture(scope="module")
def url(running: Running) -> str:
    for line in running.stderr_lines:
        match = URL_LINE.search(line)
        if match:
            return match.group(1)
    raise AssertionError(f"no streamed Function URL in the start table: {running.stderr_lines!r}")


def read_at_least(chunks: Iterator[bytes], size: int) -> bytes:
    data = b""
    while len(data) < size:
        data += next(chunks)
    return data


def test_chunks_arrive_before_the_handler_finishes(url: str, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{url}/gate", params={"gate": str(gate)}) as response:
            assert response.status_code == 201
            assert response.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in response.headers  # the front frames the answer
            assert response.headers["content-type"] == "text/plain"
            assert response.headers["x-custom"] == "yes"
            assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]
            assert response.headers["x-amzn-requestid"]
            chunks = response.iter_raw()
            assert read_at_least(chunks, 6) == b"first,"
            gate.touch()  # only now may the handler yield its last chunk
            assert b"".join(chunks) == b"last"


def test_a_stream_without_prelude_has_the_functions_content_type(url: str) -> None:
    response = httpx.get(f"{url}/plain", timeout=30)
    assert (response.status_code, response.content) == (200, b"<p>hi</p>")
    assert response.headers["content-type"] == "text/html"


def test_a_prelude_in_pieces(url: str) -> None:
    response = httpx.get(f"{url}/split", timeout=30)
    assert (response.status_code, response.content) == (404, b"body")
    assert response.headers["x-a"] == "1"


def test_a_result_that_was_not_streamed_is_passed_through(url: str) -> None:
    response = httpx.get(f"{url}/other", timeout=30)
    assert response.status_code == 200
    assert response.json() == {"statusCode": 200, "body": "buffered"}


def test_an_error_before_the_first_byte_is_the_url_error(url: str) -> None:
    response = httpx.get(f"{url}/raise", timeout=30)
    assert (response.status_code, response.content) == (502, b"Internal Server Error")


@pytest.mark.parametrize(
    "path",
    [
        "/bad-value",
        "/bad-name",
        "/bad-cookie",
        "/bad-status",
        "/not-json",
        "/huge-prelude",
        "/unterminated",
    ],
)
def test_a_hostile_prelude_is_the_url_error_never_forwarded(url: str, path: str) -> None:
    response = httpx.get(f"{url}{path}", timeout=30)
    assert (response.status_code, response.content) == (502, b"Internal Server Error")
    assert "injected" not in response.headers and "x-bad" not in response.headers


def test_an_error_after_the_head_ends_the_body_incomplete(url: str, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    received = b""
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{url}/fail", params={"gate": str(gate)}) as response:
            assert response.status_code == 200
            chunks = response.iter_raw()
            received = read_at_least(chunks, 7)
            gate.touch()
            with pytest.raises(httpx.RemoteProtocolError):
                for chunk in chunks:
                    received += chunk
    assert received == b"partial"
    assert httpx.get(f"{url}/plain", timeout=30).status_code == 200  # the front serves on


def test_a_caller_hanging_up_does_not_stop_the_function(
    url: str, running: Running, tmp_path: Path
) -> None:
    gate, marker = tmp_path / "gate", tmp_path / "marker"
    params = {"gate": str(gate), "marker": str(marker)}
    reports = running.stdout().count("REPORT RequestId")
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{url}/hangup", params=params) as response:
            assert read_at_least(response.iter_raw(), 10) == b"x" * 10
    gate.touch()  # the caller is gone: the function streams on into nothing
    wait_until(marker.exists, "the function to run to its end", timeout_s=30)
    assert marker.read_text() == "ran to the end"
    wait_until(lambda: running.stdout().count("REPORT RequestId") > reports, "its REPORT line")
    assert httpx.get(f"{url}/plain", timeout=30).status_code == 200  # the front serves on


def test_a_head_request_gets_the_head_and_no_body(
    url: str, running: Running, tmp_path: Path
) -> None:
    """RFC 9110 §9.3.2; the answer ends at the head, while the function still waits for the gate
    (it is touched only after the front closed the connection), and the function runs on."""
    gate = tmp_path / "gate"
    reports = running.stdout().count("REPORT RequestId")
    target = f"/gate?gate={quote(str(gate))}"
    request = f"HEAD {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    head, end, rest = raw_exchange(url, request.encode()).partition(b"\r\n\r\n")
    assert (end, rest) == (b"\r\n\r\n", b"")  # the head, then nothing before the close
    status, *lines = head.decode().split("\r\n")
    assert status == "HTTP/1.1 201 Created"
    fields = [tuple(line.split(": ", 1)) for line in lines]
    assert ("Transfer-Encoding", "chunked") in fields and ("X-Custom", "yes") in fields
    assert [value for name, value in fields if name == "set-cookie"] == ["a=1; Path=/", "b=2"]
    assert not gate.exists()
    gate.touch()
    wait_until(lambda: running.stdout().count("REPORT RequestId") > reports, "its REPORT line")


def test_a_head_request_keeps_the_connection_for_the_next_one(url: str) -> None:
    pipelined = (
        b"HEAD /plain HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    first, _, second = raw_exchange(url, pipelined).partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200 OK\r\n") and b"Content-Type: text/html" in first
    assert second.startswith(b"HTTP/1.1 200 OK\r\n")  # no body bytes between the two
    _, _, body = second.partition(b"\r\n\r\n")
    assert dechunked(body) == b"<p>hi</p>"
    assert httpx.head(f"{url}/plain", timeout=30).content == b""
