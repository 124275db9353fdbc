"""An HTTP request as each service turns it into a Lambda event (sans-IO).

One implementation: the shapes are ``lambdarig.events``'s builders, given what the real request
fixes (``Wire``: caller address, domain, request id, protocol) and no invented headers. What the
front adds is what the service adds: ``X-Forwarded-For`` (the caller appended),
``X-Forwarded-Port``, ``X-Forwarded-Proto`` and an ``X-Amzn-Trace-Id`` when the caller sent none.
``event_dict`` hands the request to one builder per kind of event: ALB, Function URL, payload 2.0
(HTTP API), payload 1.0 (REST API, or an HTTP API route that asks for it).

Bodies: a REST API sends the body base64-encoded when its ``Content-Type`` matches one of the API's
``BinaryMediaTypes``
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-payload-encodings.html),
text otherwise; HTTP APIs, Function URLs and ALB send text for text content types and base64 for
everything else (``is_text_type``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lambdarig.events._common import Ids
from lambdarig.events._http import trace_header
from lambdarig.events.alb import alb_event
from lambdarig.events.apigateway import api_gateway_rest_event, http_api_event
from lambdarig.events.function_url import function_url_event
from lambdarig.events.proxy import Wire
from lambdarig.rie_server.fronts.routing import Match

# Content types sent as text by HTTP APIs, Function URLs and ALB (besides ``text/*``).
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/xml",
        "application/yaml",
        "application/x-yaml",
        "application/ecmascript",
        "application/x-www-form-urlencoded",
    }
)


@dataclass(frozen=True)
class FrontRequest:
    """One request as the front read it.

    ``target`` is the request target (path and query, percent-encoded); ``headers`` the pairs in
    the order received (names as sent); ``source_ip``/``port``: the caller's address and the
    front's port; ``request_id``/``now``: chosen by the front for this request.
    """

    method: str
    target: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str
    port: int
    request_id: str
    now: datetime
    protocol: str = "HTTP/1.1"

    @property
    def path(self) -> str:
        return self.target.partition("?")[0] or "/"

    def header(self, name: str) -> str | None:
        """The last value of ``name`` (case-insensitive)."""
        found = None
        for key, value in self.headers:
            if key.lower() == name:
                found = value
        return found


def media_type(content_type: str | None) -> str:
    """``'Text/HTML; charset=x'`` -> ``'text/html'``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_text_type(content_type: str | None) -> bool:
    """True for ``text/*``, JSON, XML, YAML, JavaScript and form bodies (``+json``/``+xml`` too)."""
    kind = media_type(content_type)
    return kind.startswith("text/") or kind in _TEXT_TYPES or kind.endswith(("+json", "+xml"))


def matches_media_type(content_type: str | None, patterns: Sequence[str]) -> bool:
    """Does ``content_type`` match one of ``patterns`` (``image/png``, ``image/*``, ``*/*``)?"""
    kind = media_type(content_type)
    if not kind:
        return False
    major = kind.split("/", 1)[0]
    for pattern in patterns:
        wanted = pattern.strip().lower()
        if wanted in ("*/*", kind) or wanted == f"{major}/*":
            return True
    return False


def _forwarded(request: FrontRequest, ids: Ids) -> list[tuple[str, str]]:
    """The caller's headers plus what the service's front adds."""
    pairs = list(request.headers)
    previous = request.header("x-forwarded-for")
    chain = f"{previous}, {request.source_ip}" if previous else request.source_ip
    pairs = [(k, v) for k, v in pairs if k.lower() not in _REPLACED]
    pairs.append(("X-Forwarded-For", chain))
    pairs.append(("X-Forwarded-Port", str(request.port)))
    pairs.append(("X-Forwarded-Proto", "http"))
    trace = request.header("x-amzn-trace-id")
    pairs.append(("X-Amzn-Trace-Id", trace or trace_header(ids, request.now)))
    return pairs


_REPLACED = frozenset(
    {"x-forwarded-for", "x-forwarded-port", "x-forwarded-proto", "x-amzn-trace-id"}
)


def _grouped(pairs: list[tuple[str, str]], lower: bool = False) -> dict[str, list[str]]:
    """``{name: [values]}`` (repeated names kept apart, first spelling of a name kept)."""
    grouped: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}
    for name, value in pairs:
        key = spelling.setdefault(name.lower(), name.lower() if lower else name)
        grouped.setdefault(key, []).append(value)
    return grouped


