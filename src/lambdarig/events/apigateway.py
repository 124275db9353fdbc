"""API Gateway REST API (payload v1.0) and HTTP API (payload v2.0) proxy events.

Shapes follow the service: v1 carries both ``headers`` and ``multiValueHeaders`` (null when
empty) and the same pair for the query string; v2 lower-cases header names, joins repeated
values with commas, moves ``Cookie`` headers into ``cookies`` and keeps the ``rawQueryString``;
both send bytes bodies base64-encoded with ``isBase64Encoded: true``. Function URL events are in
``function_url``; what both share is in ``proxy``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from lambdarig.events import _http
from lambdarig.events._common import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    Body,
    Ids,
    clf_time,
    encode_body,
    epoch_ms,
    resolve_now,
)
from lambdarig.events.proxy import (
    INVENTED,
    Wire,
    body_headers,
    domain_prefix,
    header_value,
    ordered_v2,
    request_headers,
    v2_context_tail,
    v2_event,
)


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
    wire = wire or INVENTED
    ids = Ids(seed)
    when = resolve_now(now)
    api = api_id or ids.lower_alnum(10)
    domain = wire.domain_name or f"{api}.execute-api.{region}.amazonaws.com"
    raw_path, query_pairs = _http.split_path(path, query)
    header_pairs = body_headers(body, request_headers(headers, domain, ids, when, wire))
    text, encoded = (
        (None, False) if body is None else encode_body(body, base64_encoded=is_base64_encoded)
    )
    context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api,
        "domainName": domain,
        "domainPrefix": domain_prefix(domain, api, wire),
        "extendedRequestId": ids.alnum(14) + "=",
        "httpMethod": method.upper(),
        "identity": _v1_identity(wire.source_ip, header_value(header_pairs, "user-agent")),
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
    wire = wire or INVENTED
    ids = Ids(seed)
    when = resolve_now(now)
    api = api_id or ids.lower_alnum(10)
    domain = wire.domain_name or f"{api}.execute-api.{region}.amazonaws.com"
    event, http = v2_event(
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
    prefix = domain_prefix(domain, api, wire)
    context.update(v2_context_tail(domain, prefix, http, route_key, stage, ids, when))
    if wire.request_id:
        context["requestId"] = wire.request_id
    event["requestContext"] = context
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if stage_variables:
        event["stageVariables"] = dict(stage_variables)
    return ordered_v2(event)
