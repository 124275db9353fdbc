"""protocol: the Runtime API requests as values, status classification and /next parsing."""

from __future__ import annotations

import sys

import pytest

from lambdarig import __version__
from lambdarig import runtime_api as wire
from lambdarig.runtime_client import protocol
from lambdarig.runtime_client.errors import RuntimeAPIError, StaleInvocationError

INV = wire.Invocation("req-1", 1700000000000, "arn:aws:lambda:us-east-1:1:function:f", b"{}")
INV_WITH_NONCE = wire.Invocation(
    "req-2", 1, "arn", b"{}", invocation_id="nonce-7", trace_id="Root=1-abc"
)


def test_user_agent_names_python_and_lambdarig() -> None:
    v = sys.version_info
    assert protocol.user_agent() == (
        f"aws-lambda-python/{v.major}.{v.minor}.{v.micro}-lambdarig/{__version__}"
    )


def test_next_request() -> None:
    request = protocol.next_request()
    assert (request.method, request.path, request.body) == ("GET", wire.PATH_NEXT, b"")
    assert request.path == "/2018-06-01/runtime/invocation/next"
    assert request.headers == {"User-Agent": protocol.USER_AGENT}
    assert request.expected_status is None  # any 2xx, as awslambdaric's C++ client


def test_response_request_without_and_with_invocation_id() -> None:
    plain = protocol.response_request(INV, b'"ok"', "application/json")
    assert (plain.method, plain.path) == ("POST", "/2018-06-01/runtime/invocation/req-1/response")
    assert plain.headers == {"User-Agent": protocol.USER_AGENT, "Content-Type": "application/json"}
    assert plain.body == b'"ok"'
    assert plain.expected_status is None
    echoed = protocol.response_request(INV_WITH_NONCE, b"raw", "application/unknown")
    assert echoed.headers["Lambda-Runtime-Invocation-Id"] == "nonce-7"
    assert echoed.headers["Content-Type"] == "application/unknown"


def test_error_request_has_no_error_type_header_and_carries_the_xray_cause() -> None:
    request = protocol.error_request(INV_WITH_NONCE, b'{"errorMessage": "x"}', '{"x": 1}')
    assert request.path == "/2018-06-01/runtime/invocation/req-2/error"
    assert request.headers == {
        "User-Agent": protocol.USER_AGENT,
        "Content-Type": "application/json",
        "Lambda-Runtime-Function-XRay-Error-Cause": '{"x": 1}',
        "Lambda-Runtime-Invocation-Id": "nonce-7",
    }
    assert "Lambda-Runtime-Function-Error-Type" not in request.headers


def test_xray_cause_is_dropped_at_one_mebibyte() -> None:
    under = "x" * (wire.MAX_XRAY_CAUSE_SIZE - 1)
    at = "x" * wire.MAX_XRAY_CAUSE_SIZE
    assert protocol.error_request(INV, b"", under).headers[wire.HEADER_XRAY_ERROR_CAUSE] == under
    assert wire.HEADER_XRAY_ERROR_CAUSE not in protocol.error_request(INV, b"", at).headers
    assert wire.HEADER_XRAY_ERROR_CAUSE not in protocol.error_request(INV, b"", None).headers


def test_init_error_request() -> None:
    request = protocol.init_error_request(b"{}", "Runtime.ImportModuleError", None)
    assert (request.method, request.path) == ("POST", "/2018-06-01/runtime/init/error")
    assert request.headers == {
        "User-Agent": protocol.USER_AGENT,
        "Lambda-Runtime-Function-Error-Type": "Runtime.ImportModuleError",
    }
    assert request.expected_status == 202


def test_restore_requests() -> None:
    nxt = protocol.restore_next_request()
    assert (nxt.method, nxt.path, nxt.expected_status) == (
        "GET",
        "/2018-06-01/runtime/restore/next",
        200,
    )
    err = protocol.restore_error_request(b"{}", "Runtime.AfterRestoreError")
    assert (err.method, err.path) == ("POST", "/2018-06-01/runtime/restore/error")
    assert err.headers["Lambda-Runtime-Function-Error-Type"] == "Runtime.AfterRestoreError"


def test_check_status() -> None:
    request = protocol.response_request(INV, b"", "application/json")
    for success in (200, 202, 204, 299):  # awslambdaric's C++ client takes any 2xx
        protocol.check_status(request, success, b"")
    with pytest.raises(StaleInvocationError) as stale:
        protocol.check_status(request, 410, b"gone")
    assert stale.value.status == 410
    with pytest.raises(RuntimeAPIError) as failed:
        protocol.check_status(request, 403, b'{"errorType":"InvalidStateTransition"}')
    assert not isinstance(failed.value, StaleInvocationError)
    assert str(failed.value) == (
        "Request to Lambda Runtime '/2018-06-01/runtime/invocation/req-1/response' endpoint "
        "failed. Reason: '403'. Response body: '{\"errorType\":\"InvalidStateTransition\"}'"
    )
    with pytest.raises(RuntimeAPIError):
        protocol.check_status(request, 300, b"")


@pytest.mark.parametrize(
    "request_",
    [
        protocol.init_error_request(b"{}", "Runtime.Unknown", None),
        protocol.restore_error_request(b"{}", "Runtime.AfterRestoreError"),
        protocol.restore_next_request(),
    ],
    ids=["init-error", "restore-error", "restore-next"],
)
def test_http_client_paths_want_exactly_their_status(request_: protocol.HttpRequest) -> None:
    # awslambdaric sends these with http.client and compares the status for equality.
    assert request_.expected_status is not None
    protocol.check_status(request_, request_.expected_status, b"")
    other = 200 if request_.expected_status == 202 else 202
    with pytest.raises(RuntimeAPIError, match=f"Reason: '{other}'"):
        protocol.check_status(request_, other, b"")


