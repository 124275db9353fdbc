"""loop.run against the fake Runtime API over real sockets, with the real Invoker."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lambdarig import runtime_api as wire
from lambdarig.runtime_client import loop, marshal
from lambdarig.runtime_client.client import RuntimeAPIClient
from lambdarig.runtime_client.config import RuntimeConfig
from lambdarig.runtime_client.errors import HandlerModuleNotFound
from lambdarig.runtime_client.invoke import Invoker
from lambdarig.runtime_client.sinks import LogSink
from tests.runtime_client.fake_runtime_api import FakeRuntimeAPI, Reply


class RecordingSink(LogSink):
    """A LogSink that keeps what it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.errors: list[list[str]] = []

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        self.lines.append(msg)

    def _write_error(self, lines: list[str]) -> None:
        self.errors.append(lines)


def invocation(request_id: str, body: bytes = b"{}", **kwargs: Any) -> wire.Invocation:
    return wire.Invocation(request_id, 4102444800000, "arn:aws:lambda:::function:f", body, **kwargs)


def end_of_script(fake: FakeRuntimeAPI) -> None:
    """Make the next /next fail so the loop ends (status 1)."""
    fake.queue_next(Reply(500, b'{"errorType":"InternalServerError"}'))


def run_loop(
    fake: FakeRuntimeAPI,
    client: RuntimeAPIClient,
    handler: Callable[..., Any],
    sink: RecordingSink,
    **config: Any,
) -> int:
    cfg = RuntimeConfig(fake.address, "app.handler", **config)
    return loop.run(
        cfg,
        client,
        sink,
        load_handler=lambda name: handler,
        make_invoker=lambda h, c, s: Invoker(h, c, s, environ={}),
    )


