"""A function's result (or failure) as each service answers it; bodies and statuses from AWS's
documentation (page cited per test)."""

from __future__ import annotations

import base64
import json

import pytest

from lambdarig.rie_server.fronts.responses import (
    Failure,
    Reply,
    from_result,
    gateway_error,
)
from lambdarig.rie_server.fronts.routing import Route

REST = Route("rest", "ANY", "/", "fn")
HTTP = Route("http", "ANY", None, "fn")
HTTP_V1 = Route("http", "ANY", None, "fn", payload_version="1.0")
URL = Route("url", "ANY", None, "fn")
ALB = Route("alb", "ANY", None, "fn")
ALB_MULTI = Route("alb", "ANY", None, "fn", multi_value_headers=True)


def result(route: Route, value: object, accept: str | None = None) -> Reply:
    return from_result(route, json.dumps(value).encode(), accept)


# https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html
# (MISSING_AUTHENTICATION_TOKEN 403, INTEGRATION_TIMEOUT 504) and
# https://repost.aws/knowledge-center/malformed-502-api-gateway (502 "Internal server error").
@pytest.mark.parametrize(
    "failure, status, body",
    [
        (Failure.NO_ROUTE, 403, b'{"message":"Missing Authentication Token"}'),
        (Failure.FUNCTION_ERROR, 502, b'{"message": "Internal server error"}'),
        (Failure.MALFORMED, 502, b'{"message": "Internal server error"}'),
        (Failure.TIMEOUT, 504, b'{"message": "Endpoint request timed out"}'),
        # https://repost.aws/knowledge-center/api-gateway-internal-server-error (throttling)
        (Failure.THROTTLED, 500, b'{"message": "Internal server error"}'),
    ],
)
def test_rest_gateway_answers(failure: Failure, status: int, body: bytes) -> None:
    reply = gateway_error("rest", failure)
    assert (reply.status, reply.body) == (status, body)
    assert ("Content-Type", "application/json") in reply.headers


def test_rest_missing_route_names_its_error_type() -> None:
    reply = gateway_error("rest", Failure.NO_ROUTE)
    assert ("x-amzn-ErrorType", "MissingAuthenticationTokenException") in reply.headers


# HTTP APIs: 404 Not Found for no route; 500 Internal Server Error for a failed Lambda integration
# (https://repost.aws/knowledge-center/api-gateway-internal-server-error); 503 Service Unavailable
# past the 30 s integration timeout (AWS documents the timeout, not the body: as reported in
# https://github.com/serverless/serverless/issues/11222 and https://github.com/sst/sst/issues/2232).
@pytest.mark.parametrize(
    "failure, status, body",
    [
        (Failure.NO_ROUTE, 404, b'{"message":"Not Found"}'),
        (Failure.FUNCTION_ERROR, 500, b'{"message":"Internal Server Error"}'),
        (Failure.MALFORMED, 500, b'{"message":"Internal Server Error"}'),
        (Failure.TIMEOUT, 503, b'{"message":"Service Unavailable"}'),
    ],
)
def test_http_api_gateway_answers(failure: Failure, status: int, body: bytes) -> None:
    reply = gateway_error("http", failure)
    assert (reply.status, reply.body) == (status, body)


def test_function_url_and_alb_answers() -> None:
    # https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html
    url = gateway_error("url", Failure.FUNCTION_ERROR)
    assert (url.status, url.body) == (502, b"Internal Server Error")
    assert gateway_error("url", Failure.THROTTLED).status == 429
    # https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-troubleshooting.html
    alb = gateway_error("alb", Failure.MALFORMED)
    assert alb.status == 502 and b"<h1>502 Bad Gateway</h1>" in alb.body
    assert gateway_error("alb", Failure.THROTTLED).status == 503


# https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
# ("Output format of a Lambda function for proxy integration")
def test_rest_structured_result() -> None:
    reply = result(
        REST,
        {
            "statusCode": 201,
            "headers": {"X-One": "1", "Set-Cookie": "dropped=1", "X-Num": 5},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": "created",
        },
    )
    assert reply.status == 201
    assert reply.body == b"created"
    assert reply.headers == [
        ("X-One", "1"),
        ("X-Num", "5"),
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Type", "application/json"),
    ]


