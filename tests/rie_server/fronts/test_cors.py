"""SAM ``Cors`` (REST), ``CorsConfiguration`` (HTTP API) and ``FunctionUrlConfig`` ``Cors``
(Function URL) as the front answers them.

https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-api-corsconfiguration.html
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html
https://docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html#urls-cors
https://docs.aws.amazon.com/lambda/latest/api/API_Cors.html
"""

from __future__ import annotations

import re

import pytest

from lambdarig.rie_server.fronts.cors import (
    CorsConfig,
    CorsError,
    is_preflight,
    preflight,
    response_headers,
    with_cors,
)

PREFLIGHT = {
    "origin": "https://app.example",
    "access-control-request-method": "PUT",
    "access-control-request-headers": "X-Token, content-type",
}


def test_rest_cors_string_is_the_origin() -> None:
    config = CorsConfig.from_rest("'https://app.example'")
    status, headers = preflight(config, PREFLIGHT)
    assert status == 200
    assert headers == [
        ("Access-Control-Allow-Origin", "https://app.example"),
        ("Access-Control-Allow-Methods", "DELETE,GET,HEAD,OPTIONS,PATCH,POST,PUT"),
    ]


def test_rest_cors_map_of_quoted_strings() -> None:
    config = CorsConfig.from_rest(
        {
            "AllowOrigin": "'*'",
            "AllowMethods": "'GET,PUT'",
            "AllowHeaders": "'X-Token,Content-Type'",
            "MaxAge": "'600'",
            "AllowCredentials": True,
        }
    )
    assert preflight(config, PREFLIGHT) == (
        200,
        [
            ("Access-Control-Allow-Origin", "*"),
            ("Access-Control-Allow-Methods", "GET,PUT"),
            ("Access-Control-Allow-Headers", "X-Token,Content-Type"),
            ("Access-Control-Max-Age", "600"),
            ("Access-Control-Allow-Credentials", "true"),
        ],
    )
    # API Gateway adds nothing to a Lambda-proxy response: the function sets the headers.
    assert response_headers(config, {"origin": "https://app.example"}) == []


@pytest.mark.parametrize(
    "value, message",
    [
        ("*", "quoted string"),
        ({"AllowMethods": "'GET'"}, "AllowOrigin"),
        (["'*'"], "a string or a map"),
        ({"AllowOrigin": "'*'", "MaxAge": "'ten'"}, "MaxAge to be an integer"),
    ],
)
def test_bad_rest_cors(value: object, message: str) -> None:
    with pytest.raises(CorsError, match=message):
        CorsConfig.from_rest(value)


def test_http_api_cors_true_allows_everything() -> None:
    config = CorsConfig.from_http(True)
    assert config is not None
    status, headers = preflight(config, PREFLIGHT)
    assert status == 204
    assert headers == [
        ("access-control-allow-origin", "*"),
        ("access-control-allow-methods", "*"),
        ("access-control-allow-headers", "x-token,content-type"),
    ]
    assert CorsConfig.from_http(False) is None


def test_http_api_cors_configuration() -> None:
    config = CorsConfig.from_http(
        {
            "AllowOrigins": ["https://app.example"],
            "AllowMethods": ["get", "put"],
            "AllowHeaders": ["x-token", "Content-Type"],
            "ExposeHeaders": ["X-Total"],
            "MaxAge": 300,
            "AllowCredentials": True,
        }
    )
    assert config is not None
    assert preflight(config, PREFLIGHT) == (
        204,
        [
            ("access-control-allow-origin", "https://app.example"),
            ("access-control-allow-methods", "GET,PUT"),
            ("access-control-allow-headers", "x-token,content-type"),
            ("access-control-max-age", "300"),
            ("access-control-allow-credentials", "true"),
        ],
    )
    assert response_headers(config, {"origin": "https://app.example"}) == [
        ("access-control-allow-origin", "https://app.example"),
        ("access-control-expose-headers", "x-total"),
        ("access-control-allow-credentials", "true"),
    ]
    # An origin, method or header not allowed: a preflight without CORS headers, nothing added.
    assert preflight(config, {**PREFLIGHT, "origin": "https://evil.example"}) == (204, [])
    assert preflight(config, {**PREFLIGHT, "access-control-request-method": "DELETE"}) == (
        204,
        [],
    )
    assert preflight(config, {**PREFLIGHT, "access-control-request-headers": "x-other"}) == (
        204,
        [],
    )
    assert response_headers(config, {"origin": "https://evil.example"}) == []
    assert response_headers(config, {}) == []


def test_bad_http_cors() -> None:
    with pytest.raises(CorsError, match="AllowOrigins to be a list of strings"):
        CorsConfig.from_http({"AllowOrigins": "*"})
    with pytest.raises(CorsError, match="a boolean or a map"):
        CorsConfig.from_http("yes")


