"""API Gateway REST API (payload v1.0), HTTP API (payload v2.0) and Function URL proxy events.

Shapes follow the service: v1 carries both ``headers`` and ``multiValueHeaders`` (null when
empty) and the same pair for the query string; v2 lower-cases header names, joins repeated
values with commas, moves ``Cookie`` headers into ``cookies`` and keeps the ``rawQueryString``;
both send bytes bodies base64-encoded with ``isBase64Encoded: true``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lambdarig.events import _http
from lambdarig.events._common import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    SOURCE_IP,
    Body,
    Ids,
    clf_time,
    encode_body,
    epoch_ms,
    resolve_now,
)


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


_INVENTED = Wire()


def _forwarding_headers(
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


def _headers(
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
    return _http.with_defaults(pairs, _forwarding_headers(domain, ids, now, wire.source_ip))


def _body_headers(body: Body, headers: _http.Pairs) -> _http.Pairs:
    if isinstance(body, (dict, list)):
        return _http.with_defaults(headers, {"Content-Type": "application/json"})
    return headers


def _v1_identity(source_ip: str, user_agent: str) -> dict[str, Any]:
    return {
        "accessKey": None,
        "accountId": None,
        "caller": None,
        "cognitoAuthenticationProvider": None,
        "cognitoAuthenticationType": None,
        "cognitoIdentityId": None,
        "cognitoIdentityPoolId": None,
        "principalOrgId": None,
        "sourceIp": source_ip,
        "user": None,
        "userAgent": user_agent,
        "userArn": None,
    }


def api_gateway_rest_event(
    *,
    method: str = "GET",
    path: str = "/",
    body: Body = None,
    headers: _http.MultiMap | None = None,
    query: _http.MultiMap | None = None,
    resource: str | None = None,
    path_parameters: Mapping[str, str] | None = None,
    stage_variables: Mapping[str, str] | None = None,
    stage: str = "prod",
    authorizer: Mapping[str, Any] | None = None,
    is_base64_encoded: bool | None = None,
    api_id: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
    wire: Wire | None = None,
) -> dict[str, Any]:
    """An API Gateway REST API Lambda-proxy event (payload format 1.0).

    ``path`` may carry a query string (``"/items?id=1"``), merged before ``query``. ``resource``
    defaults to ``path`` (use ``"/items/{id}"`` with ``path_parameters`` for templated routes).
    ``body``: ``str`` as-is, ``bytes`` base64-encoded, other values JSON-encoded (with a
    ``Content-Type: application/json`` header unless one is given); ``None`` sends ``null``.
    ``authorizer`` becomes ``requestContext.authorizer`` verbatim (e.g. ``{"claims": {...}}``).
    ``wire``: what a real request fixes (``Wire``; the HTTP front passes it).
    """
    wire = wire or _INVENTED
    ids = Ids(seed)
    when = resolve_now(now)
    api = api_id or ids.lower_alnum(10)
    domain = wire.domain_name or f"{api}.execute-api.{region}.amazonaws.com"
    raw_path, query_pairs = _http.split_path(path, query)
    header_pairs = _body_headers(body, _headers(headers, domain, ids, when, wire))
    text, encoded = (
        (None, False) if body is None else encode_body(body, base64_encoded=is_base64_encoded)
    )
    context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api,
        "domainName": domain,
        "domainPrefix": _prefix(domain, api, wire),
        "extendedRequestId": ids.alnum(14) + "=",
        "httpMethod": method.upper(),
        "identity": _v1_identity(wire.source_ip, _header(header_pairs, "user-agent")),
        "path": f"/{stage}{raw_path}",
        "protocol": wire.protocol,
        "requestId": wire.request_id or ids.uuid(),
        "requestTime": clf_time(when),
        "requestTimeEpoch": epoch_ms(when),
        "resourceId": ids.lower_alnum(6),
        "resourcePath": resource or raw_path,
        "stage": stage,
    }
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    return {
        "resource": resource or raw_path,
        "path": raw_path,
        "httpMethod": method.upper(),
        "headers": _http.last_values(header_pairs),
        "multiValueHeaders": _http.all_values(header_pairs),
        "queryStringParameters": _http.last_values(query_pairs),
        "multiValueQueryStringParameters": _http.all_values(query_pairs),
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": dict(stage_variables) if stage_variables else None,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": encoded,
    }


def _prefix(domain: str, default: str, wire: Wire) -> str:
    """``requestContext.domainPrefix``: the domain's first label (the API or URL id)."""
    return domain.split(".", 1)[0].split(":", 1)[0] if wire.domain_name else default


def _header(pairs: _http.Pairs, name: str) -> str:
    for key, values in pairs:
        if key.lower() == name:
            return values[-1]
    return ""


