from __future__ import annotations

import base64
import json

import pytest

from lambdarig import invoke_api
from lambdarig.rie_server.choices import FunctionIdentity
from lambdarig.rie_server.environments.environment import InvokeOutcome, OutcomeKind
from lambdarig.rie_server.invoke.protocol import (
    CompatMode,
    HttpResponse,
    InvocationType,
    InvokeCall,
    RawRequest,
    accepted,
    parse_invoke,
    render_outcome,
    throttled,
)

FUNCTION = FunctionIdentity("my-fn")
ARN = "arn:aws:lambda:us-east-1:012345678912:function:my-fn"
TRACE = "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0"
CALLER_TRACE = "Root=1-5e1b4151-5ac6c58f3375aa3c7c6b3af5;Parent=53995c3f42cd8ad8;Sampled=1"
PATH = "/2015-03-31/functions/{}/invocations"


def raw(
    name: str = "my-fn",
    body: bytes = b"{}",
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    method: str = "POST",
    path: str | None = None,
) -> RawRequest:
    return RawRequest(method, path or PATH.format(name), query or {}, headers or {}, body)


def parse(request: RawRequest, mode: CompatMode = CompatMode.SERVICE) -> InvokeCall | HttpResponse:
    return parse_invoke(request, FUNCTION, mode, "req-1", TRACE)


def call(request: RawRequest) -> InvokeCall:
    result = parse(request)
    assert isinstance(result, InvokeCall), result
    return result


def error(request: RawRequest, mode: CompatMode = CompatMode.SERVICE) -> HttpResponse:
    result = parse(request, mode)
    assert isinstance(result, HttpResponse), result
    return result


def outcome(kind: OutcomeKind, body: bytes = b"", **fields: object) -> InvokeOutcome:
    values: dict[str, object] = {
        "content_type": None,
        "error_type": None,
        "error_message": None,
        "duration_ms": 1.0,
        "init_duration_ms": None,
        "max_memory_used_mb": 30,
    }
    values.update(fields)
    return InvokeOutcome(kind, body, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "query", "expected_arn"),
    [
        ("my-fn", {}, ARN),
        ("function", {}, ARN),
        ("my-fn:$LATEST", {}, ARN + ":$LATEST"),
        ("my-fn%3A%24LATEST", {}, ARN + ":$LATEST"),
        ("my-fn", {"Qualifier": "$LATEST"}, ARN + ":$LATEST"),
        (ARN, {}, ARN),
        (ARN + ":$LATEST", {}, ARN + ":$LATEST"),
        ("012345678912:function:my-fn", {}, ARN),
        ("012345678912:function:my-fn:$LATEST", {}, ARN + ":$LATEST"),
    ],
)
def test_function_names_and_arns_resolve(
    name: str, query: dict[str, str], expected_arn: str
) -> None:
    assert call(raw(name, query=query)).invoked_function_arn == expected_arn


@pytest.mark.parametrize(
    ("name", "query", "missing"),
    [
        ("nope", {}, "arn:aws:lambda:us-east-1:012345678912:function:nope"),
        ("my-fn:7", {}, ARN + ":7"),
        ("my-fn", {"Qualifier": "prod"}, ARN + ":prod"),
        ("arn:aws:lambda:eu-west-1:012345678912:function:my-fn", {}, None),
        ("999999999999:function:my-fn", {}, None),
    ],
)
def test_unknown_function_is_404_resource_not_found(
    name: str, query: dict[str, str], missing: str | None
) -> None:
    answer = error(raw(name, query=query))
    assert answer.status == 404
    assert answer.header("x-amzn-ErrorType") == "ResourceNotFoundException"
    assert answer.header("x-amzn-RequestId") == "req-1"
    body = json.loads(answer.body)
    assert body["Type"] == "User"
    assert body["Message"].startswith("Function not found: arn:aws:lambda:")
    if missing is not None:
        assert body == {"Type": "User", "Message": f"Function not found: {missing}"}


def test_not_found_body_bytes_are_the_services() -> None:
    answer = error(raw("nope"))
    expected = (
        b'{"Type":"User","Message":"Function not found: '
        b'arn:aws:lambda:us-east-1:012345678912:function:nope"}'
    )
    assert answer.body == expected
    assert answer.header("Content-Type") == "application/json"


