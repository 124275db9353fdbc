"""Lambda authorizers of the HTTP front, as API Gateway runs them (sans-IO).

``prepare`` reads the identity sources of a request and builds the authorizer's event, or refuses
(401) when one is missing; ``interpret`` reads the authorizer function's answer; ``decide`` applies
it to the request's method/route ARN; ``answer`` is the service's reply for a refusal;
``event_context`` is what the route's function then sees in ``requestContext.authorizer``.

Events (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html,
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html):
REST TOKEN ``{"type": "TOKEN", "authorizationToken", "methodArn"}``; REST REQUEST the proxy
event's request fields with ``type`` and ``methodArn``; HTTP API 1.0 the same with ``version``,
``identitySource`` (comma-joined) and ``authorizationToken``; HTTP API 2.0 the 2.0 event's request
fields with ``type``, ``routeArn`` and ``identitySource`` (a list). No body is sent.

Answers: an IAM policy (``principalId``, ``policyDocument``, optional ``context``) whose
``execute-api:Invoke`` statements are matched against the ARN with ``*``/``?`` wildcards (a
matching Deny wins, no matching Allow is an implicit deny), or with HTTP API 2.0 simple responses
``{"isAuthorized": bool, "context": {...}}``. A missing identity source, or a REST authorizer
failing with the message ``Unauthorized``, is 401; a deny 403; any other failure or malformed
answer 500 (https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer).
REST context values must be strings, numbers or booleans and reach the function as strings
(https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional, Union

from lambdarig.events._common import DEFAULT_REGION
from lambdarig.rie_server.fronts import iam_policy
from lambdarig.rie_server.fronts.iam_policy import Statement
from lambdarig.rie_server.fronts.responses import Reply

_SOURCE = re.compile(
    r"^(?:method\.request\.(header|querystring)\.|\$request\.(header|querystring)\.|"
    r"\$?(stageVariables)\.|\$?(context)\.)(.+)$"
)
_REST_REQUEST_KEYS = (
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "multiValueQueryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
)
_HTTP_V1_KEYS = (
    "resource",
    "path",
    "httpMethod",
    "headers",
    "queryStringParameters",
    "pathParameters",
    "stageVariables",
    "requestContext",
)
_V2_DROPPED = ("version", "body", "isBase64Encoded")


class AuthorizerError(ValueError):
    """An authorizer definition the front cannot run."""


@dataclass(frozen=True)
class LambdaAuthorizer:
    """A Lambda authorizer: the function that runs it, ``kind`` TOKEN or REQUEST, identity
    sources as API Gateway mapping expressions, the cache TTL, the HTTP API payload version and
    simple responses, a TOKEN's validation expression (the same fields as
    ``lambdarig.project.model.Authorizer``)."""

    name: str
    function: str
    kind: str = "REQUEST"
    identity_sources: tuple[str, ...] = ()
    ttl_s: int = 0
    payload_version: str = "1.0"
    simple_responses: bool = False
    validation_expression: Optional[str] = None  # noqa: UP045
    _pattern: Optional[re.Pattern[str]] = field(default=None, repr=False, compare=False)  # noqa: UP045

    def __post_init__(self) -> None:
        if self.kind not in ("TOKEN", "REQUEST"):
            raise AuthorizerError(
                f"expected an authorizer kind TOKEN or REQUEST, got {self.kind!r}"
            )
        if self.kind == "TOKEN" and len(self.identity_sources) != 1:
            raise AuthorizerError("expected one header as a TOKEN authorizer's identity source")
        for source in self.identity_sources:
            if not _SOURCE.match(source):
                raise AuthorizerError(f"expected an identity source expression, got {source!r}")
        if self.payload_version not in ("1.0", "2.0"):
            raise AuthorizerError(
                f"expected payload version 1.0 or 2.0, got {self.payload_version!r}"
            )
        if self.validation_expression is not None:
            try:
                pattern = re.compile(self.validation_expression)
            except re.error as exc:
                raise AuthorizerError(f"expected a regular expression, got {exc}") from None
            object.__setattr__(self, "_pattern", pattern)

    @classmethod
    def from_template(cls, value: Any) -> LambdaAuthorizer:
        """From a ``lambdarig.project.model.Authorizer`` (or anything with its fields)."""
        return cls(
            name=value.name,
            function=value.function,
            kind=value.kind,
            identity_sources=tuple(value.identity_sources),
            ttl_s=value.ttl_s,
            payload_version=value.payload_version,
            simple_responses=value.simple_responses,
            validation_expression=value.validation_expression,
        )


class Refusal(enum.Enum):
    """Why the request does not reach the route's function."""

    UNAUTHORIZED = "unauthorized"  # 401: identity missing, or the authorizer said so
    EXPLICIT_DENY = "explicit_deny"  # 403: a Deny statement matched
    IMPLICIT_DENY = "implicit_deny"  # 403: no Allow statement matched (or isAuthorized false)
    FAILURE = "failure"  # 500: the authorizer failed or answered out of shape