def _v2_event(
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
    header_pairs = _headers(headers, domain, ids, when, wire)
    header_pairs, header_cookies = _http.pop_cookies(_body_headers(body, header_pairs))
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


def http_api_event(
    *,
    method: str = "GET",
    path: str = "/",
    body: Body = None,
    headers: _http.MultiMap | None = None,
    query: _http.MultiMap | None = None,
    cookies: Sequence[str] | None = None,
    route_key: str = "$default",
    path_parameters: Mapping[str, str] | None = None,
    stage_variables: Mapping[str, str] | None = None,
    stage: str = "$default",
    authorizer: Mapping[str, Any] | None = None,
    jwt_claims: Mapping[str, Any] | None = None,
    jwt_scopes: Sequence[str] | None = None,
    authentication: Mapping[str, Any] | None = None,
    is_base64_encoded: bool | None = None,
    api_id: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
    wire: Wire | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API proxy event (payload format 2.0).

    ``cookies`` (``["a=1", "b=2"]``) join any ``Cookie`` header, which v2 removes from ``headers``.
    Absent parts are omitted as the service omits them (``cookies``, ``queryStringParameters``,
    ``pathParameters``, ``stageVariables``, ``body``). ``jwt_claims``/``jwt_scopes`` build
    ``requestContext.authorizer.jwt``; ``authorizer`` (e.g. ``{"lambda": {...}}``) is used verbatim
    instead when given. ``authentication`` is the mTLS ``{"clientCert": {...}}`` block.
    ``wire``: what a real request fixes (``Wire``; the HTTP front passes it).
    """
    wire = wire or _INVENTED
    ids = Ids(seed)
    when = resolve_now(now)
    api = api_id or ids.lower_alnum(10)
    domain = wire.domain_name or f"{api}.execute-api.{region}.amazonaws.com"
    event, http = _v2_event(
        method=method,
        path=path,
        body=body,
        headers=headers,
        query=query,
        cookies=cookies,
        is_base64_encoded=is_base64_encoded,
        domain=domain,
        ids=ids,
        when=when,
        wire=wire,
    )
    event["routeKey"] = route_key
    context: dict[str, Any] = {"accountId": account_id, "apiId": api}
    if authentication is not None:
        context["authentication"] = dict(authentication)
    if authorizer is not None:
        context["authorizer"] = dict(authorizer)
    elif jwt_claims is not None or jwt_scopes is not None:
        scopes = list(jwt_scopes) if jwt_scopes is not None else None
        context["authorizer"] = {"jwt": {"claims": dict(jwt_claims or {}), "scopes": scopes}}
    prefix = _prefix(domain, api, wire)
    context.update(_v2_context_tail(domain, prefix, http, route_key, stage, ids, when))
    if wire.request_id:
        context["requestId"] = wire.request_id
    event["requestContext"] = context
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if stage_variables:
        event["stageVariables"] = dict(stage_variables)
    return _ordered(event)


def _v2_context_tail(
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


_V2_ORDER = (
    "version routeKey rawPath rawQueryString cookies headers queryStringParameters "
    "requestContext body pathParameters isBase64Encoded stageVariables"
).split()


def _ordered(event: dict[str, Any]) -> dict[str, Any]:
    """Keys in the order AWS documents them (nicer to read when printed)."""
    return {key: event[key] for key in _V2_ORDER if key in event}


def function_url_event(
    *,
    method: str = "GET",
    path: str = "/",
    body: Body = None,
    headers: _http.MultiMap | None = None,
    query: _http.MultiMap | None = None,
    cookies: Sequence[str] | None = None,
    auth_type: str = "NONE",
    is_base64_encoded: bool | None = None,
    url_id: str | None = None,
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
    wire: Wire | None = None,
) -> dict[str, Any]:
    """A Lambda Function URL request event (payload format 2.0, as HTTP APIs send it).

    Differences from :func:`http_api_event`, as the service sends them: ``apiId`` is the URL id,
    the domain is ``<url-id>.lambda-url.<region>.on.aws``, ``routeKey`` and ``stage`` are always
    ``$default``, ``requestId`` is a UUID, ``accountId`` is ``"anonymous"`` unless
    ``auth_type="AWS_IAM"``, and there is no ``authentication`` block (captured events omit it;
    AWS's documentation example shows ``null``), no ``pathParameters`` or ``stageVariables``.
    With ``auth_type="AWS_IAM"``, ``requestContext.authorizer.iam``
    describes the signing caller. ``wire``: what a real request fixes (``Wire``).
    """
    wire = wire or _INVENTED
    if auth_type not in ("NONE", "AWS_IAM"):
        raise ValueError(f"expected auth_type 'NONE' or 'AWS_IAM', got {auth_type!r}")
    ids = Ids(seed)
    when = resolve_now(now)
    url = url_id or ids.lower_alnum(32)
    domain = wire.domain_name or f"{url}.lambda-url.{region}.on.aws"
    event, http = _v2_event(
        method=method,
        path=path,
        body=body,
        headers=headers,
        query=query,
        cookies=cookies,
        is_base64_encoded=is_base64_encoded,
        domain=domain,
        ids=ids,
        when=when,
        wire=wire,
    )
    context: dict[str, Any] = {"accountId": "anonymous", "apiId": url}
    if auth_type == "AWS_IAM":
        context["accountId"] = account_id
        principal = "AIDA" + ids.upper_alnum(17)
        context["authorizer"] = {
            "iam": {
                "accessKey": "AKIA" + ids.upper_alnum(16),
                "accountId": account_id,
                "callerId": principal,
                "cognitoIdentity": None,
                "principalOrgId": None,
                "userArn": f"arn:aws:iam::{account_id}:user/example-user",
                "userId": principal,
            }
        }
    prefix = _prefix(domain, url, wire)
    context.update(_v2_context_tail(domain, prefix, http, "$default", "$default", ids, when))
    context["requestId"] = wire.request_id or ids.uuid()
    event["requestContext"] = context
    return _ordered(event)