def test_serves_invocations_until_the_api_fails(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    def handler(event: Any, context: Any) -> Any:
        if event.get("fail"):
            raise ValueError("boom")
        return {"echo": event, "id": context.aws_request_id}

    fake_api.queue_invocation(invocation("r1", b'{"a": 1}', invocation_id="n1"))
    fake_api.queue_invocation(invocation("r2", b'{"fail": true}'))
    end_of_script(fake_api)
    sink = RecordingSink()

    assert run_loop(fake_api, client, handler, sink) == 1

    methods = [(r.method, r.path) for r in fake_api.requests]
    assert methods == [
        ("GET", wire.PATH_NEXT),
        ("POST", "/2018-06-01/runtime/invocation/r1/response"),
        ("GET", wire.PATH_NEXT),
        ("POST", "/2018-06-01/runtime/invocation/r2/error"),
        ("GET", wire.PATH_NEXT),
    ]
    response, error = fake_api.posts()
    assert response.body == b'{"echo": {"a": 1}, "id": "r1"}'
    assert response.headers["lambda-runtime-invocation-id"] == "n1"
    body = json.loads(error.body)
    assert (body["errorType"], body["errorMessage"]) == ("ValueError", "boom")
    assert body["requestId"] == "r2"
    assert "lambda-runtime-function-xray-error-cause" in error.headers
    assert sink.errors and sink.errors[0][0] == "[ERROR] ValueError: boom"
    assert sink.lines[-1].startswith(
        "LAMBDA_RUNTIME Runtime API failure, exiting: Request to Lambda Runtime "
        "'/2018-06-01/runtime/invocation/next' endpoint failed. Reason: '500'."
    )


def test_init_error_is_posted_and_ends_with_status_1(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    def broken_loader(name: str) -> Any:
        raise HandlerModuleNotFound(f"Unable to import module '{name}': No module named 'app'")

    sink = RecordingSink()
    cfg = RuntimeConfig(fake_api.address, "app.handler")
    assert loop.run(cfg, client, sink, load_handler=broken_loader) == 1

    (post,) = fake_api.requests
    assert (post.method, post.path) == ("POST", "/2018-06-01/runtime/init/error")
    assert post.headers["lambda-runtime-function-error-type"] == "Runtime.ImportModuleError"
    assert json.loads(post.body) == {
        "errorMessage": "Unable to import module 'app.handler': No module named 'app'",
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }


def test_user_module_exception_at_import_is_an_init_error(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    def loader(name: str) -> Any:
        raise NameError("name 'x' is not defined")

    cfg = RuntimeConfig(fake_api.address, "app.handler")
    assert loop.run(cfg, client, RecordingSink(), load_handler=loader) == 1
    (post,) = fake_api.posts()
    assert post.headers["lambda-runtime-function-error-type"] == "NameError"


def test_a_410_on_a_post_is_logged_and_the_loop_goes_on(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    fake_api.script("POST", wire.response_path("late"), Reply(410, b'{"errorType":"Gone"}'))
    fake_api.queue_invocation(invocation("late"))
    fake_api.queue_invocation(invocation("next"))
    end_of_script(fake_api)
    sink = RecordingSink()

    assert run_loop(fake_api, client, lambda e, c: "ok", sink) == 1

    assert [p.path for p in fake_api.posts()] == [
        "/2018-06-01/runtime/invocation/late/response",
        "/2018-06-01/runtime/invocation/next/response",
    ]
    assert sink.lines[0] == (
        "LAMBDA_RUNTIME Invocation late was already closed by the platform: Request to Lambda "
        "Runtime '/2018-06-01/runtime/invocation/late/response' endpoint failed. Reason: '410'. "
        'Response body: \'{"errorType":"Gone"}\'\n'
    )


def test_other_post_failures_end_the_loop(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    fake_api.script("POST", wire.error_path("r1"), Reply(413, b'{"errorType":"TooLarge"}'))
    fake_api.queue_invocation(invocation("r1"))
    fake_api.queue_invocation(invocation("never-fetched"))
    sink = RecordingSink()

    def fail(event: Any, context: Any) -> Any:
        raise RuntimeError("x")

    assert run_loop(fake_api, client, fail, sink) == 1
    assert [r.method for r in fake_api.requests] == ["GET", "POST"]
    assert "Reason: '413'" in sink.lines[-1]


def test_an_unreachable_api_ends_the_loop(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    fake_api.stop()
    sink = RecordingSink()
    assert run_loop(fake_api, client, lambda e, c: None, sink) == 1
    assert sink.lines[-1].startswith("LAMBDA_RUNTIME Runtime API failure, exiting: could not")


def test_the_invoker_is_prepared_once_before_the_first_invocation(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient
) -> None:
    # When: while the first GET /next waits (tests/runtime_client/test_transport.py and
    # test_cli.py show that ``while_waiting`` runs then, and that json is loaded by it).
    calls: list[str] = []

    class RecordingInvoker(Invoker):
        def prepare(self) -> None:
            calls.append("prepare")
            super().prepare()

    def handler(event: Any, context: Any) -> Any:
        calls.append(context.aws_request_id)
        return event

    fake_api.queue_invocation(invocation("r1"))
    fake_api.queue_invocation(invocation("r2"))
    end_of_script(fake_api)
    cfg = RuntimeConfig(fake_api.address, "app.handler")
    status = loop.run(
        cfg,
        client,
        RecordingSink(),
        load_handler=lambda name: handler,
        make_invoker=lambda h, c, s: RecordingInvoker(h, c, s, environ={}),
    )
    assert status == 1
    assert calls == ["prepare", "r1", "r2"]


def test_a_failed_prepare_is_left_to_the_first_event(
    fake_api: FakeRuntimeAPI, client: RuntimeAPIClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # E.g. a json.py in the task root shadowing the standard library's: the failure is reported
    # as the first invocation's error, as it was before the loop prepared anything.
    def broken_warm(ensure_ascii: bool) -> None:
        raise ImportError("json is shadowed")

    monkeypatch.setattr(marshal, "warm", broken_warm)
    fake_api.queue_invocation(invocation("r1", b'{"a": 1}'))
    end_of_script(fake_api)
    assert run_loop(fake_api, client, lambda event, context: event, RecordingSink()) == 1
    (response,) = fake_api.posts()
    assert response.body == b'{"a": 1}'  # marshal's lazy path still works