_JSON = ("Content-Type", "application/json")
_REST_ANSWERS = {
    Refusal.UNAUTHORIZED: (401, b'{"message":"Unauthorized"}', "UnauthorizedException"),
    Refusal.EXPLICIT_DENY: (
        403,
        b'{"Message":"User is not authorized to access this resource with an explicit deny"}',
        "AccessDeniedException",
    ),
    Refusal.IMPLICIT_DENY: (
        403,
        b'{"Message":"User is not authorized to access this resource"}',
        "AccessDeniedException",
    ),
    Refusal.FAILURE: (500, b'{"message": null}', "AuthorizerConfigurationException"),
}
_HTTP_ANSWERS = {
    Refusal.UNAUTHORIZED: (401, b'{"message":"Unauthorized"}'),
    Refusal.EXPLICIT_DENY: (403, b'{"message":"Forbidden"}'),
    Refusal.IMPLICIT_DENY: (403, b'{"message":"Forbidden"}'),
    Refusal.FAILURE: (500, b'{"message":"Internal Server Error"}'),
}


def answer(api_kind: str, refusal: Refusal) -> Reply:
    """The service's reply for ``refusal`` (``api_kind`` ``rest`` or ``http``)."""
    if api_kind == "rest":
        status, body, error_type = _REST_ANSWERS[refusal]
        return Reply(status, [_JSON, ("x-amzn-ErrorType", error_type)], body)
    status, body = _HTTP_ANSWERS[refusal]
    return Reply(status, [_JSON], body)


@dataclass(frozen=True)
class Call:
    """What to send the authorizer: its event, the ARN decided on, the cache key (None: no
    caching) and the identity values."""

    event: bytes
    arn: str
    cache_key: Optional[tuple[str, ...]]  # noqa: UP045
    identity: tuple[str, ...]


def request_arn(request_event: Mapping[str, Any], stage: str) -> str:
    """``arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/PATH`` of a route event (1.0 or
    2.0 shaped)."""
    context = request_event["requestContext"]
    if "http" in context:
        method, path = context["http"]["method"], request_event["rawPath"]
    else:
        method, path = request_event["httpMethod"], request_event["path"]
    return (
        f"arn:aws:execute-api:{DEFAULT_REGION}:{context['accountId']}:{context['apiId']}"
        f"/{stage}/{method}{path}"
    )


def prepare(
    authorizer: LambdaAuthorizer, api_kind: str, request_event: Mapping[str, Any], stage: str
) -> Union[Call, Refusal]:  # noqa: UP007
    """The authorizer call for a request whose route event (shaped by the authorizer's payload
    version) is ``request_event``; ``UNAUTHORIZED`` when an identity source is missing or empty,
    or a TOKEN does not match the validation expression."""
    values = []
    for source in authorizer.identity_sources:
        value = identity_value(source, request_event)
        if not value:
            return Refusal.UNAUTHORIZED
        values.append(value)
    pattern = authorizer._pattern
    if pattern is not None and not pattern.fullmatch(values[0]):
        return Refusal.UNAUTHORIZED
    arn = request_arn(request_event, stage)
    event = _event(authorizer, api_kind, request_event, arn, values)
    key = None
    if authorizer.ttl_s > 0 and values:
        key = (authorizer.name, *values)
    return Call(json.dumps(event).encode("utf-8"), arn, key, tuple(values))


def identity_value(source: str, request_event: Mapping[str, Any]) -> str | None:
    """The request's value for an identity source expression (headers case-insensitive, query
    strings case-sensitive, context variables by their dotted name)."""
    found = _SOURCE.match(source)
    if found is None:
        return None
    where = next(group for group in found.groups()[:-1] if group)
    name = found.group(5)
    if where == "header":
        wanted = name.lower()
        headers = request_event.get("headers") or {}
        values = [v for k, v in headers.items() if k.lower() == wanted]
        return values[-1] if values else None
    if where == "querystring":
        return (request_event.get("queryStringParameters") or {}).get(name)
    if where == "stageVariables":
        return (request_event.get("stageVariables") or {}).get(name)
    value: Any = request_event.get("requestContext") or {}
    for part in name.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return None if value is None or isinstance(value, (Mapping, list)) else str(value)


