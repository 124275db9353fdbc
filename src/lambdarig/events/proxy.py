"""What API Gateway and Function URL proxy events share.

``Wire`` holds what a real request fixes and a test event invents; the headers a front adds;
and payload format 2.0, which HTTP APIs and Function URLs both send (``v2_event``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lambdarig.events import _http
from lambdarig.events._common import SOURCE_IP, Body, Ids, clf_time, encode_body, epoch_ms


@dataclass(frozen=True)
class Wire:
    """What a real request fixes that a test event invents (the HTTP front passes these).

    ``source_ip``: the caller's address; ``domain_name``: the ``Host`` the caller used (default: the
    service's domain for the invented API id); ``request_id``: the front's request id (default:
    invented); ``protocol``: the request's HTTP version; ``default_headers``: add ``Host``,
    ``User-Agent``, ``X-Amzn-Trace-Id`` and ``X-Forwarded-*`` when the caller did not send them
    (off for a real request: the front passes exactly what it forwards).
    """

    source_ip: str = SOURCE_IP
    domain_name: str | None = None
    request_id: str | None = None
    protocol: str = "HTTP/1.1"
    default_headers: bool = True


INVENTED = Wire()


def forwarding_headers(
    host: str, ids: Ids, now: datetime, source_ip: str = SOURCE_IP
) -> dict[str, str]:
    return {
        "Host": host,
        "User-Agent": _http.USER_AGENT,
        "X-Amzn-Trace-Id": _http.trace_header(ids, now),
        "X-Forwarded-For": source_ip,
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }


def request_headers(
    headers: _http.MultiMap | None,
    domain: str,
    ids: Ids,
    now: datetime,
    wire: Wire,
) -> _http.Pairs:
    """The caller's headers plus (unless ``wire.default_headers`` is off) those the front adds."""
    pairs = _http.multi(headers)
    if not wire.default_headers:
        return pairs
    return _http.with_defaults(pairs, forwarding_headers(domain, ids, now, wire.source_ip))


def body_headers(body: Body, headers: _http.Pairs) -> _http.Pairs:
    if isinstance(body, (dict, list)):
        return _http.with_defaults(headers, {"Content-Type": "application/json"})
    return headers


def domain_prefix(domain: str, default: str, wire: Wire) -> str:
    """``requestContext.domainPrefix``: the domain's first label (the API or URL id)."""
    return domain.split(".", 1)[0].split(":", 1)[0] if wire.domain_name else default


def header_value(pairs: _http.Pairs, name: str) -> str:
    for key, values in pairs:
        if key.lower() == name:
            return values[-1]
    return ""


def v2_event(
    *,
    method: str,
    path: str,
    body: Body,
    headers: _http.MultiMap | None,
    query: _http.MultiMap | None,
    cookies: Sequence[str] | None,
    is_base64_encoded: bool | None,
    domain: str,
    ids: Ids,
    when: datetime,
    wire: Wire,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The payload-v2 fields both HTTP APIs and Function URLs send, and the ``http`` context."""
    raw_path, query_pairs = _http.split_path(path, query)
    header_pairs = request_headers(headers, domain, ids, when, wire)
    header_pairs, header_cookies = _http.pop_cookies(body_headers(body, header_pairs))
    all_cookies = [*header_cookies, *(cookies or [])]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": _http.raw_query(query_pairs),
    }
    if all_cookies:
        event["cookies"] = all_cookies
    event["headers"] = _http.comma_joined(header_pairs, lower=True)
    if query_pairs:
        event["queryStringParameters"] = _http.comma_joined(query_pairs)
    http = {
        "method": method.upper(),
        "path": raw_path,
        "protocol": wire.protocol,
        "sourceIp": wire.source_ip,
        "userAgent": event["headers"].get("user-agent", ""),
    }
    if body is not None:
        event["body"], event["isBase64Encoded"] = encode_body(
            body, base64_encoded=is_base64_encoded
        )
    else:
        event["isBase64Encoded"] = False
    return event, http


def v2_context_tail(
    domain: str,
    prefix: str,
    http: dict[str, Any],
    route_key: str,
    stage: str,
    ids: Ids,
    when: datetime,
) -> dict[str, Any]:
    return {
        "domainName": domain,
        "domainPrefix": prefix,
        "http": http,
        "requestId": ids.alnum(14) + "=",
        "routeKey": route_key,
        "stage": stage,
        "time": clf_time(when),
        "timeEpoch": epoch_ms(when),
    }


V2_ORDER = (
    "version routeKey rawPath rawQueryString cookies headers queryStringParameters "
    "requestContext body pathParameters isBase64Encoded stageVariables"
).split()


def ordered_v2(event: dict[str, Any]) -> dict[str, Any]:
    """Keys in the order AWS documents them (nicer to read when printed)."""
    return {key: event[key] for key in V2_ORDER if key in event}