def test_qualifier_in_name_and_query_must_agree() -> None:
    answer = error(raw("my-fn:$LATEST", query={"Qualifier": "1"}))
    assert answer.status == 400
    assert answer.header("x-amzn-ErrorType") == "InvalidParameterValueException"


def test_other_methods_and_paths_are_unknown_operations() -> None:
    assert error(raw(method="GET")).status == 404
    assert error(raw(path="/2015-03-31/functions/my-fn")).status == 404


def test_request_response_call_carries_headers_through() -> None:
    context = base64.b64encode(b'{"custom":{"a":1}}').decode()
    result = call(
        raw(
            body=b'{"x": 1}',
            headers={
                "X-Amz-Client-Context": context,
                "x-amz-tenant-id": "tenant-1",
                "X-Amzn-Trace-Id": CALLER_TRACE,
                "X-Amz-Log-Type": "Tail",
            },
        )
    )
    assert result == InvokeCall(
        request_id="req-1",
        invocation_type=InvocationType.REQUEST_RESPONSE,
        tail=True,
        payload=b'{"x": 1}',
        invoked_function_arn=ARN,
        trace_id=CALLER_TRACE,
        client_context='{"custom":{"a":1}}',
        tenant_id="tenant-1",
    )


def test_generated_trace_id_is_used_when_caller_sends_none() -> None:
    assert call(raw()).trace_id == TRACE


def test_empty_body_becomes_an_empty_json_object() -> None:
    assert call(raw(body=b"")).payload == b"{}"


@pytest.mark.parametrize("body", [b"not json", b"{", b"\xff\xfe"])
def test_body_not_json_is_400_invalid_request_content(body: bytes) -> None:
    answer = error(raw(body=body))
    assert answer.status == 400
    assert answer.header("x-amzn-ErrorType") == "InvalidRequestContentException"
    message = json.loads(answer.body)["Message"]
    assert message.startswith("Could not parse request body into json: Could not parse payload")


@pytest.mark.parametrize("body", [b'"a string"', b"42", b"[1, 2]", b"null"])
def test_any_json_value_is_a_valid_payload(body: bytes) -> None:
    assert call(raw(body=body)).payload == body


def test_bad_client_context_is_400_not_500() -> None:
    answer = error(raw(headers={"X-Amz-Client-Context": "!!not base64!!"}))
    assert answer.status == 400
    assert answer.header("x-amzn-ErrorType") == "InvalidRequestContentException"


def test_bad_tenant_id_is_400_invalid_parameter_value() -> None:
    answer = error(raw(headers={"X-Amz-Tenant-Id": "bad\ttenant"}))
    assert answer.status == 400
    assert answer.header("x-amzn-ErrorType") == "InvalidParameterValueException"


def test_sync_payload_over_6291456_bytes_is_413() -> None:
    body = b'"' + b"a" * (invoke_api.MAX_SYNC_REQUEST_SIZE - 1) + b'"'
    answer = error(raw(body=body))
    assert answer.status == 413
    assert answer.header("x-amzn-ErrorType") == "RequestTooLargeException"
    assert json.loads(answer.body)["Message"] == (
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation"
    )
    assert isinstance(parse(raw(body=body[:-2] + b'"')), InvokeCall)


def test_event_payload_over_1_mb_is_413() -> None:
    body = b'"' + b"a" * invoke_api.MAX_ASYNC_REQUEST_SIZE + b'"'
    answer = error(raw(body=body, headers={"X-Amz-Invocation-Type": "Event"}))
    assert answer.status == 413
    assert answer.header("x-amzn-ErrorType") == "RequestTooLargeException"


def test_invocation_types() -> None:
    assert call(raw(headers={"X-Amz-Invocation-Type": "Event"})).invocation_type is (
        InvocationType.EVENT
    )
    assert call(raw(headers={"X-Amz-Invocation-Type": "DryRun"})).invocation_type is (
        InvocationType.DRY_RUN
    )
    assert error(raw(headers={"X-Amz-Invocation-Type": "Later"})).status == 400


