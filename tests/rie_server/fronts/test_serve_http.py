"""``lambdarig serve HANDLER --http http``: a real emulator and runtime behind the front."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.rie_server.emulator_process import ROOT, Running, emulator
from tests.rie_server.fronts.raw_http import raw_exchange

SERVE = (sys.executable, "-m", "lambdarig.cli", "serve")
FRONT = r"^lambdarig: HTTP front \((\w+)\) listening on (http://\S+)$"

HANDLER = """
import base64, json, time

def handler(event, context):
    path = event["rawPath"]
    if path == "/echo":
        return {"statusCode": 200, "headers": {"content-type": "application/json"},
                "body": json.dumps(event)}
    if path == "/string":
        return "plain words"
    if path == "/object":
        return {"answer": 42}
    if path == "/malformed":
        return {"statusCode": "teapot"}
    if path == "/raise":
        raise ValueError("boom")
    if path == "/sleep":
        time.sleep(1)
        return {"statusCode": 200, "body": "slept"}
    if path == "/cookies":
        return {"statusCode": 201, "cookies": ["a=1; Path=/", "b=2"], "body": "set"}
    if path == "/binary":
        body = base64.b64decode(event["body"]) if event.get("isBase64Encoded") else b""
        return {"statusCode": 200, "headers": {"content-type": "application/octet-stream"},
                "isBase64Encoded": True, "body": base64.b64encode(body[::-1]).decode()}
    return {"statusCode": 404, "body": "no such test path"}
"""


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("front")
    code = tmp / "code"
    code.mkdir()
    (code / "app.py").write_text(HANDLER)
    argv = [
        "app.handler",
        "--code",
        str(code),
        "--port",
        "0",
        "--http",
        "http",
        "--http-port",
        "0",
        "--provisioned",
        "4",
        "--timeout",
        "10",
    ]
    with emulator(argv, tmp, cwd=ROOT, entry=SERVE) as running:
        yield front_url(running)


def front_url(running: Running) -> str:
    line = running.wait_stderr(FRONT)
    match = re.match(FRONT, line)
    assert match is not None and match.group(1) == "http"
    return match.group(2)


def test_request_becomes_a_v2_event(front: str) -> None:
    response = httpx.post(
        f"{front}/echo?a=1&a=2&b=x",
        content=b'{"k": 1}',
        headers={"Content-Type": "application/json", "Cookie": "c1=v1; c2=v2", "X-Test": "t"},
        timeout=30,
    )
    assert response.status_code == 200
    event = response.json()
    assert event["version"] == "2.0"
    assert event["rawPath"] == "/echo"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["cookies"] == ["c1=v1", "c2=v2"]
    assert event["headers"]["x-test"] == "t"
    assert event["body"] == '{"k": 1}' and event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["requestId"] == response.headers["apigw-requestid"]


def test_binary_in_and_out(front: str) -> None:
    response = httpx.post(
        f"{front}/binary",
        content=b"\x00\x01\xff",
        headers={"Content-Type": "application/octet-stream"},
        timeout=30,
    )
    assert response.status_code == 200
    assert response.content == b"\xff\x01\x00"


def test_cookies_become_set_cookie_headers(front: str) -> None:
    response = httpx.get(f"{front}/cookies", timeout=30)
    assert response.status_code == 201
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2"]


def test_v2_inference(front: str) -> None:
    text = httpx.get(f"{front}/string", timeout=30)
    assert (text.status_code, text.content) == (200, b"plain words")
    assert text.headers["content-type"] == "application/json"
    obj = httpx.get(f"{front}/object", timeout=30)
    assert (obj.status_code, obj.json()) == (200, {"answer": 42})


def test_a_head_request_gets_the_head_and_no_body(front: str) -> None:
    # RFC 9110 §9.3.2: the head a GET would get (its Content-Length too), no body.
    request = b"HEAD /string HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    head, end, rest = raw_exchange(front, request).partition(b"\r\n\r\n")
    assert (end, rest) == (b"\r\n\r\n", b"")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nContent-Length: 11\r\n" in head


def test_malformed_and_raising_functions(front: str) -> None:
    for path in ("/malformed", "/raise"):
        response = httpx.get(f"{front}{path}", timeout=30)
        assert (response.status_code, response.content) == (
            500,
            b'{"message":"Internal Server Error"}',
        )


def test_concurrent_requests_run_in_parallel_environments(front: str) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        responses = list(pool.map(lambda _: httpx.get(f"{front}/sleep", timeout=30), range(4)))
    elapsed = time.monotonic() - started
    assert [r.content for r in responses] == [b"slept"] * 4
    assert elapsed < 2.0, f"4 requests to a 1 s handler took {elapsed:.2f} s"


def test_http_port_out_of_range_is_a_one_line_error() -> None:
    result = subprocess.run(
        [*SERVE, "app.handler", "--http", "http", "--http-port", "70000"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr == "lambdarig: error: expected --http-port in 0-65535, got 70000\n"
    unknown = subprocess.run(
        [*SERVE, "app.handler", "--http", "soap"], capture_output=True, text=True, timeout=30
    )
    assert unknown.returncode == 2
    assert "invalid choice: 'soap'" in unknown.stderr
    assert "Traceback" not in unknown.stderr


def _serve_with_a_port_taken(
    flag: str, timeout: float
) -> tuple[int, subprocess.CompletedProcess[str]]:
    """``serve --http http`` with ``flag`` (``--port`` or ``--http-port``) naming a port already
    listening and the other port 0: that port, and how serve ended."""
    ports = {"--port": "0", "--http-port": "0"}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports[flag] = str(port)
        result = subprocess.run(
            [*SERVE, "app.handler", "--code", str(ROOT / "examples" / "hello"), "--http", "http"]
            + [word for pair in ports.items() for word in pair],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    return port, result


def test_an_invoke_api_port_in_use_names_the_port_and_the_flag() -> None:
    port, result = _serve_with_a_port_taken("--port", timeout=30)
    assert result.returncode == 2
    assert result.stderr == (
        f"lambdarig: error: expected to listen on 127.0.0.1:{port}, got: address already in use "
        "(the Invoke API address; choose another with --port)\n"
    )


def test_the_fronts_own_port_in_use_names_its_flag() -> None:
    port, result = _serve_with_a_port_taken("--http-port", timeout=60)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"lambdarig: error: expected to listen on 127.0.0.1:{port}, got: address already in use "
        "(the HTTP front address; choose another with --http-port)"
    )
    assert "Traceback" not in result.stderr


def test_binary_body_survives_base64(front: str) -> None:
    blob = bytes(range(256))
    response = httpx.post(
        f"{front}/binary", content=blob, headers={"Content-Type": "image/png"}, timeout=30
    )
    assert response.content == blob[::-1]