def test_preflight_needs_origin_and_requested_method() -> None:
    assert is_preflight("OPTIONS", PREFLIGHT)
    assert not is_preflight("GET", PREFLIGHT)
    assert not is_preflight("OPTIONS", {"origin": "x"})


def test_function_url_cors_matches_as_http_api_and_answers_200() -> None:
    config = CorsConfig.from_url(
        {
            "AllowOrigins": ["https://app.example"],
            "AllowMethods": ["get", "PUT"],
            "AllowHeaders": ["X-Token", "content-type"],
            "ExposeHeaders": ["X-Total"],
            "MaxAge": 300,
            "AllowCredentials": True,
        }
    )
    assert preflight(config, PREFLIGHT) == (
        200,
        [
            ("access-control-allow-origin", "https://app.example"),
            ("access-control-allow-methods", "GET,PUT"),
            ("access-control-allow-headers", "x-token,content-type"),
            ("access-control-max-age", "300"),
            ("access-control-allow-credentials", "true"),
            ("vary", "Origin"),
        ],
    )
    assert preflight(config, {**PREFLIGHT, "origin": "https://evil.example"}) == (200, [])
    assert preflight(config, {**PREFLIGHT, "access-control-request-method": "POST"}) == (200, [])
    assert response_headers(config, {"origin": "https://app.example"}) == [
        ("access-control-allow-origin", "https://app.example"),
        ("access-control-expose-headers", "x-total"),
        ("access-control-allow-credentials", "true"),
        ("vary", "Origin"),
    ]


def test_function_url_wildcards() -> None:
    config = CorsConfig.from_url({"AllowOrigins": ["*"], "AllowMethods": ["*"]})
    status, headers = preflight(config, {**PREFLIGHT, "access-control-request-headers": ""})
    assert (status, headers) == (
        200,
        [("access-control-allow-origin", "*"), ("access-control-allow-methods", "*")],
    )
    # No AllowHeaders: a preflight asking for a header is refused.
    assert preflight(config, PREFLIGHT) == (200, [])
    assert response_headers(config, {"origin": "https://any.example"}) == [
        ("access-control-allow-origin", "*")
    ]
    # With credentials, "*" cannot be sent: the request's origin is, with Vary.
    config = CorsConfig.from_url({"AllowOrigins": ["*"], "AllowCredentials": True})
    assert response_headers(config, {"origin": "https://any.example"})[0] == (
        "access-control-allow-origin",
        "https://any.example",
    )


def test_the_function_keeps_its_cors_headers_at_a_function_url_not_at_an_http_api() -> None:
    request = {"origin": "https://app.example"}
    own = [("Access-Control-Allow-Origin", "https://own.example"), ("X-Other", "1")]
    url = CorsConfig.from_url({"AllowOrigins": ["https://app.example"]})
    assert with_cors(url, own, request) == [
        *own,
        ("access-control-allow-origin", "https://app.example"),
        ("vary", "Origin"),
    ]
    http = CorsConfig.from_http({"AllowOrigins": ["https://app.example"]})
    assert http is not None
    assert with_cors(http, own, request) == [
        ("X-Other", "1"),
        ("access-control-allow-origin", "https://app.example"),
    ]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("*", "Cors to be a map"),
        ({"AllowOrigins": "*"}, "AllowOrigins to be a list of strings"),
        ({"AllowOrigins": [""]}, "AllowOrigins to hold at most 100 strings of 1-253"),
        ({"AllowOrigins": ["x" * 254]}, "AllowOrigins to hold at most 100 strings of 1-253"),
        ({"AllowOrigins": ["o"] * 101}, "AllowOrigins to hold at most 100 strings"),
        ({"AllowMethods": ["OPTIONS"]}, "AllowMethods to hold at most 6 strings of 0-6"),
        ({"AllowMethods": ["GET"] * 7}, "AllowMethods to hold at most 6"),
        ({"AllowHeaders": ["h" * 1025]}, "AllowHeaders to hold at most 100 strings of 0-1024"),
        ({"ExposeHeaders": [1]}, "ExposeHeaders to be a list of strings"),
        ({"MaxAge": -1}, "MaxAge in 0-86400, got -1"),
        ({"MaxAge": 86401}, "MaxAge in 0-86400, got 86401"),
        ({"MaxAge": "soon"}, "MaxAge to be an integer"),
        ({"AllowCredentials": "yes"}, "AllowCredentials to be a boolean"),
    ],
)
def test_bad_function_url_cors(value: object, message: str) -> None:
    with pytest.raises(CorsError, match=re.escape(message)):
        CorsConfig.from_url(value)