def test_parse_next_response() -> None:
    headers = {
        "lambda-runtime-aws-request-id": "req-9",
        "lambda-runtime-deadline-ms": "1700000000123",
        "lambda-runtime-invoked-function-arn": "arn:f",
        "lambda-runtime-trace-id": "Root=1",
        "lambda-runtime-client-context": '{"custom": {}}',
        "lambda-runtime-cognito-identity": '{"cognitoIdentityId": "i"}',
        "lambda-runtime-aws-tenant-id": "tenant",
        "lambda-runtime-invocation-id": "nonce",
        "content-type": "application/json",
    }
    inv = protocol.parse_next_response(200, headers, b'{"a": 1}')
    assert inv == wire.Invocation(
        "req-9",
        1700000000123,
        "arn:f",
        b'{"a": 1}',
        content_type="application/json",
        trace_id="Root=1",
        client_context='{"custom": {}}',
        cognito_identity='{"cognitoIdentityId": "i"}',
        tenant_id="tenant",
        invocation_id="nonce",
    )


def test_parse_next_response_matches_names_in_any_case_and_empty_values_are_absent() -> None:
    headers = {
        "Lambda-Runtime-Aws-Request-Id": "req-9",
        "LAMBDA-RUNTIME-TRACE-ID": "Root=1",
        "lambda-runtime-client-context": "",
        "Lambda-Runtime-Invoked-Function-Arn": "",
        "Content-Type": "",
    }
    inv = protocol.parse_next_response(200, headers, b"x")
    assert inv == wire.Invocation(
        "req-9", 0, "", b"x", content_type=None, trace_id="Root=1", client_context=None
    )
    with pytest.raises(RuntimeAPIError, match="expected a Lambda-Runtime-Aws-Request-Id"):
        protocol.parse_next_response(200, {"Lambda-Runtime-Aws-Request-Id": ""}, b"")
    with pytest.raises(RuntimeAPIError, match="expected an integer Lambda-Runtime-Deadline-Ms"):
        protocol.parse_next_response(
            200, {"lambda-runtime-aws-request-id": "r", "lambda-runtime-deadline-ms": "1.5"}, b""
        )


def test_parse_next_response_rejects_errors_and_missing_request_id() -> None:
    with pytest.raises(RuntimeAPIError) as status:
        protocol.parse_next_response(500, {}, b"boom")
    assert status.value.status == 500
    with pytest.raises(RuntimeAPIError) as missing:
        protocol.parse_next_response(200, {"lambda-runtime-deadline-ms": "1"}, b"")
    assert "expected a Lambda-Runtime-Aws-Request-Id header" in str(missing.value)
    assert isinstance(missing.value.__cause__, ValueError)


# --- response streaming (docs: runtimes-custom.html#runtimes-custom-response-streaming) ---------


def test_streaming_response_request_declares_streaming_chunked_and_the_trailers() -> None:
    request = protocol.streaming_response_request(INV_WITH_NONCE, "text/plain")
    assert (request.method, request.path, request.body) == (
        "POST",
        "/2018-06-01/runtime/invocation/req-2/response",
        b"",
    )
    assert request.headers == {
        "User-Agent": protocol.USER_AGENT,
        "Content-Type": "text/plain",
        "Lambda-Runtime-Function-Response-Mode": "streaming",
        "Transfer-Encoding": "chunked",
        "Trailer": "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
        "Lambda-Runtime-Invocation-Id": "nonce-7",
    }


def test_chunks_are_framed_with_their_hex_size() -> None:
    assert protocol.encode_chunk(b"hello") == b"5\r\nhello\r\n"
    assert protocol.encode_chunk(b"x" * 300) == b"12c\r\n" + b"x" * 300 + b"\r\n"
    assert protocol.encode_chunk(b"") == b""  # a zero-size chunk would end the body


def test_the_last_chunk_carries_the_trailers() -> None:
    assert protocol.last_chunk() == b"0\r\n\r\n"
    assert protocol.last_chunk({"A": "1", "B": "2"}) == b"0\r\nA: 1\r\nB: 2\r\n\r\n"


@pytest.mark.parametrize("trailers", [{"A": "1\r\nB: 2"}, {"A\n": "1"}, {"A": "\x00"}])
def test_the_last_chunk_refuses_control_characters(trailers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="without control characters"):
        protocol.last_chunk(trailers)


def test_stream_error_trailers_carry_the_type_and_the_base64_error_json() -> None:
    body = b'{"errorMessage": "m", "errorType": "ValueError"}'
    assert protocol.stream_error_trailers("ValueError", body) == {
        "Lambda-Runtime-Function-Error-Type": "ValueError",
        "Lambda-Runtime-Function-Error-Body": (
            "eyJlcnJvck1lc3NhZ2UiOiAibSIsICJlcnJvclR5cGUiOiAiVmFsdWVFcnJvciJ9"
        ),
    }


@pytest.mark.parametrize(
    "error_type, sent", [("A\r\nB", "AB"), ("\x7f\t", "Runtime.Unknown"), ("", "Runtime.Unknown")]
)
def test_stream_error_type_drops_control_characters(error_type: str, sent: str) -> None:
    trailers = protocol.stream_error_trailers(error_type, b"{}")
    assert trailers[wire.HEADER_FUNCTION_ERROR_TYPE] == sent
    protocol.last_chunk(trailers)  # and so always frames