def test_rest_base64_needs_binary_media_types_and_accept() -> None:
    encoded = base64.b64encode(b"\x00\xff").decode()
    answer = {"statusCode": 200, "body": encoded, "isBase64Encoded": True}
    assert result(REST, answer, "image/png").body == encoded.encode()  # no BinaryMediaTypes
    binary = Route("rest", "ANY", "/", "fn", binary_media_types=("image/png",))
    assert result(binary, answer, "image/png, */*").body == b"\x00\xff"
    assert result(binary, answer, "text/html").body == encoded.encode()
    wildcard = Route("rest", "ANY", "/", "fn", binary_media_types=("*/*",))
    assert result(wildcard, answer).body == b"\x00\xff"


@pytest.mark.parametrize(
    "value",
    [
        "just a string",
        {"body": "no status"},
        {"statusCode": "abc"},
        {"statusCode": True},
        {"statusCode": 99},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "headers": ["x"]},
        {"statusCode": 200, "headers": {"X-Evil": "a\r\nInjected: 1"}},
        {"statusCode": 200, "headers": {"Bad Name": "v"}},
        {"statusCode": 200, "headers": {"X": {"nested": 1}}},
        {"statusCode": 200, "multiValueHeaders": {"X": "not-a-list"}},
        {"statusCode": 200, "body": "!!", "isBase64Encoded": True},
    ],
)
def test_malformed_rest_results_are_502(value: object) -> None:
    binary = Route("rest", "ANY", "/", "fn", binary_media_types=("*/*",))
    assert result(binary, value) == gateway_error("rest", Failure.MALFORMED)


def test_non_json_result_is_malformed() -> None:
    assert from_result(REST, b"not json") == gateway_error("rest", Failure.MALFORMED)
    assert from_result(HTTP, b"\xff") == gateway_error("http", Failure.MALFORMED)


# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
# ("Lambda function response for format 2.0": the inference without statusCode).
@pytest.mark.parametrize(
    "value, body",
    [
        ("Hello from Lambda!", b"Hello from Lambda!"),
        ({"message": "Hello"}, b'{"message": "Hello"}'),
        ([1, 2], b"[1, 2]"),
        (None, b"null"),
        (42, b"42"),
    ],
)
def test_v2_infers_a_response_without_status_code(value: object, body: bytes) -> None:
    for route in (HTTP, URL):
        reply = result(route, value)
        assert reply == Reply(200, [("content-type", "application/json")], body)


def test_v2_structured_result_with_cookies_and_base64() -> None:
    reply = result(
        HTTP,
        {
            "statusCode": 302,
            "headers": {"location": "/x"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": base64.b64encode(b"\x89PNG").decode(),
            "isBase64Encoded": True,
        },
    )
    assert reply.status == 302
    assert reply.headers == [
        ("location", "/x"),
        ("set-cookie", "a=1; Path=/"),
        ("set-cookie", "b=2"),
    ]
    assert reply.body == b"\x89PNG"


@pytest.mark.parametrize(
    "value",
    [
        {"statusCode": "x"},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "cookies": ["a=1\nb"]},
        {"statusCode": 200, "headers": {"x": "\x00"}},
    ],
)
def test_malformed_v2_results(value: object) -> None:
    assert result(HTTP, value) == gateway_error("http", Failure.MALFORMED)
    assert result(URL, value) == gateway_error("url", Failure.MALFORMED)


def test_http_api_payload_1_0_result() -> None:
    reply = result(HTTP_V1, {"statusCode": 200, "body": "aGk=", "isBase64Encoded": True})
    assert (reply.status, reply.body, reply.headers) == (200, b"hi", [])
    assert result(HTTP_V1, "string") == gateway_error("http", Failure.MALFORMED)


def test_alb_results() -> None:
    single = result(ALB, {"statusCode": 200, "statusDescription": "200 OK", "headers": {"a": "b"}})
    assert (single.status, single.headers, single.body) == (200, [("a", "b")], b"")
    multi = result(ALB_MULTI, {"statusCode": 200, "multiValueHeaders": {"set-cookie": ["x", "y"]}})
    assert multi.headers == [("set-cookie", "x"), ("set-cookie", "y")]
    assert result(ALB, {"body": "no status"}) == gateway_error("alb", Failure.MALFORMED)


