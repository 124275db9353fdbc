"""Lambda Function URL request events (payload format 2.0)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from lambdarig.events import _http
from lambdarig.events._common import DEFAULT_ACCOUNT_ID, DEFAULT_REGION, Body, Ids, resolve_now
from lambdarig.events.proxy import (
    INVENTED,
    Wire,
    domain_prefix,
    ordered_v2,
    v2_context_tail,
    v2_event,
)


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
    wire = wire or INVENTED
    if auth_type not in ("NONE", "AWS_IAM"):
        raise ValueError(f"expected auth_type 'NONE' or 'AWS_IAM', got {auth_type!r}")
    ids = Ids(seed)
    when = resolve_now(now)
    url = url_id or ids.lower_alnum(32)
    domain = wire.domain_name or f"{url}.lambda-url.{region}.on.aws"
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
    prefix = domain_prefix(domain, url, wire)
    context.update(v2_context_tail(domain, prefix, http, "$default", "$default", ids, when))
    context["requestId"] = wire.request_id or ids.uuid()
    event["requestContext"] = context
    return ordered_v2(event)