def test_accepted_answers_for_event_and_dry_run() -> None:
    event = accepted(call(raw(headers={"X-Amz-Invocation-Type": "Event"})), FUNCTION)
    assert (event.status, event.body, event.header("x-amzn-RequestId")) == (202, b"", "req-1")
    dry = accepted(call(raw(headers={"X-Amz-Invocation-Type": "DryRun"})), FUNCTION)
    assert (dry.status, dry.body) == (204, b"")
    # Nothing ran: the service sends no X-Amz-Executed-Version for either (API_Invoke; the
    # Event answers observed carry x-amzn-RequestId and no version).
    assert event.header("X-Amz-Executed-Version") is None
    assert dry.header("X-Amz-Executed-Version") is None


PUBLISHED = FunctionIdentity("my-fn", qualifiers=("1", "live"))


@pytest.mark.parametrize(
    ("name", "query", "version"),
    [
        ("my-fn", {}, "$LATEST"),
        ("my-fn:$LATEST", {}, "$LATEST"),
        ("my-fn", {"Qualifier": "1"}, "1"),
        ("my-fn:live", {}, "1"),
        (ARN + ":live", {}, "1"),
    ],
)
def test_executed_version_is_the_version_the_qualifier_runs(
    name: str, query: dict[str, str], version: str
) -> None:
    request = parse_invoke(raw(name, query=query), PUBLISHED, CompatMode.SERVICE, "req-1", TRACE)
    assert isinstance(request, InvokeCall), request
    answer = render_outcome(
        request, outcome(OutcomeKind.SUCCESS, b"1"), PUBLISHED, CompatMode.SERVICE, 3.0
    )
    assert answer.header("X-Amz-Executed-Version") == version


def test_an_alias_runs_the_highest_published_version() -> None:
    identity = FunctionIdentity("my-fn", qualifiers=("1", "2", "live"))
    assert identity.executed_version("live") == "2"
    assert identity.executed_version(None) == "$LATEST"
    assert FunctionIdentity("my-fn", version="7").executed_version(None) == "7"


def test_throttled_body_is_the_services() -> None:
    answer = throttled("req-1")
    assert answer.status == 429
    assert answer.header("x-amzn-ErrorType") == "TooManyRequestsException"
    assert answer.body == (
        b'{"Reason":"ConcurrentInvocationLimitExceeded","Type":"User","message":"Rate Exceeded."}'
    )


def render(
    kind: OutcomeKind,
    body: bytes = b"",
    mode: CompatMode = CompatMode.SERVICE,
    tail: bytes | None = None,
    **fields: object,
) -> HttpResponse:
    request = call(raw(headers={"X-Amz-Log-Type": "Tail"} if tail is not None else {}))
    return render_outcome(request, outcome(kind, body, **fields), FUNCTION, mode, 3.0, tail)


def test_success_is_200_with_the_runtime_body_and_service_headers() -> None:
    answer = render(OutcomeKind.SUCCESS, b'{"ok":true}')
    assert (answer.status, answer.body) == (200, b'{"ok":true}')
    assert answer.header("x-amzn-RequestId") == "req-1"
    assert answer.header("X-Amz-Executed-Version") == "$LATEST"
    assert answer.header("X-Amz-Function-Error") is None
    assert answer.header("X-Amz-Log-Result") is None


def test_tail_is_base64_of_the_log() -> None:
    answer = render(OutcomeKind.SUCCESS, b"1", tail=b"START ...\nEND\n")
    assert answer.header("X-Amz-Log-Result") == base64.b64encode(b"START ...\nEND\n").decode()


def test_function_error_is_200_unhandled_with_the_posted_body() -> None:
    posted = b'{"errorMessage":"boom","errorType":"ValueError"}'
    answer = render(OutcomeKind.FUNCTION_ERROR, posted, error_type="Runtime.Unknown")
    assert (answer.status, answer.body) == (200, posted)
    assert answer.header("X-Amz-Function-Error") == "Unhandled"


