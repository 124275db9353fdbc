"""A real request as each service's event (built by ``lambdarig.events``'s builders).

Payload shapes: https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html
(1.0), https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
(2.0), https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html (Function URL),
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html (ALB).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from lambdarig.rie_server.fronts.events import (
    FrontRequest,
    build_event,
    is_text_type,
    matches_media_type,
)
from lambdarig.rie_server.fronts.routing import Route, RouteTable

NOW = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)


def request(
    method: str = "GET",
    target: str = "/items/42?a=1&a=2&b=x%20y",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> FrontRequest:
    return FrontRequest(
        method=method,
        target=target,
        headers=headers
        if headers is not None
        else [
            ("Host", "127.0.0.1:3000"),
            ("User-Agent", "curl/8.0"),
            ("Cookie", "a=1; b=2"),
            ("X-Custom", "v"),
        ],
        body=body,
        source_ip="127.0.0.1",
        port=3000,
        request_id="rid-1",
        now=NOW,
    )


def event_for(route: Route, req: FrontRequest) -> dict[str, Any]:
    match = RouteTable([route]).match(req.method, req.path)
    assert match is not None
    return json.loads(build_event(match, req))  # type: ignore[no-any-return]


def test_http_api_v2_event() -> None:
    route = Route("http", "GET", "/items/{id}", "fn", api_id="api123")
    event = event_for(route, request())
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /items/{id}"
    assert event["rawPath"] == "/items/42"
    assert event["rawQueryString"] == "a=1&a=2&b=x%20y"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x y"}
    assert event["pathParameters"] == {"id": "42"}
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    headers = event["headers"]
    assert "cookie" not in headers
    assert headers["host"] == "127.0.0.1:3000"
    assert headers["user-agent"] == "curl/8.0"
    assert headers["x-custom"] == "v"
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-port"] == "3000"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")
    context = event["requestContext"]
    assert context["requestId"] == "rid-1"
    assert context["domainName"] == "127.0.0.1:3000"
    assert context["domainPrefix"] == "127"
    assert context["stage"] == "$default"
    assert context["routeKey"] == "GET /items/{id}"
    assert context["apiId"] == "api123"
    assert context["time"] == "02/Jan/2026:03:04:05 +0000"
    assert context["timeEpoch"] == 1767323045678
    assert context["http"] == {
        "method": "GET",
        "path": "/items/42",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "curl/8.0",
    }


def test_rest_v1_event() -> None:
    route = Route("rest", "GET", "/items/{id}", "fn", stage="Prod")
    event = event_for(route, request(headers=[("Host", "h"), ("Accept", "a"), ("accept", "b")]))
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"a": "2", "b": "x y"}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"]}
    assert event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert event["headers"]["Accept"] == "b"
    assert event["body"] is None and event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["path"] == "/Prod/items/42"
    assert context["stage"] == "Prod"
    assert context["requestId"] == "rid-1"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["resourcePath"] == "/items/{id}"
    assert context["requestTimeEpoch"] == 1767323045678


def test_forwarded_for_appends_the_caller() -> None:
    route = Route("http", "ANY", None, "fn")
    req = request(headers=[("Host", "h"), ("X-Forwarded-For", "203.0.113.9")])
    assert event_for(route, req)["headers"]["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"


def test_http_api_payload_1_0() -> None:
    route = Route("http", "GET", "/items/{id}", "fn", payload_version="1.0")
    event = event_for(route, request())
    assert event["version"] == "1.0"
    assert event["requestContext"]["routeKey"] == "GET /items/{id}"
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"]}


def test_function_url_event() -> None:
    route = Route("url", "ANY", None, "fn")
    req = request(headers=[("Host", "abc.lambda-url.us-east-1.on.aws"), ("User-Agent", "u")])
    event = event_for(route, req)
    context = event["requestContext"]
    assert context["requestId"] == "rid-1"
    assert context["apiId"] == "abc"
    assert context["domainName"] == "abc.lambda-url.us-east-1.on.aws"
    assert context["routeKey"] == "$default" and context["stage"] == "$default"
    assert context["accountId"] == "anonymous"
    assert "pathParameters" not in event


@pytest.mark.parametrize("multi", [False, True])
def test_alb_event(multi: bool) -> None:
    route = Route("alb", "ANY", None, "fn", multi_value_headers=multi)
    event = event_for(route, request(method="POST", body=b"hello", headers=[("Host", "h")]))
    assert event["httpMethod"] == "POST"
    assert event["body"] == base64.b64encode(b"hello").decode()  # no text Content-Type
    assert event["isBase64Encoded"] is True
    if multi:
        assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x%20y"]}
        assert event["multiValueHeaders"]["host"] == ["h"]
    else:
        assert event["queryStringParameters"] == {"a": "2", "b": "x%20y"}
        assert event["headers"]["host"] == "h"


BINARY = b"\x00\x01\xfe\xff"


@pytest.mark.parametrize(
    "content_type, encoded",
    [
        ("application/json", False),
        ("text/plain; charset=utf-8", False),
        ("application/x-www-form-urlencoded", False),
        ("application/vnd.api+json", False),
        ("image/png", True),
        ("application/octet-stream", True),
        (None, True),
    ],
)
def test_v2_bodies_are_base64_unless_text(content_type: str | None, encoded: bool) -> None:
    body = b'{"k": "v"}' if not encoded else BINARY
    headers = [("Host", "h")] + ([("Content-Type", content_type)] if content_type else [])
    event = event_for(Route("http", "ANY", None, "fn"), request("POST", "/", headers, body))
    assert event["isBase64Encoded"] is encoded
    assert event["body"] == (base64.b64encode(body).decode() if encoded else body.decode())


def test_rest_bodies_follow_binary_media_types() -> None:
    route = Route("rest", "ANY", "/", "fn", binary_media_types=("image/*",))
    png = request("POST", "/", [("Host", "h"), ("Content-Type", "image/png")], BINARY)
    event = event_for(route, png)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == BINARY
    text = request("POST", "/", [("Host", "h"), ("Content-Type", "application/json")], b"{}")
    event = event_for(route, text)
    assert (event["isBase64Encoded"], event["body"]) == (False, "{}")
    # No BinaryMediaTypes: even an octet stream is passed as text, as REST APIs do.
    plain = Route("rest", "ANY", "/", "fn")
    octets = request("POST", "/", [("Host", "h"), ("Content-Type", "image/png")], b"abc")
    assert event_for(plain, octets)["body"] == "abc"


@pytest.mark.parametrize(
    "route",
    [
        Route("http", "ANY", None, "fn", payload_version="1.0"),
        Route("url", "ANY", None, "fn"),
        Route("alb", "ANY", None, "fn"),
        Route("alb", "ANY", None, "fn", multi_value_headers=True),
    ],
    ids=["http-1.0", "url", "alb", "alb-multi"],
)
def test_every_other_kind_sends_bodies_as_base64_unless_text(route: Route) -> None:
    # BinaryMediaTypes are a REST API's: an HTTP API's payload 1.0 event follows the text rule.
    png = request("POST", "/", [("Host", "h"), ("Content-Type", "image/png")], BINARY)
    event = event_for(route, png)
    assert (event["isBase64Encoded"], base64.b64decode(event["body"])) == (True, BINARY)
    text = request("POST", "/", [("Host", "h"), ("Content-Type", "text/plain")], b"hi")
    event = event_for(route, text)
    assert (event["isBase64Encoded"], event["body"]) == (False, "hi")


def test_media_type_helpers() -> None:
    assert matches_media_type("Image/PNG; q=1", ["image/png"])
    assert matches_media_type("image/gif", ["image/*"])
    assert matches_media_type("anything/else", ["*/*"])
    assert not matches_media_type(None, ["*/*"])
    assert not matches_media_type("text/plain", ["image/*"])
    assert is_text_type("text/csv") and not is_text_type("")
