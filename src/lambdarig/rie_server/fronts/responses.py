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
_ALB_PAGE = (
    "<html>\r\n<head><title>{status} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {phrase}</h1></center>\r\n</body>\r\n</html>\r\n"
)
_ALB_PHRASES = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}

# (status, body) per kind and failure.
_REST = {
    Failure.NO_ROUTE: (403, b'{"message":"Missing Authentication Token"}'),
    Failure.FUNCTION_ERROR: (502, b'{"message": "Internal server error"}'),
    Failure.MALFORMED: (502, b'{"message": "Internal server error"}'),
    Failure.TIMEOUT: (504, b'{"message": "Endpoint request timed out"}'),
    Failure.THROTTLED: (500, b'{"message": "Internal server error"}'),
    Failure.TOO_LARGE: (413, b'{"message":"Request Too Long"}'),
}
_HTTP = {
    Failure.NO_ROUTE: (404, b'{"message":"Not Found"}'),
    Failure.FUNCTION_ERROR: (500, b'{"message":"Internal Server Error"}'),
    Failure.MALFORMED: (500, b'{"message":"Internal Server Error"}'),
    Failure.TIMEOUT: (503, b'{"message":"Service Unavailable"}'),
    Failure.THROTTLED: (500, b'{"message":"Internal Server Error"}'),
    Failure.TOO_LARGE: (413, b'{"message":"Request Entity Too Large"}'),
}
_URL = {
    Failure.NO_ROUTE: (404, b'{"message":"Not Found"}'),
    Failure.FUNCTION_ERROR: (502, b"Internal Server Error"),
    Failure.MALFORMED: (502, b"Internal Server Error"),
    Failure.TIMEOUT: (502, b"Internal Server Error"),
    Failure.THROTTLED: (429, b'{"Message":"Rate Exceeded."}'),
    Failure.TOO_LARGE: (413, b'{"Message":"Request must be smaller than 6291456 bytes"}'),
}
_ALB = {
    Failure.NO_ROUTE: 404,
    Failure.FUNCTION_ERROR: 502,
    Failure.MALFORMED: 502,
    Failure.TIMEOUT: 504,
    Failure.THROTTLED: 503,
    Failure.TOO_LARGE: 413,
}

#: Integration timeouts: REST 29 s, HTTP API 30 s; Function URLs and ALB wait for the function.
INTEGRATION_TIMEOUT_S = {"rest": 29.0, "http": 30.0, "url": None, "alb": None}


def gateway_error(kind: str, failure: Failure) -> Reply:
    """The service's own answer for ``failure``."""
    if kind == "alb":
        status = _ALB[failure]
        phrase = _ALB_PHRASES.get(status, "Not Found" if status == 404 else "Error")
        page = _ALB_PAGE.format(status=status, phrase=phrase).encode()
        return Reply(status, [("Content-Type", "text/html")], page)
    table = {"rest": _REST, "http": _HTTP, "url": _URL}[kind]
    status, body = table[failure]
    headers = [_JSON] if body.startswith(b"{") else [("Content-Type", "text/plain")]
    if kind == "rest" and failure is Failure.NO_ROUTE:
        headers.append(("x-amzn-ErrorType", "MissingAuthenticationTokenException"))
    return Reply(status, headers, body)


def from_result(route: Route, payload: bytes, accept: str | None = None) -> Reply:
    """The answer for a successful invocation's ``payload``; malformed -> the service's error."""
    try:
        if route.kind == "alb":
            return _alb(route, _object(payload))
        if route.payload_version == "2.0":
            return _v2(payload)
        return _v1(route, _object(payload), accept)
    except Malformed:
        return gateway_error(route.kind, Failure.MALFORMED)


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


def _v1(route: Route, result: dict[str, Any], accept: str | None) -> Reply:
    status = _status(result)
    headers = _merged(_single(result.get("headers")), _multi(result.get("multiValueHeaders")))
    if route.kind == "rest":
        first_accept = (accept or "").split(",", 1)[0]
        decode = bool(route.binary_media_types) and (
            matches_media_type(first_accept, route.binary_media_types)
            or "*/*" in route.binary_media_types
        )
        if not _has(headers, "content-type"):
            headers.append(_JSON)
    else:
        decode = True
    return Reply(status, headers, _body(result, decode))


def _v2(payload: bytes) -> Reply:
    result = _load(payload)
    if not isinstance(result, dict) or "statusCode" not in result:
        body = result.encode("utf-8", "surrogatepass") if isinstance(result, str) else payload
        return Reply(200, [("content-type", "application/json")], body)
    status = _status(result)
    headers = _single(result.get("headers"))
    cookies = result.get("cookies")
    if cookies is not None:
        if not isinstance(cookies, list):
            raise Malformed("expected cookies to be a list")
        headers.extend(("set-cookie", _text(cookie)) for cookie in cookies)
    return Reply(status, headers, _body(result, decode=True))


def _alb(route: Route, result: dict[str, Any]) -> Reply:
    status = _status(result)
    if route.multi_value_headers:
        headers = _multi(result.get("multiValueHeaders"))
    else:
        headers = _single(result.get("headers"))
    return Reply(status, headers, _body(result, decode=True))


def stream_head(prelude: bytes) -> Reply:
    """The status and headers a streamed Function URL answer starts with: the function's JSON
    prelude ``{"statusCode", "headers", "cookies"}`` (each optional; 200 without a status),
    cookies as ``set-cookie`` headers; raises ``Malformed`` for any other shape."""
    result = _object(prelude)
    status = _status(result) if "statusCode" in result else 200
    headers = _single(result.get("headers"))
    cookies = result.get("cookies")
    if cookies is not None:
        if not isinstance(cookies, list):
            raise Malformed("expected cookies to be a list")
        headers.extend(("set-cookie", _text(cookie)) for cookie in cookies)
    return Reply(status, headers)