@pytest.mark.parametrize(
    ("kind", "error_type", "message"),
    [
        (
            OutcomeKind.TIMEOUT,
            "Sandbox.Timedout",
            "RequestId: req-1 Error: Task timed out after 3.00 seconds",
        ),
        (
            OutcomeKind.CRASH,
            "Runtime.ExitError",
            "RequestId: req-1 Error: Runtime exited with error: exit status 1",
        ),
    ],
)
def test_timeout_and_crash_are_200_unhandled_json_type_first(
    kind: OutcomeKind, error_type: str, message: str
) -> None:
    answer = render(kind, error_type=error_type, error_message=message)
    assert answer.status == 200
    assert answer.header("X-Amz-Function-Error") == "Unhandled"
    expected = f'{{"errorType":"{error_type}","errorMessage":"{message}"}}'
    assert answer.body == expected.encode()


def test_init_error_returns_the_posted_error_with_unhandled() -> None:
    posted = b'{"errorMessage":"Unable to import module","errorType":"Runtime.ImportModuleError"}'
    answer = render(OutcomeKind.INIT_ERROR, posted, error_type="Runtime.ImportModuleError")
    assert (answer.status, answer.body) == (200, posted)
    assert answer.header("X-Amz-Function-Error") == "Unhandled"


def test_init_error_without_a_post_is_synthesised() -> None:
    message = "RequestId: req-1 Error: Runtime exited with error: exit status 3"
    answer = render(OutcomeKind.INIT_ERROR, error_type="Runtime.ExitError", error_message=message)
    assert json.loads(answer.body) == {"errorType": "Runtime.ExitError", "errorMessage": message}


def test_response_too_large_is_function_response_size_too_large() -> None:
    answer = render(OutcomeKind.RESPONSE_TOO_LARGE, error_type="Function.ResponseSizeTooLarge")
    assert answer.header("X-Amz-Function-Error") == "Unhandled"
    assert answer.body == (
        b'{"errorMessage":"Response payload size exceeded maximum allowed payload size '
        b'(6291556 bytes).","errorType":"Function.ResponseSizeTooLarge"}'
    )


# --- --compat rie ---------------------------------------------------------------------------------


def test_rie_mode_accepts_only_the_literal_function_name() -> None:
    answer = error(raw("my-fn"), CompatMode.RIE)
    assert (answer.status, answer.body) == (404, b"404 page not found\n")
    got = parse(raw("function", method="GET"), CompatMode.RIE)
    assert isinstance(got, InvokeCall)
    assert got.invoked_function_arn == ARN


def test_rie_mode_ignores_event_dry_run_tail_and_does_not_validate_json() -> None:
    headers = {"X-Amz-Invocation-Type": "Event", "X-Amz-Log-Type": "Tail"}
    got = parse(raw("function", body=b"not json", headers=headers), CompatMode.RIE)
    assert isinstance(got, InvokeCall)
    assert (got.invocation_type, got.tail, got.payload) == (
        InvocationType.REQUEST_RESPONSE,
        False,
        b"not json",
    )


def test_rie_mode_truncates_big_bodies_and_500s_bad_client_context() -> None:
    got = parse(raw("function", body=b"a" * 6_291_600), CompatMode.RIE)
    assert isinstance(got, InvokeCall) and len(got.payload) == 6291556
    bad = error(raw("function", headers={"X-Amz-Client-Context": "%%%"}), CompatMode.RIE)
    assert (bad.status, bad.body) == (500, b"")


@pytest.mark.parametrize(
    ("kind", "status", "header"),
    [
        (OutcomeKind.SUCCESS, 200, None),
        (OutcomeKind.FUNCTION_ERROR, 200, None),
        (OutcomeKind.CRASH, 502, None),
        (OutcomeKind.INIT_ERROR, 502, None),
    ],
)
def test_rie_mode_statuses(kind: OutcomeKind, status: int, header: None) -> None:
    answer = render(kind, b"{}", CompatMode.RIE, error_type="Runtime.ExitError", error_message="m")
    assert answer.status == status
    assert answer.header("X-Amz-Function-Error") is header
    assert answer.header("x-amzn-RequestId") is None


def test_rie_mode_response_too_large_is_502_type_first() -> None:
    answer = render(OutcomeKind.RESPONSE_TOO_LARGE, mode=CompatMode.RIE)
    assert answer.status == 502
    assert answer.body == (
        b'{"errorType":"Function.ResponseSizeTooLarge","errorMessage":"Response payload size '
        b'exceeded maximum allowed payload size (6291556 bytes)."}'
    )