def _body(request: FrontRequest, binary: bool) -> str | bytes | None:
    if not request.body:
        return None
    if binary:
        return request.body
    return request.body.decode("utf-8", "replace")


def build_event(
    match: Match, request: FrontRequest, authorizer: Mapping[str, Any] | None = None
) -> bytes:
    """The event ``match.route`` sends for ``request``, as JSON bytes; ``authorizer`` is what a
    Lambda authorizer let through (``requestContext.authorizer``)."""
    return json.dumps(event_dict(match, request, authorizer=authorizer)).encode("utf-8")


def event_dict(
    match: Match,
    request: FrontRequest,
    *,
    version: str | None = None,
    authorizer: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The event of ``build_event`` as a dict; ``version`` overrides an HTTP API route's payload
    version (a Lambda authorizer's event follows the authorizer's own version)."""
    parts = _Parts(match, request, _forwarded(request, Ids()), authorizer)
    kind = match.route.kind
    if kind == "alb":
        return _alb_event(parts)
    if kind == "url":
        return _function_url_event(parts)
    if (version or match.route.payload_version) == "2.0":
        return _payload_2_0_event(parts)
    return _payload_1_0_event(parts)


@dataclass(frozen=True)
class _Parts:
    """What every kind of event is built from: the route matched, the request, its headers as
    the service forwards them and what a Lambda authorizer let through."""

    match: Match
    request: FrontRequest
    headers: list[tuple[str, str]]
    authorizer: Mapping[str, Any] | None

    @property
    def host(self) -> str:
        return self.request.header("host") or f"localhost:{self.request.port}"

    @property
    def wire(self) -> Wire:
        request = self.request
        return Wire(
            source_ip=request.source_ip,
            domain_name=self.host,
            request_id=request.request_id,
            protocol=request.protocol,
            default_headers=False,
        )

    def body(self, binary: bool | None = None) -> str | bytes | None:
        """The body, as text unless ``binary`` (default: unless a text content type)."""
        if binary is None:
            binary = not is_text_type(self.request.header("content-type"))
        return _body(self.request, binary)


def _alb_event(parts: _Parts) -> dict[str, Any]:
    request = parts.request
    return alb_event(
        method=request.method,
        path=request.target,
        now=request.now,
        headers=_grouped(parts.headers, lower=True),
        body=parts.body(),
        multi_value_headers=parts.match.route.multi_value_headers,
        default_headers=False,
    )


def _function_url_event(parts: _Parts) -> dict[str, Any]:
    request = parts.request
    return function_url_event(
        method=request.method,
        path=request.target,
        now=request.now,
        headers=_grouped(parts.headers),
        body=parts.body(),
        url_id=parts.host.split(".", 1)[0].split(":", 1)[0],
        wire=parts.wire,
    )


def _payload_2_0_event(parts: _Parts) -> dict[str, Any]:
    """An HTTP API's event, payload 2.0."""
    request, match = parts.request, parts.match
    route = match.route
    return http_api_event(
        method=request.method,
        path=request.target,
        now=request.now,
        headers=_grouped(parts.headers),
        body=parts.body(),
        route_key=route.route_key,
        path_parameters=match.path_parameters,
        stage=route.stage,
        api_id=route.api_id or None,
        authorizer=parts.authorizer,
        wire=parts.wire,
    )


def _payload_1_0_event(parts: _Parts) -> dict[str, Any]:
    """A REST API's event, or an HTTP API's with payload 1.0 (its ``version`` and
    ``routeKey`` added). A REST API sends a body binary by its ``BinaryMediaTypes``."""
    request, match = parts.request, parts.match
    route = match.route
    rest = route.kind == "rest"
    content_type = request.header("content-type")
    event = api_gateway_rest_event(
        method=request.method,
        path=request.target,
        now=request.now,
        headers=_grouped(parts.headers),
        body=parts.body(
            matches_media_type(content_type, route.binary_media_types) if rest else None
        ),
        resource=match.resource,
        path_parameters=match.path_parameters,
        stage=route.stage,
        api_id=route.api_id or None,
        authorizer=parts.authorizer,
        wire=parts.wire,
    )
    if not rest:  # payload 1.0 on an HTTP API
        event["version"] = "1.0"
        event["requestContext"]["routeKey"] = route.route_key
    return event
