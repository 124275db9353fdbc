"""Sans-IO Runtime API server side: routes, exact bodies, sanitising, synthesised messages."""

from __future__ import annotations

import json

import pytest

from lambdarig import runtime_api
from lambdarig.rie_server.runtime import protocol
from lambdarig.rie_server.runtime.protocol import Match, Route


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/2018-06-01/runtime/invocation/next", Match(Route.NEXT)),
        ("POST", "/2018-06-01/runtime/invocation/abc/response", Match(Route.RESPONSE, "abc")),
        ("POST", "/2018-06-01/runtime/invocation/abc/error", Match(Route.ERROR, "abc")),
        ("POST", "/2018-06-01/runtime/init/error", Match(Route.INIT_ERROR)),
        ("GET", "/2018-06-01/ping", Match(Route.PING)),
        ("PUT", "/2020-08-15/logs", Match(Route.LOGS)),
        ("PUT", "/2022-07-01/telemetry", Match(Route.TELEMETRY)),
        ("POST", "/2018-06-01/runtime/invocation/next", Match(Route.METHOD_NOT_ALLOWED)),
        ("GET", "/2018-06-01/runtime/invocation/abc/response", Match(Route.METHOD_NOT_ALLOWED)),
        ("POST", "/2018-06-01/runtime/invocation//response", Match(Route.NOT_FOUND)),
        ("POST", "/2018-06-01/runtime/invocation/abc/other", Match(Route.NOT_FOUND)),
        ("GET", "/", Match(Route.NOT_FOUND)),
    ],
)
def test_route(method: str, path: str, expected: Match) -> None:
    assert protocol.route(method, path) == expected


@pytest.mark.parametrize(
    ("reply", "status", "body"),
    [
        (protocol.accepted(), 202, b'{"status":"OK"}\n'),
        (
            protocol.invalid_request_id(),
            400,
            b'{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}\n',
        ),
        (
            protocol.invalid_transition("Ready", "InitError"),
            403,
            b'{"errorMessage":"State transition from Ready to InitError failed for runtime. '
            b'Error: State transition is not allowed","errorType":"InvalidStateTransition"}\n',
        ),
        (
            protocol.payload_too_large(),
            413,
            b'{"errorMessage":"Exceeded maximum allowed payload size (6291556 bytes).",'
            b'"errorType":"RequestEntityTooLarge"}\n',
        ),
        (
            protocol.truncated(),
            400,
            b'{"errorMessage":"HTTP request detected as truncated",'
            b'"errorType":"TruncatedHTTPRequest"}\n',
        ),
        (
            protocol.invalid_response_mode(),
            400,
            b'{"errorMessage":"Invalid function response mode",'
            b'"errorType":"InvalidFunctionResponseMode"}\n',
        ),
        (
            protocol.stale_invocation(),
            410,
            b'{"errorMessage":"Invoke timeout","errorType":"InvokeTimeout"}\n',
        ),
        (
            protocol.internal_error(),
            500,
            b'{"errorMessage":"Internal Server Error","errorType":"InternalServerError"}\n',
        ),
        (
            protocol.not_supported(Route.LOGS),
            202,
            b'{"errorMessage":"Logs API is not supported","errorType":"Logs.NotSupported"}\n',
        ),
        (
            protocol.not_supported(Route.TELEMETRY),
            202,
            b'{"errorMessage":"Telemetry API is not supported",'
            b'"errorType":"Telemetry.NotSupported"}\n',
        ),
    ],
)
def test_json_replies_are_byte_exact(reply: protocol.Reply, status: int, body: bytes) -> None:
    assert (reply.status, reply.body) == (status, body)
    assert reply.headers["Content-Type"] == "application/json"


