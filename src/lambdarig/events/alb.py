"""Application Load Balancer target-group events.

ALB sends header names lower-cased and query names/values still percent-encoded, an empty
string (not null) for an absent body, and ``isBase64Encoded`` always. With multi-value headers
enabled on the target group, ``multiValueHeaders`` / ``multiValueQueryStringParameters``
replace ``headers`` / ``queryStringParameters`` entirely.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lambdarig.events import _http
from lambdarig.events._common import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_REGION,
    SOURCE_IP,
    Body,
    Ids,
    arn,
    encode_body,
    resolve_now,
)


def alb_event(
    *,
    method: str = "GET",
    path: str = "/",
    body: Body = None,
    headers: _http.MultiMap | None = None,
    query: _http.MultiMap | None = None,
    multi_value_headers: bool = False,
    is_base64_encoded: bool | None = None,
    target_group: str = "lambda-target",
    account_id: str = DEFAULT_ACCOUNT_ID,
    region: str = DEFAULT_REGION,
    seed: int | None = None,
    now: datetime | None = None,
    default_headers: bool = True,
) -> dict[str, Any]:
    """An ALB request event for a Lambda target.

    ``path`` may carry a query string. ``body``: ``str`` as-is, ``bytes`` base64-encoded, other
    values JSON-encoded; ``None`` sends ``""``. ``multi_value_headers=True`` mimics a target
    group with the ``lambda.multi_value_headers.enabled`` attribute. ``default_headers=False``
    adds none of the load balancer's headers (the HTTP front passes exactly what it forwards).
    """
    ids = Ids(seed)
    when = resolve_now(now)
    raw_path, query_pairs = _http.split_path(path, query)
    defaults = {}
    if default_headers:
        defaults = {
            "host": f"lambda-alb-{ids.digits(9)}.{region}.elb.amazonaws.com",
            "user-agent": _http.USER_AGENT,
            "x-amzn-trace-id": _http.trace_header(ids, when),
            "x-forwarded-for": SOURCE_IP,
            "x-forwarded-port": "80",
            "x-forwarded-proto": "http",
        }
    pairs = [(name.lower(), values) for name, values in _http.multi(headers)]
    if isinstance(body, (dict, list)):
        pairs = _http.with_defaults(pairs, {"content-type": "application/json"})
    pairs = _http.with_defaults(pairs, defaults)
    encoded_query = _http.percent_encoded(query_pairs)
    text, encoded = (
        ("", False) if body is None else encode_body(body, base64_encoded=is_base64_encoded)
    )
    target = f"targetgroup/{target_group}/{ids.hex(16)}"
    event: dict[str, Any] = {
        "requestContext": {
            "elb": {
                "targetGroupArn": arn(
                    "elasticloadbalancing", target, region=region, account_id=account_id
                )
            }
        },
        "httpMethod": method.upper(),
        "path": raw_path,
    }
    if multi_value_headers:
        event["multiValueQueryStringParameters"] = _http.all_values(encoded_query) or {}
        event["multiValueHeaders"] = _http.all_values(pairs) or {}
    else:
        event["queryStringParameters"] = _http.last_values(encoded_query) or {}
        event["headers"] = _http.last_values(pairs) or {}
    event["body"] = text
    event["isBase64Encoded"] = encoded
    return event
