"""invoke: one invocation in, one outcome out (response or awslambdaric's error JSON)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from lambdarig.runtime_api import Invocation
from lambdarig.runtime_client import sinks
from lambdarig.runtime_client.errors import HandlerNotFound
from lambdarig.runtime_client.invoke import (
    UNHANDLED_EXCEPTION_WARNING,
    Invoker,
    init_error_outcome,
)
from tests.runtime_client.handlers import app
from tests.runtime_client.handlers.probe import assert_same_as_awslambdaric
from tests.runtime_client.samples import make_config

DEADLINE = 4102444800000  # 2100-01-01


class RecordingSink(sinks.LogSink):
    def __init__(self) -> None:
        super().__init__()
        self.errors: list[Mapping[str, Any]] = []
        self.lines: list[str] = []

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        self.lines.append(msg)

    def log_error(self, error: Mapping[str, Any]) -> None:
        self.errors.append(error)


def invocation(body: bytes = b"{}", **fields: Any) -> Invocation:
    return Invocation("req-1", DEADLINE, "arn:aws:lambda:us-east-1:1:function:f", body, **fields)


def run(handler: Any, inv: Invocation, environ: dict[str, str] | None = None, **env: str) -> Any:
    sink = RecordingSink()
    invoker = Invoker(
        handler, make_config(**env), sink, environ=environ if environ is not None else {}
    )
    try:
        return invoker.invoke(inv), sink
    finally:
        invoker.close()


def test_json_event_and_json_result() -> None:
    outcome, sink = run(app.echo, invocation(b'{"a": [1, 2]}'))
    assert (outcome.ok, outcome.body, outcome.content_type) == (
        True,
        b'{"a": [1, 2]}',
        "application/json",
    )
    assert outcome.xray_cause is None and outcome.error_type is None and sink.errors == []


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/json; charset=utf-8"])
def test_non_json_content_type_passes_bytes(content_type: str | None) -> None:
    outcome, _ = run(app.echo, invocation(b"\xffraw", content_type=content_type))
    assert (outcome.body, outcome.content_type) == (b"\xffraw", "application/unknown")


def test_unicode_follows_the_execution_env_rule() -> None:
    escaped, _ = run(app.echo, invocation('"h\u00e9"'.encode()))
    raw, _ = run(
        app.echo, invocation('"h\u00e9"'.encode()), AWS_EXECUTION_ENV="AWS_Lambda_python3.12"
    )
    assert escaped.body == b'"h\\u00e9"'
    assert raw.body == '"h\u00e9"'.encode()


def test_handler_exception_becomes_error_json_starting_at_user_code() -> None:
    outcome, sink = run(app.raises, invocation())
    error = json.loads(outcome.body)
    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert error["errorMessage"] == "boom \u00e9" and error["errorType"] == "ValueError"
    assert error["requestId"] == "req-1"
    assert [line.split(", ")[-1].split("\n")[0] for line in error["stackTrace"]] == [
        "in raises",
        "in _deeper",
    ]
    assert outcome.body.startswith(b'{"errorMessage": "boom \\u00e9", "errorType": "ValueError"')
    assert outcome.error_type == "ValueError" and sink.errors == [error]
    cause = json.loads(outcome.xray_cause)
    assert list(cause) == ["working_directory", "exceptions", "paths"]
    assert cause["exceptions"][0]["type"] == "ValueError"
    assert [frame["label"] for frame in cause["exceptions"][0]["stack"]] == ["raises", "_deeper"]
    assert cause["paths"] == [app.__file__]


def test_marshal_error() -> None:
    outcome, _ = run(app.returns_set, invocation())
    assert json.loads(outcome.body) == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": "req-1",
        "stackTrace": [],
    }
    cause = json.loads(outcome.xray_cause)
    assert cause["exceptions"] == [
        {
            "message": "Unable to marshal response: Object of type set is not JSON serializable",
            "type": "LambdaValidationError",
            "stack": [],
        }
    ]


def test_unmarshal_error() -> None:
    outcome, _ = run(app.echo, invocation(b"{"))
    error = json.loads(outcome.body)
    assert error["errorType"] == "Runtime.UnmarshalError"
    assert error["errorMessage"] == (
        "Unable to unmarshal input: Expecting property name enclosed in double quotes or '}': "
        "line 1 column 2 (char 1)"
    )


def test_context_header_errors() -> None:
    outcome, _ = run(app.echo, invocation(client_context="{bad"))
    error = json.loads(outcome.body)
    assert error["errorType"] == "Runtime.LambdaContextUnmarshalError"
    assert error["errorMessage"].startswith(
        "Unable to parse Client Context JSON: Expecting property"
    )


def test_bytes_result_is_raw() -> None:
    outcome, _ = run(app.returns_bytes, invocation())
    assert (outcome.body, outcome.content_type) == (b"\x00raw\xff", "application/unknown")


def test_non_callable_handler_reports_type_error() -> None:
    outcome, _ = run(app.NOT_CALLABLE, invocation())
    error = json.loads(outcome.body)
    assert (error["errorType"], error["errorMessage"]) == (
        "TypeError",
        "'int' object is not callable",
    )
    assert len(error["stackTrace"]) == 1  # like awslambdaric: only the runtime's own frame


def test_trace_id_is_set_and_removed() -> None:
    environ: dict[str, str] = {}
    run(app.echo, invocation(trace_id="Root=1-abc"), environ)
    assert environ == {"_X_AMZN_TRACE_ID": "Root=1-abc"}
    run(app.echo, invocation(), environ)
    assert environ == {}


def test_request_context_is_set_for_logging() -> None:
    seen: list[str | None] = []
    run(lambda event, context: seen.append(sinks.current_request_id()), invocation())
    assert seen == ["req-1"]


def test_init_error_outcome_for_a_fault(caplog: pytest.LogCaptureFixture) -> None:
    sink = RecordingSink()
    outcome = init_error_outcome(HandlerNotFound("Handler 'x' missing on module 'm'"), sink)
    assert outcome.body == (
        b"{\"errorMessage\": \"Handler 'x' missing on module 'm'\", "
        b'"errorType": "Runtime.HandlerNotFound", "requestId": "", "stackTrace": []}'
    )
    assert (outcome.ok, outcome.error_type, outcome.xray_cause) == (
        False,
        "Runtime.HandlerNotFound",
        None,
    )
    assert caplog.messages == [UNHANDLED_EXCEPTION_WARNING]
    assert sink.errors == [json.loads(outcome.body)]


def test_init_error_outcome_for_a_user_exception() -> None:
    try:
        app.raises(None, None)
    except ValueError as exc:
        outcome = init_error_outcome(exc, RecordingSink())
    error = json.loads(outcome.body)
    assert (error["errorType"], error["requestId"], len(error["stackTrace"])) == (
        "ValueError",
        "",
        3,
    )


# --- against awslambdaric -------------------------------------------------------------------------

INVOKE_CASES: list[dict[str, Any]] = [
    {"handler": "app.echo", "body": 'b\'{"a": [1, 2.50, null, "\\\\u00e9"]}\''},
    {"handler": "app.echo", "body": "b'\\xffraw'", "content_type": "text/plain"},
    {"handler": "app.echo", "body": "b'{}'", "content_type": None},
    {"handler": "app.echo", "body": "b'{'"},
    {"handler": "app.echo", "body": "b'{\"a\": NaN}'"},
    {"handler": "app.raises", "body": "b'{}'"},
    {"handler": "app.raises_empty", "body": "b'{}'"},
    {"handler": "app.returns_set", "body": "b'{}'"},
    {"handler": "app.returns_bytes", "body": "b'{}'"},
    {"handler": "app.returns_exotic", "body": "b'{}'"},
    {"handler": "app.describe_context", "body": "b'{}'", "tenant_id": "t-1"},
    {"handler": "app.logs_and_returns", "body": "b'{}'"},
    {"handler": "app.echo", "body": "b'{}'", "client_context": "{bad"},
    {"handler": "app.echo", "body": "b'{}'", "cognito_identity": "[1,"},
    {"handler": "nested/deeper/mod.handler", "body": "b'[1]'"},
]


@pytest.mark.peers
@pytest.mark.parametrize(
    "env",
    [{}, {"AWS_LAMBDA_LOG_FORMAT": "JSON"}, {"AWS_EXECUTION_ENV": "AWS_Lambda_python3.12"}],
    ids=["text", "json", "utf8"],
)
def test_invocations_match_awslambdaric(awslambdaric_python: Path, env: dict[str, str]) -> None:
    cases = [{"op": "invoke", "request_id": f"req-{i}", **c} for i, c in enumerate(INVOKE_CASES)]
    env = {"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_LOG_LEVEL": "INFO", **env}
    assert_same_as_awslambdaric(awslambdaric_python, cases, env)