def test_rie_mode_timeout_is_plain_text() -> None:
    answer = render(OutcomeKind.TIMEOUT, mode=CompatMode.RIE, error_type="Sandbox.Timedout")
    assert (answer.status, answer.body) == (200, b"Task timed out after 3.00 seconds")


CALLER_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def test_a_callers_uuid_request_id_is_used() -> None:
    assert call(raw(headers={"X-Amzn-RequestId": CALLER_ID})).request_id == CALLER_ID
    assert call(raw(headers={"x-amzn-requestid": CALLER_ID.upper()})).request_id == (
        CALLER_ID.upper()
    )
    assert call(raw()).request_id == "req-1"
    # Later errors already carry the caller's id.
    invalid = error(raw(body=b"{", headers={"X-Amzn-RequestId": CALLER_ID}))
    assert invalid.header("x-amzn-RequestId") == CALLER_ID


@pytest.mark.parametrize(
    "value", ["", "nope", CALLER_ID[:-1], "{" + CALLER_ID + "}", CALLER_ID.replace("-", "")]
)
def test_a_request_id_that_is_not_a_uuid_is_400_invalid_request_content(value: str) -> None:
    answer = error(raw(headers={"X-Amzn-RequestId": value}))
    assert answer.status == 400
    assert answer.header("x-amzn-ErrorType") == "InvalidRequestContentException"
    assert answer.header("x-amzn-RequestId") == "req-1"
    assert json.loads(answer.body) == {
        "Type": "User",
        "Message": f"The x-amzn-RequestId header is not a valid UUID string: {value}",
    }


def test_rie_mode_ignores_a_callers_request_id() -> None:
    result = parse(raw(name="function", headers={"X-Amzn-RequestId": "nope"}), CompatMode.RIE)
    assert isinstance(result, InvokeCall)
    assert result.request_id == "req-1"


# --- Hostile input: nothing smuggled reaches the runtime (control characters in headers are
# refused by the HTTP layer before this module: tests/rie_server/http/) -------------------------
def test_a_client_context_smuggling_a_body_into_next_is_400() -> None:
    forged = b'{}\r\nContent-Length: 17\r\n\r\n{"forged":"body"}'
    answer = error(raw(headers={"X-Amz-Client-Context": base64.b64encode(forged).decode()}))
    assert answer.status == 400
    assert answer.header("x-amzn-ErrorType") == "InvalidRequestContentException"
    assert json.loads(answer.body) == {
        "Type": "User",
        "Message": "Client context must be a valid Base64-encoded JSON object.",
    }


def test_rie_mode_client_context_reaches_the_runtime_without_line_breaks() -> None:
    forged = b'{}\r\nContent-Length: 17\r\n\r\n{"forged":"body"}'
    context = base64.b64encode(forged).decode()
    got = parse(raw("function", headers={"X-Amz-Client-Context": context}), CompatMode.RIE)
    assert isinstance(got, InvokeCall)
    assert got.client_context == '{}  Content-Length: 17    {"forged":"body"}'


def test_a_malformed_trace_header_is_replaced_by_a_generated_one() -> None:
    headers = {"X-Amzn-Trace-Id": "Root=not-a-trace;Parent=1"}
    assert call(raw(headers=headers)).trace_id == TRACE
    rie = parse(raw("function", headers=headers), CompatMode.RIE)
    assert isinstance(rie, InvokeCall) and rie.trace_id is None
    assert call(raw(headers={"X-Amzn-Trace-Id": CALLER_TRACE})).trace_id == CALLER_TRACE


def test_a_body_nested_past_1000_levels_is_400_never_500() -> None:
    answer = error(raw(body=b"[" * 100_000 + b"]" * 100_000))
    assert answer.status == 400
    assert answer.header("x-amzn-ErrorType") == "InvalidRequestContentException"
    assert json.loads(answer.body)["Message"] == (
        "Could not parse request body into json: Could not parse payload into json: "
        "Document nesting depth (1001) exceeds the maximum allowed "
        "(1000, from `StreamReadConstraints.getMaxNestingDepth()`)"
    )


def test_a_body_nested_1000_levels_is_forwarded_as_sent() -> None:
    body = b" [" * 1000 + b"] " * 1000
    assert call(raw(body=body)).payload == body
