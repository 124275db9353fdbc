"""An API's ``Auth.Authorizers`` entry -> ``model.Authorizer`` (Lambda authorizers only). No I/O.

SAM's properties, as its translator turns them into API Gateway authorizers:

* ``Api`` (REST): ``FunctionArn``, ``FunctionPayloadType`` (``TOKEN``, the default, or
  ``REQUEST``), ``Identity``: for TOKEN ``Header`` (default ``Authorization``),
  ``ValidationExpression``; for REQUEST ``Headers``/``QueryStrings``/``StageVariables``/``Context``;
  ``ReauthorizeEvery`` (default 300)
  (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-api-lambdatokenauthorizationidentity.html).
* ``HttpApi``: ``FunctionArn``, ``AuthorizerPayloadFormatVersion`` (required: 1.0 or 2.0),
  ``EnableSimpleResponses``, ``Identity`` (``Headers``/``QueryStrings``/``StageVariables``/
  ``Context``, ``ReauthorizeEvery``: no caching unless set)
  (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-httpapi-lambdaauthorizer.html).

The authorizer runs as a function of the same template: ``FunctionArn`` must be a ``GetAtt`` (or
``Ref``/ARN) of one of the template's functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from lambdarig.project import model
from lambdarig.project.errors import UnresolvableError
from lambdarig.project.intrinsics import Scope, resolve

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
REST_DEFAULT_TTL_S = 300
MAX_TTL_S = 3600  # API Gateway's maximum authorizer cache TTL
NOT_LAMBDA = ("AWS_IAM", "NONE")

_REST_PREFIXES = (
    ("Headers", "method.request.header."),
    ("QueryStrings", "method.request.querystring."),
    ("StageVariables", "stageVariables."),
    ("Context", "context."),
)
_HTTP_PREFIXES = (
    ("Headers", "$request.header."),
    ("QueryStrings", "$request.querystring."),
    ("StageVariables", "$stageVariables."),
    ("Context", "$context."),
)


def lambda_authorizer(
    name: str | None, kind: str, api_id: str, api_props: Mapping[str, Any], scope: Scope
) -> model.Authorizer | None:
    """The Lambda authorizer ``name`` of the API ``api_id`` (``kind`` ``rest``/``http``); None
    when the route has none or uses a kind not evaluated locally (AWS_IAM, Cognito, JWT).
    Raises ``UnresolvableError`` when the API does not define ``name``."""
    if name is None or name in NOT_LAMBDA:
        return None
    where = f"Resources.{api_id}.Properties.Auth.Authorizers"
    auth = api_props.get("Auth") or {}
    defined = auth.get("Authorizers") if isinstance(auth, Mapping) else None
    if not isinstance(defined, Mapping) or name not in defined:
        known = ", ".join(sorted(defined)) if isinstance(defined, Mapping) else "none"
        raise UnresolvableError(
            where, f"expected an authorizer named {name!r} on {api_id}, got {known}"
        )
    where = f"{where}.{name}"
    spec = defined[name]
    if not isinstance(spec, Mapping):
        raise UnresolvableError(where, f"expected a map, got {type(spec).__name__}")
    if "FunctionArn" not in spec:  # Cognito (UserPoolArn) or JWT (JwtConfiguration)
        return None
    function = _function(spec["FunctionArn"], scope, f"{where}.FunctionArn")
    identity = resolve(spec.get("Identity") or {}, scope, f"{where}.Identity")
    if not isinstance(identity, Mapping):
        raise UnresolvableError(f"{where}.Identity", f"expected a map, got {identity!r}")
    if kind == "rest":
        return _rest(name, function, spec, identity, scope, where)
    return _http(name, function, spec, identity, scope, where)


def _rest(
    name: str,
    function: str,
    spec: Mapping[str, Any],
    identity: Mapping[str, Any],
    scope: Scope,
    where: str,
) -> model.Authorizer:
    kind = str(resolve(spec.get("FunctionPayloadType", "TOKEN"), scope, where)).upper()
    if kind not in ("TOKEN", "REQUEST"):
        raise UnresolvableError(
            f"{where}.FunctionPayloadType", f"expected TOKEN or REQUEST, got {kind!r}"
        )
    ttl = _ttl(identity, REST_DEFAULT_TTL_S, where)
    if kind == "TOKEN":
        header = str(identity.get("Header") or "Authorization")
        expression = identity.get("ValidationExpression")
        if expression is not None:
            try:
                re.compile(str(expression))
            except re.error as exc:
                raise UnresolvableError(
                    f"{where}.Identity.ValidationExpression",
                    f"expected a regular expression, got {expression!r} ({exc})",
                ) from None
        return model.Authorizer(
            name,
            function,
            "TOKEN",
            (f"method.request.header.{header}",),
            ttl,
            validation_expression=None if expression is None else str(expression),
        )
    return model.Authorizer(
        name, function, "REQUEST", _sources(identity, _REST_PREFIXES, where), ttl
    )


def _http(
    name: str,
    function: str,
    spec: Mapping[str, Any],
    identity: Mapping[str, Any],
    scope: Scope,
    where: str,
) -> model.Authorizer:
    version = resolve(spec.get("AuthorizerPayloadFormatVersion"), scope, where)
    if str(version) not in ("1.0", "2.0"):
        raise UnresolvableError(
            f"{where}.AuthorizerPayloadFormatVersion", f"expected 1.0 or 2.0, got {version!r}"
        )
    simple = resolve(spec.get("EnableSimpleResponses", False), scope, where) is True
    return model.Authorizer(
        name,
        function,
        "REQUEST",
        _sources(identity, _HTTP_PREFIXES, where),
        _ttl(identity, 0, where),
        payload_version=str(version),
        simple_responses=simple and str(version) == "2.0",
    )


def _sources(
    identity: Mapping[str, Any], prefixes: tuple[tuple[str, str], ...], where: str
) -> tuple[str, ...]:
    sources: list[str] = []
    for key, prefix in prefixes:
        values = identity.get(key) or []
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise UnresolvableError(
                f"{where}.Identity.{key}", f"expected a list of names, got {values!r}"
            )
        sources.extend(prefix + value for value in values)
    return tuple(sources)


def _ttl(identity: Mapping[str, Any], default: int, where: str) -> int:
    raw = identity.get("ReauthorizeEvery", default)
    try:
        ttl = int(raw)
    except (TypeError, ValueError):
        ttl = -1
    if isinstance(raw, bool) or not 0 <= ttl <= MAX_TTL_S:
        raise UnresolvableError(
            f"{where}.Identity.ReauthorizeEvery",
            f"expected a whole number of seconds from 0 to {MAX_TTL_S}, got {raw!r}",
        )
    return ttl


def _function(value: Any, scope: Scope, where: str) -> str:
    """The logical id of the template function ``FunctionArn`` designates."""
    target: Any = None
    if isinstance(value, Mapping) and len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Fn::GetAtt":
            parts = argument.split(".", 1) if isinstance(argument, str) else argument
            if isinstance(parts, list) and parts:
                target = parts[0]
        elif key == "Ref":
            target = argument
    if isinstance(target, str) and _is_function(target, scope):
        return target
    return _by_arn_or_name(str(resolve(value, scope, where)), scope, where)


def _is_function(logical_id: str, scope: Scope) -> bool:
    resource = scope.resources.get(logical_id)
    return isinstance(resource, Mapping) and resource.get("Type") in FUNCTION_TYPES


def _by_arn_or_name(value: str, scope: Scope, where: str) -> str:
    name = value.split(":function:", 1)[1].split(":", 1)[0] if ":function:" in value else value
    for logical_id in scope.resources:
        if _is_function(logical_id, scope) and name in (
            logical_id,
            scope.resource_name(logical_id, where),
        ):
            return logical_id
    raise UnresolvableError(
        where,
        f"expected a function of this template (e.g. !GetAtt MyAuthFunction.Arn), got {value!r}",
    )
