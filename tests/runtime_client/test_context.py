"""context: LambdaContext attribute for attribute awslambdaric's."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from lambdarig.runtime_api import Invocation
from lambdarig.runtime_client import log_handlers, sinks
from lambdarig.runtime_client.config import RuntimeConfig
from lambdarig.runtime_client.context import LambdaContext, context_for
from lambdarig.runtime_client.errors import FaultError
from tests.runtime_client.handlers.probe import probe

ENVIRON = {
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    "AWS_LAMBDA_FUNCTION_NAME": "fn",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/fn",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/11/27/[$LATEST]abc",
}
CLIENT_CONTEXT = {
    "client": {"installation_id": "i-1", "app_title": "t"},
    "custom": {"k": "v"},
    "env": {"platform": "x"},
    "w3c": {"traceparent": "00-abc-def-01", "tracestate": 5, "other": "dropped"},
}


def make_context(**fields: str) -> LambdaContext:
    inv = Invocation("req-1", 10_000, "arn:aws:lambda:us-east-1:1:function:fn", b"", **fields)
    return context_for(inv, RuntimeConfig.from_environ(ENVIRON, ["a.b"]), clock=lambda: 4.0)


def test_environment_values_come_from_config() -> None:
    context = make_context()
    assert (context.function_name, context.function_version) == ("fn", "$LATEST")
    assert context.memory_limit_in_mb == "512"
    assert (context.log_group_name, context.log_stream_name) == (
        "/aws/lambda/fn",
        "2026/11/27/[$LATEST]abc",
    )
    assert context.aws_request_id == "req-1"
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:1:function:fn"
    assert context.tenant_id is None and context.client_context is None


def test_remaining_time_uses_the_clock_and_clamps_at_zero() -> None:
    context = make_context()
    assert context.get_remaining_time_in_millis() == 6000
    late = LambdaContext("r", None, None, 10_000, clock=lambda: 11.0)
    assert late.get_remaining_time_in_millis() == 0


def test_identity_is_always_an_object() -> None:
    assert make_context().identity.cognito_identity_id is None
    identity = json.dumps({"cognitoIdentityId": "id", "cognitoIdentityPoolId": "pool"})
    context = make_context(cognito_identity=identity)
    assert (context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id) == (
        "id",
        "pool",
    )


def test_client_context_and_w3c() -> None:
    context = make_context(client_context=json.dumps(CLIENT_CONTEXT), tenant_id="t-1")
    assert context.client_context is not None and context.client_context.client is not None
    assert context.client_context.custom == {"k": "v"}
    assert context.client_context.client.installation_id == "i-1"
    assert context.client_context.client.app_package_name is None
    assert context.w3c() == {"traceparent": "00-abc-def-01"}
    assert not hasattr(context.client_context, "w3c") and context.tenant_id == "t-1"


@pytest.mark.parametrize(
    ("field", "name"),
    [("client_context", "Client Context"), ("cognito_identity", "Cognito Identity")],
)
def test_bad_json_header_is_a_context_unmarshal_error(field: str, name: str) -> None:
    with pytest.raises(FaultError) as caught:
        make_context(**{field: "{nope"})
    assert caught.value.error_type == "Runtime.LambdaContextUnmarshalError"
    assert caught.value.message.startswith(f"Unable to parse {name} JSON: Expecting property name")


def test_log_goes_through_the_root_handlers_sink(monkeypatch: pytest.MonkeyPatch) -> None:
    class Sink(sinks.LogSink):
        lines: list[str] = []

        def log(self, msg: str, frame_type: bytes | None = None) -> None:
            self.lines.append(msg)

    handler = log_handlers.LambdaLoggerHandler(Sink())
    monkeypatch.setattr(logging.getLogger(), "handlers", [logging.NullHandler(), handler])
    make_context().log(42)
    assert Sink.lines == ["42"]


def test_log_falls_back_to_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(logging.getLogger(), "handlers", [])
    make_context().log("raw")
    assert capsys.readouterr().out == "raw"


@pytest.mark.peers
def test_same_context_as_awslambdaric(awslambdaric_python: Path) -> None:
    cases = [
        {"op": "context"},
        {"op": "context", "tenant_id": "t-1", "client_context": json.dumps(CLIENT_CONTEXT)},
        {"op": "context", "client_context": json.dumps({"w3c": "not a dict"})},
        {"op": "context", "cognito_identity": json.dumps({"cognitoIdentityId": "i"})},
        {"op": "context", "client_context": "{nope"},
        {"op": "context", "cognito_identity": "[1,"},
    ]
    env = {k: v for k, v in ENVIRON.items() if k != "AWS_LAMBDA_RUNTIME_API"}
    theirs, _ = probe(awslambdaric_python, "ric", cases, env)
    ours, _ = probe(awslambdaric_python, "ours", cases, env)
    for case, expected, actual in zip(cases, theirs, ours):
        assert actual == expected, case
