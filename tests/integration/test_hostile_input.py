"""Hostile input end to end: an emulator process, a real runtime (ours; awslambdaric as ``peers``),
and requests no well-behaved client would send (raw sockets where clients refuse to send them)."""

from __future__ import annotations

import base64
import json
import socket
import sys
from pathlib import Path

import httpx

from tests.integration.conftest import HANDLERS, LOCAL, invoke_url
from tests.rie_server.emulator_process import Running, emulator

FAKE_RUNTIME = Path(__file__).resolve().parents[1] / "rie_server" / "fixtures" / "fake_runtime.py"
TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
FORGED = b'{}\r\nContent-Length: 17\r\n\r\n{"forged":"body"}'


def raw_invoke(running: Running, header_line: bytes, body: bytes) -> tuple[int, bytes]:
    """POST an invoke with ``header_line`` sent byte for byte; (status, body) of the answer."""
    host, port = running.url[len("http://") :].rsplit(":", 1)
    path = invoke_url(running)[len(running.url) :]
    with socket.create_connection((host, int(port)), timeout=30) as conn:
        conn.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
            + header_line
            + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, content = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), content


def runtime_pid(running: Running) -> int:
    """The pid of the runtime serving an invoke now (it answers normally)."""
    event = {"action": "sleep", "seconds": 0}
    response = httpx.post(invoke_url(running), json=event, timeout=30)
    assert response.status_code == 200 and "X-Amz-Function-Error" not in response.headers
    pid: int = response.json()["pid"]
    return pid


def test_a_client_context_cannot_replace_the_event(served: Running) -> None:
    """It used to: the decoded context's CRLFs added a Content-Length and a body to /next."""
    header = {"X-Amz-Client-Context": base64.b64encode(FORGED).decode()}
    response = httpx.post(invoke_url(served), content=b'{"real":"event"}', headers=header)
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    assert response.json() == {
        "Type": "User",
        "Message": "Client context must be a valid Base64-encoded JSON object.",
    }
    echoed = httpx.post(invoke_url(served), content=b'{"real":"event"}', timeout=30)
    assert echoed.json() == {"real": "event"}


def test_a_pretty_printed_client_context_reaches_the_handler(served: Running) -> None:
    pretty = json.dumps({"custom": {"k": "v"}}, indent=2).replace("\n", "\r\n").encode()
    header = {"X-Amz-Client-Context": base64.b64encode(pretty).decode()}
    response = httpx.post(invoke_url(served), json={"action": "context"}, headers=header)
    assert response.status_code == 200 and "X-Amz-Function-Error" not in response.headers
    assert response.json()["client_context"] == {"k": "v"}


def test_a_nul_in_the_trace_header_is_400_and_the_runtime_lives_on(served: Running) -> None:
    """It used to reach /next and kill both runtime clients (Runtime.ExitError)."""
    pid = runtime_pid(served)
    status, body = raw_invoke(
        served, b"X-Amzn-Trace-Id: " + TRACE.encode().replace(b";", b"\x00;", 1), b"{}"
    )
    assert status == 400  # refused by the HTTP layer (http.grammar), before any Lambda code
    assert b"control character" in body
    assert runtime_pid(served) == pid


def test_a_malformed_trace_header_is_replaced_not_forwarded(served: Running) -> None:
    response = httpx.post(
        invoke_url(served),
        json={"action": "context"},
        headers={"X-Amzn-Trace-Id": "Root=1-bogus;Parent=1"},
        timeout=30,
    )
    trace = response.json()["trace"]
    assert trace != "Root=1-bogus;Parent=1"
    assert trace.startswith("Root=1-") and trace.endswith(";Sampled=0")


def test_a_deeply_nested_body_is_400_not_a_500(served: Running) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = httpx.post(invoke_url(served), content=body, timeout=30)
    assert response.status_code == 400
    assert response.headers["x-amzn-ErrorType"] == "InvalidRequestContentException"
    assert "Document nesting depth (1001) exceeds" in response.json()["Message"]


def test_a_runtime_cannot_forge_the_emulators_log_lines(tmp_path: Path) -> None:
    """A bare LF in Lambda-Runtime-Function-Error-Type used to print a fake WARNING line."""
    argv = [
        *LOCAL,
        "--async-retry-delays",
        "0.05,0.05",
        sys.executable,
        str(FAKE_RUNTIME),
        "forge_error_type",
    ]
    with emulator(argv, tmp_path) as running:
        url = f"{running.url}/2015-03-31/functions/function/invocations"
        response = httpx.post(url, content=b"{}", headers={"X-Amz-Invocation-Type": "Event"})
        assert response.status_code == 202
        dropped = running.wait_stderr(r"; dropped$")
        printed = running.stdout().splitlines() + running.stderr_lines
    assert [line for line in printed if line.startswith("lambdarig-rie: WARNING: forged")] == []
    assert dropped.endswith("failed after 3 attempt(s) (Runtime.Unknown); dropped")
    assert len([line for line in printed if line.startswith("STATUS 400 ")]) == 3


def test_in_rie_mode_the_client_context_cannot_replace_the_event(
    runtime: list[str], tmp_path: Path
) -> None:
    """aws-lambda-rie forwards any decoded text; its line breaks reach the runtime as spaces."""
    argv = [*LOCAL, "--compat", "rie", *runtime, "app.handler"]
    with emulator(argv, tmp_path, cwd=HANDLERS) as running:
        header = {"X-Amz-Client-Context": base64.b64encode(FORGED).decode()}
        url = f"{running.url}/2015-03-31/functions/function/invocations"
        response = httpx.post(url, content=b'{"real":"event"}', headers=header, timeout=30)
    assert response.status_code == 200
    assert response.json()["errorType"] == "Runtime.LambdaContextUnmarshalError"
