"""A function's result (or its failure) as the HTTP answer each service gives (sans-IO).

``from_result`` maps a successful invocation's payload; ``gateway_error`` gives the service's own
answer when there is no route, the function failed, the answer was malformed, the integration
timed out, or Lambda throttled. Sources, per kind:

* REST API (payload 1.0): the function must return ``statusCode`` (and may return ``headers``,
  ``multiValueHeaders`` - merged, ``multiValueHeaders`` winning a repeated pair - ``body``,
  ``isBase64Encoded``); anything else is "Malformed Lambda proxy response", 502
  ``{"message": "Internal server error"}``
  (https://repost.aws/knowledge-center/malformed-502-api-gateway). A function error is 502 with
  the same body; an unknown route 403 ``{"message":"Missing Authentication Token"}``; the
  integration timeout (29 s) 504 ``{"message": "Endpoint request timed out"}``
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html);
  a throttled invoke 500 ``Internal server error``
  (https://repost.aws/knowledge-center/api-gateway-internal-server-error). A base64 body is
  decoded only when the API has ``BinaryMediaTypes`` matching the request's ``Accept``
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/lambda-proxy-binary-media.html).
* HTTP API (payload 2.0, or 1.0 on request): payload 2.0 infers the response when the function
  returns no ``statusCode`` (200, ``content-type: application/json``, the result as body; a JSON
  string's value as body); ``cookies`` become ``set-cookie`` headers
  (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
  Errors are 500 ``{"message":"Internal Server Error"}``, no route 404 ``{"message":"Not Found"}``,
  the 30 s integration timeout 503 ``{"message":"Service Unavailable"}``.
* Function URL: payload 2.0 rules; errors are 502 ``Internal Server Error``, throttling 429
  (https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html).
* ALB: ``statusCode`` required, ``statusDescription``, ``headers`` or ``multiValueHeaders`` (as the
  target group is configured), ``body``, ``isBase64Encoded``; a malformed answer or function error
  is 502, throttling 503, with ALB's HTML error page
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/lambda-functions.html).

One mapping serves every kind: where the services differ, a ``_Reading`` says how (payload 2.0's
inference, ``multiValueHeaders``, ``cookies``, REST's default content type and binary media
types), and an ``_Answers`` per kind holds its error answers.

Header names and values from the function are validated: a control character (CR, LF, NUL...)
or a non-token name makes the answer malformed, never a forwarded header.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lambdarig.rie_server.fronts.events import matches_media_type
from lambdarig.rie_server.fronts.routing import Route

Headers = list[tuple[str, str]]

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class Failure(enum.Enum):
    """Why the front answers instead of the function."""

    NO_ROUTE = "no_route"
    FUNCTION_ERROR = "function_error"
    MALFORMED = "malformed"
    TIMEOUT = "timeout"
    THROTTLED = "throttled"
    TOO_LARGE = "too_large"


@dataclass(frozen=True)
class Reply:
    """The answer: status, header pairs in order (``Set-Cookie`` repeated), body bytes."""

    status: int
    headers: Headers = field(default_factory=list)
    body: bytes = b""


class Malformed(ValueError):
    """The function's answer does not have the shape its service requires."""


_JSON = ("Content-Type", "application/json")
_PLAIN = ("Content-Type", "text/plain")
_HTML = ("Content-Type", "text/html")
_ALB_PAGE = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n</body>\r\n</html>\r\n"
)


@dataclass(frozen=True)
class _Answers:
    """What one service answers in place of the function. A function error and a malformed
    result get the same answer (``failed``) from every service."""

    failed: Reply
    no_route: Reply
    timeout: Reply
    throttled: Reply
    too_large: Reply

    def of(self, failure: Failure) -> Reply:
        if failure is Failure.FUNCTION_ERROR or failure is Failure.MALFORMED:
            return self.failed
        if failure is Failure.NO_ROUTE:
            return self.no_route
        if failure is Failure.TIMEOUT:
            return self.timeout
        if failure is Failure.THROTTLED:
            return self.throttled
        return self.too_large


def _json(status: int, body: bytes) -> Reply:
    return Reply(status, [_JSON], body)