def _event(
    authorizer: LambdaAuthorizer,
    api_kind: str,
    request_event: Mapping[str, Any],
    arn: str,
    values: Sequence[str],
) -> dict[str, Any]:
    if api_kind == "rest":
        if authorizer.kind == "TOKEN":
            return {"type": "TOKEN", "authorizationToken": values[0], "methodArn": arn}
        event: dict[str, Any] = {"type": "REQUEST", "methodArn": arn}
        event.update({key: request_event.get(key) for key in _REST_REQUEST_KEYS})
        return event
    if authorizer.payload_version == "1.0":
        joined = ",".join(values) if values else None
        event = {
            "version": "1.0",
            "type": "REQUEST",
            "methodArn": arn,
            "identitySource": joined,
            "authorizationToken": joined,
        }
        event.update({key: request_event.get(key) for key in _HTTP_V1_KEYS})
        return event
    event = {"version": "2.0", "type": "REQUEST", "routeArn": arn}
    event["identitySource"] = list(values)
    event.update({k: v for k, v in request_event.items() if k not in _V2_DROPPED})
    return event


@dataclass(frozen=True)
class Verdict:
    """A well-formed authorizer answer: simple (``is_authorized``) or an IAM policy."""

    principal_id: Optional[str]  # noqa: UP045
    statements: tuple[Statement, ...] = ()
    is_authorized: Optional[bool] = None  # noqa: UP045 (simple responses)
    context: Mapping[str, Any] = field(default_factory=dict)


class _Malformed(ValueError):
    """An answer of the wrong shape (caught, like ``iam_policy.PolicyError``, as a ValueError)."""


def interpret(
    authorizer: LambdaAuthorizer, api_kind: str, succeeded: bool, body: bytes
) -> Union[Verdict, Refusal]:  # noqa: UP007
    """The authorizer function's answer (``succeeded``: it returned rather than failed)."""
    if not succeeded:
        if api_kind == "rest" and _error_message(body) == "Unauthorized":
            return Refusal.UNAUTHORIZED
        return Refusal.FAILURE
    try:
        result = json.loads(body)
        if not isinstance(result, dict):
            raise _Malformed("expected an object")
        context = _context(result.get("context"), api_kind)
        if authorizer.simple_responses and api_kind == "http":
            allowed = result.get("isAuthorized")
            if not isinstance(allowed, bool):
                raise _Malformed("expected isAuthorized to be a boolean")
            return Verdict(None, is_authorized=allowed, context=context)
        principal = result.get("principalId")
        if not isinstance(principal, str):
            raise _Malformed("expected principalId to be a string")
        statements = iam_policy.statements(result.get("policyDocument"))
        return Verdict(principal, statements, context=context)
    except (ValueError, UnicodeDecodeError):
        return Refusal.FAILURE


def _error_message(body: bytes) -> Any:
    try:
        error = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return error.get("errorMessage") if isinstance(error, dict) else None


def _context(value: Any, api_kind: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Malformed("expected context to be an object")
    if api_kind == "rest":
        for item in value.values():
            if item is not None and not isinstance(item, (str, int, float, bool)):
                raise _Malformed("expected context values to be strings, numbers or booleans")
    return value


def decide(verdict: Verdict, arn: str) -> Refusal | None:
    """None when ``verdict`` lets the request for ``arn`` through, else the refusal."""
    if verdict.is_authorized is not None:
        return None if verdict.is_authorized else Refusal.IMPLICIT_DENY
    effect = iam_policy.evaluate(verdict.statements, arn)
    if effect == "Allow":
        return None
    return Refusal.EXPLICIT_DENY if effect == "Deny" else Refusal.IMPLICIT_DENY


def event_context(
    verdict: Verdict, route_kind: str, payload_version: str, latency_ms: int = 0
) -> dict[str, Any]:
    """``requestContext.authorizer`` of the route's event: ``{"lambda": context}`` for payload
    2.0; for payload 1.0 the context keys (REST: as strings), ``principalId`` and
    ``integrationLatency``."""
    if payload_version == "2.0":
        return {"lambda": dict(verdict.context)}
    context: dict[str, Any] = {}
    for key, value in verdict.context.items():
        if route_kind == "rest":
            if value is None:
                continue
            value = _as_string(value)
        context[key] = value
    if verdict.principal_id is not None:
        context["principalId"] = verdict.principal_id
    context["integrationLatency"] = latency_ms
    return context


def _as_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)
