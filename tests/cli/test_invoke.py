"""``lambdarig invoke`` against a scripted Invoke API server we own (real sockets)."""

from __future__ import annotations

import base64
import http.server
import io
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from lambdarig.cli import main


@dataclass
class Reply:
    status: int = 200
    body: bytes = b'{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeInvokeAPI:
    url: str
    reply: Reply = field(default_factory=Reply)
    requests: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def api() -> Iterator[FakeInvokeAPI]:
    state = FakeInvokeAPI(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append((self.path, dict(self.headers.items()), body))
            self.send_response(state.reply.status)
            for name, value in state.reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(state.reply.body)))
            self.end_headers()
            self.wfile.write(state.reply.body)

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _Stdin(io.TextIOWrapper):
    def isatty(self) -> bool:
        return False


def _stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", _Stdin(io.BytesIO(data)))


def test_prints_payload_and_sends_event_file(
    api: FakeInvokeAPI, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    event = tmp_path / "event.json"
    event.write_bytes(b'{"name": "Ada"}')
    assert main(["invoke", "--url", api.url, "--event", str(event)]) == 0
    assert capsysbinary.readouterr().out == b'{"ok": true}\n'
    path, headers, body = api.requests[0]
    assert path == "/2015-03-31/functions/function/invocations"
    assert body == b'{"name": "Ada"}'
    assert "X-Amz-Log-Type" not in headers


def test_reads_piped_stdin_and_names_the_function(
    api: FakeInvokeAPI, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    _stdin(monkeypatch, b'{"from": "stdin"}')
    assert main(["invoke", "my-fn", "--url", api.url + "/"]) == 0
    path, _, body = api.requests[0]
    assert (path, body) == ("/2015-03-31/functions/my-fn/invocations", b'{"from": "stdin"}')


def test_tail_goes_to_stderr_and_function_error_exits_1(
    api: FakeInvokeAPI, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    logs = "START RequestId: r\nboom\nEND RequestId: r\n"
    api.reply = Reply(
        body=b'{"errorMessage": "boom", "errorType": "ValueError"}',
        headers={
            "X-Amz-Function-Error": "Unhandled",
            "X-Amz-Log-Result": base64.b64encode(logs.encode()).decode(),
        },
    )
    _stdin(monkeypatch, b"")
    assert main(["invoke", "--url", api.url, "--tail", "--event", "-"]) == 1
    captured = capsysbinary.readouterr()
    assert captured.out == b'{"errorMessage": "boom", "errorType": "ValueError"}\n'
    assert captured.err == logs.encode()
    _, headers, body = api.requests[0]
    assert headers["X-Amz-Log-Type"] == "Tail" and body == b"{}"


def test_async_sends_event_invocation_type(
    api: FakeInvokeAPI, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    api.reply = Reply(status=202, body=b"")
    assert main(["invoke", "--url", api.url, "--async", "--event", "/dev/null"]) == 0
    assert api.requests[0][1]["X-Amz-Invocation-Type"] == "Event"
    assert capsysbinary.readouterr().out == b""


def test_service_error_is_one_sentence(
    api: FakeInvokeAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    api.reply = Reply(
        status=404,
        body=b'{"Type":"User","Message":"Function not found: arn:aws:lambda:r:0:function:x"}',
        headers={"x-amzn-ErrorType": "ResourceNotFoundException"},
    )
    assert main(["invoke", "x", "--url", api.url, "--event", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        "lambdarig: error: expected the invoke to succeed, got HTTP 404 ResourceNotFoundException: "
    )
    assert "Function not found" in err and err.count("\n") == 1


def test_unreachable_emulator_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"  # bound, not listening: refused
        assert main(["invoke", "--url", url, "--event", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lambdarig: error: expected an emulator at {url}/2015-03-31/")
    assert "is `lambdarig serve` running?" in err and err.count("\n") == 1


def test_missing_event_file_is_one_sentence(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "--event", "/nonexistent/e.json"]) == 2
    assert capsys.readouterr().err == (
        "lambdarig: error: expected a readable event file, got '/nonexistent/e.json' "
        "(No such file or directory)\n"
    )


def test_console_script_end_to_end(api: FakeInvokeAPI) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "lambdarig.cli", "invoke", "--url", api.url],
        input=json.dumps({"n": 1}).encode(),
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, b'{"ok": true}\n')
    assert api.requests[0][2] == b'{"n": 1}'


def test_against_our_emulator_end_to_end() -> None:
    from lambdarig.testing import FunctionSpec, LambdaFunction, ProcessRegistry
    from tests.testing.conftest import FIXTURES, make_stack

    registry = ProcessRegistry()
    spec = FunctionSpec.build("app.handler", code=FIXTURES / "app")
    with LambdaFunction(spec, make_stack("ours+lambdarig").settings, registry) as fn:
        command = [sys.executable, "-m", "lambdarig.cli", "invoke", "--url", fn.endpoint_url]
        ok = subprocess.run(
            [*command, "--tail"], input=b'{"n": 1}', capture_output=True, timeout=60, check=False
        )
        failed = subprocess.run(
            command, input=b'{"fail": "boom"}', capture_output=True, timeout=60, check=False
        )
    registry.check()
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["echo"] == {"n": 1}
    assert b'handling {"n": 1}\n' in ok.stderr and b"REPORT RequestId: " in ok.stderr
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorMessage"] == "boom"


def test_event_piped_into_invoke_against_lambdarig_serve(tmp_path: Path) -> None:
    """``lambdarig event sqs ... | lambdarig invoke --tail`` against ``lambdarig serve``."""
    from tests.rie_server.emulator_process import emulator
    from tests.testing.conftest import FIXTURES

    cli = (sys.executable, "-m", "lambdarig.cli")
    serve = ["serve", "app.handler", "--code", str(FIXTURES / "app"), "--port", "0"]
    with emulator(serve, tmp_path, entry=cli) as served:
        event = subprocess.Popen(
            [*cli, "event", "sqs", "--body", '{"id": 7}', "--seed", "1"], stdout=subprocess.PIPE
        )
        assert event.stdout is not None
        try:
            invoked = subprocess.run(
                [*cli, "invoke", "--url", served.url, "--tail"],
                stdin=event.stdout,
                capture_output=True,
                timeout=60,
                check=False,
            )
        finally:
            event.stdout.close()
            assert event.wait(timeout=30) == 0
    assert invoked.returncode == 0, invoked.stderr
    records = json.loads(invoked.stdout)["echo"]["Records"]
    assert [json.loads(record["body"]) for record in records] == [{"id": 7}]
    assert records[0]["eventSource"] == "aws:sqs"
    assert 'handling {"Records": [{' in invoked.stderr.decode()
    assert b"REPORT RequestId: " in invoked.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[::1", "expected --url like http://127.0.0.1:9000, got 'http://[::1' ("),
        ("notaurl", "expected --url like http://127.0.0.1:9000, got 'notaurl'\n"),
        (
            "ftp://127.0.0.1:21",
            "expected --url like http://127.0.0.1:9000, got 'ftp://127.0.0.1:21'\n",
        ),
    ],
)
def test_unusable_url_is_one_sentence(
    url: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["invoke", "--url", url, "--event", "/dev/null"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lambdarig: error: " + message) and err.count("\n") == 1


def test_default_url_is_where_lambdarig_serve_listens() -> None:
    from lambdarig.cli import build_parser
    from lambdarig.cli.invoke import DEFAULT_URL

    serve = build_parser().parse_args(["serve", "app.handler"])
    assert DEFAULT_URL == f"http://{serve.host}:{serve.port}"