def _alb_page(status: int, phrase: str) -> Reply:
    return Reply(status, [_HTML], _ALB_PAGE.format(status=status, phrase=phrase).encode())


_REST_FAILED = b'{"message": "Internal server error"}'
_HTTP_FAILED = b'{"message":"Internal Server Error"}'
_NOT_FOUND = b'{"message":"Not Found"}'
_URL_FAILED = Reply(502, [_PLAIN], b"Internal Server Error")

_ANSWERS = {
    "rest": _Answers(
        failed=_json(502, _REST_FAILED),
        no_route=Reply(
            403,
            [_JSON, ("x-amzn-ErrorType", "MissingAuthenticationTokenException")],
            b'{"message":"Missing Authentication Token"}',
        ),
        timeout=_json(504, b'{"message": "Endpoint request timed out"}'),
        throttled=_json(500, _REST_FAILED),
        too_large=_json(413, b'{"message":"Request Too Long"}'),
    ),
    "http": _Answers(
        failed=_json(500, _HTTP_FAILED),
        no_route=_json(404, _NOT_FOUND),
        timeout=_json(503, b'{"message":"Service Unavailable"}'),
        throttled=_json(500, _HTTP_FAILED),
        too_large=_json(413, b'{"message":"Request Entity Too Large"}'),
    ),
    "url": _Answers(
        failed=_URL_FAILED,
        no_route=_json(404, _NOT_FOUND),
        timeout=_URL_FAILED,
        throttled=_json(429, b'{"Message":"Rate Exceeded."}'),
        too_large=_json(413, b'{"Message":"Request must be smaller than 6291456 bytes"}'),
    ),
    "alb": _Answers(
        failed=_alb_page(502, "Bad Gateway"),
        no_route=_alb_page(404, "Not Found"),
        timeout=_alb_page(504, "Gateway Time-out"),
        throttled=_alb_page(503, "Service Temporarily Unavailable"),
        too_large=_alb_page(413, "Error"),
    ),
}

#: Integration timeouts: REST 29 s, HTTP API 30 s; Function URLs and ALB wait for the function.
INTEGRATION_TIMEOUT_S = {"rest": 29.0, "http": 30.0, "url": None, "alb": None}


def gateway_error(kind: str, failure: Failure) -> Reply:
    """The service's own answer for ``failure``."""
    answer = _ANSWERS[kind].of(failure)
    return Reply(answer.status, list(answer.headers), answer.body)


@dataclass(frozen=True)
class _Reading:
    """How a service reads a function's result: which fields it takes and what it infers.

    ``infers``: a result that is not an object with ``statusCode`` is the body of a 200 (payload
    2.0); else such a result is malformed. ``single``/``multi``: it reads ``headers``
    (``{name: value}``) / ``multiValueHeaders`` (``{name: [values]}``; with both, a name in
    ``multiValueHeaders`` keeps only its values there). ``cookies``: ``cookies`` become
    ``set-cookie`` headers. ``json_by_default``: without a ``Content-Type`` of the function's,
    ``application/json``. ``binary_media_types``: a base64 body is decoded only when the API's
    ``BinaryMediaTypes`` match the request's ``Accept`` (else always).
    """

    infers: bool = False
    single: bool = True
    multi: bool = False
    cookies: bool = False
    json_by_default: bool = False
    binary_media_types: bool = False


_REST_API = _Reading(multi=True, json_by_default=True, binary_media_types=True)
_PAYLOAD_1_0 = _Reading(multi=True)  # an HTTP API route with payload 1.0
_PAYLOAD_2_0 = _Reading(infers=True, cookies=True)  # HTTP API and Function URLs
_ALB = _Reading()
_ALB_MULTI = _Reading(single=False, multi=True)  # the target group's multi-value headers on


def _reading(route: Route) -> _Reading:
    if route.kind == "alb":
        return _ALB_MULTI if route.multi_value_headers else _ALB
    if route.payload_version == "2.0":
        return _PAYLOAD_2_0
    return _REST_API if route.kind == "rest" else _PAYLOAD_1_0