def test_pong() -> None:
    assert protocol.pong().status == 200 and protocol.pong().body == b"pong"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Runtime.ImportModuleError", "Runtime.ImportModuleError"),
        ("Function.MyError", "Function.MyError"),
        ("prefix Runtime.Thing suffix", "prefix Runtime.Thing suffix"),  # unanchored, as RAPID
        ("Unhandled", "Runtime.Unknown"),
        ("unhandled", "Runtime.Unknown"),
        ("Function.x", "Function.Unknown"),
        ("Runtime.X", "Runtime.Unknown"),
        ("", "Runtime.Unknown"),
        (None, "Runtime.Unknown"),
    ],
)
def test_sanitize_error_type(value: str | None, expected: str) -> None:
    assert protocol.sanitize_error_type(value) == expected


@pytest.mark.parametrize(
    ("length", "received", "mode", "route", "expected"),
    [
        (10, 10, None, Route.RESPONSE, None),
        (10, 10, "streaming", Route.RESPONSE, None),
        (10, 10, "buffered", Route.RESPONSE, 400),
        (10, 10, "buffered", Route.ERROR, None),  # the mode header matters on /response only
        (None, runtime_api.MAX_PAYLOAD_SIZE, None, Route.RESPONSE, None),
        (None, runtime_api.MAX_PAYLOAD_SIZE + 1, None, Route.RESPONSE, 413),
        (runtime_api.MAX_PAYLOAD_SIZE + 1, 100, None, Route.ERROR, 413),
        (10, 5, None, Route.RESPONSE, 400),
    ],
)
def test_check_post(
    length: int | None, received: int, mode: str | None, route: Route, expected: int | None
) -> None:
    problem = protocol.check_post(length, received, mode, route)
    assert (problem.status if problem else None) == expected


def test_truncation_is_reported_as_truncated() -> None:
    problem = protocol.check_post(10, 5, None, Route.RESPONSE)
    assert problem is not None and b"TruncatedHTTPRequest" in problem.body


def test_next_headers_always_carry_content_type() -> None:
    invocation = runtime_api.Invocation("r", 5, "arn", b"{}", content_type=None)
    headers = protocol.next_headers(invocation)
    assert headers["Content-Type"] == "application/json"
    assert headers["Lambda-Runtime-Aws-Request-Id"] == "r"
    assert headers["Lambda-Runtime-Deadline-Ms"] == "5"
    typed = runtime_api.Invocation("r", 5, "arn", b"x", content_type="text/plain")
    assert protocol.next_headers(typed)["Content-Type"] == "text/plain"


def test_error_body_with_error_cause_content_type() -> None:
    body = json.dumps({"errorMessage": "m", "errorType": "T", "errorCause": {"x": 1}}).encode()
    forwarded, content_type = protocol.error_body(body, runtime_api.CONTENT_TYPE_ERROR_CAUSE)
    assert json.loads(forwarded) == {"errorMessage": "m", "errorType": "T"}
    assert content_type == "application/json"
    assert protocol.error_body(b"{bad", runtime_api.CONTENT_TYPE_ERROR_CAUSE) == (
        b'"Invalid error body"',
        "application/octet-stream",
    )
    assert protocol.error_body(b"raw", "text/plain") == (b"raw", "text/plain")


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (1, "Runtime exited with error: exit status 1"),
        (0, "Runtime exited without providing a reason"),
        (-9, "Runtime exited with error: signal: killed"),
        (-15, "Runtime exited with error: signal: terminated"),
        (-11, "Runtime exited with error: signal: segmentation fault"),
        (-6, "Runtime exited with error: signal: aborted"),
    ],
)
def test_exit_message(code: int, text: str) -> None:
    assert protocol.exit_message("id-1", code) == f"RequestId: id-1 Error: {text}"
    assert protocol.exit_message(None, code) == f"Error: {text}"


def test_timeout_message_has_two_decimals() -> None:
    assert (
        protocol.timeout_message("id", 3)
        == "RequestId: id Error: Task timed out after 3.00 seconds"
    )
    assert protocol.timeout_message("id", 0.5).endswith("after 0.50 seconds")


def test_response_too_large_message() -> None:
    assert protocol.response_too_large_message() == (
        "Response payload size exceeded maximum allowed payload size (6291556 bytes)."
    )