# Every service's own answers, with their content types: a function error and a malformed result
# are one answer per service. ALB's pages are its HTML error pages (load-balancer-troubleshooting).
@pytest.mark.parametrize(
    "kind, failure, status, content_type, body",
    [
        ("rest", Failure.TOO_LARGE, 413, "application/json", b'{"message":"Request Too Long"}'),
        ("http", Failure.THROTTLED, 500, "application/json",
         b'{"message":"Internal Server Error"}'),
        ("http", Failure.TOO_LARGE, 413, "application/json",
         b'{"message":"Request Entity Too Large"}'),
        ("url", Failure.NO_ROUTE, 404, "application/json", b'{"message":"Not Found"}'),
        ("url", Failure.MALFORMED, 502, "text/plain", b"Internal Server Error"),
        ("url", Failure.TIMEOUT, 502, "text/plain", b"Internal Server Error"),
        ("url", Failure.THROTTLED, 429, "application/json", b'{"Message":"Rate Exceeded."}'),
        ("url", Failure.TOO_LARGE, 413, "application/json",
         b'{"Message":"Request must be smaller than 6291456 bytes"}'),
    ],
)  # fmt: skip
def test_every_service_answer_and_its_content_type(
    kind: str, failure: Failure, status: int, content_type: str, body: bytes
) -> None:
    assert gateway_error(kind, failure) == Reply(status, [("Content-Type", content_type)], body)


@pytest.mark.parametrize(
    "failure, status, phrase",
    [
        (Failure.NO_ROUTE, 404, "Not Found"),
        (Failure.FUNCTION_ERROR, 502, "Bad Gateway"),
        (Failure.MALFORMED, 502, "Bad Gateway"),
        (Failure.TIMEOUT, 504, "Gateway Time-out"),
        (Failure.THROTTLED, 503, "Service Temporarily Unavailable"),
        (Failure.TOO_LARGE, 413, "Error"),
    ],
)
def test_alb_answers_are_its_html_pages(failure: Failure, status: int, phrase: str) -> None:
    reply = gateway_error("alb", failure)
    assert (reply.status, reply.headers) == (status, [("Content-Type", "text/html")])
    assert (
        reply.body
        == (
            f"<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
            f"<center><h1>{status} {phrase}</h1></center>\r\n</body>\r\n</html>\r\n"
        ).encode()
    )


def test_a_service_answer_is_a_fresh_value_each_time() -> None:
    first = gateway_error("rest", Failure.NO_ROUTE)
    first.headers.append(("X-Mine", "1"))
    assert ("X-Mine", "1") not in gateway_error("rest", Failure.NO_ROUTE).headers


# What each service reads from a structured result, and what it leaves.
EVERY_FIELD = {
    "statusCode": 200,
    "headers": {"X-Single": "s", "X-Both": "single"},
    "multiValueHeaders": {"X-Multi": ["m1", "m2"], "x-both": ["multi"]},
    "cookies": ["c=1"],
    "body": "b",
}


@pytest.mark.parametrize(
    "route, headers",
    [
        # REST: headers and multiValueHeaders merged (a name in both, in any case, keeps the multi
        # values); no cookies; application/json when the function names no content type.
        (REST, [("X-Single", "s"), ("X-Multi", "m1"), ("X-Multi", "m2"), ("x-both", "multi"),
                ("Content-Type", "application/json")]),
        # HTTP API payload 1.0: merged as REST, no cookies, no content type added.
        (HTTP_V1, [("X-Single", "s"), ("X-Multi", "m1"), ("X-Multi", "m2"), ("x-both", "multi")]),
        # Payload 2.0 (HTTP API, Function URL): headers and cookies, no multiValueHeaders.
        (HTTP, [("X-Single", "s"), ("X-Both", "single"), ("set-cookie", "c=1")]),
        (URL, [("X-Single", "s"), ("X-Both", "single"), ("set-cookie", "c=1")]),
        # ALB: headers or multiValueHeaders as the target group says, never both, no cookies.
        (ALB, [("X-Single", "s"), ("X-Both", "single")]),
        (ALB_MULTI, [("X-Multi", "m1"), ("X-Multi", "m2"), ("x-both", "multi")]),
    ],
)  # fmt: skip
def test_what_each_service_reads_from_a_result(route: Route, headers: list[object]) -> None:
    assert result(route, EVERY_FIELD) == Reply(200, headers, b"b")


def test_only_payload_2_0_infers_a_result_without_status_code() -> None:
    for route in (REST, HTTP_V1, ALB, ALB_MULTI):
        assert result(route, {"body": "x"}) == gateway_error(route.kind, Failure.MALFORMED)
    for route in (HTTP, URL):
        inferred = Reply(200, [("content-type", "application/json")], b'{"body": "x"}')
        assert result(route, {"body": "x"}) == inferred


def test_only_rest_needs_binary_media_types_to_decode_base64() -> None:
    encoded = base64.b64encode(b"\x00").decode()
    answer = {"statusCode": 200, "body": encoded, "isBase64Encoded": True}
    assert result(REST, answer).body == encoded.encode()
    for route in (HTTP_V1, HTTP, URL, ALB, ALB_MULTI):
        assert result(route, answer).body == b"\x00"