def from_result(route: Route, payload: bytes, accept: str | None = None) -> Reply:
    """The answer for a successful invocation's ``payload``; malformed -> the service's error."""
    reading = _reading(route)
    try:
        result = _load(payload)
        if reading.infers and not (isinstance(result, dict) and "statusCode" in result):
            body = result.encode("utf-8", "surrogatepass") if isinstance(result, str) else payload
            return Reply(200, [("content-type", "application/json")], body)
        if not isinstance(result, dict):
            raise Malformed("expected a JSON object")
        decode = not reading.binary_media_types or _binary(route, accept)
        return Reply(_status(result), _headers(result, reading), _body(result, decode))
    except Malformed:
        return gateway_error(route.kind, Failure.MALFORMED)


def _binary(route: Route, accept: str | None) -> bool:
    """REST API: does the request's (first) ``Accept`` match the API's ``BinaryMediaTypes``?"""
    first_accept = (accept or "").split(",", 1)[0]
    return bool(route.binary_media_types) and (
        matches_media_type(first_accept, route.binary_media_types)
        or "*/*" in route.binary_media_types
    )


def _headers(result: Mapping[str, Any], reading: _Reading) -> Headers:
    headers = _single(result.get("headers")) if reading.single else []
    if reading.multi:
        headers = _merged(headers, _multi(result.get("multiValueHeaders")))
    if reading.cookies:
        headers.extend(_cookies(result.get("cookies")))
    if reading.json_by_default and not _has(headers, "content-type"):
        headers.append(_JSON)
    return headers


def _load(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise Malformed("expected the function's result to be JSON") from None


def _object(payload: bytes) -> dict[str, Any]:
    result = _load(payload)
    if not isinstance(result, dict):
        raise Malformed("expected a JSON object")
    return result


def _status(result: Mapping[str, Any]) -> int:
    status = result.get("statusCode")
    if isinstance(status, bool):
        raise Malformed("statusCode")
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if not isinstance(status, int) or not 100 <= status <= 599:
        raise Malformed("expected statusCode to be an integer from 100 to 599")
    return status


def _text(value: Any) -> str:
    """A header value: strings, numbers and booleans as the services print them."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        raise Malformed("expected a header value to be a string")
    if _BAD_VALUE.search(text):
        raise Malformed("expected a header value without control characters")
    return text


def _name(name: Any) -> str:
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise Malformed("expected a header name to be an HTTP token")
    return name


def _single(headers: Any) -> Headers:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise Malformed("expected headers to be an object")
    return [(_name(name), _text(value)) for name, value in headers.items()]


def _multi(headers: Any) -> Headers:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise Malformed("expected multiValueHeaders to be an object")
    pairs: Headers = []
    for name, values in headers.items():
        if not isinstance(values, list):
            raise Malformed("expected multiValueHeaders values to be lists")
        pairs.extend((_name(name), _text(value)) for value in values)
    return pairs


def _cookies(cookies: Any) -> Headers:
    if cookies is None:
        return []
    if not isinstance(cookies, list):
        raise Malformed("expected cookies to be a list")
    return [("set-cookie", _text(cookie)) for cookie in cookies]


def _merged(single: Headers, multi: Headers) -> Headers:
    """REST: ``headers`` and ``multiValueHeaders`` merged; a name in both keeps the multi values."""
    in_multi = {name.lower() for name, _ in multi}
    return [pair for pair in single if pair[0].lower() not in in_multi] + multi


def _body(result: Mapping[str, Any], decode: bool) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise Malformed("expected body to be a string")
    if decode and result.get("isBase64Encoded") is True:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise Malformed("expected a base64 body") from None
    return body.encode("utf-8", "surrogatepass")


def _has(headers: Sequence[tuple[str, str]], name: str) -> bool:
    return any(key.lower() == name for key, _ in headers)


def stream_head(prelude: bytes) -> Reply:
    """The status and headers a streamed Function URL answer starts with: the function's JSON
    prelude ``{"statusCode", "headers", "cookies"}`` (each optional; 200 without a status),
    read as payload 2.0 reads a result (cookies as ``set-cookie`` headers); raises ``Malformed``
    for any other shape."""
    result = _object(prelude)
    status = _status(result) if "statusCode" in result else 200
    return Reply(status, _headers(result, _PAYLOAD_2_0))
